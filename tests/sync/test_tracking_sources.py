"""The tracking rows (issue 12) read from a laptop and from the central agree: one computation,
two sources. A real laptop SQLite file synced to the real central process (on SQLite and on
PostgreSQL); the central's database read back through its own storage, as `at-tui central export-suivi` does."""

from __future__ import annotations

import random

from answer_sets import COMPLEXE_ANSWERS, finished_visit

from at_tui.central.backends import open_storage
from at_tui.central.tracking import tracked_opportunities as central_tracked
from at_tui.domain.tracking import tracking_rows
from at_tui.store.tracking import tracked_opportunities as laptop_tracked
from at_tui.sync.engine import sync
from at_tui.sync.transport import RetryPolicy, Transport
from at_tui.workspace import Workspace


def _comparable(row) -> dict:
    """Every field but the row's own times: the central keeps no creation time for the opportunity."""
    return {name: getattr(row, name) for name in row.__slots__ if name not in ("created_at", "updated_at")}


def test_laptop_and_central_give_the_same_rows(tmp_path, reference, central):
    token = central.add_user("marie", "at")
    workspace = Workspace(tmp_path / "marie.db", reference=reference)
    try:
        simple = finished_visit(workspace)
        complexe = finished_visit(workspace, COMPLEXE_ANSWERS, structure="CPTS du Grand Auch", departement="32",
                                  typologie="CPTS", visit_date="02/12/2026")
        hors_zone = finished_visit(workspace, structure="MSP de Lunel", departement="34", visit_date="03/12/2026")
        workspace.ensure_opportunities()
        lifecycle = workspace.lifecycle()
        store = workspace.opportunities
        store.add_entry(simple, lifecycle, "cadrage", "2026-12-03", author="marie", role="AT")
        store.add_entry(simple, lifecycle, "fin-deploiement", "2026-12-10", author="marie", role="AT")
        store.add_entry(simple, lifecycle, "suivi-m1", "2027-01-12", author="marie", role="AT",
                        answers={"comptes_actifs": 6})
        store.add_entry(simple, lifecycle, "fiche-cadrage", "2026-12-04", author="marie", role="AT",
                        answers={"comptes_estimes": 12})
        with Transport(central.url, token, retry=RetryPolicy(attempts=3, base=0.01, cap=0.05), timeout=5.0,
                       rng=random.Random(1)) as client:
            sync(workspace, client)
            sync(workspace, client)
        laptop = {r.opportunity_id: r for r in tracking_rows(laptop_tracked(workspace.conn), lifecycle,
                                                             workspace.territory)}
        storage = open_storage(central.db)
        try:
            region = {r.opportunity_id: r for r in tracking_rows(central_tracked(storage), lifecycle,
                                                                 workspace.territory)}
            gers = [t.opportunity.id for t in central_tracked(storage, {"32"})]
        finally:
            storage.close()
        gers_laptop = [t.opportunity.id for t in laptop_tracked(workspace.conn, {"32"})]
    finally:
        workspace.close()

    assert set(laptop) == set(region) == {simple, complexe, hors_zone}
    for opportunity_id, row in laptop.items():
        assert _comparable(region[opportunity_id]) == _comparable(row), opportunity_id
    assert sorted(gers) == sorted(gers_laptop) == sorted([simple, complexe])

    row = laptop[simple]
    assert (row.departement_name, row.zone, row.crm_name, row.offer_label) == (
        "Gers", "Ouest", "32 libéraux", "SPICO Discussions simple")
    assert row.status_label == "Projet en cours"
    assert str(row.cadrage_date) == "2026-12-03" and str(row.deployment_end) == "2026-12-10"
    assert [(f.label, str(f.due), str(f.done) if f.done else None) for f in row.follow_ups] == [
        ("M+1", "2027-01-10", "2027-01-12"), ("M+3", "2027-03-10", None), ("M+6", "2027-06-10", None)]
    assert row.estimated_accounts == 12 and row.potential_users == 8
    assert row.last_activity == "[M1] SPICO Suivi des usages" and str(row.last_activity_date) == "2027-01-12"
    assert row.contact == "Dr Claire Roux, Médecin"
    assert {e.author for e in row.current_journal} == {"marie"}  # the first entry too, written before the login
    assert laptop[complexe].offer_label == "SPICO Discussions complexe" and laptop[complexe].lead == "CM"
    assert laptop[hors_zone].zone == "Est"
