"""Export and import files on disk: created private, never replacing a device, read only when regular."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from at_tui.exchange import ExchangeError, fileio, read_file, write_file
from at_tui.files import TargetRefused, check_target, write_atomically


def test_write_atomically_creates_a_private_file_whatever_the_umask(tmp_path):
    previous = os.umask(0o000)
    try:
        target = tmp_path / "export.json"
        write_atomically(target, "{}\n")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_text() == "{}\n"


def test_write_atomically_uses_the_mode_asked_and_replaces_an_existing_file(tmp_path):
    target = tmp_path / "réglages.json"
    target.write_text("ancien")
    target.chmod(0o666)
    write_atomically(target, "nouveau", mode=0o640)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert target.read_text() == "nouveau"


def test_write_file_of_an_export_is_private(tmp_path):
    target = write_file(tmp_path / "sous-dossier" / "visites.json", {"format": "at-tui.visites", "visits": []})
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /dev/null and mkfifo")
def test_special_targets_are_refused_before_anything_is_written(tmp_path):
    fifo = tmp_path / "tube"
    os.mkfifo(fifo)
    for target, kind in ((tmp_path, "un dossier"), (Path("/dev/null"), "un périphérique"), (fifo, "un tube nommé")):
        with pytest.raises(TargetRefused, match=kind):
            write_atomically(target, "x")
        with pytest.raises(ExchangeError, match=kind):
            write_file(target, {})
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["tube"]


def test_a_new_path_and_a_regular_file_are_accepted(tmp_path):
    check_target(tmp_path / "nouveau.json")
    (tmp_path / "existant.json").write_text("x")
    check_target(tmp_path / "existant.json")


def test_a_failed_write_leaves_the_target_and_no_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "export.json"
    target.write_text("précédent")

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(ExchangeError, match="disque plein") as caught:
        write_file(target, {"visits": []})
    assert "Aucun fichier n'a été modifié" in str(caught.value)
    assert target.read_text() == "précédent"
    assert [p.name for p in tmp_path.iterdir()] == ["export.json"]


def test_a_file_that_changes_while_it_is_read_is_refused(tmp_path, monkeypatch):
    source = tmp_path / "visites.json"
    source.write_text('{"format": "at-tui.visites"}')
    real_fstat = os.fstat

    def grown(fd):
        result = real_fstat(fd)
        return os.stat_result((*result[:6], result.st_size + 10, *result[7:]))

    monkeypatch.setattr(fileio.os, "fstat", grown)
    with pytest.raises(ExchangeError, match="a changé pendant la lecture"):
        read_file(source)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /dev/zero and mkfifo")
def test_only_a_regular_file_is_opened(tmp_path):
    """A FIFO would block the import for ever, /dev/zero would never end."""
    fifo = tmp_path / "tube.json"
    os.mkfifo(fifo)
    for source in (fifo, Path("/dev/zero")):
        with pytest.raises(ExchangeError, match="n'est pas un fichier ordinaire"):
            read_file(source)
    with pytest.raises(ExchangeError, match="est un dossier"):
        read_file(tmp_path)
