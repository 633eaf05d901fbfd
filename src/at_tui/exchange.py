"""Exporting visits to a JSON file and importing them on another laptop.

This is the fallback for handing a visit to a CM when no synchronisation is
possible: the AT exports, sends the file, the CM imports. The format is
described in `docs/visit-format.md`.

Rules kept here:

* an export is a versioned envelope carrying the raw visit data (identity,
  answers, override, history) plus the playbook and questionnaire snapshots the
  visits use, so the file opens on a laptop whose bundled playbook differs;
  classification and CRM deliverables are included for the reader's benefit
  only and are recomputed on import;
* an import validates everything first and writes in one transaction: all the
  visits of the file are imported, or none; a visit already present with the
  same content is left alone (re-importing is harmless), one present with a
  different content makes the whole import fail.

Every error is an `ExchangeError` whose message is French, for the AT or CM.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

if TYPE_CHECKING:  # imported lazily at run time (start-up time matters)
    import sqlite3

    import sqlite_utils

    from at_tui.domain.playbook import Playbook, Questionnaire
    from at_tui.domain.visit import Visit
    from at_tui.workspace import Workspace

FORMAT = "at-tui.visites"
VERSION = 1
MAX_FILE_BYTES = 50 * 1024 * 1024
FILE_SUFFIX = ".json"

# At most this many problems are listed in one error message.
MAX_LISTED_PROBLEMS = 20

_KINDS = ("playbook", "questionnaire")


class ExchangeError(Exception):
    """An export or import problem explained in French; `problems` lists the details."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


@dataclass
class ImportReport:
    imported: list[str] = field(default_factory=list)  # ids of the visits written
    unchanged: list[str] = field(default_factory=list)  # ids already present, identical

    @property
    def summary(self) -> str:
        """One French sentence for the screen."""
        parts = [_plural(len(self.imported), "visite importée", "visites importées")]
        if self.unchanged:
            parts.append(
                _plural(len(self.unchanged), "déjà présente à l'identique", "déjà présentes à l'identique")
            )
        return ", ".join(parts) + "."


def _plural(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count == 1 else plural}"


# =============================================================================
# Export
# =============================================================================


def export_visits(workspace: Workspace, visit_id: str | None = None) -> dict:
    """The envelope of all visits (oldest first), or of the one visit `visit_id`."""
    import at_tui

    db = _database(workspace.conn)
    with _read_transaction(workspace.conn):
        if visit_id is None:
            visits = _read_visits(db)
        else:
            visits = _read_visits(db, visit_id)
            if not visits:
                raise ExchangeError(f"Visite {visit_id} introuvable : rien n'a été exporté.")
        exported = [_export_visit(workspace, db, visit) for visit in visits]
        references = _export_references(workspace, db, visits)
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "app_version": at_tui.__version__,
        "visits": exported,
        "references": references,
    }


def dumps(envelope: Mapping[str, Any]) -> str:
    """The envelope as the text of an export file (UTF-8, indented, readable)."""
    return json.dumps(envelope, ensure_ascii=False, indent=2)


def write_file(path: Path | str, envelope: Mapping[str, Any]) -> Path:
    """Write the export file atomically (a temporary file renamed over the target)."""
    target = Path(path)
    data = (dumps(envelope) + "\n").encode("utf-8")
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise ExchangeError(
            f"Impossible d'écrire le fichier {target} ({error.strerror or error})."
        ) from error
    return target


def suggested_filename(envelope: Mapping[str, Any]) -> str:
    """A file name for the export: « visite-<structure>-<date>.json » or « visites-<date>.json »."""
    today = dt.date.today().isoformat()
    visits = envelope.get("visits") or []
    if len(visits) == 1:
        identity = visits[0].get("identity") or {}
        from at_tui.domain.text import fold

        slug = fold(str(identity.get("structure") or "")).replace(" ", "-")[:40].strip("-")
        date = identity.get("visit_date") or today
        return f"visite-{slug or 'sans-nom'}-{date}{FILE_SUFFIX}"
    return f"visites-at-tui-{today}{FILE_SUFFIX}"


