"""Publishing the reference data sets (`at-tui central publish`): contacts, argumentaire, playbooks.

The source is a data folder laid out like the bundled `fixtures/`. It is loaded and
validated by `at_tui.reference.loader.load_reference`, exactly as the app validates its own
data files, before anything is written: a bad file stops the publication with the
app's French message (file, item, field). Then one transaction (`put_reference_items`):

* a new or changed item gets a new position; an unchanged one is left alone, so the
  laptops have nothing to pull for it;
* an item missing from the source becomes a tombstone (`deleted`), except a playbook
  version: visits refer to it, a published version is never withdrawn;
* a published playbook version is immutable: other content under the same version is
  refused (the whole publication with it).

Keys and content: `at_tui.domain.reference_items`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from at_tui.central.storage import ReferenceReader, ReferenceWrite, Storage
from at_tui.domain.reference_items import (
    ARGUMENTAIRE,
    CONTACTS,
    DATASETS,
    PLAYBOOKS,
    item_content,
    page_key,
    playbook_key,
    sheet_key,
)

LABELS = {CONTACTS: "contacts", ARGUMENTAIRE: "argumentaire", PLAYBOOKS: "processus"}


class PublishError(Exception):
    """Nothing was published; the French message says why (file and field when a file is at fault)."""


@dataclass(frozen=True)
class Source:
    where: str
    items: dict[str, dict[str, Any]]  # data set -> key -> content
    playbook_files: dict[str, str] = field(default_factory=dict)  # key -> file, for messages


@dataclass
class Counts:
    new: int = 0
    changed: int = 0
    withdrawn: int = 0
    unchanged: int = 0
    kept: int = 0  # playbook versions missing from the source, kept on purpose

    @property
    def written(self) -> int:
        return self.new + self.changed + self.withdrawn


def bundled_root() -> Traversable:
    """The data files of the installed package (not AT_TUI_FIXTURES: a publication is deliberate)."""
    return resources.files("at_tui") / "fixtures"


def load_source(root: Path | None = None) -> Source:
    """Every item of the data folder, validated like the app's own data; PublishError otherwise."""
    from at_tui.reference.loader import ReferenceDataError, data_files, load_reference, read_toml

    if root is not None and not root.is_dir():
        raise PublishError(f"Dossier de données {root} introuvable. Rien n'a été publié.")
    where = str(root) if root is not None else "données incluses dans le paquet at-tui"
    folder = root if root is not None else bundled_root()
    try:
        reference = load_reference(folder)
        playbook_files = {}
        for entry, name in data_files(folder, "playbooks"):
            raw = read_toml(entry, name)
            playbook_files[playbook_key(raw["id"], raw["version"])] = name
    except ReferenceDataError as error:
        raise PublishError(f"{error}\nRien n'a été publié : corrigez le fichier puis relancez la publication.") from None
    items = {
        CONTACTS: {contact.id: item_content(contact) for contact in reference.contacts},
        ARGUMENTAIRE: {
            **{sheet_key(sheet.id): item_content(sheet) for sheet in reference.argumentaire.sheets},
            **{page_key(page.id): item_content(page) for page in reference.argumentaire.pages},
        },
        PLAYBOOKS: {playbook_key(pid, version): item_content(p) for (pid, version), p in reference.playbooks.items()},
    }
    return Source(where, items, playbook_files)


def publish(storage: Storage, source: Source) -> dict[str, Counts]:
    """Write what changed, in one transaction; the counts per data set. PublishError: nothing written."""
    counts = {dataset: Counts() for dataset in DATASETS}

    def decide(read: ReferenceReader) -> list[ReferenceWrite]:
        counts.update({dataset: Counts() for dataset in DATASETS})  # a retried transaction starts from zero
        writes: list[ReferenceWrite] = []
        for dataset in DATASETS:
            writes += _changes(dataset, source, read(dataset), counts[dataset])
        return writes

    storage.put_reference_items(decide)
    return counts


def _changes(dataset: str, source: Source, current: Iterable, counts: Counts) -> list[ReferenceWrite]:
    wanted = source.items[dataset]
    writes: list[ReferenceWrite] = []
    seen: set[str] = set()
    for item in current:
        content = wanted.get(item.key)
        if content is None:
            if item.deleted:
                continue
            if dataset == PLAYBOOKS:
                counts.kept += 1  # visits refer to published versions: never withdrawn
                continue
            writes.append(ReferenceWrite(dataset, item.key, None, deleted=True))
            counts.withdrawn += 1
            continue
        seen.add(item.key)
        if not item.deleted and item.content == content:
            counts.unchanged += 1
            continue
        if dataset == PLAYBOOKS and not item.deleted:
            file = source.playbook_files.get(item.key, "le dossier « playbooks »")
            playbook_id, _, version = item.key.rpartition("@")
            raise PublishError(
                f"Fichier {file} : le processus « {playbook_id} » version {version} est déjà publié avec un autre "
                "contenu. Une version publiée ne change plus (des visites s'y réfèrent) : augmentez « version » "
                "dans ce fichier, puis relancez la publication. Rien n'a été publié."
            )
        writes.append(ReferenceWrite(dataset, item.key, content))
        if item.deleted:
            counts.new += 1  # withdrawn earlier, back now
        else:
            counts.changed += 1
    for key, content in wanted.items():
        if key not in seen:
            writes.append(ReferenceWrite(dataset, key, content))
            counts.new += 1
    return writes


def summary_lines(source: Source, db: str, counts: dict[str, Counts]) -> list[str]:
    lines = [f"Publication des données de référence ({source.where}) dans {db} :"]
    for dataset in DATASETS:
        one = counts[dataset]
        line = (f"  {LABELS[dataset]} : {one.new} nouveau(x), {one.changed} modifié(s), "
                f"{one.withdrawn} retiré(s), {one.unchanged} inchangé(s)")
        if one.kept:
            line += f" ; {one.kept} version(s) absente(s) du dossier, gardée(s) (des visites peuvent s'y référer)"
        lines.append(line + ".")
    written = sum(one.written for one in counts.values())
    if written:
        lines.append(f"{written} élément(s) publié(s) : les postes les recevront à leur prochaine synchronisation.")
    else:
        lines.append("Rien n'a changé : les postes n'auront rien à recevoir.")
    return lines
