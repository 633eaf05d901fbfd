"""The opportunity through the central (issue 11 §3): real laptops (SQLite files) against the
real central process, an AT and CMs, each writing their side of the same opportunity.

After each scenario the central holds every journal entry exactly once, and nothing written on
a laptop is lost.
"""

from __future__ import annotations

import random
from collections import Counter

import httpx
import pytest
from answer_sets import COMPLEXE_ANSWERS, SIMPLE_ANSWERS, finished_visit
from fault_proxy import FaultProxy

from at_tui.sync import opportunity_outbox, outbox
from at_tui.sync.engine import sync
from at_tui.sync.transport import RetryPolicy, Transport
from at_tui.workspace import Workspace

FAST_RETRY = RetryPolicy(attempts=4, base=0.01, cap=0.05)


@pytest.fixture
def tokens(central):
    return {"marie": central.add_user("marie", "at"), "paul": central.add_user("paul", "cm"),
            "lea": central.add_user("lea", "cm")}


@pytest.fixture
def laptops(tmp_path, reference):
    opened: list[Workspace] = []

    def open_laptop(name: str) -> Workspace:
        workspace = Workspace(tmp_path / f"{name}.db", reference=reference)
        opened.append(workspace)
        return workspace

    yield open_laptop
    for workspace in opened:
        workspace.close()


def run(workspace: Workspace, url: str, token: str):
    with Transport(url, token, retry=FAST_RETRY, timeout=5.0, rng=random.Random(1)) as client:
        return sync(workspace, client)


def central_opportunity(url: str, token: str, visit_id: str) -> dict | None:
    items, cursor = {}, "0"
    while True:
        page = httpx.get(f"{url}/v1/visits", params={"since": cursor, "limit": 1000},
                         headers={"Authorization": f"Bearer {token}"}).json()
        items.update({item["id"]: item for item in page["items"]})
        cursor = page["cursor"]
        if not page["more"]:
            break
    return items[visit_id].get("opportunity")


def assert_journals_agree(workspace: Workspace, url: str, token: str, visit_id: str) -> dict:
    """Every entry once on the central, and every entry of the laptop there (nothing lost)."""
    opportunity = central_opportunity(url, token, visit_id)
    ids = [entry["id"] for entry in opportunity["journal"]]
    assert not [i for i, n in Counter(ids).items() if n > 1], ids
    assert {e.id for e in workspace.opportunities.journal(visit_id)} == set(ids)
    return opportunity


def at_visit(workspace: Workspace, answers=SIMPLE_ANSWERS) -> str:
    visit_id = finished_visit(workspace, answers)
    assert workspace.ensure_opportunities() == 1
    return visit_id


def test_the_at_s_opportunity_reaches_the_central_and_the_cm_s_laptop(central, tokens, laptops) -> None:
    at, cm = laptops("marie"), laptops("paul")
    visit_id = at_visit(at)
    report = run(at, central.url, tokens["marie"])
    assert report.complete and report.sent == 2, report.lines()  # the content, then the opportunity
    opportunity = assert_journals_agree(at, central.url, tokens["paul"], visit_id)
    assert [e["title"] for e in opportunity["journal"]] == ["Information"]
    assert opportunity["journal"][0]["author"] == "marie"
    assert opportunity["fields"]["status"] == "en_attente" and opportunity["fields"]["at_login"] == "marie"
    assert outbox.get_state(at.conn, "role") == "at"

    report = run(cm, central.url, tokens["paul"])
    assert report.complete and report.received == 1, report.lines()
    assert outbox.get_state(cm.conn, "role") == "cm"
    assert cm.opportunities.get(visit_id).offer == "discussions_simple"
    assert [e.title for e in cm.opportunities.journal(visit_id)] == ["Information"]
    assert outbox.summary(cm.conn).waiting == 0
    assert run(cm, central.url, tokens["paul"]).sent == 0  # nothing goes back


