"""SVG snapshots of what the sync shows the AT: the Accueil with the sync status in its header,
« Problèmes de synchronisation » (two refused visits, and empty), a realistic conflict, and the
CM's follow-up in the Accueil and a visit — at 80×24 and 120×36.

No real clock and no network: the outbox times are frozen (outbox.utc_now), the last
successful sync is a fixed instant, and the app's probe answers « hors ligne » from the
database (sync_once replaced: the status is computed by the real current_status)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from at_tui.app import ATApp
from at_tui.sync import background, outbox
from at_tui.workspace import Workspace

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 36), id="120x36")]
LAST_SUCCESS = "2026-11-22T10:18:00+00:00"  # just after the refusals and the pull
REFUSALS = {
    "cpts": "champ « identity.departement » : un texte non vide est attendu, pas 31",
    "ehpad": "visite introuvable",
}


class Clock:
    """UTC ISO times one minute apart from a fixed instant."""

    def __init__(self, start: str) -> None:
        self.now = dt.datetime.fromisoformat(start)

    def __call__(self) -> str:
        self.now += dt.timedelta(minutes=1)
        return self.now.isoformat(timespec="microseconds")


@pytest.fixture
def frozen(monkeypatch):
    """Outbox times from a fixed clock; the app's probe offline, its status read from the database."""
    monkeypatch.setattr(outbox, "utc_now", Clock("2026-11-22T10:14:00+00:00"))

    def offline(db_path, reference, *, force=False):
        workspace = Workspace(db_path, reference=reference)
        try:
            return background.current_status(workspace.conn, online=False, configured=True)
        finally:
            workspace.close()

    monkeypatch.setattr(background, "sync_once", offline)


@pytest.fixture
def snap_app(db_path, reference, seeded, frozen):
    def factory():
        return ATApp(db_path, reference=reference, today=lambda: dt.date(2026, 11, 22))

    return factory


def workspace_on(db_path, reference) -> Workspace:
    workspace = Workspace(db_path, reference=reference)
    workspace.visits.clock = Clock("2026-11-21T16:00:00+00:00")
    return workspace


@pytest.fixture
def refused(db_path, reference, seeded):
    """The CPTS and the EHPAD refused by the central; the DAC sent, its answer lost (waiting)."""
    workspace = workspace_on(db_path, reference)
    batch = outbox.take_batch(workspace.conn, 10)
    names = {visit_id: name for name, visit_id in seeded.items()}
    outbox.record_results(workspace.conn, [
        {"op_id": op.op_id, "status": "rejected", "reason": REFUSALS[names[op.visit_id]]}
        for op in batch if names[op.visit_id] in REFUSALS
    ])
    outbox.set_state(workspace.conn, "last_success", LAST_SUCCESS)
    workspace.close()
    return seeded


@pytest.fixture
def conflict(db_path, reference, seeded):
    """The CPTS visit changed here and, meanwhile, at the central (contact, users, notes, timing)."""
    workspace = workspace_on(db_path, reference)
    batch = outbox.take_batch(workspace.conn, 10)
    results = []
    for op in batch:
        if op.visit_id != seeded["cpts"]:
            results.append({"op_id": op.op_id, "status": "applied", "rev": 1})
            continue
        central = json.loads(json.dumps(op.payload))
        central["identity"]["contact_name"] = "Marie Dupont-Roques"
        central["answers"]["q:utilisateurs_potentiels"] = 35
        central["answers"]["q:temporalite"] = "semestre"
        central["answers"]["notes:presentation"] = "Présentation au bureau élargi de la CPTS : 12 présents."
        results.append({"op_id": op.op_id, "status": "conflict", "rev": 3, "central": {
            "id": op.visit_id, "rev": 3, "owner": "marie", "content": central,
            "followup": {"status": "en_cours", "lead": "CM", "comment": ""}}})
    outbox.record_results(workspace.conn, results)
    outbox.set_state(workspace.conn, "last_success", LAST_SUCCESS)
    workspace.close()
    return seeded


async def probe(pilot) -> None:
    """The app's sync probe, now (its status: hors ligne, counts from the database)."""
    pilot.app.request_sync()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_accueil_hors_ligne_avec_refus(snap_compare, snap_app, refused, size):
    async def run_before(pilot) -> None:
        await probe(pilot)

    assert snap_compare(snap_app(), run_before=run_before, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_problemes_deux_refus(snap_compare, snap_app, refused, size):
    async def run_before(pilot) -> None:
        await probe(pilot)
        await pilot.press("s")
        await pilot.pause()

    assert snap_compare(snap_app(), run_before=run_before, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_problemes_aucun(snap_compare, snap_app, size):
    async def run_before(pilot) -> None:
        await probe(pilot)
        await pilot.press("s")
        await pilot.pause()

    assert snap_compare(snap_app(), run_before=run_before, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_conflit(snap_compare, snap_app, conflict, size):
    async def run_before(pilot) -> None:
        await probe(pilot)
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(snap_app(), run_before=run_before, terminal_size=size)


@pytest.fixture
def followed(db_path, reference, seeded):
    """What a pull brought: the CMs' follow-up of the CPTS and the DAC visits."""
    workspace = workspace_on(db_path, reference)
    batch = outbox.take_batch(workspace.conn, 10)
    outbox.record_results(workspace.conn, [{"op_id": op.op_id, "status": "applied", "rev": 1} for op in batch])
    followups = {
        seeded["cpts"]: {"status": "en_cours", "lead": "CM",
                         "comment": "RDV pris avec la coordinatrice le 3 décembre pour le paramétrage."},
        seeded["dac"]: {"status": "gagnee", "lead": "AT", "comment": ""},
    }
    outbox.apply_pulled(workspace.conn, [
        {"id": visit_id, "rev": 2, "owner": "marie", "content": {}, "followup": followup}
        for visit_id, followup in followups.items()
    ], "visits", "c-2")
    outbox.set_state(workspace.conn, "last_success", LAST_SUCCESS)
    workspace.close()
    return seeded


@pytest.mark.parametrize("size", SIZES)
def test_accueil_suivi_cm(snap_compare, snap_app, followed, size):
    async def run_before(pilot) -> None:
        await probe(pilot)
        await pilot.press("down")  # the CPTS: its follow-up and the CM's comment under the list
        await pilot.pause()

    assert snap_compare(snap_app(), run_before=run_before, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_resultat_suivi_cm(snap_compare, snap_app, followed, size):
    async def run_before(pilot) -> None:
        await probe(pilot)
        pilot.app.open_visit(followed["cpts"], "classification:resultat")
        await pilot.pause()

    assert snap_compare(snap_app(), run_before=run_before, terminal_size=size)
