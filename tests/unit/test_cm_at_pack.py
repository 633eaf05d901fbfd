"""The monthly CM–AT pack (issue 12 §4; seed 000, « Gouvernance — POINT CM - AT 1x/mois / zone
(Est/Ouest) »): known opportunities of both zones, a fixed today, each section's content exactly."""

from __future__ import annotations

import datetime as dt

import pytest

from at_tui.domain.cm_at_pack import cm_at_pack, default_since
from at_tui.domain.opportunity import JournalEntry, Opportunity
from at_tui.domain.territory import UnknownZone
from at_tui.domain.tracking import TrackedOpportunity, tracking_rows

TODAY = dt.date(2027, 3, 15)  # default period: 15/02/2027 – 15/03/2027


def entry(opp: str, activity: str, title: str, day: str, *, text: str = "", author: str = "marie", role: str = "AT",
          recorded: str | None = None) -> JournalEntry:
    return JournalEntry(id=f"{opp}:{activity}:{day}", opportunity_id=opp, activity=activity, type=title, title=title,
                        day=day, author=author, role=role, text=text, created_at=recorded or f"{day}T10:00:00+00:00")


def tracked(opp: str, structure: str, departement: str, visit: str, *, status: str = "en_attente",
            journal: tuple[JournalEntry, ...] = (), created: str | None = None, updated: str | None = None,
            offer: str = "discussions_simple", lead: str = "AT", support: str = "CM", cm: str | None = None,
            deployment_end: str | None = None) -> TrackedOpportunity:
    # The « Information » entry is written when the opportunity opens: its time says when it was opened.
    information = entry(opp, "information", "Information", visit, text="Compte rendu de la visite.",
                        recorded=created or f"{visit}T12:00:00+00:00")
    return TrackedOpportunity(
        opportunity=Opportunity(id=opp, structure=structure, departement=departement, offer=offer, lead=lead,
                                support=support, status=status, at_login="marie", cm_login=cm, visit_date=visit,
                                deployment_end=deployment_end),
        typologie="CH", journal=(information, *journal),
        created_at=created or f"{visit}T12:00:00+00:00", updated_at=updated or f"{visit}T12:00:00+00:00",
    )


OPPORTUNITIES = (
    # 34: new (visited in the period).
    tracked("a", "CH de Béziers", "34", "2027-03-01"),
    # 34: deployed 10/01, M+1 due 10/02 not done: late; a free note in the period.
    tracked("b", "MSP de Sète", "34", "2026-11-10", status="projet_en_cours", deployment_end="2027-01-10", journal=(
        entry("b", "cadrage", "Cadrage (déploiement acté)", "2026-12-01"),
        entry("b", "fin-deploiement", "Fin du déploiement", "2027-01-10"),
        entry("b", "note", "Note", "2027-03-02", text="Les IDE demandent une formation.\nRelancer en avril."),
    )),
    # 30: cadrage then formation in the period (the formation's comment is a field note too).
    tracked("c", "EHPAD du Gard", "30", "2026-12-20", status="projet_en_cours", offer="discussions_complexe",
            lead="CM", support="AT", cm="carole", journal=(
                entry("c", "cadrage", "Cadrage (déploiement acté)", "2027-02-20", author="carole", role="CM"),
                entry("c", "formation", "Formation — Accompagnement aux premiers usages", "2027-03-05",
                      text="12 personnes formées.", author="carole", role="CM"),
            )),
    # 11: visited before the period but its visit finished (opportunity opened) in it, en attente for 54 days: new AND late.
    tracked("d", "CPTS de Narbonne", "11", "2027-01-20", created="2027-03-10T08:00:00+00:00"),
    # 32 (Ouest): new, but never in the Est pack.
    tracked("e", "MSP de Lectoure", "32", "2027-03-01", journal=(
        entry("e", "note", "Note", "2027-03-02", text="Zone Ouest."),
    )),
    # 48: closed long ago, nothing in the period (follow-ups of a closed opportunity are never late).
    tracked("f", "CH de Mende", "48", "2026-06-01", status="termine", deployment_end="2026-07-01"),
    # 66: an activity of an older day, typed in the period: never discussed, so « en mouvement ».
    tracked("g", "Centre de santé de Perpignan", "66", "2026-12-01", status="projet_en_cours", journal=(
        entry("g", "cadrage", "Cadrage (déploiement acté)", "2026-12-15"),
        entry("g", "lancement", "Réunion de lancement", "2027-02-01", recorded="2027-02-20T09:00:00+00:00"),
    )),
    # 30: taken in charge by a CM in the period (no journal entry) and en attente for 42 days.
    tracked("h", "CH de Nîmes", "30", "2027-02-01", updated="2027-03-01T16:00:00+00:00", cm="carole",
            offer="dossiers", lead="CM", support="AT"),
    # 34: a status change in the period, with its reason.
    tracked("i", "SSIAD de Lunel", "34", "2026-10-01", status="sans_suite", journal=(
        entry("i", "statut", "Statut « Sans suite »", "2027-03-03", text="Structure fermée.", author="carole", role="CM"),
    )),
)


