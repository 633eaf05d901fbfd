"""The indicators' aggregation (issue 12 §5): known records, the period and zone filters, the
funnel in the lifecycle's order; the store's grouped query and the tracking rows agree."""

from __future__ import annotations

import datetime as dt

import pytest
from indicator_data import RECORDS, STATUSES, TODAY, VISITS, known_opportunities, opp, visit

from at_tui.domain.indicators import (
    PERIODS,
    OpportunityRecord,
    compute,
    count_text,
    figures,
    indicators_from_rows,
    month_label,
    month_of,
    next_period,
    next_zone,
    records_from_rows,
    statuses_of,
    visits_from_rows,
)
from at_tui.domain.tracking import tracking_rows
from at_tui.store.indicators import indicator_records
from at_tui.store.tracking import tracked_opportunities

THREE, TWELVE, ALL = PERIODS
def values(bars) -> list[tuple[str, int]]:
    return [(b.label, b.value) for b in bars]


def test_three_months_counts_each_figure_over_the_last_three_months() -> None:
    shown = compute(RECORDS, VISITS, STATUSES, TODAY, THREE)
    assert values(shown.visits) == [("oct. 2026", 0), ("nov. 2026", 4), ("déc. 2026", 1)]
    assert values(shown.opportunities) == [("oct. 2026", 0), ("nov. 2026", 3), ("déc. 2026", 1)]
    assert values(shown.by_offer) == [("Discussions simple", 3), ("Discussions complexe", 1)]
    assert values(shown.by_status) == [("En attente", 2), ("Projet en cours", 1), ("Terminé", 0), ("Sans suite", 1)]
    assert values(shown.by_departement) == [("11 Aude", 2), ("32 Gers", 1), ("34 Hérault", 1)]
    assert values(shown.by_typologie) == [("MSP", 3), ("CH", 1)]  # the most frequent first
    assert (shown.total_visits, shown.total_opportunities) == (5, 4)
    assert not shown.per_year and shown.zone_label == "Toutes"


def test_twelve_months_include_march_and_every_empty_month() -> None:
    shown = compute(RECORDS, VISITS, STATUSES, TODAY, TWELVE)
    assert [b.key for b in shown.visits] == [f"2026-{m:02d}" for m in range(1, 13)]
    assert dict(values(shown.opportunities))["mars 2026"] == 1
    assert values(shown.by_offer) == [("Discussions simple", 3), ("Discussions complexe", 1), ("Dossiers", 1)]
    assert shown.total_opportunities == 5 and shown.total_visits == 6


def test_all_starts_at_the_oldest_month_and_counts_the_undated() -> None:
    shown = compute(RECORDS, VISITS, STATUSES, TODAY, ALL)
    assert shown.visits[0].key == "2025-06" and shown.visits[-1].key == "2026-12" and len(shown.visits) == 19
    # the undated visit and opportunity count in the totals and by category, in no month
    assert (shown.total_visits, shown.total_opportunities) == (8, 7)
    assert (sum(b.value for b in shown.visits), sum(b.value for b in shown.opportunities)) == (7, 6)
    assert sum(b.value for b in shown.by_departement) == 7
    # a status the lifecycle does not know comes after its statuses: the funnel keeps its order
    assert values(shown.by_status)[-1] == ("statut_ancien", 1)
    assert [b.key for b in shown.by_status][:4] == [s for s, _ in STATUSES]


def test_a_long_history_is_drawn_per_year() -> None:
    records = [opp("2017-02"), opp("2021-07", count=3), opp("2026-12")]
    shown = compute(records, [visit("2017-02")], STATUSES, TODAY, ALL)
    assert shown.per_year and shown.time_unit == "année"
    assert values(shown.opportunities) == [(str(y), {2017: 1, 2021: 3, 2026: 1}.get(y, 0)) for y in range(2017, 2027)]
    assert figures(shown)[0].title == "Visites terminées par année" and figures(shown)[0].heading == "Année"


def test_a_date_after_today_is_in_no_period() -> None:
    records = [opp("2027-01"), opp("2026-12")]
    for period in PERIODS:
        assert compute(records, [], STATUSES, TODAY, period).total_opportunities == 1


@pytest.mark.parametrize(("zone", "departements"), [("Est", ["11 Aude", "34 Hérault"]),
                                                     ("Ouest", ["31 Haute-Garonne", "32 Gers"])])
