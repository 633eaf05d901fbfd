"""`at_tui.cli.main.main`: the one handler where every failure becomes a French line and an exit code.

In-process (fast, exact); test_bad_input_corpus.py runs the same paths as subprocesses."""

from __future__ import annotations

import errno
import sqlite3
import stat
import sys
from pathlib import Path

import pytest

import at_tui.cli.main  # noqa: F401 - loads the module; the package's `main` attribute is the function

cli = sys.modules["at_tui.cli.main"]


def _failing(error: BaseException):
    def command(*args, **kwargs):
        raise error

    return command


def _run(monkeypatch, capsys, error: BaseException, argv=("check-data",)) -> tuple[int, str, str]:
    monkeypatch.setattr(cli, "check_data_command", _failing(error))
    monkeypatch.setattr(cli, "export_command", _failing(error))
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_ctrl_c_is_one_line(at_home, monkeypatch, capsys):
    code, out, err = _run(monkeypatch, capsys, KeyboardInterrupt())
    assert code == 130
    assert err == "at-tui : interrompu (Ctrl+C).\n" and out == ""


def test_ctrl_c_during_an_import_says_nothing_was_imported(at_home, monkeypatch, capsys):
    monkeypatch.setattr(cli, "import_command", _failing(KeyboardInterrupt()))
    assert cli.main(["import", "visites.json"]) == 130
    assert capsys.readouterr().err == "at-tui : interrompu (Ctrl+C) : rien n'a été importé.\n"


def test_a_closed_pipe_is_a_quiet_exit(at_home, monkeypatch, capsys):
    code, out, err = _run(monkeypatch, capsys, BrokenPipeError(errno.EPIPE, "Broken pipe"))
    assert (code, out, err) == (141, "", "")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (sqlite3.OperationalError("database or disk is full"),
         "Commande « export » impossible : disque plein (database or disk is full)."),
        (sqlite3.OperationalError("database is locked"), "Commande « export » impossible : base occupée par un autre programme"),
        (OSError(errno.ENOSPC, "No space left on device"), "Commande « export » impossible : disque plein (No space left on device)."),
        (PermissionError(errno.EACCES, "Permission denied", "/srv/x.json"), "accès refusé (Permission denied) — /srv/x.json."),
    ],
)
def test_storage_and_os_errors_not_caught_lower_are_explained(at_home, monkeypatch, capsys, error, expected):
    code, _, err = _run(monkeypatch, capsys, error, argv=("export",))
    assert code == 1
    assert err.startswith("at-tui : ") and expected in err and err.count("\n") == 1
    assert not (at_home / "crash").exists()


def test_errors_already_in_french_are_shown_as_they_are(at_home, monkeypatch, capsys):
    from at_tui.files import TargetRefused
    from at_tui.store.db import StoreError

    for error in (StoreError("La base est introuvable."), TargetRefused("/dev/null est un périphérique.")):
        code, _, err = _run(monkeypatch, capsys, error)
        assert (code, err) == (1, f"at-tui : {error}\n")


def test_anything_else_is_a_crash_with_a_report(at_home, monkeypatch, capsys):
    token = "att_" + "R" * 40
    code, out, err = _run(monkeypatch, capsys, ValueError(f"inattendu {token}"))
    assert code == 70 and out == ""
    assert err.startswith("at-tui : Erreur inattendue : at-tui s'est arrêté.") and err.count("\n") == 1
    assert token not in err
    reports = list((at_home / "crash").iterdir())
    assert len(reports) == 1 and stat.S_IMODE(reports[0].stat().st_mode) == 0o600
    assert str(reports[0]) in err
    text = reports[0].read_text(encoding="utf-8")
    assert "ValueError" in text and token not in text and "Contexte : check-data" in text


def test_a_write_error_on_stdout_is_explained(at_home, monkeypatch, capsys):
    """`at-tui export > /dev/full`: the flush of stdout fails inside the handler, not at exit."""

    class FullStdout:
        def write(self, text):
            return len(text)

        def flush(self):
            raise OSError(errno.ENOSPC, "No space left on device")

    def export(args):
        sys.stdout.write("{}\n")
        return 0

    monkeypatch.setattr(cli, "export_command", export)
    monkeypatch.setattr(sys, "stdout", FullStdout())
    code = cli.main(["export"])
    assert code == 1
    assert "disque plein" in capsys.readouterr().err


class _FakeApp:
    """Stands for ATApp: records how run_app reads its outcome."""

    crash: BaseException | None = None
    code = 0
    result = None

    def __init__(self, db_path: Path) -> None:
        self.crash_error = type(self).crash
        self.return_code = type(self).code

    def run(self):
        return type(self).result


def test_a_crash_inside_the_app_leaves_a_report_not_a_traceback(at_home, monkeypatch, capsys):
    import at_tui.app

    class Crashed(_FakeApp):
        crash = ZeroDivisionError("division by zero")

    monkeypatch.setattr(at_tui.app, "ATApp", Crashed)
    assert cli.main([]) == 70
    err = capsys.readouterr().err
    assert "Erreur inattendue" in err and "Rapport : " in err and "Traceback" not in err
    (report,) = (at_home / "crash").iterdir()
    assert "Contexte : application" in report.read_text(encoding="utf-8")


def test_the_app_ending_normally_or_on_bad_data_is_unchanged(at_home, monkeypatch, capsys):
    import at_tui.app

    monkeypatch.setattr(at_tui.app, "ATApp", _FakeApp)
    assert cli.main([]) == 0

    class BadData(_FakeApp):
        code = 2
        result = "Le fichier questionnaires/recueil-use.toml est invalide."

    monkeypatch.setattr(at_tui.app, "ATApp", BadData)
    assert cli.main([]) == 2
    assert capsys.readouterr().err == "at-tui : Le fichier questionnaires/recueil-use.toml est invalide.\n"
    assert not (at_home / "crash").exists()