@pytest.fixture
def pack(reference):
    lifecycle = reference.current_playbook("spico").lifecycle
    rows = tracking_rows(OPPORTUNITIES, lifecycle, reference.territory)
    return cm_at_pack(rows, reference.territory, "est", TODAY, initial_status=lifecycle.initial)


def section(pack, code: str, name: str) -> list[tuple]:
    found = next(d for d in pack.departements if d.code == code)
    return [(i.structure, i.day, i.what, i.details) for i in found.items(name)]


def test_the_est_pack_lists_every_departement_of_the_zone_in_the_territory_order(pack) -> None:
    assert pack.zone == "Est"
    assert [d.label for d in pack.departements] == [
        "11 Aude", "30 Gard", "34 Hérault", "48 Lozère", "66 Pyrénées-Orientales"]
    assert (pack.since, pack.today, pack.since_is_default) == (dt.date(2027, 2, 15), TODAY, True)
    assert pack.period.startswith("Depuis le 15/02/2027 jusqu'au 15/03/2027 inclus (par défaut : un mois")


def test_another_zone_never_appears(pack) -> None:
    structures = {i.structure for d in pack.departements for key in ("new", "moved", "late", "notes")
                  for i in d.items(key)}
    assert "MSP de Lectoure" not in structures
    assert "Zone Ouest." not in {line for d in pack.departements for i in d.notes for line in i.details}
    assert structures == {"CH de Béziers", "MSP de Sète", "EHPAD du Gard", "CPTS de Narbonne",
                          "Centre de santé de Perpignan", "CH de Nîmes", "SSIAD de Lunel"}


def test_new_opportunities_visited_or_opened_in_the_period(pack) -> None:
    assert section(pack, "34", "new") == [("CH de Béziers", dt.date(2027, 3, 1), "Opportunité ouverte (visite du 01/03/2027)", ())]
    assert section(pack, "11", "new") == [("CPTS de Narbonne", dt.date(2027, 1, 20),
                                           "Opportunité ouverte (visite du 20/01/2027)", ())]
    assert [section(pack, code, "new") for code in ("30", "48", "66")] == [[], [], []]


def test_moved_opportunities_with_what_happened(pack) -> None:
    # CH de Nîmes, taken in charge in the period without a journal entry, is not « en mouvement »:
    # its record's time is when a laptop or the central stored it, not when the project moved.
    assert section(pack, "30", "moved") == [
        ("EHPAD du Gard", dt.date(2027, 3, 5), "Formation — Accompagnement aux premiers usages", (
            "20/02/2027 — Cadrage (déploiement acté) — carole (CM)",
            "05/03/2027 — Formation — Accompagnement aux premiers usages — carole (CM)",
        )),
    ]
    assert section(pack, "66", "moved") == [("Centre de santé de Perpignan", dt.date(2027, 2, 1), "Réunion de lancement",
                                             ("01/02/2027 — Réunion de lancement — marie (AT)",))]
    assert section(pack, "34", "moved") == [("SSIAD de Lunel", dt.date(2027, 3, 3), "Statut « Sans suite » : Structure fermée.",
                                             ("03/03/2027 — Statut « Sans suite » : Structure fermée. — carole (CM)",))]
    # A free note alone does not make an opportunity move (it is under « Remontées terrain »).
    assert "MSP de Sète" not in [s for s, *_ in section(pack, "34", "moved")]


def test_late_opportunities_overdue_follow_ups_and_long_waits(pack) -> None:
    assert section(pack, "34", "late") == [("MSP de Sète", dt.date(2027, 2, 10),
                                            "Suivi M+1 dû le 10/02/2027 : en retard de 33 jours", ())]
    assert section(pack, "11", "late") == [("CPTS de Narbonne", dt.date(2027, 1, 20),
                                            "En attente depuis la visite du 20/01/2027 (54 jours, au-delà de 30)", ())]
    assert section(pack, "30", "late") == [("CH de Nîmes", dt.date(2027, 2, 1),
                                            "En attente depuis la visite du 01/02/2027 (42 jours, au-delà de 30)", ())]
    assert section(pack, "48", "late") == []  # closed: its follow-ups are not late


def test_field_notes_recorded_in_the_period(pack) -> None:
    assert section(pack, "34", "notes") == [("MSP de Sète", dt.date(2027, 3, 2), "Note — marie (AT)",
                                             ("Les IDE demandent une formation.", "Relancer en avril."))]
    assert section(pack, "30", "notes") == [("EHPAD du Gard", dt.date(2027, 3, 5),
                                             "Formation — Accompagnement aux premiers usages — carole (CM)",
                                             ("12 personnes formées.",))]
    # The « Information » entry (the visit's CRM description) and status reasons are not field notes.
    assert section(pack, "11", "notes") == section(pack, "66", "notes") == []