def test_the_zone_filters_opportunities_and_visits(zone, departements) -> None:
    shown = compute(RECORDS, VISITS, STATUSES, TODAY, TWELVE, zone)
    assert [b.label for b in shown.by_departement] == departements
    expected = {"Est": 3, "Ouest": 3}[zone]
    assert shown.total_visits == expected
    assert shown.zone_label == zone


def test_filters_cycle_in_order() -> None:
    assert [p.label for p in PERIODS] == ["3 derniers mois", "12 derniers mois", "Tout"]
    assert next_period(ALL) is THREE and next_period(THREE) is TWELVE
    assert [next_zone(None), next_zone("Est"), next_zone("Ouest")] == ["Est", "Ouest", None]


def test_nothing_recorded_gives_empty_figures_not_an_error() -> None:
    shown = compute([], [], STATUSES, TODAY, ALL)
    assert values(shown.visits) == [("déc. 2026", 0)]
    assert shown.by_offer == () and values(shown.by_status)[0] == ("En attente", 0)


def test_months_and_counts_in_french() -> None:
    assert month_label("2026-02") == "févr. 2026" and month_label("2026-08") == "août 2026"
    assert month_of("2026-11-20") == "2026-11" and month_of("20/11/2026") == "" and month_of(None) == ""
    assert [count_text(n, "visite", "visites") for n in (0, 1, 2)] == ["0 visite", "1 visite", "2 visites"]


def test_visits_and_opportunities_per_month_share_their_scale() -> None:
    shown = compute(RECORDS, VISITS, STATUSES, TODAY, THREE)
    by_key = {f.key: f for f in figures(shown)}
    assert by_key["visites"].largest == by_key["opportunites"].largest == 4
    assert by_key["statut"].largest == 2


# -- two sources, one aggregation ------------------------------------------------------------


def _statuses(workspace):
    return statuses_of(workspace.lifecycle())


def _rows(workspace):
    return list(tracking_rows(tracked_opportunities(workspace.conn), workspace.lifecycle(), workspace.territory))


def test_the_store_reads_the_laptop_grouped(workspace) -> None:
    known_opportunities(workspace)
    records, visits = indicator_records(workspace.conn, workspace.territory)
    shown = compute(records, visits, _statuses(workspace), TODAY, TWELVE)
    # the unfinished visit counts nowhere; the one without opportunity counts as a visit
    assert values(shown.visits)[-2:] == [("nov. 2026", 3), ("déc. 2026", 1)]
    assert values(shown.opportunities)[-2:] == [("nov. 2026", 2), ("déc. 2026", 1)]
    assert values(shown.by_status) == [("En attente", 2), ("Projet en cours", 1), ("Terminé", 0), ("Sans suite", 1)]
    assert values(shown.by_departement) == [("11 Aude", 1), ("31 Haute-Garonne", 1), ("32 Gers", 1),
                                            ("34 Hérault", 1)]
    everything = compute(records, visits, _statuses(workspace), TODAY, ALL, "Est")
    assert values(everything.by_departement) == [("11 Aude", 1), ("30 Gard", 1), ("34 Hérault", 1)]


@pytest.mark.parametrize("period", PERIODS, ids=lambda p: p.key)
@pytest.mark.parametrize("zone", [None, "Est", "Ouest"])
def test_the_store_and_the_tracking_rows_give_the_same_indicators(workspace, period, zone) -> None:
    known_opportunities(workspace, without_opportunity=False)
    records, visits = indicator_records(workspace.conn, workspace.territory)
    rows = _rows(workspace)
    from_store = compute(records, visits, _statuses(workspace), TODAY, period, zone)
    from_rows = compute(records_from_rows(rows), visits_from_rows(rows), _statuses(workspace), TODAY, period, zone)
    assert from_store == from_rows
    expected = {"3m": {None: 3, "Est": 2, "Ouest": 1}, "12m": {None: 4, "Est": 2, "Ouest": 2},
                "tout": {None: 5, "Est": 3, "Ouest": 2}}[period.key][zone]
    assert from_store.total_opportunities == from_store.total_visits == expected


