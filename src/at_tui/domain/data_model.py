"""What every data file's model shares: frozen, strict pydantic models citing their seed source."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

Identifier = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", min_length=1, max_length=64)


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(Model):
    """Where an item comes from: the seed file and the slide title, to check it against the agency's documents."""

    file: str = Field(min_length=1)
    slide: str = Field(min_length=1)


def find_by_id(items, item_id: str):
    """The item whose `id` is `item_id` (KeyError otherwise)."""
    for item in items:
        if item.id == item_id:
            return item
    raise KeyError(item_id)


def require_unique(values: list, what: str, field: str = "id") -> None:
    seen: set = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{what} « {value} » en double (champ « {field} »)")
        seen.add(value)