def test_the_cm_records_on_a_complexe_opportunity_and_the_at_sees_it(central, tokens, laptops) -> None:
    at, cm = laptops("marie"), laptops("paul")
    visit_id = at_visit(at, COMPLEXE_ANSWERS)
    assert at.opportunities.get(visit_id).lead == "CM"
    run(at, central.url, tokens["marie"])
    run(cm, central.url, tokens["paul"])
    lifecycle = cm.lifecycle()
    cm.opportunities.take_charge(visit_id, "paul", lifecycle)
    cm.opportunities.add_entry(visit_id, lifecycle, "delai-prise-en-charge", "2026-12-04", author="paul",
                               role="CM", text="Prise en charge sous 15 jours.")
    cm.opportunities.add_entry(visit_id, lifecycle, "cadrage", "2026-12-10", author="paul", role="CM")
    report = run(cm, central.url, tokens["paul"])
    assert report.complete and report.sent == 1, report.lines()

    report = run(at, central.url, tokens["marie"])
    assert report.complete, report.lines()
    opportunity = at.opportunities.get(visit_id)
    assert (opportunity.cm_login, opportunity.status) == ("paul", "projet_en_cours")
    titles = [e.title for e in at.opportunities.journal(visit_id)]
    assert titles[0] == "Information" and len(titles) == 3
    assert "Cadrage (déploiement acté)" not in {d.item.title for d in at.opportunities.due()}
    assert_journals_agree(at, central.url, tokens["paul"], visit_id)
    assert outbox.summary(at.conn).waiting == 0


def test_journals_written_on_both_sides_merge_without_conflict(central, tokens, laptops) -> None:
    at, cm = laptops("marie"), laptops("paul")
    visit_id = at_visit(at, COMPLEXE_ANSWERS)
    run(at, central.url, tokens["marie"])
    run(cm, central.url, tokens["paul"])
    at.opportunities.add_entry(visit_id, at.lifecycle(), "note", "2026-12-05", author="marie", role="AT",
                               text="La coordinatrice rappelle lundi.")
    cm.opportunities.add_entry(visit_id, cm.lifecycle(), "note", "2026-12-05", author="paul", role="CM",
                               text="Devis envoyé.")
    for laptop, name in ((cm, "paul"), (at, "marie"), (cm, "paul")):
        report = run(laptop, central.url, tokens[name])
        assert report.complete and not report.conflicts, report.lines()
    for laptop in (at, cm):
        texts = {e.text for e in laptop.opportunities.journal(visit_id)}
        assert {"La coordinatrice rappelle lundi.", "Devis envoyé."} <= texts
        assert_journals_agree(laptop, central.url, tokens["paul"], visit_id)


def test_a_status_changed_on_both_sides_is_a_conflict_settled_per_field(central, tokens, laptops) -> None:
    at, paul, lea = laptops("marie"), laptops("paul"), laptops("lea")
    visit_id = at_visit(at, COMPLEXE_ANSWERS)
    run(at, central.url, tokens["marie"])
    run(paul, central.url, tokens["paul"])
    run(lea, central.url, tokens["lea"])
    paul.opportunities.set_status(visit_id, paul.lifecycle(), "projet_en_cours", None, author="paul", role="CM",
                                  day="2026-12-06")
    lea.opportunities.set_status(visit_id, lea.lifecycle(), "sans_suite", "Structure fermée", author="lea",
                                 role="CM", day="2026-12-06")
    assert run(paul, central.url, tokens["paul"]).complete
    report = run(lea, central.url, tokens["lea"])
    assert report.conflicts == 1 and not report.complete, report.lines()
    assert any(line.startswith("  - opportunité conflit : MSP de Lectoure (32) : statut") for line in report.lines())
    assert not run(lea, central.url, tokens["lea"]).complete  # said again at each run while it stands
    [(conflicted, mine, theirs, names)] = opportunity_outbox.opportunity_conflicts(lea.conn)
    assert conflicted == visit_id and "status" in names
    assert (mine["status"], theirs["status"]) == ("sans_suite", "projet_en_cours")
    assert outbox.summary(lea.conn).conflicts == 1
    # Her journal entry reached the central all the same (append-only never conflicts).
    assert "Structure fermée" in {e["text"] for e in central_opportunity(central.url, tokens["paul"],
                                                                           visit_id)["journal"]}

    opportunity_outbox.resolve_opportunity_conflict(
        lea.conn, visit_id, {name: theirs[name] for name in names} | {"status_reason": theirs["status_reason"]},
        lea.lifecycle)
    report = run(lea, central.url, tokens["lea"])
    assert report.complete, report.lines()
    assert outbox.summary(lea.conn).conflicts == 0
    assert lea.opportunities.get(visit_id).status == "projet_en_cours"
    for laptop, name in ((paul, "paul"), (at, "marie")):
        assert run(laptop, central.url, tokens[name]).complete
        assert laptop.opportunities.get(visit_id).status == "projet_en_cours"
    assert_journals_agree(lea, central.url, tokens["paul"], visit_id)
    assert_journals_agree(at, central.url, tokens["paul"], visit_id)


