"""Loading the bundled reference data (playbooks, questionnaires, territory, directory,
argumentaire) from `fixtures/`.

Files are TOML, validated by the pydantic models of `at_tui.domain.playbook`. Any
problem becomes a `ReferenceDataError` whose French message names the file, the
item and the field, so whoever edited the file can fix it without a traceback.
The directory and the argumentaire are loaded by `at_tui.reference.directory`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from at_tui.domain.argumentaire import Argumentaire
from at_tui.domain.directory import Contact
from at_tui.domain.playbook import Playbook, Questionnaire, Territory
from at_tui.paths import fixtures_root
from at_tui.reference.validation import french_message


class ReferenceDataError(Exception):
    """A bundled data file is malformed; the message is French and names file, item, field."""


@dataclass(frozen=True)
class ReferenceData:
    playbooks: dict[tuple[str, int], Playbook] = field(default_factory=dict)
    questionnaires: dict[tuple[str, int], Questionnaire] = field(default_factory=dict)
    territory: Territory | None = None
    contacts: tuple[Contact, ...] = ()
    argumentaire: Argumentaire = field(default_factory=Argumentaire)

    def current_playbook(self, playbook_id: str = "spico") -> Playbook:
        versions = [v for (pid, v) in self.playbooks if pid == playbook_id]
        if not versions:
            raise KeyError(playbook_id)
        return self.playbooks[(playbook_id, max(versions))]

    def current_lifecycle(self, playbook_id: str = "spico"):
        """The opportunities' lifecycle of the newest version of the process that has one: the process
        as it is now, which every opportunity follows (the central's files read it here)."""
        versions = sorted((v for (pid, v), p in self.playbooks.items() if pid == playbook_id and p.lifecycle),
                          reverse=True)
        if not versions:
            raise ReferenceDataError(f"Le processus « {playbook_id} » n'a pas de cycle de vie des opportunités.")
        return self.playbooks[(playbook_id, versions[0])].lifecycle

    def current_questionnaire(self, questionnaire_id: str) -> Questionnaire:
        versions = [v for (qid, v) in self.questionnaires if qid == questionnaire_id]
        if not versions:
            raise KeyError(questionnaire_id)
        return self.questionnaires[(questionnaire_id, max(versions))]


def load_reference(root: Traversable | Path | None = None) -> ReferenceData:
    from at_tui.reference.directory import load_argumentaire, load_directory

    root = root if root is not None else fixtures_root()
    playbooks, playbook_files = _load_many(root, "playbooks", Playbook)
    questionnaires, _ = _load_many(root, "questionnaires", Questionnaire)
    territory = load_one(root / "territory.toml", "territory.toml", Territory)
    if not playbooks:
        raise ReferenceDataError("Aucun processus trouvé dans le dossier « playbooks ».")
    for (pid, version), playbook in playbooks.items():
        if not any(qid == playbook.questionnaire for qid, _ in questionnaires):
            raise ReferenceDataError(
                f"Fichier {playbook_files[(pid, version)]} : processus « {pid} », champ « questionnaire » : "
                f"le questionnaire « {playbook.questionnaire} » n'existe pas dans le dossier « questionnaires »."
            )
        _check_forms(playbook, questionnaires, playbook_files[(pid, version)])
    contacts = load_directory(root, territory)
    argumentaire = load_argumentaire(root, territory, contacts)
    return ReferenceData(
        playbooks=playbooks, questionnaires=questionnaires, territory=territory,
        contacts=contacts, argumentaire=argumentaire,
    )


def _check_forms(playbook: Playbook, questionnaires: dict, name: str) -> None:
    """Each lifecycle activity's form is a questionnaire of the folder, and the answer a
    proposal reads is one of its yes/no or choice questions."""
    latest: dict[str, Questionnaire] = {}
    for (qid, _version), questionnaire in sorted(questionnaires.items()):
        latest[qid] = questionnaire
    for activity in playbook.lifecycle.activities if playbook.lifecycle else ():
        if activity.form is None:
            continue
        form = latest.get(activity.form)
        where = f"Fichier {name} : activité « {activity.id} »"
        if form is None:
            raise ReferenceDataError(
                f"{where}, champ « form » : le questionnaire « {activity.form} » n'existe pas dans le dossier "
                "« questionnaires »."
            )
        if activity.proposes is not None and activity.proposes.question not in {q.id for q in form.questions}:
            raise ReferenceDataError(
                f"{where}, champ « proposes » : la question « {activity.proposes.question} » n'existe pas dans "
                f"le questionnaire « {activity.form} »."
            )


def _load_many(root: Traversable | Path, folder: str, model: type[BaseModel]) -> tuple[dict, dict]:
    """The files of `folder` by (id, version), and the file each came from."""
    loaded: dict[tuple[str, int], Any] = {}
    origin: dict[tuple[str, int], str] = {}
    for entry, name in data_files(root, folder):
        item = load_one(entry, name, model)
        key = (item.id, item.version)
        if key in loaded:
            raise ReferenceDataError(
                f"Fichier {name} : « {item.id} » version {item.version} existe déjà dans {origin[key]}."
            )
        loaded[key] = item
        origin[key] = name
    return loaded, origin


def data_files(root: Traversable | Path, folder: str) -> list[tuple[Traversable | Path, str]]:
    """The `.toml` files directly in `folder` (sorted), each with its name for messages."""
    directory = root / folder
    if not directory.is_dir():
        raise ReferenceDataError(f"Dossier de données « {folder} » introuvable.")
    return [
        (entry, f"{folder}/{entry.name}")
        for entry in sorted(directory.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".toml") and not entry.is_dir()
    ]


def load_one(entry: Traversable | Path, name: str, model: type[BaseModel]):
    raw = read_toml(entry, name)
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise ReferenceDataError(describe_validation_error(name, raw, error)) from None


def read_toml(entry: Traversable | Path, name: str) -> dict[str, Any]:
    try:
        return tomllib.loads(entry.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReferenceDataError(f"Fichier de données {name} introuvable.") from None
    except UnicodeDecodeError:
        raise ReferenceDataError(f"Fichier {name} : encodage invalide (UTF-8 attendu).") from None
    except tomllib.TOMLDecodeError as error:
        raise ReferenceDataError(f"Fichier {name} : syntaxe TOML invalide ({error}).") from None


def describe_validation_error(name: str, raw: Any, error: ValidationError) -> str:
    lines = [f"Fichier {name} : données invalides."]
    lines += [f"  - {problem}" for problem in validation_problems(raw, error)]
    return "\n".join(lines)


def validation_problems(raw: Any, error: ValidationError) -> list[str]:
    """One « item (champ « x ») : what is wrong » per error, the item named by its id in `raw`."""
    return [f"{_item_path(raw, d['loc'])} : {french_message(d)}" for d in error.errors(include_url=False)]


def _item_path(raw: Any, loc: tuple) -> str:
    """Name the item by its `id` when it has one: « question « temporalite », champ « type » »."""
    parts: list[str] = []
    node = raw
    field_name = loc[-1] if loc and isinstance(loc[-1], str) else None
    for key in loc:
        if isinstance(key, int) and isinstance(node, list) and key < len(node):
            node = node[key]
            ident = node.get("id") if isinstance(node, dict) else None
            parts.append(f"« {ident} »" if ident else f"n° {key + 1}")
        elif isinstance(key, str):
            parts.append(_FIELD_NAMES.get(key, key))
            node = node.get(key) if isinstance(node, dict) else None
        else:
            parts.append(str(key))
    if not parts:
        return "fichier"
    where = " ".join(parts)
    return f"{where} (champ « {field_name} »)" if field_name else where


_FIELD_NAMES = {
    "questions": "question",
    "steps": "étape",
    "variants": "variante",
    "actions": "action",
    "resources": "ressource",
    "deliverables": "livrable",
    "choices": "choix",
    "departements": "département",
    "typologies": "typologie",
    "contacts": "contact",
    "guardrails": "garde-fou",
}
