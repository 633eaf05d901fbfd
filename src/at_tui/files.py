"""Writing files so that a crash never leaves half a file behind, nor replaces what is not a file."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, NamedTuple


class TargetRefused(Exception):
    """The path names something a file must not replace (a folder, a device, a FIFO): French message."""


_KINDS = (
    (stat.S_ISDIR, "un dossier"),
    (stat.S_ISCHR, "un périphérique"),
    (stat.S_ISBLK, "un périphérique"),
    (stat.S_ISFIFO, "un tube nommé (FIFO)"),
    (stat.S_ISSOCK, "une socket"),
)


class FileVersion(NamedTuple):
    """One version of a file being read: the same inode, size and modification time. A file
    copied or downloaded while it is read shows another version before the end (imports)."""

    device: int
    inode: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, status: os.stat_result) -> FileVersion:
        return cls(status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)

    def change(self, now: FileVersion) -> str | None:
        """What differs in `now`, in French, or None when it is the same version."""
        if (now.device, now.inode) != (self.device, self.inode):
            return "remplacé par un autre fichier"
        if now.size != self.size:
            return f"{self.size} octets au début, {now.size} maintenant"
        if now.mtime_ns != self.mtime_ns:
            return "date de modification différente"
        return None


def check_target(path: Path) -> None:
    """Accept only a regular file or a new path: the rename would otherwise replace /dev/null
    (root may) or fail after all the work, and writing into a FIFO blocks until a reader comes."""
    try:
        mode = path.stat().st_mode  # follows a symbolic link: a link to /dev/null is a device
    except FileNotFoundError:
        return
    if stat.S_ISREG(mode):
        return
    kind = next((name for test, name in _KINDS if test(mode)), "un fichier spécial")
    raise TargetRefused(
        f"{path} est {kind}, pas un fichier ordinaire : indiquez un fichier ou un nouveau nom. Rien n'a été écrit."
    )


def write_atomically(path: Path, text: str, *, mode: int = 0o600) -> None:
    """Write `text` to a temporary file beside `path`, then rename it over `path`.

    The file is created with `mode` (0600 by default: exports and settings name people or
    servers); a failure (disk full…) leaves `path` as it was and no temporary file behind.
    """
    with atomic_file(path, mode=mode) as handle:
        handle.write(text.encode("utf-8"))


@contextmanager
def atomic_file(path: Path, *, mode: int = 0o600) -> Iterator[BinaryIO]:
    """A binary file to write that appears at `path` only once whole (`write_atomically`'s way, for
    writers that stream: a spreadsheet). Leaving the block by an error leaves `path` as it was."""
    check_target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if hasattr(os, "fchmod"):  # not on Windows before Python 3.13, where mkstemp is private anyway
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every system can fsync a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
