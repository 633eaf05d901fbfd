"""Recueil answers shared by the tests (importable as `answer_sets`: pytest puts `tests/` on sys.path)."""

from __future__ import annotations

# A project classified « simple »: messaging only, 10 people, every criterion answered,
# « Aucune » where none applies (questionnaire v2: no answer is not « none »).
SIMPLE_ANSWERS = {
    "opportunite": True,
    "situation_actuelle": "Téléphone et SMS.",
    "besoins_sante": "Sorties d'hospitalisation",
    "types_professionnels": "Médecins, IDE",
    "fonctionnalites": ["echanges_messages"],
    "utilisateurs_potentiels": 8,
    "professionnels_hors_structure": 2,
    "temporalite": "mois",
    "messagerie_seule": True,
    "dossiers_coordination": False,
    "parametrage": ["aucune"],
    "demandes_complexes": ["aucune"],
    "portee_strategique": ["aucune"],
}

# The same project with 25 people (20 in the structure, 5 outside): « complexe », led by a CM.
COMPLEXE_ANSWERS = {**SIMPLE_ANSWERS, "utilisateurs_potentiels": 20, "professionnels_hors_structure": 5}


def finished_visit(workspace, answers=SIMPLE_ANSWERS, **identity) -> str:
    """A visit made and finished through the Workspace API (an MSP in the Gers by default):
    with SIMPLE_ANSWERS, `workspace.ensure_opportunities()` opens its « simple » opportunity."""
    visit, errors = workspace.start_visit({
        "structure": "MSP de Lectoure", "departement": "32", "typologie": "MSP",
        "contact_name": "Dr Claire Roux", "contact_role": "Médecin", "visit_date": "01/12/2026", **identity,
    })
    assert not errors, errors
    for question, value in answers.items():
        workspace.save_answer(visit, question, value)
    workspace.visits.set_status(visit.id, "terminee")
    return visit.id
