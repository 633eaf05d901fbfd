"""`at-tui import` of a visit that travels more than once (issue 10 §3), run as the CM runs it:
`python -m at_tui export` / `import` in separate processes, each laptop its own AT_TUI_HOME."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

TIMEOUT = 60


def run_cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("AT_TUI_HOME", "AT_TUI_FIXTURES")}
    env["AT_TUI_HOME"] = str(home)
    env["PYTHONIOENCODING"] = "utf-8"
    return subprocess.run(
        [sys.executable, "-m", "at_tui", *args],
        env=env, capture_output=True, text=True, encoding="utf-8", timeout=TIMEOUT, check=False,
    )


def database(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from at_tui.paths import database_path

    monkeypatch.setenv("AT_TUI_HOME", str(home))
    return database_path()


def snapshot(db: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
                for table in ("visits", "answers", "history", "outbox")}
    finally:
        conn.close()


class Laptop:
    """An AT_TUI_HOME, its database opened only for the moment of a change (as the app would)."""

    def __init__(self, home: Path, monkeypatch: pytest.MonkeyPatch, reference) -> None:
        self.home, self.monkeypatch, self.reference = home, monkeypatch, reference

    def change(self, action) -> object:
        from at_tui.workspace import Workspace

        workspace = Workspace(database(self.home, self.monkeypatch), reference=self.reference)
        try:
            return action(workspace)
        finally:
            workspace.close()

    def export(self, path: Path) -> Path:
        result = run_cli(self.home, "export", "--output", str(path))
        assert result.returncode == 0, result.stderr
        return path

    def import_(self, path: Path) -> subprocess.CompletedProcess:
        result = run_cli(self.home, "import", str(path))
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def snapshot(self) -> dict[str, list[tuple]]:
        return snapshot(database(self.home, self.monkeypatch))


def new_visit(structure: str, departement: str, typologie: str):
    def action(workspace):
        visit, errors = workspace.start_visit({
            "structure": structure, "departement": departement, "typologie": typologie,
            "contact_name": "Léa Bonnet", "contact_role": "Coordinatrice", "visit_date": "19/11/2026",
            "maillage": False,
        })
        assert errors == {}
        workspace.visits.set_answer(visit.id, "notes:presentation", "Bureau de la structure, accueil chaleureux.")
        workspace.visits.set_answer(visit.id, "q:opportunite", True)
        workspace.visits.set_status(visit.id, "terminee")
        return visit.id
    return action


@pytest.fixture
def laptops(tmp_path, monkeypatch, reference) -> tuple[Laptop, Laptop]:
    return (Laptop(tmp_path / "poste-at", monkeypatch, reference),
            Laptop(tmp_path / "poste-cm", monkeypatch, reference))


def test_a_visit_reopened_browsed_and_exported_again_imports_as_already_present(laptops, tmp_path) -> None:
    at, cm = laptops
    visit_id = at.change(new_visit("CPTS Cœur d'Hérault 🙂", "34", "cpts-msp"))
    first = at.export(tmp_path / "premier.json")
    result = cm.import_(first)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"Visite « CPTS Cœur d'Hérault 🙂 » ({visit_id}) : importée.", "1 visite importée.",
    ]
    copy = cm.snapshot()

    # Reopened on the AT's laptop: every step browsed, nothing changed.
    def browse(workspace):
        for step in ("presentation", "demonstration", "classification", "qualification"):
            workspace.visits.set_step(visit_id, step)
    at.change(browse)
    second = at.export(tmp_path / "second.json")
    for _ in range(2):
        result = cm.import_(second)
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines() == [
            f"Visite « CPTS Cœur d'Hérault 🙂 » ({visit_id}) : déjà présente.", "Aucune visite importée : 1 déjà présente.",
        ]
        assert cm.snapshot() == copy


def test_an_updated_visit_and_a_diverging_one_in_the_same_file(laptops, tmp_path) -> None:
    at, cm = laptops
    updated = at.change(new_visit("MSP des Coteaux", "31", "cpts-msp"))
    diverging = at.change(new_visit("CH d'Albi", "81", "ch"))
    assert cm.import_(at.export(tmp_path / "premier.json")).returncode == 0

    at.change(lambda w: w.visits.set_answer(updated, "notes:demonstration", "Démo de la messagerie."))
    at.change(lambda w: w.visits.set_answer(diverging, "notes:presentation", "Version de l'AT."))
    cm.change(lambda w: w.visits.set_answer(diverging, "notes:presentation", "Version du CM."))
    new = at.change(new_visit("EHPAD Les Tilleuls", "34", "ehpad"))
    kept = [row for row in cm.snapshot()["answers"] if row[0] == diverging]

    result = cm.import_(at.export(tmp_path / "second.json"))
    assert result.returncode == 1, result.stdout  # a visit diverged: said by the exit code
    lines = result.stdout.splitlines()
    assert f"Visite « MSP des Coteaux » ({updated}) : mise à jour." in lines
    assert f"Visite « EHPAD Les Tilleuls » ({new}) : importée." in lines
    [line] = [line for line in lines if diverging in line]
    assert "divergente" in line and "« notes:presentation »" in line
    assert "1 visite importée, 1 mise à jour, 1 divergente." in lines
    answers = cm.snapshot()["answers"]
    assert [row for row in answers if row[0] == diverging] == kept  # the CM's version stays
    assert ("notes:demonstration" in {row[1] for row in answers if row[0] == updated})
    assert any(row[0] == new for row in answers)


def test_the_exit_codes_say_what_an_import_does_with_a_diverging_visit(tmp_path) -> None:
    result = run_cli(tmp_path / "home", "--help")
    assert result.returncode == 0
    assert "« import » : une visite divergente ou refusée" in result.stdout