def _export_visit(workspace: Workspace, db: sqlite_utils.Database, visit: Visit) -> dict:
    answers = _read_answers(db, visit.id)
    history = _read_history(db, visit.id)
    try:
        result = workspace.outcome(visit)
        deliverables = workspace.deliverables(visit)
    except Exception as error:  # missing snapshot, territory changed...
        raise ExchangeError(
            f"{_visit_label(visit.structure, visit.id)} : impossible de calculer sa classification "
            f"({error}). Rien n'a été exporté."
        ) from error
    computed = result.computed
    return {
        "id": visit.id,
        "identity": {
            "structure": visit.structure,
            "departement": visit.departement,
            "typologie": visit.typologie,
            "contact_name": visit.contact_name,
            "contact_role": visit.contact_role,
            "visit_date": visit.visit_date,
            "maillage": visit.maillage,
        },
        "playbook": {"id": visit.playbook_id, "version": visit.playbook_version},
        "questionnaire": {"id": visit.questionnaire_id, "version": visit.questionnaire_version},
        "status": visit.status,
        "current_step": visit.current_step,
        "created_at": visit.created_at,
        "updated_at": visit.updated_at,
        "finished_at": visit.finished_at,
        "answers": answers,
        "override": (
            {"offer": visit.override_offer, "justification": visit.override_justification}
            if visit.override_offer
            else None
        ),
        "classification": {
            "computed": (
                {
                    "offer": computed.offer.value,
                    "label": computed.label,
                    "lead": computed.lead.value,
                    "reasons": list(computed.reasons),
                }
                if computed is not None
                else None
            ),
            "offer": result.offer.value if result.offer is not None else None,
            "label": result.label,
            "lead": result.lead.value,
            "overridden": result.overridden,
        },
        "deliverables": {
            "activity": asdict(deliverables.activity),
            "opportunity": asdict(deliverables.opportunity) if deliverables.opportunity else None,
            "next_lead": deliverables.next_lead.value,
            "next_steps": [
                {
                    "number": step.number,
                    "title": step.title,
                    "lead": step.lead.value,
                    "support": step.support.value if step.support is not None else None,
                    "actions": list(step.actions),
                }
                for step in deliverables.next_steps
            ],
        },
        "history": [
            {"field": h["field"], "old_value": h["old_value"], "new_value": h["new_value"], "at": h["at"]}
            for h in history
        ],
    }


def _export_references(workspace: Workspace, db: sqlite_utils.Database, visits: list[Visit]) -> list[dict]:
    keys: list[tuple[str, str, int]] = []
    for visit in visits:
        for key in (
            ("playbook", visit.playbook_id, visit.playbook_version),
            ("questionnaire", visit.questionnaire_id, visit.questionnaire_version),
        ):
            if key not in keys:
                keys.append(key)
    references = []
    for kind, ref_id, version in keys:
        content = _read_snapshot(db, kind, ref_id, version)
        if content is None:
            # A visit created before snapshots were kept: the bundled copy is the one it uses.
            bundled = _bundled(workspace, kind, ref_id, version)
            if bundled is None:
                raise ExchangeError(
                    f"Version {version} de « {ref_id} » introuvable : les visites qui l'utilisent "
                    "ne peuvent pas être exportées."
                )
            content = bundled.model_dump(mode="json")
        references.append({"kind": kind, "id": ref_id, "version": version, "content": content})
    return references


# =============================================================================
# Reading the store (sqlite-utils, imported lazily)
# =============================================================================


def _database(conn: sqlite3.Connection) -> sqlite_utils.Database:
    import sqlite_utils

    # recursive_triggers=False: leave the app's connection settings alone.
    return sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False)


@contextmanager
def _read_transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """One consistent snapshot of the database for the whole export."""
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN")
    try:
        yield
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")


def _visit_columns() -> str:
    from at_tui.domain.visit import Visit

    return ", ".join(f.name for f in fields(Visit))


def _read_visits(db: sqlite_utils.Database, visit_id: str | None = None) -> list[Visit]:
    from at_tui.domain.visit import Visit

    if visit_id is None:
        rows = db["visits"].rows_where(select=_visit_columns(), order_by="created_at, id")
    else:
        rows = db["visits"].rows_where("id = ?", [visit_id], select=_visit_columns())
    visits = []
    for row in list(rows):
        row["maillage"] = bool(row["maillage"])
        visits.append(Visit(**row))
    return visits


def _read_answers(db: sqlite_utils.Database, visit_id: str) -> dict[str, Any]:
    rows = db["answers"].rows_where("visit_id = ?", [visit_id], select="key, value", order_by="key")
    return {row["key"]: _decode(row["value"]) for row in list(rows)}


