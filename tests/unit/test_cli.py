"""The command line, run as the AT runs it: `python -m at_tui …` in a separate process."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from importlib import resources
from pathlib import Path

import pytest

import at_tui

TIMEOUT = 60


def run_cli(home: Path, *args: str, fixtures: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("AT_TUI_HOME", "AT_TUI_FIXTURES")}
    env["AT_TUI_HOME"] = str(home)
    env["PYTHONIOENCODING"] = "utf-8"
    if fixtures is not None:
        env["AT_TUI_FIXTURES"] = str(fixtures)
    return subprocess.run(
        [sys.executable, "-m", "at_tui", *args],
        env=env, capture_output=True, text=True, encoding="utf-8", timeout=TIMEOUT, check=False,
    )


def db_file(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The database path the app uses for this AT_TUI_HOME."""
    from at_tui.paths import database_path

    monkeypatch.setenv("AT_TUI_HOME", str(home))
    return database_path()


def dump(db: Path) -> dict[str, list[tuple]]:
    """What an import must carry over: the visits and their answers (read-only access)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {
            "visits": conn.execute("SELECT * FROM visits ORDER BY id").fetchall(),
            "answers": conn.execute("SELECT visit_id, key, value FROM answers ORDER BY visit_id, key").fetchall(),
            "history": conn.execute("SELECT * FROM history ORDER BY id").fetchall(),
        }
    finally:
        conn.close()


def history(db: Path, visit_id: str) -> list[tuple]:
    """The visit's edit history as the app shows it: (field, old value, new value)."""
    from at_tui.workspace import Workspace

    workspace = Workspace(db)
    try:
        return [(h.field, h.old_value, h.new_value) for h in workspace.visits.history(visit_id)]
    finally:
        workspace.close()


def assert_clean_failure(result: subprocess.CompletedProcess, *fragments: str) -> None:
    """Non-zero exit, a French message on stderr, never a traceback."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("at-tui : "), result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


@pytest.fixture
def home_a(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reference) -> tuple[Path, str]:
    """An AT_TUI_HOME holding one visit with answers and a history; returns (home, visit id)."""
    from at_tui.workspace import Workspace

    home = tmp_path / "home-a"
    workspace = Workspace(db_file(home, monkeypatch), reference=reference)
    try:
        visit, errors = workspace.start_visit({
            "structure": "CPTS Cœur d'Hérault 🙂", "departement": "34", "typologie": "CPTS/MSP",
            "contact_name": "Léa Bonnet", "contact_role": "Coordinatrice", "visit_date": "19/11/2026",
            "maillage": True,
        })
        assert errors == {}
        workspace.visits.set_answer(visit.id, "notes:presentation", "Bureau de la CPTS, accueil chaleureux.")
        for question, value in {
            "opportunite": True,
            "situation_actuelle": "Mails et téléphone.",
            "fonctionnalites": ["echanges_messages"],
            "utilisateurs_potentiels": "9",
            "messagerie_seule": True,
            "dossiers_coordination": False,
        }.items():
            workspace.save_answer(visit, question, value)
        workspace.save_identity(visit.id, "contact_role", "Coordinatrice adjointe")
    finally:
        workspace.close()
    return home, visit.id


@pytest.fixture
def corrupted_fixtures(tmp_path: Path) -> Path:
    """A copy of the bundled data where the first question's type is unknown."""
    target = tmp_path / "fixtures"
    shutil.copytree(resources.files("at_tui") / "fixtures", target)
    questionnaire = target / "questionnaires" / "recueil-use.toml"
    text = questionnaire.read_text(encoding="utf-8")
    assert 'type = "yes_no"' in text
    questionnaire.write_text(text.replace('type = "yes_no"', 'type = "oui_non"', 1), encoding="utf-8")
    return target


# -- export / import -----------------------------------------------------------------


def test_version(tmp_path):
    result = run_cli(tmp_path / "home", "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"at-tui {at_tui.__version__}"


def test_export_without_visits_prints_an_empty_list(tmp_path):
    result = run_cli(tmp_path / "empty-home", "export", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["format"] == "at-tui.visites"
    assert data["visits"] == []


def test_export_then_import_into_another_home(tmp_path, home_a, monkeypatch):
    home, visit_id = home_a
    export_file = tmp_path / "transfert" / "visites.json"
    export_file.parent.mkdir()
    result = run_cli(home, "export", "--format", "json", "--output", str(export_file))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "Export écrit dans" in result.stderr
    data = json.loads(export_file.read_text(encoding="utf-8"))
    assert [v["id"] for v in data["visits"]] == [visit_id]
    assert data["visits"][0]["identity"]["structure"] == "CPTS Cœur d'Hérault 🙂"

    home_b = tmp_path / "home-b"
    result = run_cli(home_b, "import", str(export_file))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"Visite « CPTS Cœur d'Hérault 🙂 » ({visit_id}) : importée.",
                                          "1 visite importée."]
    source, copy = dump(db_file(home, monkeypatch)), dump(db_file(home_b, monkeypatch))
    # The copy is the same visit, marked as received by file (never pushed by home B: docs/sync-protocol.md).
    assert [row[:-3] + ("import", None, None) for row in source["visits"]] == copy["visits"]  # origin, owner, archived_at
    assert copy["answers"] == source["answers"]
    assert len(copy["answers"]) == 7
    carried = history(db_file(home_b, monkeypatch), visit_id)
    assert carried == history(db_file(home, monkeypatch), visit_id)
    assert ("contact_role", "Coordinatrice", "Coordinatrice adjointe") in carried
    copy = dump(db_file(home_b, monkeypatch))

    result = run_cli(home_b, "import", str(export_file))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"Visite « CPTS Cœur d'Hérault 🙂 » ({visit_id}) : déjà présente.",
                                          "Aucune visite importée : 1 déjà présente."]
    assert dump(db_file(home_b, monkeypatch)) == copy


