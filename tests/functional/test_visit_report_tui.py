"""The compte rendu from the TUI (issue 12 §3): `w` on the deliverables screen, and the palette on any
screen of a visit, write the Markdown and the HTML under exports/ and say where; a failure is said."""

from __future__ import annotations

import pytest
from visit_report_helpers import whole_visit

from at_tui.screens.deliverables import DeliverablesScreen

NAME = "compte-rendu-msp-de-lectoure-20261122"
COMMAND = "Compte rendu de cette visite (Markdown + HTML)"


@pytest.fixture
def visit_id(db_path, reference) -> str:
    from at_tui.workspace import Workspace

    workspace = Workspace(db_path, reference=reference)
    try:
        return whole_visit(workspace)
    finally:
        workspace.close()


def messages(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_w_on_the_deliverables_writes_both_files(make_app, visit_id, at_home) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_visit(visit_id, "classification:livrables")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DeliverablesScreen)
        shown = {key: b.binding.description for key, b in screen.active_bindings.items() if b.binding.show}
        assert shown["w"] == "Compte rendu"
        await pilot.press("w")
        await pilot.pause()
        folder = at_home / "exports"
        assert sorted(p.name for p in folder.iterdir()) == [f"{NAME}.html", f"{NAME}.md"]
        [said] = [m for m in messages(app) if m.startswith("Compte rendu écrit dans")]
        assert str(folder) in said and f"{NAME}.md (Markdown)" in said and f"{NAME}.html (HTML, à imprimer)" in said
        assert (folder / f"{NAME}.md").read_text(encoding="utf-8").startswith("# Compte rendu de visite")
        assert app.screen is screen  # the AT stays where she was


@pytest.mark.parametrize("stop", ["classification:resultat", "presentation"])
async def test_the_palette_offers_it_on_every_screen_of_a_visit(make_app, visit_id, at_home, stop) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_visit(visit_id, stop)
        await pilot.pause()
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        commands[COMMAND].callback()
        await pilot.pause()
        assert sorted(p.name for p in (at_home / "exports").iterdir()) == [f"{NAME}.html", f"{NAME}.md"]


async def test_the_palette_does_not_offer_it_outside_a_visit(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert COMMAND not in {c.title for c in app.get_system_commands(app.screen)}


async def test_a_failed_write_is_one_french_notification(make_app, visit_id, at_home, monkeypatch) -> None:
    import at_tui.documents.visit_report as visit_report

    def full_disk(*args, **kwargs) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(visit_report, "write_pair", full_disk)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_visit(visit_id, "classification:livrables")
        await pilot.pause()
        await pilot.press("w")
        await pilot.pause()
        [said] = [m for m in messages(app) if "compte rendu" in m.lower()]
        assert said.startswith("Écriture du compte rendu impossible") and said.endswith("Rien n'a été écrit.")
        assert isinstance(app.screen, DeliverablesScreen)
