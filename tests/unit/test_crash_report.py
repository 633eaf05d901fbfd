"""The crash report: private, redacted, frames without their variables."""

from __future__ import annotations

import stat
import sys

import pytest

from at_tui.crash import CRASH_DIR, crash_sentence, write_crash_report

TOKEN = "att_" + "Sx7" * 14


def _failure() -> BaseException:
    """An exception raised where a local variable holds a person's name and a token."""

    def save_contact(visit):
        contact_name = "Jeanne Martin"  # noqa: F841 - the value a report must never show
        secret = TOKEN  # noqa: F841
        raise KeyError(f"réponse du serveur \x1b]52;c;aGk=\x07 Authorization: Bearer {TOKEN}")

    try:
        # Built at run time: absent from the source lines a traceback quotes.
        save_contact({"structure": "EHPAD " + "Les Glycines", "contact": "Paul " + "Durand"})
    except KeyError as error:
        return error
    raise AssertionError("not raised")


def test_report_is_private_and_shows_frames_not_variables(at_home, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["at-tui", "import", "/home/jeanne.martin/visite.json"])
    path = write_crash_report(_failure(), "import")
    assert path is not None and path.parent == at_home / CRASH_DIR
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    text = path.read_text(encoding="utf-8")
    assert "KeyError" in text and "save_contact" in text and "test_crash_report.py" in text
    assert "Contexte : import" in text and "Commande : import" in text
    for forbidden in ("Sx7Sx7", "Paul Durand", "EHPAD Les Glycines", "jeanne.martin", "\x1b", "\x07"):
        assert forbidden not in text, forbidden
    # The source line that assigns the name is code, not a variable's value: only that may show.
    assert all("contact_name = " in line for line in text.splitlines() if "Jeanne Martin" in line)


def test_no_local_variable_of_any_frame_is_written(at_home):
    def deepest():
        person = "Camille " + "Fréaud"  # noqa: F841 - built at run time: absent from the source
        raise RuntimeError("panne")

    def middle():
        name = "Lucie " + "Ferrand"  # noqa: F841
        deepest()

    with pytest.raises(RuntimeError) as caught:
        middle()
    text = write_crash_report(caught.value).read_text(encoding="utf-8")
    assert "deepest" in text and "middle" in text
    assert "Camille Fréaud" not in text and "Lucie Ferrand" not in text


def test_an_existing_crash_folder_is_made_private(at_home):
    folder = at_home / CRASH_DIR
    folder.mkdir(parents=True, mode=0o755)
    folder.chmod(0o755)
    write_crash_report(RuntimeError("x"))
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_two_crashes_in_the_same_second_keep_both_reports(at_home):
    first = write_crash_report(RuntimeError("premier"))
    second = write_crash_report(RuntimeError("second"))
    assert first != second
    assert "premier" in first.read_text(encoding="utf-8") and "second" in second.read_text(encoding="utf-8")


def test_the_cause_of_an_error_is_in_the_report(at_home):
    try:
        try:
            raise OSError(28, "No space left on device")
        except OSError as inner:
            raise RuntimeError("sauvegarde impossible") from inner
    except RuntimeError as error:
        text = write_crash_report(error).read_text(encoding="utf-8")
    assert "No space left on device" in text and "sauvegarde impossible" in text


def test_the_sentence_names_the_report(at_home):
    sentence = crash_sentence(_failure(), "application")
    assert sentence.startswith("Erreur inattendue : at-tui s'est arrêté.")
    report = sentence.split("Rapport : ")[1].split(" — ")[0]
    assert report.startswith(str(at_home / CRASH_DIR))
    assert TOKEN not in sentence and "\n" not in sentence


def test_when_the_report_cannot_be_written_the_sentence_says_so(tmp_path, monkeypatch):
    not_a_folder = tmp_path / "fichier"
    not_a_folder.write_text("x")
    monkeypatch.setenv("AT_TUI_HOME", str(not_a_folder))
    assert write_crash_report(RuntimeError("x")) is None
    assert "le rapport d'erreur n'a pas pu être écrit" in crash_sentence(RuntimeError("x"))
