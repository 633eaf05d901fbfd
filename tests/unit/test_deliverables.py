"""CRM deliverables of a visit, built through the Workspace from stored answers."""

from __future__ import annotations

from typing import Any

from helpers import IDENTITY

from at_tui.domain.classification import Lead, Offer
from at_tui.domain.visit import Visit, notes_key
from at_tui.workspace import Workspace

SIMPLE = {
    "opportunite": True,
    "situation_actuelle": "Échanges par SMS et appels entre médecins et infirmières.",
    "besoins_sante": "Parcours personne âgée à domicile",
    "types_professionnels": "Médecins généralistes, IDE libérales, pharmaciens",
    "fonctionnalites": ["echanges_messages"],
    "utilisateurs_potentiels": 12,
    "professionnels_hors_structure": 0,
    "temporalite": "trimestre",
    "messagerie_seule": True,
    "dossiers_coordination": False,
    "parametrage": ["aucune"],
    "demandes_complexes": ["aucune"],
    "portee_strategique": ["aucune"],
}


def start(workspace: Workspace, answers: dict[str, Any], **identity: Any) -> Visit:
    visit, errors = workspace.start_visit({**IDENTITY, **identity})
    assert errors == {}
    assert visit is not None
    for question_id, raw in answers.items():
        workspace.save_answer(visit, question_id, raw)
    return workspace.visits.require(visit.id)


def leads(deliverables) -> list[tuple[int, Lead, Lead | None]]:
    return [(s.number, s.lead, s.support) for s in deliverables.next_steps]


# -- no opportunity -----------------------------------------------------------------------------


def test_no_opportunity_gives_only_the_activity(workspace: Workspace) -> None:
    visit = start(workspace, {"opportunite": False})
    workspace.save_note(visit.id, notes_key("presentation"), "Offre Coordination présentée à 6 médecins.")
    workspace.save_note(visit.id, notes_key("demonstration"), "Démonstration sur l'environnement de formation.")
    result = workspace.deliverables(visit)
    assert result.opportunity is None
    assert result.next_steps == ()
    assert result.outcome.offer is None
    assert result.outcome.label == "Aucune opportunité"
    assert result.next_lead is Lead.AT
    activity = result.activity
    assert activity.type == "Information"
    assert activity.service == "SPICO"
    assert activity.structure == "CPTS du Grand Toulouse"
    assert activity.description.startswith("Visite du 22/11/2026")
    assert "Présentation offres : Offre Coordination présentée à 6 médecins." in activity.description
    assert "Démonstration 1er niveau : Démonstration sur l'environnement de formation." in activity.description
    assert activity.description.index("Présentation offres") < activity.description.index("Démonstration")


def test_unanswered_questionnaire_gives_no_opportunity(workspace: Workspace) -> None:
    visit = start(workspace, {})
    result = workspace.deliverables(visit)
    assert result.opportunity is None
    assert "compte rendu à compléter" in result.activity.description


def test_stale_classification_answers_ignored_without_opportunity(workspace: Workspace) -> None:
    visit = start(workspace, {**SIMPLE, "utilisateurs_potentiels": 40})
    workspace.save_answer(visit, "opportunite", False)
    assert workspace.deliverables(visit).opportunity is None


def test_override_without_opportunity_creates_none(workspace: Workspace) -> None:
    visit = start(workspace, {"opportunite": False})
    workspace.visits.set_override(visit.id, "dossiers", "Demande du DAC")
    result = workspace.deliverables(workspace.visits.require(visit.id))
    assert result.opportunity is None
    assert result.outcome.overridden is False


# -- classified opportunities -----------------------------------------------------------------------


def test_simple_case(workspace: Workspace) -> None:
    visit = start(workspace, SIMPLE)
    result = workspace.deliverables(visit)
    opportunity = result.opportunity
    assert opportunity is not None
    assert opportunity.name == "31 CPTS"
    assert opportunity.structure == "CPTS du Grand Toulouse"
    assert opportunity.contact == "Claire Dupuis, Coordinatrice"
    assert opportunity.status == "en attente"
    assert opportunity.service == "SPICO Discussions simple"
    assert opportunity.maillage is None
    assert result.outcome.offer is Offer.DISCUSSIONS_SIMPLE
    assert result.outcome.computed is not None and result.outcome.computed.reasons == ()
    assert result.outcome.overridden is False
    assert result.next_lead is Lead.AT
    assert leads(result) == [(4, Lead.AT, Lead.CM), (5, Lead.AT, Lead.CM), (6, Lead.AT, Lead.CM),
                             (7, Lead.AT, Lead.CM)]
    assert "Création des comptes" in result.next_steps[0].actions
    assert result.activity.type == "Information"


