"""Remembering that the data files were validated, so start-up skips pydantic when nothing changed.

Validating the playbook needs pydantic, which costs more than the whole first
screen. The fingerprint (app version + every data file's name and bytes) is
cheap to compute; only a set of files that already passed validation is
trusted, so a malformed file is still refused at start.
"""

from __future__ import annotations

import hashlib
from importlib.resources.abc import Traversable
from pathlib import Path

from at_tui import __version__
from at_tui.paths import data_dir

MARKER = "donnees-verifiees.sha256"


def fingerprint(root: Traversable | Path) -> str:
    digest = hashlib.sha256(__version__.encode())
    stack = [(root, "")]
    while stack:
        folder, prefix = stack.pop()
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            name = f"{prefix}/{entry.name}"
            if entry.is_dir():
                stack.append((entry, name))
            elif entry.name.endswith(".toml"):
                digest.update(name.encode() + b"\0" + entry.read_bytes() + b"\0")
    return digest.hexdigest()


def already_checked(print_: str) -> bool:
    try:
        return (data_dir() / MARKER).read_text(encoding="ascii").strip() == print_
    except (OSError, UnicodeDecodeError):
        return False


def remember_checked(print_: str) -> None:
    from at_tui.files import write_atomically

    write_atomically(data_dir() / MARKER, print_ + "\n")
