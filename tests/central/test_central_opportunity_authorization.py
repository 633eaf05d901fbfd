"""Authorization per field group on the central (issue 11 §3; docs/sync-protocol.md « Opportunité et
journal »). Seed 000: for « SPICO Discussions simple » the AT leads steps 4–6 with the CM in
support; for « Discussions complexe » and « SPICO Dossiers » the CM leads. So:

- classement (offer, lead, support, at_login, visit_date, playbook) → the visit's owner AT;
- pilotage (status, status_reason, launch_date, deployment_end) → the side that leads;
- prise en charge (cm_login) → a CM.

A refused change applies nothing, not even the journal sent with it. Users: alice (AT, owner of
every visit here), carole (CM).
"""

from __future__ import annotations

import pytest
from opportunity_ops import COMPLEXE, SIMPLE, journal_entry, opportunity_op, visit_with_opportunity

from at_tui.domain.opportunity_fields import FIELD_GROUPS, OPPORTUNITY_FIELDS

DOSSIERS = {"offer": "dossiers", "lead": "CM", "support": "AT"}
ROLES = {"alice": "AT", "carole": "CM"}

# (offer, pusher, changed fields, allowed)
TABLE = [
    # pilotage: the side that leads
    ("simple", "alice", {"status": "projet_en_cours"}, True),
    ("simple", "carole", {"status": "projet_en_cours"}, False),
    ("complexe", "carole", {"status": "projet_en_cours"}, True),
    ("dossiers", "carole", {"status": "projet_en_cours"}, True),
    ("complexe", "alice", {"status": "projet_en_cours"}, False),
    ("simple", "alice", {"launch_date": "2027-01-12", "deployment_end": "2027-02-26"}, True),
    ("simple", "carole", {"deployment_end": "2027-02-26"}, False),
    ("complexe", "carole", {"status": "sans_suite", "status_reason": "Projet abandonné."}, True),
    ("complexe", "alice", {"launch_date": "2027-01-12"}, False),
    # prise en charge: a CM
    ("simple", "alice", {"cm_login": "carole"}, False),
    ("simple", "carole", {"cm_login": "carole"}, True),
    ("complexe", "carole", {"cm_login": "carole"}, True),
    # classement: the owner AT
    ("complexe", "carole", {"offer": "dossiers"}, False),
    ("complexe", "carole", {"lead": "AT", "support": "CM"}, False),
    ("simple", "carole", {"visit_date": "2026-11-20"}, False),
    ("simple", "alice", {"offer": "discussions_complexe", "lead": "CM", "support": "AT"}, True),
    ("complexe", "alice", {"at_login": "alice.martin"}, True),
]
OFFERS = {"simple": SIMPLE, "complexe": COMPLEXE, "dossiers": DOSSIERS}


def _case_id(case: tuple) -> str:
    offer, user, changes, allowed = case
    return f"{user}-{offer}-{'+'.join(changes)}-{'ok' if allowed else 'refused'}"


@pytest.mark.parametrize(("offer", "user", "changes", "allowed"), TABLE, ids=[_case_id(c) for c in TABLE])
def test_each_field_group_is_changed_by_its_role_only(api, offer: str, user: str, changes: dict, allowed: bool) -> None:
    visit_id, base = visit_with_opportunity(api, **OFFERS[offer])
    note = journal_entry(user, ROLES[user], text="Envoyé avec le changement.")
    op = opportunity_op(visit_id, {**base, **changes}, base, [note])
    [result] = api.push(user, op)
    central = api.get("carole", f"/v1/visits/{visit_id}").json()["opportunity"]
    if allowed:
        assert result["status"] == "applied", result
        assert central["fields"] == {**base, **changes}
        assert central["journal"][-1] == note
    else:
        assert result["status"] == "rejected" and result["code"] == "forbidden", result
        assert result["fields"] == list(changes)
        assert central["fields"] == base and note["id"] not in [e["id"] for e in central["journal"]]
        assert "(" in result["reason"] and ":" in result["reason"]  # names the fields and the group


def test_the_refusal_says_who_holds_the_group(api) -> None:
    visit_id, base = visit_with_opportunity(api, **COMPLEXE)
    [refused] = api.push("alice", opportunity_op(visit_id, {**base, "status": "projet_en_cours"}, base))
    assert refused["reason"] == (
        "Statut : le statut et les dates sont tenus par le chargé de mission qui mène ce projet (pilotage)"
    )
    [refused] = api.push("carole", opportunity_op(visit_id, {**base, "offer": "dossiers"}, base))
    assert refused["reason"] == "Offre : le classement de l'opportunité est tenu par l'AT auteure de la visite (classement)"


def test_a_field_sent_equal_to_its_base_or_to_the_central_is_not_a_change(api) -> None:
    visit_id, base = visit_with_opportunity(api, **COMPLEXE)
    # The CM's laptop sends every field; the AT's classement fields untouched: allowed.
    [applied] = api.push("carole", opportunity_op(visit_id, {**base, "cm_login": "carole"}, base))
    assert applied["status"] == "applied"
    # The AT's laptop, not yet synced, still has cm_login null as base and value: not a change.
    [applied] = api.push("alice", opportunity_op(visit_id, base, base, [journal_entry()]))
    assert applied["status"] == "applied" and applied["opportunity"]["fields"]["cm_login"] == "carole"


def test_the_pilotage_follows_the_central_lead_not_the_one_sent(api) -> None:
    visit_id, base = visit_with_opportunity(api, **COMPLEXE)
    # Alice reclassifies as simple AND moves the status in one operation: the status is still the CM's.
    sent = {**base, **SIMPLE, "status": "projet_en_cours"}
    [refused] = api.push("alice", opportunity_op(visit_id, sent, base))
    assert refused["code"] == "forbidden" and refused["fields"] == ["status"]
    # Reclassified first, then the status is hers.
    assert api.push("alice", opportunity_op(visit_id, {**base, **SIMPLE}, base))[0]["status"] == "applied"
    reclassified = {**base, **SIMPLE}
    [applied] = api.push("alice", opportunity_op(visit_id, sent, reclassified))
    assert applied["status"] == "applied"


def test_every_field_belongs_to_exactly_one_group() -> None:
    grouped = [name for names in FIELD_GROUPS.values() for name in names]
    assert sorted(grouped) == sorted(OPPORTUNITY_FIELDS) and len(grouped) == len(set(grouped))
