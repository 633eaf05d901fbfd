"""« Problèmes de synchronisation » by keyboard: a visit the real central refused, listed with its
reason, sent again with `r` (the refused row kept as resolved, one pending operation, the header's
count updated); a conflict opened from the list; the CM's follow-up shown after a pull."""

from __future__ import annotations

import time

import httpx
import pytest
from central_server import start_central
from helpers import IDENTITY, press_to, type_text
from textual.command import CommandPalette
from textual.widgets import DataTable, OptionList, Static

from at_tui.screens.conflict import ConflictScreen
from at_tui.screens.home import HomeScreen
from at_tui.screens.result import ResultScreen
from at_tui.screens.sync_problems import SyncProblemsScreen
from at_tui.screens.visit_base import VisitScreen
from at_tui.screens.visit_form import VisitFormScreen
from at_tui.sync import outbox
from at_tui.sync.credentials import save_settings
from at_tui.sync.engine import sync
from at_tui.sync.transport import RetryPolicy, Transport
from at_tui.widgets.visit_list import VisitList

CM_REASON = "un chargé de mission ne modifie pas le contenu d'une visite, seulement son suivi"
LAST_SUCCESS = "2026-11-22T09:30:00+00:00"


@pytest.fixture
def utc():
    """Times shown in UTC (the header's « synchro 22/11 09:30 »), the laptop's zone restored after."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "UTC")
        time.tzset()
        yield
    time.tzset()


@pytest.fixture
def central(tmp_path):
    server = start_central(tmp_path)
    yield server
    server.stop()


def refuse_by_the_real_central(workspace, central, structure: str = "EHPAD Les Tilleuls") -> tuple[str, str]:
    """A visit pushed with a chargé de mission's token: the real central refuses its content.
    Returns (visit id, the AT's token)."""
    at_token = central.add_user("marie", "at")
    cm_token = central.add_user("paul", "cm")
    visit, errors = workspace.start_visit({**IDENTITY, "structure": structure})
    assert not errors
    workspace.save_answer(visit, "utilisateurs_potentiels", "12")
    with Transport(central.url, cm_token, retry=RetryPolicy(attempts=2, base=0.01, cap=0.05)) as client:
        report = sync(workspace, client)
    assert (report.sent, report.rejected) == (0, 1)
    outbox.set_state(workspace.conn, "last_success", LAST_SUCCESS)  # a known time for the header
    return visit.id, at_token


def rows(conn, visit_id: str) -> list[str]:
    return [r[0] for r in conn.execute("SELECT state FROM outbox WHERE visit_id = ? ORDER BY seq", (visit_id,))]


def text_of(widget: Static) -> str:
    return str(widget.render())


async def probe(app, pilot) -> None:
    """Let the app run its sync probe now (as its timer does) and show the status it got."""
    await app.workers.wait_for_complete()
    await pilot.pause()
    app.request_sync()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_a_refused_visit_is_sent_again_by_keyboard_while_offline(
        make_app, workspace, central, monkeypatch, utc):
    visit_id, at_token = refuse_by_the_real_central(workspace, central)
    save_settings(central.url)
    monkeypatch.setenv("AT_TUI_TOKEN", at_token)
    central.stop()  # the AT is now offline: nothing can leave, the queue is what we see
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await probe(app, pilot)
        assert app.sub_title == "Synchronisation : hors ligne · tout est envoyé · 1 refus · synchro 22/11 09:30"

        screen = await press_to(pilot, "s", SyncProblemsScreen)
        table = screen.query_one(DataTable)
        assert table.row_count == 1
        assert table.get_row_at(0)[:4] == ["Refus", "EHPAD Les Tilleuls", "31", "22/11/2026"]
        detail = text_of(screen.query_one("#sync-problems-detail", Static))
        assert f"Raison donnée par le central : {CM_REASON}" in detail  # as received

        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert rows(workspace.conn, visit_id) == ["resolved", "pending"]  # kept, and one operation queued
        assert app.sub_title == "Synchronisation : hors ligne · 1 en attente · synchro 22/11 09:30"
        assert table.display is False
        assert "Aucun problème de synchronisation" in text_of(screen.query_one("#sync-problems-detail", Static))

        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
    resolved = workspace.conn.execute("SELECT last_error FROM outbox WHERE visit_id = ? AND state = 'resolved'",
                                      (visit_id,)).fetchone()
    assert resolved["last_error"] == CM_REASON


async def test_a_refused_visit_sent_again_reaches_the_central(make_app, workspace, central, monkeypatch, utc):
    visit_id, at_token = refuse_by_the_real_central(workspace, central, "CPTS du Grand Toulouse")
    save_settings(central.url)
    monkeypatch.setenv("AT_TUI_TOKEN", at_token)  # logged in again, with the AT's own token this time
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await probe(app, pilot)
        assert app.sub_title.startswith("Synchronisation : en ligne · tout est envoyé · 1 refus")
        await press_to(pilot, "s", SyncProblemsScreen)
        await pilot.press("r")
        for _ in range(3):  # a probe already under way when `r` was pressed leaves it to the next one
            await probe(app, pilot)
            if not outbox.summary(workspace.conn).waiting:
                break
        assert rows(workspace.conn, visit_id) == ["resolved", "done"]
        assert "en ligne · tout est envoyé" in app.sub_title and "refus" not in app.sub_title
    answer = httpx.get(f"{central.url}/v1/visits/{visit_id}", headers=central.auth(at_token))
    assert answer.status_code == 200
    assert answer.json()["content"]["identity"]["structure"] == "CPTS du Grand Toulouse"


async def test_a_refused_visit_corrected_by_keyboard_then_settled(make_app, workspace):
    visit, _ = workspace.start_visit(dict(IDENTITY))
    [op] = outbox.take_batch(workspace.conn, 10)
    outbox.record_results(workspace.conn, [{"op_id": op.op_id, "status": "rejected", "reason": "visite introuvable"}])
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await press_to(pilot, "s", SyncProblemsScreen)
        await pilot.press("enter")  # the visit, to correct it
        await pilot.pause()
        assert isinstance(app.screen, VisitScreen) and app.screen.visit.id == visit.id
        assert rows(workspace.conn, visit.id) == ["rejected"]  # opening alone changes nothing
        await press_to(pilot, "f2", VisitFormScreen)
        await pilot.press("end")
        await type_text(pilot, " Nord")  # saved as typed: the v6 triggers queue a new operation
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        assert rows(workspace.conn, visit.id) == ["rejected", "pending"]

        screen = await press_to(pilot, "s", SyncProblemsScreen)
        assert "Modifiée depuis" in text_of(screen.query_one("#sync-problems-detail", Static))
        await pilot.press("r")
        await pilot.pause()
        assert rows(workspace.conn, visit.id) == ["resolved", "pending"]  # the correction's operation, not a second one
    assert workspace.visits.require(visit.id).structure == "CPTS du Grand Toulouse Nord"


async def test_a_conflict_in_the_list_opens_the_conflict_screen(make_app, workspace):
    from test_conflict_screen import make_conflict

    visit_id = make_conflict(workspace)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await press_to(pilot, "s", SyncProblemsScreen)
        table = screen.query_one(DataTable)
        assert table.get_row_at(0)[:2] == ["Conflit", "CPTS du Grand Toulouse"]
        await pilot.press("r")  # not for a conflict: nothing happens
        await pilot.pause()
        assert rows(workspace.conn, visit_id) == ["conflict"]
        await press_to(pilot, "enter", ConflictScreen)
        await pilot.press("right", "ctrl+s")
        await pilot.pause()
        assert app.screen is screen  # back on the list, now empty
        assert table.row_count == 0
    assert rows(workspace.conn, visit_id) == ["resolved", "pending"]


async def test_the_palette_finds_the_screen(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        await type_text(pilot, "refus")
        options = palette.query_one(OptionList)
        for _ in range(100):
            await pilot.pause(0.02)
            if options.option_count and options.highlighted is not None:
                break
        prompt = options.get_option_at_index(options.highlighted).prompt
        assert "Problèmes de synchronisation" in str(getattr(prompt, "plain", prompt))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SyncProblemsScreen)
        assert "Aucun problème de synchronisation" in text_of(app.screen.query_one("#sync-problems-detail", Static))


FOLLOWUP = {"status": "en_cours", "lead": "CM", "comment": "RDV pris avec la coordinatrice le 3 décembre."}


def pull_followup(workspace, visit_id: str, followup: dict | None) -> None:
    """What a pull brings: the central copy of the visit with the CM's follow-up."""
    content = {"id": visit_id}
    outbox.apply_pulled(workspace.conn, [{"id": visit_id, "rev": 2, "owner": "marie", "content": content,
                                         "followup": followup}], "visits", "c-2")


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
async def test_the_cm_follow_up_is_shown_in_the_accueil_and_the_visit(make_app, workspace, size):
    visit, _ = workspace.start_visit(dict(IDENTITY))
    other, _ = workspace.start_visit({**IDENTITY, "structure": "EHPAD Les Tilleuls"})
    pull_followup(workspace, visit.id, FOLLOWUP)
    app = make_app()
    async with app.run_test(size=size) as pilot:
        home = app.screen
        listing = home.query_one("#visits", VisitList)
        hint = home.query_one("#home-hint", Static)
        while listing.selected != visit.id:
            await pilot.press("down")
        assert "Suivi du CM pour « CPTS du Grand Toulouse » : En cours — RDV pris avec la coordinatrice" in text_of(hint)
        wide = size[0] >= 100
        assert ("Suivi CM" in listing.headers) is wide  # a column when there is room for it
        if wide:
            row = next(r for r in listing.rows if r.key == visit.id)
            assert row.cells[2] == "En cours"
            assert next(r for r in listing.rows if r.key == other.id).cells[2] == ""
        await pilot.press("up" if listing.cursor else "down")
        assert "Suivi du CM" not in text_of(hint)  # the other visit has none

        app.open_visit(visit.id, "classification:resultat")
        await pilot.pause()
        assert isinstance(app.screen, ResultScreen)
        banner = text_of(app.screen.query_one("#visit-banner", Static))
        assert "suivi CM : En cours" in banner
        result = text_of(app.screen.query_one("#result", Static))
        assert "Suivi du chargé de mission" in result
        assert "Statut : En cours — menée par le CM" in result
        assert "Commentaire : RDV pris avec la coordinatrice le 3 décembre." in result


async def test_no_follow_up_nothing_shown(make_app, workspace):
    visit, _ = workspace.start_visit(dict(IDENTITY))
    pull_followup(workspace, visit.id, None)
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        assert "Suivi CM" not in app.screen.query_one("#visits", VisitList).headers
        assert "Suivi du CM" not in text_of(app.screen.query_one("#home-hint", Static))
        app.open_visit(visit.id, "classification:livrables")
        await pilot.pause()
        assert "suivi CM" not in text_of(app.screen.query_one("#visit-banner", Static))
        assert "Suivi du chargé de mission" not in text_of(app.screen.query_one("#deliverables", Static))


KEY_NAMES = {"enter": "Entrée", "escape": "Échap", "left": "←", "right": "→", "ctrl+s": "Ctrl+S", "ctrl+q": "Ctrl+Q"}


@pytest.mark.parametrize("screen_class", [HomeScreen, SyncProblemsScreen, ConflictScreen], ids=lambda c: c.__name__)
def test_help_explains_the_sync_keys(screen_class):
    from importlib import resources

    text = (resources.files("at_tui") / "help.md").read_text(encoding="utf-8")
    shown = [binding for _, binding in screen_class._merge_bindings() if binding.show]
    assert shown
    missing = [b.key for b in shown if f"`{KEY_NAMES.get(b.key, b.key)}`" not in text]
    assert missing == [], f"help.md does not mention {missing}"


async def test_a_narrow_header_keeps_the_counts(make_app, workspace, utc):
    from textual.widgets._header import HeaderTitle

    from at_tui.sync.background import Status

    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        app._show_sync_status(Status(True, False, waiting=1, conflicts=1, rejected=2, last_success=LAST_SUCCESS))
        await pilot.pause()
        title = app.screen.query_one(HeaderTitle)
        assert str(title.render()) == ("at-tui — Synchronisation : hors ligne · 1 en attente · 1 conflit(s) · 2 refus"
                                       " · synchro 22/11 09:30")
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert str(title.render()) == "hors ligne · 1 en attente · 1 conflit(s) · 2 refus"  # the time goes first
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        assert str(title.render()) == "hors ligne · 1 en attente · 1 conflit(s) · 2 refus · synchro 22/11 09:30"


async def test_a_follow_up_pulled_while_the_accueil_is_shown_appears(make_app, workspace, utc):
    from at_tui.sync.background import current_status

    visit, _ = workspace.start_visit(dict(IDENTITY))
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        listing = app.screen.query_one("#visits", VisitList)
        assert "Suivi CM" not in listing.headers
        pull_followup(workspace, visit.id, {"status": "perdue", "lead": "CM", "comment": "Projet abandonné."})
        outbox.set_state(workspace.conn, "last_success", LAST_SUCCESS)
        app._show_sync_status(current_status(workspace.conn, True, True))  # what the background sync reports
        await pilot.pause()
        assert "Suivi CM" in listing.headers
        assert "Perdue — Projet abandonné." in text_of(app.screen.query_one("#home-hint", Static))
