"""Known data for the indicators' tests (issue 12 §5), importable as `indicator_data` (pytest puts
`tests/` on sys.path): input records for the pure tests (end of file), and a laptop's visits and
opportunities made through the Workspace API (`known_opportunities`), seen on TODAY (05/12/2026):
- « MSP de Lectoure », 32 Gers (Ouest), MSP, simple, visited 01/12/2026: cadrage → « Projet en cours ».
- « CH de Béziers », 34 Hérault (Est), CH, complexe, 15/11/2026: « Sans suite ».
- « Cabinet du Port », 11 Aude (Est), MSP, simple, 20/11/2026: « En attente ».
- « CPTS du Lauragais », 31 Haute-Garonne (Ouest), CPTS, Dossiers, 10/03/2026: « En attente »
  (in the 12 last months, not in the 3 last).
- « EHPAD Les Cèdres », 30 Gard (Est), EHPAD, simple, 05/06/2025: « En attente » (only under « Tout »).
- « Pharmacie du Centre », 32 Gers, finished 25/11/2026 without an opportunity (a visit, no opportunity).
- « MSP de Condom », 32 Gers, 02/12/2026, not finished: counted nowhere.
"""

from __future__ import annotations

import datetime as dt

from answer_sets import SIMPLE_ANSWERS, finished_visit

from at_tui.domain.indicators import OpportunityRecord, VisitRecord

TODAY = dt.date(2026, 12, 5)
ZONES = {"32": "Ouest", "31": "Ouest", "34": "Est", "11": "Est"}
NAMES = {"32": "Gers", "31": "Haute-Garonne", "34": "Hérault", "11": "Aude"}
COMPLEX_ANSWERS = {**SIMPLE_ANSWERS, "utilisateurs_potentiels": 40, "professionnels_hors_structure": 10,
                   "messagerie_seule": False}
DOSSIERS_ANSWERS = {**SIMPLE_ANSWERS, "messagerie_seule": False, "dossiers_coordination": True}


def known_opportunities(workspace, without_opportunity: bool = True) -> dict[str, str]:
    """The visits above (the one without opportunity only when asked); their ids by name."""
    ids = {
        "lectoure": finished_visit(workspace),
        "beziers": finished_visit(workspace, COMPLEX_ANSWERS, structure="CH de Béziers", departement="34",
                                  typologie="CH", visit_date="15/11/2026"),
        "port": finished_visit(workspace, structure="Cabinet du Port", departement="11", visit_date="20/11/2026"),
        "lauragais": finished_visit(workspace, DOSSIERS_ANSWERS, structure="CPTS du Lauragais", departement="31",
                                    typologie="CPTS", visit_date="10/03/2026"),
        "cedres": finished_visit(workspace, structure="EHPAD Les Cèdres", departement="30", typologie="EHPAD",
                                 visit_date="05/06/2025"),
    }
    if without_opportunity:
        ids["pharmacie"] = finished_visit(workspace, {"opportunite": False}, structure="Pharmacie du Centre",
                                          departement="32", typologie="Professionnels libéraux",
                                          visit_date="25/11/2026")
    visit, errors = workspace.start_visit({"structure": "MSP de Condom", "departement": "32", "typologie": "MSP",
                                           "visit_date": "02/12/2026"})
    assert not errors, errors
    ids["condom"] = visit.id
    assert workspace.ensure_opportunities() == 5
    store, lifecycle = workspace.opportunities, workspace.lifecycle()
    store.add_entry(ids["lectoure"], lifecycle, "cadrage", "2026-12-03", author="marie", role="AT")
    store.set_status(ids["beziers"], lifecycle, "sans_suite", "Projet reporté à 2028", author="marie", role="AT",
                     day="2026-12-02")
    return ids


# -- input records for the pure tests (the aggregation, the HTML charts) --------------------------

STATUSES = [("en_attente", "En attente"), ("projet_en_cours", "Projet en cours"), ("termine", "Terminé"),
            ("sans_suite", "Sans suite")]


def opp(month, offer="discussions_simple", status="en_attente", dept="32", typologie="MSP", count=1):
    """An input record as the store gives it (`count` identical opportunities)."""
    return OpportunityRecord(month, offer, status, dept, NAMES.get(dept, dept), typologie, ZONES.get(dept, ""), count)


def visit(month, dept="32", count=1):
    return VisitRecord(month, dept, ZONES.get(dept, ""), count)


RECORDS = [
    opp("2026-12", status="projet_en_cours"),
    opp("2026-11", "discussions_complexe", "sans_suite", "34", "CH"),
    opp("2026-11", dept="11", count=2),  # the store groups identical records
    opp("2026-03", "dossiers", dept="31", typologie="CPTS"),
    opp("2025-06", dept="11", typologie="EHPAD"),
    opp("", status="statut_ancien", dept="34", typologie="CH"),  # an unreadable date, a status of an old playbook
]
VISITS = [visit("2026-12"), visit("2026-11", "34"), visit("2026-11", "11", 2), visit("2026-11"),
          visit("2026-03", "31"), visit("2025-06", "11"), visit("", "34")]


def seed_laptop(db_path, reference) -> dict[str, str]:
    """The known opportunities in the laptop database at `db_path` (closed again): their ids."""
    from at_tui.workspace import Workspace

    workspace = Workspace(db_path, reference=reference)
    try:
        return known_opportunities(workspace)
    finally:
        workspace.close()


def app_on(db_path, reference):
    """The app on that database, its clock at TODAY (the charts depend on it)."""
    from at_tui.app import ATApp

    return ATApp(db_path, reference=reference, today=lambda: TODAY)
