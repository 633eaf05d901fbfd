"""`at-tui export --format rapport --visit ID [--output DOSSIER]` (issue 12 §3): the real command, by
subprocess, on a real database prepared through the Workspace API."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from corpus import run_cli
from visit_report_helpers import whole_visit

NAME = "compte-rendu-msp-de-lectoure-20261122"


@pytest.fixture
def visit_id(workspace) -> str:
    return whole_visit(workspace)


def cli(home: Path, *args: str):
    result = run_cli(home, "export", "--format", "rapport", *args)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def test_writes_markdown_and_html_in_the_exports_folder(visit_id, at_home) -> None:
    result = cli(at_home, "--visit", visit_id)
    assert result.returncode == 0, result.stderr
    folder = at_home / "exports"
    md_path, html_path = folder / f"{NAME}.md", folder / f"{NAME}.html"
    assert result.stderr.splitlines() == [
        f"Compte rendu (Markdown) écrit dans {md_path}",
        f"Compte rendu (HTML, à imprimer) écrit dans {html_path}",
    ]
    assert result.stdout == ""
    for path in (md_path, html_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert md_path.read_text(encoding="utf-8").startswith("# Compte rendu de visite — MSP de Lectoure\n")
    html = html_path.read_text(encoding="utf-8")
    assert "<h2>Recueil des opportunités offre USE</h2>" in html and '<html lang="fr">' in html
    assert sorted(p.name for p in folder.iterdir()) == [html_path.name, md_path.name]  # no temporary file left


def test_output_names_the_folder_created_if_needed(visit_id, at_home, tmp_path: Path) -> None:
    folder = tmp_path / "comptes rendus" / "décembre"
    result = cli(at_home, "--visit", visit_id, "--output", str(folder))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in folder.iterdir()) == [f"{NAME}.html", f"{NAME}.md"]
    assert str(folder / f"{NAME}.html") in result.stderr


def test_a_second_export_replaces_the_files_of_the_same_visit(visit_id, at_home, tmp_path: Path) -> None:
    assert cli(at_home, "--visit", visit_id, "-o", str(tmp_path / "cr")).returncode == 0
    assert cli(at_home, "--visit", visit_id, "-o", str(tmp_path / "cr")).returncode == 0
    assert len(list((tmp_path / "cr").iterdir())) == 2


def test_without_visit_a_french_usage_error_before_the_database(at_home) -> None:
    result = cli(at_home)
    assert result.returncode == 2
    assert result.stderr.startswith("at-tui : Indiquez la visite du compte rendu : --visit ID")
    assert not (at_home / "at-tui.sqlite3").exists()


def test_depuis_is_refused(at_home) -> None:
    result = cli(at_home, "--visit", "x", "--depuis", "2026-12-01")
    assert result.returncode == 2
    assert "--depuis ne s'applique pas au compte rendu" in result.stderr


def test_output_that_is_a_file_is_refused(visit_id, at_home, tmp_path: Path) -> None:
    target = tmp_path / "rapport.md"
    target.write_text("à garder", encoding="utf-8")
    result = cli(at_home, "--visit", visit_id, "--output", str(target))
    assert result.returncode == 2
    assert "n'est pas un dossier" in result.stderr and "Rien n'a été écrit." in result.stderr
    assert target.read_text(encoding="utf-8") == "à garder"


def test_an_unknown_visit_is_one_french_sentence(workspace, at_home) -> None:
    result = cli(at_home, "--visit", "pas-une-visite")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "at-tui : Visite « pas-une-visite » introuvable sur ce poste : vérifiez l'identifiant "
        "(at-tui export --format json en donne la liste)."
    ]
    assert not (at_home / "exports").exists() or not list((at_home / "exports").iterdir())


def test_an_unwritable_folder_is_one_french_sentence(visit_id, at_home, tmp_path: Path) -> None:
    folder = tmp_path / "lecture-seule"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        result = run_cli(at_home, "export", "--format", "rapport", "--visit", visit_id, "-o", str(folder),
                         unprivileged=True)
    finally:
        folder.chmod(0o700)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "Écriture du compte rendu dans" in result.stderr and "Rien n'a été écrit." in result.stderr
    assert list(folder.iterdir()) == []
