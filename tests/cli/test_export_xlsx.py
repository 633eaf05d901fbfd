"""`at-tui export --format xlsx` (issue 12 §1): the real command, by subprocess, on a real laptop
database prepared through the Workspace API; the file read back by python-calamine."""

from __future__ import annotations

import stat

import pytest
from corpus import run_cli
from python_calamine import CalamineWorkbook
from tracking_journeys import EXPECTED_HEADER, EXPECTED_ROWS, known_opportunities


@pytest.fixture
def laptop(workspace, at_home):
    ids = known_opportunities(workspace)
    workspace.close()  # the command opens the database itself
    return ids


def export(home, *args, **options):
    result = run_cli(home, "export", "--format", "xlsx", *args, **options)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def suivi(path) -> dict[str, list]:
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Suivi").to_python()
    assert rows[0] == EXPECTED_HEADER
    return {row[2]: [None if v == "" else int(v) if isinstance(v, float) else v for v in row] for row in rows[1:]}


def test_the_file_asked_for_holds_every_opportunity_of_the_laptop(laptop, at_home, tmp_path) -> None:
    target = tmp_path / "mon suivi.xlsx"
    result = export(at_home, "--output", str(target))
    assert result.returncode == 0, result.stderr
    assert result.stderr == f"Fichier de suivi écrit dans {target} : 3 opportunités (lisible par vous seul).\n"
    assert suivi(target) == EXPECTED_ROWS
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_without_output_the_file_is_dated_in_the_private_exports_folder(laptop, at_home) -> None:
    result = export(at_home)
    assert result.returncode == 0, result.stderr
    (written,) = (at_home / "exports").glob("suivi-deploiements-????????-??????.xlsx")
    assert str(written) in result.stderr
    assert stat.S_IMODE((at_home / "exports").stat().st_mode) == 0o700
    assert set(suivi(written)) == set(EXPECTED_ROWS)


def test_an_unwritable_folder_is_one_french_sentence_and_no_file(laptop, at_home, tmp_path) -> None:
    locked = tmp_path / "verrouillé"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        result = export(at_home, "--output", str(locked / "suivi.xlsx"), unprivileged=True)
    finally:
        locked.chmod(0o700)
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"at-tui : Écriture du fichier de suivi dans {locked / 'suivi.xlsx'} impossible : accès refusé")
    assert line.endswith("Rien n'a été écrit.")
    assert list(locked.iterdir()) == []


def test_a_folder_as_output_or_an_option_of_another_format_is_refused_first(laptop, at_home, tmp_path) -> None:
    folder = export(at_home, "--output", str(tmp_path))
    assert folder.returncode == 1 and "est un dossier, pas un fichier ordinaire" in folder.stderr
    visit = export(at_home, "--visit", laptop["simple"])
    assert visit.returncode == 2 and "--format rapport --visit" in visit.stderr
    since = export(at_home, "--depuis", "2026-12-01")
    assert since.returncode == 2 and "--format crm" in since.stderr
    assert not (at_home / "exports").exists()
