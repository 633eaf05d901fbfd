"""Known opportunities for the tracking file's tests (issue 12 §1), made through the Workspace API
(importable as `tracking_journeys`: pytest puts `tests/` on sys.path).

- « MSP de Lectoure » (32 Gers, Ouest), simple, led by the AT marie: fiche de cadrage (15 comptes
  estimés), cadrage, lancement, formation, fin du déploiement, M+1 done, then a note: the last
  activity. Taken in charge by the CM carole.
- « CH de Béziers » (34 Hérault, Est), complexe: closed « Sans suite » with its reason.
- « =Cabinet du Port » (11 Aude, Est), simple, nothing recorded: a name a spreadsheet would
  read as a formula, in « En attente ».
"""

from __future__ import annotations

import datetime as dt

from answer_sets import SIMPLE_ANSWERS, finished_visit

from at_tui.sync.outbox import set_state

COMPLEX_ANSWERS = {**SIMPLE_ANSWERS, "utilisateurs_potentiels": 40, "professionnels_hors_structure": 10,
                   "messagerie_seule": False}
NAUGHTY_STRUCTURE = "=Cabinet du Port"


def known_opportunities(workspace) -> dict[str, str]:
    """The three opportunities above; their ids by name."""
    set_state(workspace.conn, "login", "marie")
    simple = finished_visit(workspace, finess="320000163")
    complexe = finished_visit(workspace, COMPLEX_ANSWERS, structure="CH de Béziers", departement="34",
                              typologie="CH", visit_date="15/11/2026")
    naughty = finished_visit(workspace, structure=NAUGHTY_STRUCTURE, departement="11", visit_date="20/11/2026")
    assert workspace.ensure_opportunities() == 3
    store, lifecycle = workspace.opportunities, workspace.lifecycle()

    def record(activity: str, day: str, **extra) -> None:
        store.add_entry(simple, lifecycle, activity, day, author="marie", role="AT", **extra)

    record("fiche-cadrage", "2026-12-05", answers={"comptes_estimes": 15})
    record("cadrage", "2026-12-10")
    record("lancement", "2026-12-20")
    record("formation", "2027-01-10")
    record("fin-deploiement", "2027-01-31")
    record("suivi-m1", "2027-03-01", answers={"usages_en_run": False})
    record("note", "2027-03-05", text="Relance pour la formation des IDE.")
    store.take_charge(simple, "carole", lifecycle)
    store.set_status(complexe, lifecycle, "sans_suite", "Projet reporté à 2028", author="marie", role="AT",
                     day="2026-12-02")
    return {"simple": simple, "complexe": complexe, "naughty": naughty}


D = dt.date
# What « Suivi » must hold for each, column by column (the header is `EXPECTED_HEADER`), ordered by
# structure: the file is ordered by opportunity id (random uuids), the tests sort by structure.
EXPECTED_HEADER = [
    "Département", "Zone", "Structure", "FINESS", "Typologie", "Nom CRM", "Offre", "Pilote", "Soutien", "AT", "CM",
    "Statut", "Raison du statut", "Date de visite", "Cadrage", "Lancement", "Fin du déploiement",
    "M+1 dû le", "M+1 fait le", "M+3 dû le", "M+3 fait le", "M+6 dû le", "M+6 fait le",
    "Comptes estimés", "Utilisateurs potentiels", "Dernière activité", "Date de la dernière activité",
]
EXPECTED_ROWS = {
    "'" + NAUGHTY_STRUCTURE: [  # as written: defused
        "11 Aude", "Est", "'" + NAUGHTY_STRUCTURE, None, "MSP", "11 libéraux", "SPICO Discussions simple", "AT", "CM",
        "marie", None, "En attente", None, D(2026, 11, 20), None, None, None,
        None, None, None, None, None, None,
        None, 8, "Information", D(2026, 11, 20),
    ],
    "CH de Béziers": [
        "34 Hérault", "Est", "CH de Béziers", None, "CH", "34 CH", "SPICO Discussions complexe", "CM", "AT",
        "marie", None, "Sans suite", "Projet reporté à 2028", D(2026, 11, 15), None, None, None,
        None, None, None, None, None, None,
        None, 40, "Information", D(2026, 11, 15),
    ],
    "MSP de Lectoure": [
        "32 Gers", "Ouest", "MSP de Lectoure", "320000163", "MSP", "32 libéraux", "SPICO Discussions simple", "AT", "CM",
        "marie", "carole", "Projet en cours", None, D(2026, 12, 1), D(2026, 12, 10), D(2026, 12, 20), D(2027, 1, 31),
        D(2027, 2, 28), D(2027, 3, 1), D(2027, 4, 30), None, D(2027, 7, 31), None,
        15, 8, "Note", D(2027, 3, 5),
    ],
}