def test_a_field_of_another_side_is_refused_undone_here_and_the_journal_still_leaves(
        central, tokens, laptops) -> None:
    at = laptops("marie")
    visit_id = at_visit(at, COMPLEXE_ANSWERS)
    run(at, central.url, tokens["marie"])
    at.opportunities.add_entry(visit_id, at.lifecycle(), "note", "2026-12-05", author="marie", role="AT",
                               text="Rappel prévu.")
    at.conn.execute("UPDATE opportunities SET status = 'projet_en_cours' WHERE id = ?", (visit_id,))  # led by a CM
    report = run(at, central.url, tokens["marie"])
    assert report.rejected == 1 and report.sent == 1, report.lines()  # refused, then sent without the status
    [(refused, reason)] = opportunity_outbox.rejected_opportunity_ops(at.conn)
    assert refused == visit_id and "chargé de mission" in reason
    assert at.opportunities.get(visit_id).status == "en_attente"  # undone here: the central's
    assert "Rappel prévu." in {e["text"] for e in central_opportunity(central.url, tokens["paul"], visit_id)["journal"]}
    assert outbox.summary(at.conn).rejected == 1 and outbox.summary(at.conn).waiting == 0
    assert opportunity_outbox.acknowledge_rejected_opportunity(at.conn, visit_id) == 1
    assert opportunity_outbox.rejected_opportunity_ops(at.conn) == [] and outbox.summary(at.conn).rejected == 0
    assert_journals_agree(at, central.url, tokens["paul"], visit_id)


@pytest.mark.parametrize(("mode", "faults"), [("lose", 1), ("lose", 3), ("cut", 2), ("drop", 2)])
def test_faults_never_duplicate_nor_lose_an_entry(central, tokens, laptops, mode, faults) -> None:
    at, cm = laptops("marie"), laptops("paul")
    visit_id = at_visit(at, COMPLEXE_ANSWERS)
    run(at, central.url, tokens["marie"])
    run(cm, central.url, tokens["paul"])
    lifecycle = cm.lifecycle()
    cm.opportunities.add_entry(visit_id, lifecycle, "delai-prise-en-charge", "2026-12-04", author="paul", role="CM")
    at.opportunities.add_entry(visit_id, at.lifecycle(), "note", "2026-12-05", author="marie", role="AT", text="A")
    proxy = FaultProxy(central.port)
    try:
        for laptop, name in ((cm, "paul"), (at, "marie")):
            proxy.set(mode, faults=faults, delay=0.01)
            report = run(laptop, proxy.url, tokens[name])
            if report.left or report.errors:  # every retry hit the fault: the next sync finishes
                proxy.set("pass")
                report = run(laptop, proxy.url, tokens[name])
            assert report.left == 0 and not report.errors and not report.rejected, report.lines()
        cm.opportunities.add_entry(visit_id, lifecycle, "cadrage", "2026-12-10", author="paul", role="CM")
        proxy.set(mode, faults=faults, delay=0.01)
        report = run(cm, proxy.url, tokens["paul"])
        proxy.set("pass")
        for laptop, name in ((cm, "paul"), (at, "marie"), (cm, "paul")):
            report = run(laptop, proxy.url, tokens[name])
            assert report.complete, report.lines()
        assert proxy.faults_done >= 1
    finally:
        proxy.close()
    for laptop in (at, cm):
        opportunity = assert_journals_agree(laptop, central.url, tokens["paul"], visit_id)
        assert len(opportunity["journal"]) == 4
        assert laptop.opportunities.get(visit_id).status == "projet_en_cours"
    if mode == "lose":  # the central had committed: the resend was recognised, not applied twice
        results = [r[0] for r in cm.conn.execute("SELECT result FROM opportunity_outbox WHERE state = 'done'")]
        assert any('"duplicate"' in r for r in results)


