"""« Exporter » (`e` at the Accueil, issue 12): each choice writes its file under exports/ in the
background and says where; the palette offers each one; a failure is one French notification."""

from __future__ import annotations

import csv

import pytest
from answer_sets import finished_visit
from python_calamine import CalamineWorkbook

from at_tui.screens.export_menu import CHOICES, ExportMenuScreen


@pytest.fixture
def laptop(db_path, reference) -> str:
    from at_tui.workspace import Workspace

    workspace = Workspace(db_path, reference=reference)
    try:
        visit = finished_visit(workspace)
        workspace.ensure_opportunities()
        return visit
    finally:
        workspace.close()


def messages(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def choose(app, pilot, key: str) -> None:
    """`e`, then the choice `key` by the arrows and Entrée, as the AT does; wait for the writing."""
    await pilot.press("e")
    await pilot.pause()
    assert isinstance(app.screen, ExportMenuScreen)
    for _ in range([c.key for c in CHOICES].index(key)):
        await pilot.press("down")
    await pilot.press("enter")
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_e_writes_the_tracking_spreadsheet(make_app, laptop, at_home) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await choose(app, pilot, "suivi")
        assert not isinstance(app.screen, ExportMenuScreen)
        [written] = list((at_home / "exports").glob("suivi-deploiements-*.xlsx"))
        sheet = CalamineWorkbook.from_path(str(written)).get_sheet_by_name("Suivi").to_python()
        assert sheet[0][:3] == ["Département", "Zone", "Structure"]
        assert [row[2] for row in sheet[1:]] == ["MSP de Lectoure"]
        assert any(m.startswith("Fichier de suivi écrit dans") and "1 opportunité" in m for m in messages(app))


async def test_e_writes_the_crm_import_then_only_what_changed(make_app, laptop, at_home) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await choose(app, pilot, "crm")
        await choose(app, pilot, "crm")
    said = [m for m in messages(app) if "Import CRM écrit dans" in m]
    assert said[0].startswith("Premier export CRM sur ce poste") and "opportunites.csv (1)" in said[0]
    assert said[1].startswith("Depuis le dernier export CRM") and "opportunites.csv (0)" in said[1]
    folders = sorted((at_home / "exports").glob("crm-*"), key=lambda f: f.stat().st_mtime_ns)
    assert len(folders) == 2  # two exports of the same second: two folders, the first kept
    with (folders[0] / "opportunites.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    assert [r["Structure"] for r in rows] == ["MSP de Lectoure"]


async def test_e_writes_the_cm_at_pack_of_a_zone(make_app, laptop, at_home) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await choose(app, pilot, "point-ouest")
    [page] = list((at_home / "exports").glob("point-cm-at-ouest-*.html"))
    text = page.read_text(encoding="utf-8")
    assert "32 Gers" in text and "MSP de Lectoure" in text
    assert any("zone Ouest" in m and "page écrite dans" in m for m in messages(app))


async def test_escape_closes_without_writing(make_app, laptop, at_home) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("e")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ExportMenuScreen)
    assert not (at_home / "exports").exists() or not any((at_home / "exports").iterdir())


async def test_the_palette_offers_every_export(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        titles = {c.title for c in app.get_system_commands(app.screen)}
    assert {f"Exporter : {c.label}" for c in CHOICES if c.key != "json"} <= titles


async def test_a_failed_export_is_one_french_notification(make_app, laptop, at_home) -> None:
    at_home.mkdir(parents=True, exist_ok=True)
    (at_home / "exports").write_text("un fichier à la place du dossier", encoding="utf-8")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await choose(app, pilot, "suivi")
        errors = [str(n.message) for n in app._notifications if n.severity == "error"]
    assert len(errors) == 1 and "Traceback" not in errors[0], errors
    assert "Rien n'a été écrit" in errors[0], errors
    assert app.return_code in (None, 0)


async def test_e_writes_the_visits_as_json(make_app, laptop, at_home) -> None:
    import json

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await choose(app, pilot, "json")
        app.action_export(laptop)  # « Exporter cette visite (JSON) », the palette's: the same writer
        await pilot.pause()
    files = sorted((at_home / "exports").glob("visites-*.json"))
    assert files and all(f.stat().st_mode & 0o777 == 0o600 for f in files)
    envelope = json.loads(files[0].read_text(encoding="utf-8"))
    assert [v["identity"]["structure"] for v in envelope["visits"]] == ["MSP de Lectoure"]
    assert sum("1 visite(s) exportée(s) dans" in m for m in messages(app)) == 2
