"""The crash report: what an unexpected error leaves behind instead of a traceback on screen.

Written in the data folder's `crash/` (0700), one file per crash (0600): the traceback
frames (file, line, function), never local variables (they hold names of people), every
line redacted. The user sees one French sentence and this file's path.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
import traceback
from pathlib import Path

from at_tui import __version__
from at_tui.domain.redaction import safe

CRASH_DIR = "crash"


def write_crash_report(error: BaseException, context: str = "") -> Path | None:
    """Write the report and return its path; None when even that fails (the caller still says so)."""
    try:
        from at_tui.paths import data_dir, private_dir

        folder = private_dir(data_dir() / CRASH_DIR)
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        path = folder / f"crash-{stamp}-{os.getpid()}.txt"
        frames = traceback.format_exception(type(error), error, error.__traceback__, limit=40)
        lines = [
            f"at-tui {__version__} — rapport d'erreur du {dt.datetime.now().isoformat(timespec='seconds')}",
            f"Python {platform.python_version()} · {platform.platform()}",
            f"Contexte : {safe(context) or '-'}",
            f"Commande : {safe(' '.join(sys.argv[1:2])) or '-'}",  # the sub-command only: arguments may be names
            "",
            *(safe(line.rstrip("\n"), multiline=True, limit=None) for line in frames),
        ]
        fd, path = _create_private(path)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
        return path
    except Exception:  # noqa: BLE001 - the report is best effort; the French line is still printed
        return None


def _create_private(path: Path) -> tuple[int, Path]:
    """A new 0600 file at `path`, or beside it when two crashes share the second and the PID."""
    for attempt in range(100):
        candidate = path if attempt == 0 else path.with_name(f"{path.stem}-{attempt}{path.suffix}")
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)  # whatever the umask left
        return fd, candidate
    raise FileExistsError(path)


def crash_sentence(error: BaseException, context: str = "") -> str:
    """The one line the user sees: what happened, that nothing typed is lost, where the report is."""
    path = write_crash_report(error, context)
    where = f" Rapport : {path}" if path else " (le rapport d'erreur n'a pas pu être écrit)"
    return (
        "Erreur inattendue : at-tui s'est arrêté. Les réponses déjà enregistrées sont conservées."
        f"{where} — transmettez ce fichier au support de l'agence."
    )
