"""One at-tui window per data folder.

Two apps on the same database would each save what their AT types, field by field, and
silently overwrite each other. The app therefore holds an OS lock (`flock`) on a file of the
data folder while it runs, with its PID written in it; a second app finds the lock held,
says which process holds it and does not start. The kernel drops the lock when the process
ends, however it ends: a crashed app never leaves a stale lock behind. CLI commands do not
take it (they work beside one open app, as the README promises).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

LOCK_NAME = "at-tui.lock"


ALREADY_OPEN_EXIT = 3  # the exit code when another at-tui holds the data folder


class AlreadyOpen(Exception):
    """Another at-tui app holds the data folder; the message is French and names its PID."""

    def __init__(self, folder: Path, pid: int | None) -> None:
        from at_tui.domain.redaction import printable

        who = f" (PID {pid})" if pid else ""
        super().__init__(
            f"Une autre fenêtre at-tui est déjà ouverte sur ce dossier de données{who} : "
            f"{printable(str(folder))}. Fermez-la d'abord (Ctrl+Q) : deux fenêtres sur les mêmes "
            "visites écraseraient mutuellement leurs saisies."
        )
        self.pid = pid


class InstanceLock:
    """Held from `acquire()` until `release()` or the end of the process."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock; raise AlreadyOpen when another app holds it.

        Returns False when the folder cannot hold a lock (no such folder yet, read-only, a
        file system without flock): the app then starts unguarded rather than not at all —
        the database itself reports what it cannot do."""
        import fcntl

        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)  # the very first start
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            holder = _read_pid(fd) if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES) else None
            os.close(fd)
            if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise AlreadyOpen(self.folder, holder) from None
            return False
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError:
            pass  # a full disk: the lock holds all the same, only the PID is missing from the message
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing drops the flock; the file stays (removing it would race a new app)

    @property
    def held(self) -> bool:
        return self._fd is not None


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