def test_threshold_fourteen_is_simple_fifteen_is_not(workspace: Workspace) -> None:
    assert workspace.deliverables(start(workspace, {**SIMPLE, "utilisateurs_potentiels": 14})).opportunity.service == (
        "SPICO Discussions simple"
    )
    assert workspace.deliverables(start(workspace, {**SIMPLE, "utilisateurs_potentiels": 15})).opportunity.service == (
        "SPICO Discussions complexe"
    )


def test_complexe_with_twenty_participants(workspace: Workspace) -> None:
    visit = start(workspace, {**SIMPLE, "utilisateurs_potentiels": "20"})
    result = workspace.deliverables(visit)
    assert result.opportunity is not None
    assert result.opportunity.service == "SPICO Discussions complexe"
    assert result.opportunity.status == "en attente"
    assert result.outcome.offer is Offer.DISCUSSIONS_COMPLEXE
    assert result.outcome.lead is Lead.CM
    assert result.next_lead is Lead.CM
    reasons = result.outcome.computed.reasons
    assert len(reasons) == 1
    assert "20 estimés" in reasons[0]
    assert "15" in reasons[0]
    assert leads(result) == [(4, Lead.CM, Lead.AT), (5, Lead.CM, Lead.AT), (6, Lead.CM, Lead.AT),
                             (7, Lead.AT, Lead.CM)]
    qualification = result.next_steps[0]
    assert qualification.title == "Qualification et stratégie de déploiement"
    assert any("fiche de cadrage" in action for action in qualification.actions)
    assert any("Mise en œuvre du paramétrage" in action for action in result.next_steps[1].actions)


def test_complexe_reasons_listed_in_order(workspace: Workspace) -> None:
    visit = start(
        workspace,
        {
            **SIMPLE,
            "messagerie_seule": False,
            "utilisateurs_potentiels": 30,
            "parametrage": ["groupe_favoris", "formulaire_specifique"],
            "portee_strategique": ["acteurs_strategiques"],
        },
    )
    reasons = workspace.deliverables(visit).outcome.computed.reasons
    assert [r.split(" ")[0:3] for r in reasons] == [
        ["Le", "projet", "ne"],
        ["Le", "projet", "concerne"],
        ["Demande", "de", "paramétrage"],
        ["Demande", "de", "paramétrage"],
        ["Portée", "stratégique", ":"],
    ]
    assert "formulaire spécifique" in reasons[2]
    assert "groupe de favoris" in reasons[3]


def test_dossiers(workspace: Workspace) -> None:
    visit = start(workspace, {**SIMPLE, "dossiers_coordination": True})
    result = workspace.deliverables(visit)
    assert result.opportunity.service == "SPICO Dossiers"
    assert result.outcome.offer is Offer.DOSSIERS
    assert result.next_lead is Lead.CM
    assert result.outcome.computed.reasons[0].startswith(
        "Le projet nécessite le partage de dossiers de coordination (SPICO Dossiers)."
    )
    assert [s.lead for s in result.next_steps[:3]] == [Lead.CM, Lead.CM, Lead.CM]


def test_maillage_flag(workspace: Workspace) -> None:
    visit = start(workspace, SIMPLE, maillage=True)
    assert workspace.deliverables(visit).opportunity.maillage == "Maillage"
    workspace.save_identity(visit.id, "maillage", False)
    assert workspace.deliverables(workspace.visits.require(visit.id)).opportunity.maillage is None


def test_name_uses_departement_code_and_crm_typology(workspace: Workspace) -> None:
    visit = start(workspace, SIMPLE, structure="EHPAD Les Tilleuls", departement="Gers", typologie="ESSMS/EHPAD",
                  contact_name="", contact_role="")
    opportunity = workspace.deliverables(visit).opportunity
    assert opportunity.name == "32 ESMS"
    assert opportunity.contact == "(contact à compléter)"


