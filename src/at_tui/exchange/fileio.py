"""Export files on disk: the text of an envelope, written atomically, read with French errors.

Reading only parses the JSON (refusing what no export contains: duplicate keys,
NaN, a huge file); what the envelope holds is checked on import (`importer.py`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from at_tui.exchange.errors import ExchangeError

MAX_FILE_BYTES = 50 * 1024 * 1024
FILE_SUFFIX = ".json"


def dumps(envelope: Mapping[str, Any]) -> str:
    """The envelope as the text of an export file (UTF-8, indented, readable)."""
    return json.dumps(envelope, ensure_ascii=False, indent=2)


def write_file(path: Path | str, envelope: Mapping[str, Any]) -> Path:
    """Write the export file atomically (a temporary file renamed over the target), 0600."""
    from at_tui.files import TargetRefused, write_atomically
    from at_tui.store.errors import explain

    target = Path(path)
    try:
        write_atomically(target, dumps(envelope) + "\n", mode=0o600)
    except TargetRefused as error:
        raise ExchangeError(str(error)) from None
    except OSError as error:
        raise ExchangeError(f"{explain(error, f'Écriture du fichier {target}')} Aucun fichier n'a été modifié.") from None
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


def read_file(path: Path | str) -> dict:
    """The parsed content of an export file (not yet validated: see `import_visits`).

    Only a regular file is opened (a FIFO would block, a device never ends), and a file
    that changes while it is read is refused rather than half-understood."""
    source = Path(path)
    try:
        before = os.stat(source)
        if stat.S_ISDIR(before.st_mode):
            raise ExchangeError(f"{source} est un dossier, pas un fichier d'export.")
        if not stat.S_ISREG(before.st_mode):
            raise ExchangeError(
                f"{source} n'est pas un fichier ordinaire (périphérique, tube ou socket) : "
                "indiquez le fichier produit par « at-tui export »."
            )
        if before.st_size > MAX_FILE_BYTES:
            raise ExchangeError(_too_large(before.st_size))
        with open(source, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
            after = os.fstat(handle.fileno())
    except FileNotFoundError:
        raise ExchangeError(f"Fichier {source} introuvable.") from None
    except OSError as error:
        from at_tui.store.errors import explain

        raise ExchangeError(explain(error, f"Lecture du fichier {source}")) from None
    from at_tui.files import FileVersion

    if FileVersion.of(before).change(FileVersion.of(after)) is not None or len(data) != after.st_size:
        raise ExchangeError(
            f"Le fichier {source} a changé pendant la lecture : rien n'a été importé. "
            "Attendez la fin de sa copie, puis relancez l'import."
        )
    return loads(data)


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