def test_each_item_says_offer_status_who_leads_at_and_cm(pack) -> None:
    [item] = next(d for d in pack.departements if d.code == "30").late[:1]
    assert (item.crm_name, item.offer_label, item.status_label, item.who_leads, item.at_login, item.cm_login) == (
        "30 CH", "SPICO Dossiers", "En attente", "menée par CM, AT en soutien", "marie", "carole")
    assert [d.summary() for d in pack.departements] == [
        "1 nouvelle, 0 en mouvement, 1 en retard, 0 note",
        "0 nouvelle, 1 en mouvement, 1 en retard, 1 note",
        "1 nouvelle, 1 en mouvement, 1 en retard, 1 note",
        "0 nouvelle, 0 en mouvement, 0 en retard, 0 note",
        "0 nouvelle, 1 en mouvement, 0 en retard, 0 note",
    ]


def test_an_explicit_period_and_waiting_threshold(reference) -> None:
    lifecycle = reference.current_playbook("spico").lifecycle
    rows = list(tracking_rows(OPPORTUNITIES, lifecycle, reference.territory))
    pack = cm_at_pack(rows, reference.territory, "Est", TODAY, initial_status=lifecycle.initial,
                      since=dt.date(2027, 3, 4), waiting_days=45)
    assert not pack.since_is_default and pack.period == "Depuis le 04/03/2027 jusqu'au 15/03/2027 inclus"
    by_code = {d.code: d for d in pack.departements}
    assert [i.structure for i in by_code["34"].new] == []  # visited 01/03, before the period
    assert [i.structure for i in by_code["30"].moved] == ["EHPAD du Gard"]  # the formation only
    assert [i.details for i in by_code["30"].moved] == [
        ("05/03/2027 — Formation — Accompagnement aux premiers usages — carole (CM)",)]
    assert [i.structure for i in by_code["30"].late] == []  # 42 days ≤ 45
    assert [i.structure for i in by_code["11"].late] == ["CPTS de Narbonne"]  # 54 days
    assert [i.structure for i in by_code["11"].new] == ["CPTS de Narbonne"]  # opened 10/03
    # Nothing recorded after `today` counts: the pack of an earlier day is that day's.
    earlier = cm_at_pack(rows, reference.territory, "est", dt.date(2027, 2, 28), initial_status=lifecycle.initial)
    assert [i.structure for i in next(d for d in earlier.departements if d.code == "34").new] == []
    assert [i.structure for i in next(d for d in earlier.departements if d.code == "11").new] == []


def test_the_default_period_is_one_month_clamped_at_the_months_end() -> None:
    assert default_since(dt.date(2027, 3, 31)) == dt.date(2027, 2, 28)
    assert default_since(dt.date(2027, 1, 10)) == dt.date(2026, 12, 10)


def test_an_unknown_zone_is_refused_in_french(reference) -> None:
    with pytest.raises(UnknownZone, match="Zone « Nord » inconnue \\(zones : « Est », « Ouest »\\)"):
        cm_at_pack([], reference.territory, "Nord", TODAY, initial_status="en_attente")


def test_text_typed_in_the_field_never_becomes_markup_in_the_page(reference) -> None:
    from at_tui.documents.pack_html import pack_page

    lifecycle = reference.current_playbook("spico").lifecycle
    hostile = tracked("x", "<script>alert(1)</script> *CH*", "34", "2027-03-01", journal=(
        entry("x", "note", "Note", "2027-03-02", text="# Titre\n[lien](javascript:alert(1))\n| a | b |\x1b[31m"),
    ))
    pack = cm_at_pack(tracking_rows([hostile], lifecycle, reference.territory), reference.territory, "est", TODAY,
                      initial_status=lifecycle.initial)
    html = pack_page(pack)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; *CH*" in html
    assert "javascript:" not in html.replace("[lien](javascript:alert(1))", "")  # shown as typed, never a link
    assert "<a " not in html and "<h1>Titre" not in html and "\x1b" not in html
    assert "<li># Titre</li>" in html


def test_an_opportunity_received_by_a_cm_in_the_period_is_not_new(reference):
    """On a CM's laptop the row is created when the opportunity is received: its « Information »
    entry, written when the visit ended, says when it was opened."""
    lifecycle = reference.current_playbook("spico").lifecycle
    old = tracked("k", "CH de Carcassonne", "11", "2026-10-05", status="projet_en_cours")
    received = TrackedOpportunity(opportunity=old.opportunity, typologie="CH", journal=old.journal,
                                  created_at="2027-03-14T08:00:00+00:00", updated_at=old.updated_at)
    pack = cm_at_pack(tracking_rows([received], lifecycle, reference.territory), reference.territory, "est", TODAY,
                      initial_status=lifecycle.initial)
    aude = next(d for d in pack.departements if d.code == "11")
    assert (aude.new, aude.moved) == ((), ())
