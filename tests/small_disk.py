"""A small real file system for full-disk and read-only tests: a tmpfs, mounted by root.

One probe decides, once per test session, whether this machine lets the tests mount one
(root, and a kernel or container that allows `mount -t tmpfs`); tests that need it carry
`needs_tmpfs`, whose reason says what to provide. CI runs as root and mounts them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest


def _can_mount_tmpfs() -> bool:
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    probe = Path(tempfile.mkdtemp(prefix="at-tui-probe-"))
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)],
                              capture_output=True, check=False)
        if done.returncode == 0:
            subprocess.run(["umount", str(probe)], capture_output=True, check=False)
        return done.returncode == 0
    finally:
        probe.rmdir()


CAN_MOUNT_TMPFS = _can_mount_tmpfs()
needs_tmpfs = pytest.mark.skipif(
    not CAN_MOUNT_TMPFS,
    reason="needs a small tmpfs: run the tests as root where `mount -t tmpfs` is allowed (as CI does)",
)


def small_tmpfs(path: Path, size: str) -> Path:
    """`path` created and mounted as a tmpfs of `size` (e.g. "64k", "24m")."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
                             capture_output=True, text=True, check=False)
    assert mounted.returncode == 0, f"mount -t tmpfs: {mounted.stderr}"
    return path


def remount_read_only(path: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)


def unmount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], check=False)


def fill(folder: Path, leave: int = 0) -> Path:
    """Write a file until at most `leave` bytes are free on `folder`'s file system (0: full to the
    last block); returns it: deleting it frees the space."""
    filler = folder / "remplissage.bin"
    with open(filler, "wb", buffering=0) as handle:
        try:
            while (free := os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize) > leave:
                handle.write(b"\0" * min(65536, max(free - leave, 512)))
        except OSError:  # full: with leave=0, that is the point
            pass
        if leave == 0:
            try:
                while True:  # the last few bytes of the last block
                    handle.write(b"\0" * 512)
            except OSError:
                pass
    return filler