def _read_history(db: sqlite_utils.Database, visit_id: str) -> list[dict]:
    rows = db["history"].rows_where(
        "visit_id = ?", [visit_id], select="field, old_value, new_value, at", order_by="id"
    )
    return [
        {"field": r["field"], "old_value": _decode(r["old_value"]), "new_value": _decode(r["new_value"]), "at": r["at"]}
        for r in list(rows)
    ]


def _read_snapshot(db: sqlite_utils.Database, kind: str, ref_id: str, version: int) -> dict | None:
    rows = list(
        db.query(
            "SELECT content FROM reference_snapshots WHERE kind = ? AND id = ? AND version = ?",
            [kind, ref_id, version],
        )
    )
    return json.loads(rows[0]["content"]) if rows else None


def _decode(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _encode(value: Any) -> str:
    # Same encoding as at_tui.store.visits.encode.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _bundled(workspace: Workspace, kind: str, ref_id: str, version: int):
    catalogue = workspace.reference.playbooks if kind == "playbook" else workspace.reference.questionnaires
    return catalogue.get((ref_id, version))


# =============================================================================
# Reading a file
# =============================================================================


def read_file(path: Path | str) -> dict:
    """The parsed content of an export file (not yet validated: see `import_visits`)."""
    source = Path(path)
    try:
        size = source.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ExchangeError(_too_large(size))
        with open(source, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ExchangeError(f"Fichier {source} introuvable.") from None
    except IsADirectoryError:
        raise ExchangeError(f"{source} est un dossier, pas un fichier d'export.") from None
    except OSError as error:
        raise ExchangeError(f"Impossible de lire le fichier {source} ({error.strerror or error}).") from None
    return loads(data)


def import_file(workspace: Workspace, path: Path | str) -> ImportReport:
    return import_visits(workspace, read_file(path))


def loads(data: bytes | str) -> dict:
    """Parse the text of an export file; French errors for every way it can be unreadable."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        if len(raw) > MAX_FILE_BYTES:
            raise ExchangeError(_too_large(len(raw)))
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise ExchangeError(
                "Le fichier n'est pas un texte UTF-8 (octet invalide à la position "
                f"{error.start}) : ce n'est pas un export de visites at-tui, ou il a été abîmé."
            ) from None
    elif isinstance(data, str):
        text = data.removeprefix("\ufeff")
        if len(text) > MAX_FILE_BYTES:  # characters: at least as many bytes
            raise ExchangeError(_too_large(len(text)))
    else:
        raise ExchangeError("Contenu d'export illisible : texte JSON attendu.")
    if not text.strip():
        raise ExchangeError("Le fichier est vide : ce n'est pas un export de visites at-tui.")
    try:
        parsed = json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        # A string left open runs to the end of the text: the file was cut short.
        incomplete = error.pos >= len(text.rstrip()) or error.msg.startswith("Unterminated string")
        raise ExchangeError(
            ("Le fichier est incomplet (tronqué)" if incomplete else "Le fichier n'est pas un JSON valide")
            + f" : ligne {error.lineno}, colonne {error.colno} ({_json_reason(error.msg)}). "
            "Demandez un nouvel export."
        ) from None
    except _BadJson as error:
        raise ExchangeError(f"Le fichier n'est pas un JSON valide : {error}.") from None
    except RecursionError:
        raise ExchangeError("Le fichier n'est pas un export valide : imbrication trop profonde.") from None
    if not isinstance(parsed, dict):
        raise ExchangeError("Le fichier ne contient pas un export de visites at-tui (objet JSON attendu).")
    return parsed


class _BadJson(ValueError):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict:
    result: dict = {}
    for key, value in pairs:
        if key in result:
            raise _BadJson(f"la clé « {key[:60]} » apparaît deux fois dans le même objet")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise _BadJson(f"valeur « {name} » interdite")


_JSON_REASONS = {
    "Expecting value": "valeur attendue",
    "Expecting property name enclosed in double quotes": "nom de champ entre guillemets attendu",
    "Expecting ',' delimiter": "virgule attendue",
    "Expecting ':' delimiter": "deux-points attendu",
    "Unterminated string starting at": "texte non terminé",
    "Extra data": "données en trop après la fin",
    "Invalid control character at": "caractère de contrôle dans un texte",
    "Invalid \\escape": "séquence d'échappement invalide",
}


def _json_reason(message: str) -> str:
    return _JSON_REASONS.get(message, message)


def _too_large(size: int) -> str:
    return (
        f"Le fichier est trop volumineux ({size / 1024 / 1024:.0f} Mo ; "
        f"{MAX_FILE_BYTES // 1024 // 1024} Mo au maximum) : ce n'est pas un export de visites at-tui."
    )


# =============================================================================
# The file format, as pydantic models
# =============================================================================


def _timestamp(value: str) -> str:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("horodatage ISO 8601 attendu (ex. 2026-11-22T09:30:00+00:00)") from None
    if moment.tzinfo is None:
        raise ValueError("l'horodatage doit indiquer son fuseau (ex. +00:00)")
    return value


def _uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValueError(f"identifiant « {value[:60]} » invalide (UUID attendu)") from None


Timestamp = Annotated[str, AfterValidator(_timestamp)]
VisitId = Annotated[str, AfterValidator(_uuid)]
RefId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", min_length=1, max_length=64)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class RefModel(_Strict):
    id: RefId
    version: int = Field(ge=1)


class IdentityModel(_Strict):
    structure: str
    departement: str
    typologie: str
    contact_name: str
    contact_role: str
    visit_date: str
    maillage: bool


class OverrideModel(_Strict):
    offer: Literal["discussions_simple", "discussions_complexe", "dossiers"]
    justification: str = Field(min_length=1, max_length=20_000)


class HistoryModel(_Strict):
    field: str = Field(min_length=1, max_length=200)
    old_value: Any
    new_value: Any
    at: Timestamp


class VisitModel(_Strict):
    id: VisitId
    identity: IdentityModel
    playbook: RefModel
    questionnaire: RefModel
    status: Literal["en_cours", "terminee"]
    current_step: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")
    created_at: Timestamp
    updated_at: Timestamp
    finished_at: Timestamp | None
    answers: dict[str, Any]
    override: OverrideModel | None
    # Computed on export for the reader's benefit; recomputed on import.
    classification: Any = None
    deliverables: Any = None
    history: list[HistoryModel]


class ReferenceModel(_Strict):
    kind: Literal["playbook", "questionnaire"]
    id: RefId
    version: int = Field(ge=1)
    content: dict[str, Any]


class EnvelopeModel(_Strict):
    format: Literal["at-tui.visites"]
    version: int = Field(ge=1)
    exported_at: Timestamp
    app_version: str = Field(max_length=100)
    visits: list[VisitModel]
    references: list[ReferenceModel]


# =============================================================================
# Import
# =============================================================================


@dataclass(frozen=True)
class _Incoming:
    """A visit of the file, validated and normalised, ready to be compared and written."""

    id: str
    label: str
    row: dict[str, Any]  # the visits table row
    answers: dict[str, Any]
    history: list[tuple[str, Any, Any, str]]

    def content(self) -> dict[str, Any]:
        return {"row": self.row, "answers": self.answers, "history": self.history}


def import_visits(workspace: Workspace, data: bytes | str | dict) -> ImportReport:
    """Import the visits of an export; all or nothing. Raises ExchangeError (French)."""
    raw = data if isinstance(data, dict) else loads(data)
    envelope = _validate_envelope(raw)
    db = _database(workspace.conn)

    references, problems = _validate_references(envelope)
    incoming: list[_Incoming] = []
    seen: set[str] = set()
    for visit in envelope.visits:
        label = _visit_label(visit.identity.structure, visit.id)
        if visit.id in seen:
            problems.append(f"{label} : présente deux fois dans le fichier.")
            continue
        seen.add(visit.id)
        result = _validate_visit(workspace, db, visit, label, references)
        if isinstance(result, list):
            problems.extend(result)
        else:
            incoming.append(result)
    if problems:
        raise _refusal(problems)

    report = ImportReport()
    conn = workspace.conn
    with _immediate(conn):
        # Checked inside the write lock: another at-tui may have written meanwhile.
        conflicts: list[str] = []
        for (kind, ref_id, version), model in references.items():
            stored = _read_snapshot(db, kind, ref_id, version)
            if stored is not None and not _same_reference(kind, stored, model):
                conflicts.append(
                    f"{'le processus' if kind == 'playbook' else 'le questionnaire'} « {ref_id} » "
                    f"version {version} existe déjà sur ce poste avec un contenu différent."
                )
        present: set[str] = set()
        for visit in incoming:
            existing = _stored_content(db, visit.id)
            if existing is None:
                continue
            present.add(visit.id)
            if existing != visit.content():
                differences = ", ".join(_differences(existing, visit.content()))
                conflicts.append(
                    f"la {visit.label[0].lower()}{visit.label[1:]} existe déjà avec un contenu "
                    f"différent ({differences})."
                )
        if conflicts:
            raise _refusal(conflicts)
        for (kind, ref_id, version), model in references.items():
            conn.execute(
                "INSERT OR IGNORE INTO reference_snapshots (kind, id, version, content) VALUES (?, ?, ?, ?)",
                (kind, ref_id, version, _encode(model.model_dump(mode="json"))),
            )
        for visit in incoming:
            if visit.id in present:
                report.unchanged.append(visit.id)
                continue
            _insert(conn, visit)
            report.imported.append(visit.id)
    return report


@contextmanager
def _immediate(conn: sqlite3.Connection) -> Iterator[None]:
    import sqlite3

    from at_tui.store.db import immediate

    try:
        with immediate(conn):
            yield
    except sqlite3.Error as error:
        raise ExchangeError(
            f"L'enregistrement des visites a échoué ({error}) : rien n'a été importé."
        ) from error


def _refusal(problems: list[str]) -> ExchangeError:
    problems = [p if p.endswith((".", "…", "?", "!")) else p + "." for p in problems]
    listed = problems[:MAX_LISTED_PROBLEMS]
    if len(problems) > MAX_LISTED_PROBLEMS:
        listed.append(f"… et {len(problems) - MAX_LISTED_PROBLEMS} autre(s) problème(s).")
    if len(listed) == 1:
        message = f"Import refusé : {listed[0]} Rien n'a été importé."
    else:
        message = "Import refusé, rien n'a été importé :\n" + "\n".join(f"  - {p}" for p in listed)
    return ExchangeError(message, problems)


def _visit_label(structure: Any, visit_id: Any) -> str:
    name = str(structure).strip()[:80] if isinstance(structure, str) and structure.strip() else "sans nom"
    return f"Visite « {name} » ({str(visit_id)[:60]})"


# -- envelope -------------------------------------------------------------------


def _validate_envelope(raw: Any) -> EnvelopeModel:
    if not isinstance(raw, dict):
        raise ExchangeError("Le fichier ne contient pas un export de visites at-tui (objet JSON attendu).")
    found = raw.get("format")
    if found != FORMAT:
        shown = f" (format « {str(found)[:60]} »)" if found is not None else ""
        raise ExchangeError(f"Ce fichier n'est pas un export de visites at-tui{shown} : rien n'a été importé.")
    version = raw.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ExchangeError(
            f"Version du format « {str(version)[:20]} » inconnue (nombre entier supérieur ou égal à 1 "
            "attendu) : rien n'a été importé."
        )
    if version > VERSION:
        raise ExchangeError(
            f"Ce fichier a été produit par une version plus récente d'at-tui (format v{version} ; "
            f"cette version lit jusqu'à la v{VERSION}). Mettez at-tui à jour : rien n'a été importé."
        )
    try:
        return EnvelopeModel.model_validate(raw)
    except ValidationError as error:
        raise _refusal([_describe(raw, detail) for detail in error.errors(include_url=False)]) from None


_FIELD_NAMES = {
    "visits": "visites",
    "references": "références",
    "identity": "identité",
    "answers": "réponses",
    "history": "historique",
    "override": "classification forcée",
}


def _describe(raw: dict, detail: dict) -> str:
    """« Visite « X » (id) : champ « identity.maillage » : true ou false attendu »."""
    loc = list(detail["loc"])
    where = "Fichier"
    if len(loc) >= 2 and loc[0] == "visits" and isinstance(loc[1], int):
        visits = raw.get("visits")
        item = visits[loc[1]] if isinstance(visits, list) and loc[1] < len(visits) else None
        if isinstance(item, dict):
            identity = item.get("identity")
            structure = identity.get("structure") if isinstance(identity, dict) else None
            where = _visit_label(structure, item.get("id", f"n° {loc[1] + 1}"))
        else:
            where = f"Visite n° {loc[1] + 1}"
        loc = loc[2:]
    elif len(loc) >= 2 and loc[0] == "references" and isinstance(loc[1], int):
        where = f"Référence n° {loc[1] + 1}"
        loc = loc[2:]
    path = ".".join(str(part) for part in loc)
    return f"{where} : " + (f"champ « {path} » : " if path else "") + _french(detail) + "."


def _french(detail: dict) -> str:
    kind = detail["type"]
    ctx = detail.get("ctx") or {}
    value = detail.get("input")
    shown = "(objet)" if isinstance(value, dict) else "(liste)" if isinstance(value, list) else repr(value)[:60]
    if kind == "missing":
        return "champ obligatoire manquant"
    if kind == "extra_forbidden":
        return "champ inconnu"
    if kind == "literal_error":
        return f"valeur {shown} non reconnue (attendu : {ctx.get('expected', '?')})"
    if kind in ("string_type", "string_too_short"):
        return f"un texte non vide est attendu, pas {shown}"
    if kind == "string_too_long":
        return f"texte trop long ({ctx.get('max_length')} caractères au maximum)"
    if kind == "string_pattern_mismatch":
        return f"valeur {shown} au format invalide"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"un nombre entier est attendu, pas {shown}"
    if kind in ("greater_than_equal", "greater_than"):
        return f"la valeur doit être au moins {ctx.get('ge', ctx.get('gt'))}"
    if kind in ("bool_type", "bool_parsing"):
        return f"true ou false est attendu, pas {shown}"
    if kind in ("list_type", "tuple_type"):
        return "une liste est attendue"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"un objet est attendu, pas {shown}"
    if kind == "value_error":
        return str(ctx.get("error", detail["msg"]))
    return detail["msg"]


# -- references -----------------------------------------------------------------


def _validate_references(envelope: EnvelopeModel) -> tuple[dict[tuple[str, str, int], Any], list[str]]:
    from at_tui.domain.playbook import Playbook, Questionnaire
    from at_tui.reference import describe_validation_error

    models: dict[tuple[str, str, int], Any] = {}
    problems: list[str] = []
    for reference in envelope.references:
        key = (reference.kind, reference.id, reference.version)
        what = "processus" if reference.kind == "playbook" else "questionnaire"
        name = f"{what} « {reference.id} » v{reference.version}"
        model_class = Playbook if reference.kind == "playbook" else Questionnaire
        try:
            model = model_class.model_validate(reference.content)
        except ValidationError as error:
            detail = describe_validation_error(f"(référence {name})", reference.content, error)
            lines = [line.strip().removeprefix("- ") for line in detail.splitlines()[1:]]
            problems.append(f"Référence {name} invalide : " + " ; ".join(lines))
            continue
        if (model.id, model.version) != (reference.id, reference.version):
            problems.append(
                f"Référence {name} : son contenu est « {model.id} » v{model.version}, pas celui annoncé."
            )
            continue
        if key in models and not _same_model(models[key], model):
            problems.append(f"Référence {name} présente deux fois avec des contenus différents.")
            continue
        models[key] = model
    return models, problems


def _same_model(a: Any, b: Any) -> bool:
    return a.model_dump(mode="json") == b.model_dump(mode="json")


def _same_reference(kind: str, stored: dict, model: Any) -> bool:
    from at_tui.domain.playbook import Playbook, Questionnaire

    model_class = Playbook if kind == "playbook" else Questionnaire
    try:
        return _same_model(model_class.model_validate(stored), model)
    except ValidationError:
        return False


def _resolve(
    workspace: Workspace,
    db: sqlite_utils.Database,
    references: dict[tuple[str, str, int], Any],
    kind: str,
    ref_id: str,
    version: int,
):
    """The playbook/questionnaire the visit will use on this laptop: what `Workspace` opens it with."""
    from at_tui.domain.playbook import Playbook, Questionnaire

    bundled = _bundled(workspace, kind, ref_id, version)
    if bundled is not None:
        return bundled
    stored = _read_snapshot(db, kind, ref_id, version)
    if stored is not None:
        model_class = Playbook if kind == "playbook" else Questionnaire
        try:
            return model_class.model_validate(stored)
        except ValidationError:
            return references.get((kind, ref_id, version))
    return references.get((kind, ref_id, version))


# -- one visit ------------------------------------------------------------------


def _validate_visit(
    workspace: Workspace,
    db: sqlite_utils.Database,
    visit: VisitModel,
    label: str,
    references: dict[tuple[str, str, int], Any],
) -> _Incoming | list[str]:
    from at_tui.domain.identity import FIELD_LABELS, parse_identity_field
    from at_tui.domain.text import FieldError

    problems: list[str] = []

    identity: dict[str, Any] = {}
    for name, raw in visit.identity.model_dump().items():
        try:
            identity[name] = parse_identity_field(workspace.territory, name, raw)
        except FieldError as error:
            problems.append(f"{label} : {FIELD_LABELS.get(name, name)} : {error}")

    playbook = _resolve(workspace, db, references, "playbook", visit.playbook.id, visit.playbook.version)
    questionnaire = _resolve(
        workspace, db, references, "questionnaire", visit.questionnaire.id, visit.questionnaire.version
    )
    if playbook is None:
        problems.append(
            f"{label} : le processus « {visit.playbook.id} » version {visit.playbook.version} n'est ni "
            "dans le fichier ni sur ce poste : la visite ne pourrait pas s'ouvrir."
        )
    elif playbook.questionnaire != visit.questionnaire.id:
        problems.append(
            f"{label} : le questionnaire « {visit.questionnaire.id} » n'est pas celui du processus "
            f"« {playbook.id} » (« {playbook.questionnaire} »)."
        )
    if questionnaire is None:
        problems.append(
            f"{label} : le questionnaire « {visit.questionnaire.id} » version {visit.questionnaire.version} "
            "n'est ni dans le fichier ni sur ce poste : la visite ne pourrait pas s'ouvrir."
        )

    if (visit.status == "terminee") != (visit.finished_at is not None):
        problems.append(
            f"{label} : une visite terminée doit avoir une date de fin (« finished_at »), "
            "une visite en cours n'en a pas."
        )

    answers: dict[str, Any] = {}
    if playbook is not None and questionnaire is not None:
        for key, raw in visit.answers.items():
            try:
                value = _parse_answer(playbook, questionnaire, key, raw)
            except FieldError as error:
                problems.append(f"{label} : réponse « {key[:80]} » : {error}")
                continue
            if value is not None:
                answers[key] = value

    if problems:
        return problems

    override = visit.override
    if override is not None and not override.justification.strip():
        return [f"{label} : une classification forcée doit être justifiée."]
    row = {
        "id": visit.id,
        **identity,
        "maillage": int(bool(identity["maillage"])),
        "playbook_id": visit.playbook.id,
        "playbook_version": visit.playbook.version,
        "questionnaire_id": visit.questionnaire.id,
        "questionnaire_version": visit.questionnaire.version,
        "current_step": visit.current_step,
        "status": visit.status,
        "created_at": visit.created_at,
        "updated_at": visit.updated_at,
        "finished_at": visit.finished_at,
        "override_offer": override.offer if override else None,
        "override_justification": override.justification if override else None,
    }
    history = [(h.field, h.old_value, h.new_value, h.at) for h in visit.history]
    return _Incoming(visit.id, label, row, answers, history)


_TYPE_NAMES = {
    "text": "un texte",
    "long_text": "un texte",
    "single_choice": "un texte (la valeur d'un choix)",
    "integer": "un nombre entier (ex. 12)",
    "yes_no": "true ou false",
    "multiple_choice": "une liste de choix",
}


def _parse_answer(playbook: Playbook, questionnaire: Questionnaire, key: str, raw: Any) -> Any:
    """The stored value for one answer of the file (None: no answer); FieldError in French."""
    from at_tui.domain.answers import parse_answer
    from at_tui.domain.text import FieldError, clean_text

    namespace, _, rest = key.partition(":")
    if namespace == "q" and rest:
        try:
            question = questionnaire.question(rest)
        except KeyError:
            raise FieldError(
                f"question inconnue du questionnaire « {questionnaire.id} » v{questionnaire.version}"
            ) from None
        if raw is None:
            return None
        if not _has_type(question.type, raw):
            raise FieldError(f"{_TYPE_NAMES[question.type]} est attendu, pas {_shown(raw)}")
        return parse_answer(question, raw)
    if namespace == "check":
        step_id, _, action_id = rest.partition(":")
        step = _step(playbook, step_id)
        if not any(a.id == action_id for variant in step.variants for a in variant.actions):
            raise FieldError(f"action « {action_id[:60]} » inconnue de l'étape « {step_id} »")
        if raw is None:
            return None
        if not isinstance(raw, bool):
            raise FieldError(f"true ou false est attendu, pas {_shown(raw)}")
        return raw
    if namespace == "notes" and rest:
        _step(playbook, rest)
        if raw is None:
            return None
        if not isinstance(raw, str):
            raise FieldError(f"un texte est attendu, pas {_shown(raw)}")
        return clean_text(raw, multiline=True) or None
    raise FieldError("clé de réponse inconnue (attendu : q:…, check:…:… ou notes:…)")


def _step(playbook: Playbook, step_id: str):
    from at_tui.domain.text import FieldError

    try:
        return playbook.step(step_id)
    except KeyError:
        raise FieldError(
            f"étape « {step_id[:60]} » inconnue du processus « {playbook.id} » v{playbook.version}"
        ) from None


def _has_type(kind: str, raw: Any) -> bool:
    if kind in ("text", "long_text", "single_choice"):
        return isinstance(raw, str)
    if kind == "integer":
        return isinstance(raw, int) and not isinstance(raw, bool)
    if kind == "yes_no":
        return isinstance(raw, bool)
    return isinstance(raw, list) and all(isinstance(v, str) for v in raw)


def _shown(raw: Any) -> str:
    if isinstance(raw, str):
        return f"« {raw[:40]}{'…' if len(raw) > 40 else ''} »"
    return json.dumps(raw, ensure_ascii=False)[:40]


# -- comparing with and writing to the store --------------------------------------


def _stored_content(db: sqlite_utils.Database, visit_id: str) -> dict[str, Any] | None:
    rows = list(db["visits"].rows_where("id = ?", [visit_id], select=_visit_columns()))
    if not rows:
        return None
    history = [(h["field"], h["old_value"], h["new_value"], h["at"]) for h in _read_history(db, visit_id)]
    return {"row": rows[0], "answers": _read_answers(db, visit_id), "history": history}


_PART_NAMES = {"answers": "réponses", "history": "historique"}
_COLUMN_NAMES = {
    "structure": "structure",
    "departement": "département",
    "typologie": "typologie",
    "contact_name": "contact",
    "contact_role": "fonction du contact",
    "visit_date": "date",
    "maillage": "maillage",
    "playbook_id": "processus",
    "playbook_version": "version du processus",
    "questionnaire_id": "questionnaire",
    "questionnaire_version": "version du questionnaire",
    "current_step": "étape en cours",
    "status": "statut",
    "created_at": "création",
    "updated_at": "dernière modification",
    "finished_at": "fin",
    "override_offer": "classification forcée",
    "override_justification": "justification",
}


def _differences(existing: dict[str, Any], incoming: dict[str, Any]) -> list[str]:
    names = [
        _COLUMN_NAMES.get(column, column)
        for column in incoming["row"]
        if existing["row"].get(column) != incoming["row"][column]
    ]
    names += [_PART_NAMES[part] for part in ("answers", "history") if existing[part] != incoming[part]]
    return names or ["contenu"]


def _insert(conn: sqlite3.Connection, visit: _Incoming) -> None:
    row = visit.row
    columns = ", ".join(row)
    conn.execute(
        f"INSERT INTO visits ({columns}) VALUES ({', '.join('?' for _ in row)})", tuple(row.values())
    )
    # An answer's time is that of its last change in the history, else the visit's.
    changed_at: dict[str, str] = {}
    for field_name, _old, _new, at in visit.history:
        changed_at[field_name] = at
    for key, value in visit.answers.items():
        conn.execute(
            "INSERT INTO answers (visit_id, key, value, updated_at) VALUES (?, ?, ?, ?)",
            (visit.id, key, _encode(value), changed_at.get(key, row["updated_at"])),
        )
    for field_name, old, new, at in visit.history:
        conn.execute(
            "INSERT INTO history (visit_id, field, old_value, new_value, at) VALUES (?, ?, ?, ?, ?)",
            (visit.id, field_name, _encode(old), _encode(new), at),
        )


__all__ = [
    "FORMAT",
    "MAX_FILE_BYTES",
    "VERSION",
    "ExchangeError",
    "ImportReport",
    "dumps",
    "export_visits",
    "import_file",
    "import_visits",
    "loads",
    "read_file",
    "suggested_filename",
    "write_file",
]
