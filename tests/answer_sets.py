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
