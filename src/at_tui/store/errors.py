"""Why a write or a read failed, in one French sentence: the SQLite or OS text comes after it.

One translation for the whole app (a failed save in the TUI, a CLI command, an import):
the AT reads « disque plein », never « database or disk is full ».
"""

from __future__ import annotations

import errno
import sqlite3

from at_tui.domain.redaction import safe

# Short causes, shown next to a field that could not be saved and in the header.
DISK_FULL = "disque plein"
READ_ONLY = "base en lecture seule"
BUSY = "base occupée par un autre programme"
CORRUPT = "base de données endommagée"
IO_ERROR = "erreur d'écriture sur le disque"
NOT_A_DATABASE = "ce fichier n'est pas une base at-tui"
CANT_OPEN = "impossible d'ouvrir la base (dossier absent ou sans droit d'accès)"

_SQLITE_CODES = {
    "SQLITE_FULL": DISK_FULL,
    "SQLITE_READONLY": READ_ONLY,
    "SQLITE_BUSY": BUSY,
    "SQLITE_LOCKED": BUSY,
    "SQLITE_CORRUPT": CORRUPT,
    "SQLITE_NOTADB": NOT_A_DATABASE,
    "SQLITE_IOERR": IO_ERROR,
    "SQLITE_CANTOPEN": CANT_OPEN,
    "SQLITE_PERM": "accès à la base refusé",
}
_SQLITE_TEXTS = (  # when the error code is missing (older Python, wrapped errors)
    ("database or disk is full", DISK_FULL),
    ("readonly database", READ_ONLY),
    ("database is locked", BUSY),
    ("malformed", CORRUPT),
    ("file is not a database", NOT_A_DATABASE),
    ("disk i/o error", IO_ERROR),
    ("unable to open database", CANT_OPEN),
)
_ERRNO = {
    errno.ENOSPC: DISK_FULL,
    errno.EDQUOT: "quota de disque dépassé",
    errno.EROFS: "système de fichiers en lecture seule",
    errno.EACCES: "accès refusé",
    errno.EPERM: "opération non permise",
    errno.ENOENT: "fichier ou dossier introuvable",
    errno.EISDIR: "c'est un dossier, pas un fichier",
    errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
    errno.EIO: IO_ERROR,
    errno.ENAMETOOLONG: "nom de fichier trop long",
    errno.EEXIST: "le fichier existe déjà",
    errno.ELOOP: "trop de liens symboliques",
    errno.EMFILE: "trop de fichiers ouverts",
    errno.ETXTBSY: "fichier occupé",
}


def cause(error: BaseException) -> str:
    """The short French cause of a storage or file error (« disque plein »…), or a generic one."""
    if isinstance(error, sqlite3.Error):
        name = getattr(error, "sqlite_errorname", "") or ""
        for code, text in _SQLITE_CODES.items():
            if name == code or name.startswith(code + "_"):
                return text
        lowered = str(error).lower()
        for needle, text in _SQLITE_TEXTS:
            if needle in lowered:
                return text
        return "erreur de la base de données"
    if isinstance(error, OSError) and error.errno in _ERRNO:
        return _ERRNO[error.errno]
    if isinstance(error, UnicodeError):
        return "texte illisible (encodage)"
    if isinstance(error, MemoryError):
        return "mémoire insuffisante"
    return "erreur inattendue"


def explain(error: BaseException, doing: str) -> str:
    """« `doing` impossible : cause (détail) » — one French sentence, the raw text last and made safe."""
    detail = getattr(error, "strerror", None) if isinstance(error, OSError) else None
    detail = detail or str(error) or type(error).__name__
    where = getattr(error, "filename", None) if isinstance(error, OSError) else None
    suffix = f" — {safe(where)}" if where else ""
    return f"{doing} impossible : {cause(error)} ({safe(detail, limit=300)}){suffix}."


def is_transient(error: BaseException) -> bool:
    """Whether retrying the same write later may succeed (space freed, lock released, remounted rw)."""
    return cause(error) in {DISK_FULL, READ_ONLY, BUSY, IO_ERROR, "quota de disque dépassé",
                            "système de fichiers en lecture seule", "accès refusé"}