# -- override ---------------------------------------------------------------------------------------


def test_override_changes_service_lead_and_description(workspace: Workspace) -> None:
    visit = start(workspace, SIMPLE)
    justification = "Le Conseil départemental de l'Ordre est partie prenante : portée politique."
    workspace.visits.set_override(visit.id, "discussions_complexe", justification)
    result = workspace.deliverables(workspace.visits.require(visit.id))
    assert result.outcome.overridden is True
    assert result.outcome.computed.offer is Offer.DISCUSSIONS_SIMPLE
    assert result.opportunity.service == "SPICO Discussions complexe"
    assert result.next_lead is Lead.CM
    assert result.next_steps[0].lead is Lead.CM
    assert justification in result.opportunity.description
    assert "Classification modifiée" in result.opportunity.description


def test_override_down_to_simple_gives_lead_back_to_at(workspace: Workspace) -> None:
    visit = start(workspace, {**SIMPLE, "utilisateurs_potentiels": 25})
    workspace.visits.set_override(visit.id, "discussions_simple", "Seuls 10 professionnels démarreront.")
    result = workspace.deliverables(workspace.visits.require(visit.id))
    assert result.opportunity.service == "SPICO Discussions simple"
    assert result.next_lead is Lead.AT
    assert result.next_steps[0].lead is Lead.AT
    assert "Seuls 10 professionnels démarreront." in result.opportunity.description


def test_removing_override_restores_computed(workspace: Workspace) -> None:
    visit = start(workspace, SIMPLE)
    workspace.visits.set_override(visit.id, "dossiers", "Dossiers partagés demandés")
    workspace.visits.set_override(visit.id, None, None)
    result = workspace.deliverables(workspace.visits.require(visit.id))
    assert result.opportunity.service == "SPICO Discussions simple"
    assert "Classification modifiée" not in result.opportunity.description


# -- recueil text -------------------------------------------------------------------------------------


def test_recueil_text_contains_answers_in_french(workspace: Workspace) -> None:
    visit = start(
        workspace,
        {
            **SIMPLE,
            "fonctionnalites": ["autre", "partage_documents"],
            "fonctionnalites_autre": "Agenda partagé des visites",
            "messagerie_seule": False,  # documents wanted: not messaging only
            "professionnels_hors_structure": "1 200",
        },
    )
    text = workspace.deliverables(visit).opportunity.description
    lines = text.splitlines()
    assert lines[0] == "Recueil des opportunités offre USE"
    for heading in ("Description de la situation actuelle", "Besoins et bénéfices attendus",
                    "Utilisateurs potentiels", "Temporalité", "Classification"):
        assert heading in lines
    assert "- Comment fonctionnent-ils aujourd'hui ? — Échanges par SMS et appels entre médecins et infirmières." in lines
    assert "- Quelles sont les fonctionnalités souhaitées ? — Partage de documents, Autre" in lines
    assert "- Autre fonctionnalité souhaitée : laquelle ? — Agenda partagé des visites" in lines
    assert "- Date cible souhaitée de déploiement — Dans le trimestre" in lines
    assert any(line.endswith("— 1\u202f200") for line in lines)
    assert any(line.startswith("- Une opportunité a-t-elle été détectée ?") and line.endswith("— Oui") for line in lines)
    assert any("messages instantanés" in line and line.endswith("— Non") for line in lines)
    assert any("dossiers de coordination" in line and line.endswith("— Non") for line in lines)
    assert "- Quels sont les partenaires ciblés ? — non renseigné" in lines
    # Only French labels: no ids, no Python values.
    for raw in ("True", "False", "None", "— trimestre", "partage_documents", "q:"):
        assert raw not in text


def test_recueil_text_hides_inapplicable_questions(workspace: Workspace) -> None:
    visit = start(workspace, SIMPLE)
    text = workspace.deliverables(visit).opportunity.description
    assert "Autre fonctionnalité souhaitée" not in text
    assert "Nombre estimé d'utilisateurs potentiels" in text