def test_import_reports_a_present_visit_with_another_content_and_leaves_it(tmp_path, home_a, monkeypatch):
    home, visit_id = home_a
    export_file = tmp_path / "visites.json"
    assert run_cli(home, "export", "--output", str(export_file)).returncode == 0
    home_b = tmp_path / "home-b"
    assert run_cli(home_b, "import", str(export_file)).returncode == 0
    before = dump(db_file(home_b, monkeypatch))

    data = json.loads(export_file.read_text(encoding="utf-8"))
    data["visits"][0]["identity"]["structure"] = "Autre nom"
    changed = tmp_path / "visites-modifiees.json"
    changed.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = run_cli(home_b, "import", str(changed))
    # The same history with another content: which one is right cannot be told (issue 10 §3).
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert f"Visite « Autre nom » ({visit_id}) : divergente (structure)" in result.stdout
    assert dump(db_file(home_b, monkeypatch)) == before


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param('{"format": "at-tui.visites", "version": 1, "visits": [', "tronqué", id="truncated"),
        pytest.param("ceci n'est pas du JSON", "JSON valide", id="not-json"),
        pytest.param("", "vide", id="empty"),
        pytest.param('{"format": "autre-chose", "visits": []}', "pas un export de visites", id="not-an-export"),
        pytest.param(b"\xff\xfe\x00garbage", "UTF-8", id="binary"),
    ],
)
def test_importing_a_malformed_file_changes_nothing(tmp_path, home_a, monkeypatch, content, expected):
    home, _ = home_a
    db = db_file(home, monkeypatch)
    before = dump(db)
    bad = tmp_path / "abime.json"
    if isinstance(content, bytes):
        bad.write_bytes(content)
    else:
        bad.write_text(content, encoding="utf-8")
    result = run_cli(home, "import", str(bad))
    assert_clean_failure(result, expected)
    assert result.stdout == ""
    assert dump(db) == before


def test_importing_a_missing_file(tmp_path):
    result = run_cli(tmp_path / "home", "import", str(tmp_path / "absent.json"))
    assert_clean_failure(result, "introuvable")


def test_export_of_an_unknown_visit_fails_in_french(tmp_path, home_a):
    home, _ = home_a
    unknown = str(uuid.uuid4())
    output = tmp_path / "une-visite.json"
    result = run_cli(home, "export", "--visit", unknown, "--output", str(output))
    assert_clean_failure(result, unknown, "introuvable")
    assert not output.exists()


def test_export_refuses_a_database_from_a_newer_version(tmp_path, monkeypatch):
    home = tmp_path / "home-newer"
    db = db_file(home, monkeypatch)
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE future (x)")
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    result = run_cli(home, "export", "--format", "json")
    assert_clean_failure(result, "version plus récente", "v99")
    assert result.stdout == ""
    assert db.read_bytes() == before
    assert sorted(p.name for p in home.iterdir()) == [db.name]  # no -wal, no backup, nothing


# -- reference data ----------------------------------------------------------------------


def test_check_data_lists_the_bundled_data(tmp_path):
    result = run_cli(tmp_path / "home", "check-data")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Données valides")
    assert "processus spico v" in result.stdout
    assert "questionnaire recueil-use v1 — Recueil des opportunités offre USE" in result.stdout


def test_check_data_names_the_corrupted_file(tmp_path, corrupted_fixtures):
    result = run_cli(tmp_path / "home", "check-data", fixtures=corrupted_fixtures)
    assert_clean_failure(result, "questionnaires/recueil-use.toml", "« opportunite »", "oui_non")
    assert result.stdout == ""


async def test_app_stops_with_the_french_message_on_corrupted_data(db_path, corrupted_fixtures, monkeypatch):
    from at_tui.app import ATApp

    monkeypatch.setenv("AT_TUI_FIXTURES", str(corrupted_fixtures))
    app = ATApp(db_path)  # no reference given: loaded by its background worker
    async with app.run_test() as pilot:
        for _ in range(200):
            if app.return_code is not None:
                break
            await pilot.pause(0.05)
    assert app.return_code == 2
    message = app.return_value
    assert isinstance(message, str)
    assert "questionnaires/recueil-use.toml" in message
    assert "« opportunite »" in message and "oui_non" in message
    assert "Traceback" not in message