def test_a_laptop_that_knows_its_login_but_not_its_role_asks_and_a_cm_pulls_everything_again(
        central, tokens, laptops) -> None:
    at, cm = laptops("marie"), laptops("paul")
    visit_id = at_visit(at)
    run(at, central.url, tokens["marie"])
    # A CM's laptop synced by an older at-tui: it knew its login, skipped the visits made elsewhere.
    outbox.set_state(cm.conn, "login", "paul")
    outbox.set_state(cm.conn, "cursor:visits", central_cursor(central.url, tokens["paul"]))
    report = run(cm, central.url, tokens["paul"])
    assert report.complete, report.lines()
    assert outbox.get_state(cm.conn, "role") == "cm"
    assert cm.opportunities.get(visit_id) is not None  # pulled from the start once it knew it is a CM
    assert outbox.get_state(at.conn, "role") == "at"


def central_cursor(url: str, token: str) -> str:
    page = httpx.get(f"{url}/v1/visits", params={"since": "0", "limit": 1000},
                     headers={"Authorization": f"Bearer {token}"}).json()
    return page["cursor"]


@pytest.mark.parametrize("seed", [3, 11])
def test_both_sides_writing_through_faults_converge_with_nothing_lost(central, tokens, laptops, seed) -> None:
    """AT and CM write their own parts of two opportunities (the AT leads the simple one, the CM
    the complexe one) between syncs that lose answers or are cut, in a random order: in the end
    both laptops hold exactly the central's fields and journals."""
    rng = random.Random(seed)
    at, cm = laptops("marie"), laptops("paul")
    simple = at_visit(at)
    complexe = finished_visit(at, COMPLEXE_ANSWERS, structure="CPTS du Gers", typologie="CPTS")
    assert at.ensure_opportunities() == 1
    run(at, central.url, tokens["marie"])
    run(cm, central.url, tokens["paul"])
    day = iter(f"2026-12-{n:02d}" for n in range(2, 29))

    def at_writes() -> None:
        at.opportunities.add_entry(rng.choice([simple, complexe]), at.lifecycle(), "note", next(day),
                                   author="marie", role="AT", text=f"AT {rng.random():.6f}")
        if at.opportunities.get(simple).status == "en_attente" and rng.random() < 0.5:
            at.opportunities.add_entry(simple, at.lifecycle(), "cadrage", next(day), author="marie", role="AT")

    def cm_writes() -> None:
        lifecycle = cm.lifecycle()
        cm.opportunities.add_entry(rng.choice([simple, complexe]), lifecycle, "note", next(day), author="paul",
                                   role="CM", text=f"CM {rng.random():.6f}")
        if cm.opportunities.get(complexe).cm_login is None:
            cm.opportunities.take_charge(complexe, "paul", lifecycle)
        elif cm.opportunities.get(complexe).status == "en_attente" and rng.random() < 0.5:
            cm.opportunities.add_entry(complexe, lifecycle, "cadrage", next(day), author="paul", role="CM")

    proxy = FaultProxy(central.port)
    try:
        for _ in range(8):
            rng.choice([at_writes, cm_writes])()
            laptop, name = rng.choice([(at, "marie"), (cm, "paul")])
            proxy.set(rng.choice(["pass", "lose", "cut"]), faults=1, delay=0.0)
            run(laptop, proxy.url, tokens[name])
        proxy.set("pass")
        reports = [run(laptop, proxy.url, tokens[name])
                   for laptop, name in ((at, "marie"), (cm, "paul"), (at, "marie"), (cm, "paul"))]
        assert all(report.complete for report in reports[2:]), [report.lines() for report in reports]
        for laptop in (at, cm):  # nothing refused, nothing in conflict: each side wrote its own parts
            assert opportunity_outbox.counts(laptop.conn) == opportunity_outbox.Counts(0, 0, 0)
    finally:
        proxy.close()
    for visit_id in (simple, complexe):
        opportunity = central_opportunity(central.url, tokens["paul"], visit_id)
        for laptop in (at, cm):
            assert_journals_agree(laptop, central.url, tokens["paul"], visit_id)
            assert opportunity_outbox.local_fields(laptop.conn, visit_id) == opportunity["fields"]
            assert outbox.summary(laptop.conn).waiting == 0