def test_the_rows_source_equals_the_store_even_with_a_visit_without_opportunity(workspace) -> None:
    """The rows know no visit without opportunity: given the store's visits, every figure agrees."""
    known_opportunities(workspace)
    records, visits = indicator_records(workspace.conn, workspace.territory)
    from_rows = compute(records_from_rows(_rows(workspace)), visits, _statuses(workspace), TODAY, ALL)
    assert from_rows == compute(records, visits, _statuses(workspace), TODAY, ALL)
    assert sum(v.count for v in visits) == 6 and len(visits_from_rows(_rows(workspace))) == 5


def test_records_from_rows_keep_what_the_figures_need(workspace) -> None:
    known_opportunities(workspace)
    by_month = {r.month: r for r in records_from_rows(_rows(workspace))}
    assert by_month["2026-03"] == OpportunityRecord("2026-03", "dossiers", "en_attente", "31", "Haute-Garonne",
                                                    "CPTS", "Ouest")
    assert (by_month["2025-06"].zone, by_month["2025-06"].count) == ("Est", 1)


def test_an_unknown_departement_keeps_its_code_and_no_zone(workspace) -> None:
    known_opportunities(workspace)
    workspace.conn.execute("UPDATE visits SET departement = '2A' WHERE structure = 'MSP de Lectoure'")
    records, visits = indicator_records(workspace.conn, workspace.territory)
    corsica = [r for r in records if r.departement == "2A"]
    assert [(r.departement_name, r.zone) for r in corsica] == [("2A", "")]
    shown = compute(records, visits, _statuses(workspace), TODAY, THREE)
    assert ("2A", 1) in values(shown.by_departement)
    assert compute(records, visits, _statuses(workspace), TODAY, THREE, "Ouest").total_opportunities == 0


def test_an_unreadable_stored_date_counts_only_under_all(workspace) -> None:
    ids = known_opportunities(workspace)
    workspace.conn.execute("UPDATE opportunities SET visit_date = 'hier' WHERE id = ?", (ids["port"],))
    records, visits = indicator_records(workspace.conn, workspace.territory)
    assert [r.month for r in records if r.departement == "11"] == [""]
    assert compute(records, visits, _statuses(workspace), TODAY, TWELVE).total_opportunities == 3
    everything = compute(records, visits, _statuses(workspace), TODAY, ALL)
    assert everything.total_opportunities == sum(b.value for b in everything.by_offer) == 5
    assert sum(b.value for b in everything.opportunities) == 4  # in no month
    rows = _rows(workspace)
    assert compute(records_from_rows(rows), visits, _statuses(workspace), TODAY, ALL) == compute(
        records, visits, _statuses(workspace), TODAY, ALL)


def test_today_is_passed_in() -> None:
    later = compute(RECORDS, VISITS, STATUSES, dt.date(2027, 2, 1), THREE)
    assert [b.key for b in later.visits] == ["2026-12", "2027-01", "2027-02"]


def test_a_second_read_is_the_first_until_the_database_changes(workspace, db_path) -> None:
    """Reopening the screen reads nothing; a change made here or by another connection (a sync,
    an import) is read at once."""
    from at_tui.store.db import connect

    ids = known_opportunities(workspace)
    first = indicator_records(workspace.conn, workspace.territory)
    assert indicator_records(workspace.conn, workspace.territory) is first
    workspace.opportunities.set_status(ids["port"], workspace.lifecycle(), "sans_suite", "Pas de projet",
                                       author="marie", role="AT", day="2026-12-04")
    here = indicator_records(workspace.conn, workspace.territory)
    assert here is not first
    assert sum(r.count for r in here[0] if r.status == "sans_suite") == 2
    other = connect(db_path)
    try:
        with other:
            other.execute("UPDATE visits SET departement = '31' WHERE id = ?", (ids["cedres"],))
    finally:
        other.close()
    elsewhere = indicator_records(workspace.conn, workspace.territory)
    assert elsewhere is not here
    assert [r.departement for r in elsewhere[0] if r.month == "2025-06"] == ["31"]


def test_indicators_from_rows_is_the_rows_path_in_one_call(workspace) -> None:
    known_opportunities(workspace, without_opportunity=False)
    rows = _rows(workspace)
    shown = indicators_from_rows(iter(rows), workspace.lifecycle(), TODAY, ALL, "Ouest")
    assert shown == compute(records_from_rows(rows), visits_from_rows(rows), _statuses(workspace), TODAY, ALL,
                            "Ouest")
    assert [b.label for b in shown.by_status] == ["En attente", "Projet en cours", "Terminé", "Sans suite"]
    assert statuses_of(None) == []
