"""A whole visit for the compte rendu tests (importable as `visit_report_helpers`).

An MSP of the Gers visited on 22/11/2026: both checklist steps ticked and noted, the Recueil
answered (22 people: « complexe »), the classification overridden to SPICO Dossiers with a
justification, the visit finished, its opportunity taken in charge by a CM, cadrage, launch and
end of deployment recorded (01/12/2026): M+1, M+3 and M+6 are then due.
"""

from __future__ import annotations

from answer_sets import SIMPLE_ANSWERS

AT_LOGIN = "claire.at"
CM_LOGIN = "marc.cm"
ANSWERS = {
    **SIMPLE_ANSWERS,
    "utilisateurs_potentiels": 20,
    "besoins_sante": "Sorties d'hospitalisation\nSuivi des plaies chroniques",
    "partenaires": 'Le CH d\'Auch et l\'équipe "plaies"',
}
PRESENTATION_NOTE = "Présentation à l'équipe: 6 médecins et 4 IDE!\nRendez-vous pris à 10:30."
JUSTIFICATION = "Le partage de dossiers de coordination est prévu dès le lancement"


def whole_visit(workspace, *, finish: bool = True, structure: str = "MSP de Lectoure") -> str:
    """The visit above, through the Workspace API; returns its id."""
    from at_tui.domain.visit import check_key, notes_key
    from at_tui.sync.outbox import set_state

    visit, errors = workspace.start_visit({
        "structure": structure, "departement": "32", "typologie": "MSP", "commune": "Lectoure",
        "contact_name": "Anne Roque", "contact_role": "Coordinatrice", "visit_date": "22/11/2026",
    })
    assert not errors, errors
    workspace.save_flag(visit.id, check_key("presentation", "offre-coordination"), True, "Action")
    workspace.save_flag(visit.id, check_key("presentation", "bonnes-pratiques"), True, "Action")
    workspace.save_flag(visit.id, check_key("demonstration", "demo-formation"), True, "Action")
    workspace.save_note(visit.id, notes_key("presentation"), PRESENTATION_NOTE)
    workspace.save_note(visit.id, notes_key("demonstration"), "Démonstration sur l'environnement de formation.")
    for question, value in ANSWERS.items():
        workspace.save_answer(visit, question, value)
    workspace.visits.set_override(visit.id, "dossiers", JUSTIFICATION)
    if not finish:
        return visit.id
    workspace.visits.set_status(visit.id, "terminee")
    set_state(workspace.conn, "login", AT_LOGIN)
    workspace.conn.commit()
    assert workspace.ensure_opportunities() == 1
    lifecycle = workspace.lifecycle()
    workspace.opportunities.take_charge(visit.id, CM_LOGIN, lifecycle)
    for activity, day in (("cadrage", "2026-11-28"), ("lancement", "2026-11-30"), ("fin-deploiement", "2026-12-01")):
        workspace.opportunities.add_entry(visit.id, lifecycle, activity, day, author=CM_LOGIN, role="CM")
    return visit.id
