"""The three notions of a structure's typology (what it is, its argumentaire sheet, its CRM naming
typology), the opportunity name « [numéro du département][typologie d'acteurs] » (seed 000,
« 3. Classification — Livrable(s) ») and the texts pasted in the CRM (Recueil, activity)."""

from __future__ import annotations

from typing import Any

import pytest
from answer_sets import SIMPLE_ANSWERS
from pydantic import ValidationError

from at_tui.domain.deliverables import crm_question_label, opportunity_name, recueil_text
from at_tui.domain.playbook import Territory
from at_tui.domain.territory import find_typology, naming_doubt, typology_choices
from at_tui.domain.visit import Visit
from at_tui.importers.finess_reference import proposed_typology
from at_tui.reference.loader import ReferenceData
from at_tui.workspace import Workspace

# Every typology a new visit may take -> the opportunity name of a structure of the Gers.
NAMES = {
    "CH": "32 CH",
    "EHPAD": "32 ESMS",
    "ESSMS (autre)": "32 ESMS",
    "CPTS": "32 CPTS",
    "MSP": "32 libéraux",
    "Centre de santé": "32 libéraux",
    "Professionnels libéraux": "32 libéraux",
    "DAC": "32 DAC",
    "CRT": "32 CRT",
    "PCO": "32 PCO",
    "Communauté 360": "32 Communauté 360",
    "Projet Art. 51": "32 Art. 51",
    "MRO": "32 MRO",
    "RPO": "32 RPO",
    "Diabète Occitanie": "32 Diabète Occitanie",
    "Oncomip pédiatrique": "32 Oncomip pédiatrique",
    "Autre": "32 Autre",
}
# Labels of the earlier list, still read: (name, is the name a guess?).
LEGACY = {"CPTS/MSP": ("32 CPTS", True), "ESSMS/EHPAD": ("32 ESMS", False)}

CLASSIFIED = SIMPLE_ANSWERS


@pytest.fixture
def territory(reference: ReferenceData) -> Territory:
    assert reference.territory is not None
    return reference.territory


def start(workspace: Workspace, answers: dict[str, Any], **identity: Any) -> Visit:
    visit, errors = workspace.start_visit({
        "structure": "MSP de Lectoure", "departement": "32", "typologie": "MSP", "contact_name": "Anne Roque",
        "contact_role": "Coordinatrice", "visit_date": "22/11/2026", **identity,
    })
    assert errors == {} and visit is not None
    for question_id, raw in answers.items():
        workspace.save_answer(visit, question_id, raw)
    return workspace.visits.require(visit.id)


# -- naming -----------------------------------------------------------------------------------------


def test_the_table_covers_every_offered_typology(territory: Territory) -> None:
    assert [t.label for t in territory.offered_typologies] == list(NAMES)
    assert {t.label for t in territory.typologies if t.legacy} == set(LEGACY)


@pytest.mark.parametrize(("label", "name"), NAMES.items())
def test_opportunity_name_of_every_typology(territory: Territory, label: str, name: str) -> None:
    assert opportunity_name(territory, "32", label) == name
    assert naming_doubt(territory, find_typology(territory, label)) is None


@pytest.mark.parametrize(("label", "expected"), LEGACY.items())
def test_legacy_labels_still_get_a_name(territory: Territory, label: str, expected: tuple[str, bool]) -> None:
    name, guessed = expected
    assert opportunity_name(territory, "Gers", label) == name
    doubt = naming_doubt(territory, find_typology(territory, label))
    assert (doubt is not None) is guessed
    if guessed:
        assert "CPTS, MSP ou Centre de santé" in doubt
        assert "précisez la typologie dans l'identité de la visite (F2)" in doubt


def test_an_msp_is_not_named_cpts(workspace: Workspace) -> None:
    result = workspace.deliverables(start(workspace, CLASSIFIED))
    assert result.opportunity is not None
    assert result.opportunity.name == "32 libéraux"
    assert result.warnings == ()


def test_a_legacy_cpts_msp_visit_opens_with_a_warning(workspace: Workspace) -> None:
    visit = start(workspace, CLASSIFIED, typologie="CPTS/MSP", structure="CPTS du Gers")
    assert visit.typologie == "CPTS/MSP"
    result = workspace.deliverables(visit)
    assert result.opportunity is not None and result.opportunity.name == "32 CPTS"
    [warning] = result.warnings
    assert "ancienne liste" in warning and "F2" in warning
    # Choosing the typology in the identity fixes the name and ends the warning.
    workspace.save_identity(visit.id, "typologie", "MSP")
    fixed = workspace.deliverables(workspace.visits.require(visit.id))
    assert fixed.opportunity.name == "32 libéraux" and fixed.warnings == ()


def test_a_legacy_essms_visit_is_named_esms_without_warning(workspace: Workspace) -> None:
    result = workspace.deliverables(start(workspace, CLASSIFIED, typologie="ESSMS/EHPAD"))
    assert result.opportunity.name == "32 ESMS"
    assert result.warnings == ()


def test_no_opportunity_no_naming_warning(workspace: Workspace) -> None:
    result = workspace.deliverables(start(workspace, {"opportunite": False}, typologie="CPTS/MSP"))
    assert result.opportunity is None and result.warnings == ()


# -- the picker and the FINESS proposal ---------------------------------------------------------------


def test_the_picker_offers_the_new_list_only(territory: Territory) -> None:
    assert typology_choices(territory) == [(label, label) for label in NAMES]
    assert typology_choices(territory, "MSP") == typology_choices(territory)
    # Editing an old visit shows its label, marked, until the AT picks another.
    assert typology_choices(territory, "CPTS/MSP")[-1] == ("CPTS/MSP (ancienne liste)", "CPTS/MSP")
    assert len(typology_choices(territory, "CPTS/MSP")) == len(NAMES) + 1


@pytest.mark.parametrize(
    ("stored", "code", "expected"),
    [
        ("MSP", "603", "MSP"),
        ("CPTS/MSP", "603", "MSP"),  # an extract imported before the new list: mapped again
        ("CPTS/MSP", "604", "CPTS"),
        ("ESSMS/EHPAD", "500", "EHPAD"),
        ("ESSMS/EHPAD", "354", "ESSMS (autre)"),
        ("CPTS/MSP", "999", None),  # ambiguous and unmapped: the AT chooses
        ("CH", None, "CH"),
        (None, None, None),
    ],
)
def test_finess_proposal_uses_the_new_typologies(territory: Territory, stored, code, expected) -> None:
    assert proposed_typology(territory, stored, code) == expected


# -- the argumentaire sheet -----------------------------------------------------------------------------


def test_legacy_labels_open_the_sheet_of_their_successors(reference: ReferenceData, territory: Territory) -> None:
    sheets = reference.argumentaire
    for typology in territory.typologies:
        if typology.legacy:
            sheet = sheets.for_typology(typology.label)
            assert sheet is not None, typology.label
            assert {sheets.for_typology(label) for label in typology.replaced_by} == {sheet}, typology.label
    assert sheets.for_typology("MSP").id == sheets.for_typology("Professionnels libéraux").id == "cpts-msp"
    assert sheets.for_typology("EHPAD").id == "essms"


# -- the territory's checks -----------------------------------------------------------------------------


def territory_data(*typologies: dict) -> dict:
    return {
        "region": "Occitanie",
        "departements": [{"code": "32", "name": "Gers", "sector": "Ouest"}],
        "typologies": [{"label": "CPTS", "crm_label": "CPTS"}, {"label": "MSP", "crm_label": "libéraux"},
                       {"label": "EHPAD", "crm_label": "ESMS"}, *typologies],
        "source": {"file": "000.txt", "slide": "x"},
    }


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ({"label": "CPTS/MSP", "crm_label": "CPTS", "legacy": True}, "nomme les typologies qui la remplacent"),
        ({"label": "Ville", "crm_label": "CPTS", "replaced_by": ["CPTS"]}, "réservé à une typologie « legacy = true »"),
        ({"label": "Vieux", "crm_label": "CPTS", "legacy": True, "replaced_by": ["Pharmacie"]},
         "Pharmacie n'est pas une typologie proposée"),
        ({"label": "Ehpad", "crm_label": "ESMS"}, "en double"),
        ({"label": "ESSMS/EHPAD", "crm_label": "EHPAD", "legacy": True, "replaced_by": ["EHPAD"]},
         "nommées « ESMS » dans le CRM"),
    ],
)
def test_an_incoherent_typology_list_is_refused(extra: dict, fragment: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Territory.model_validate(territory_data(extra))
    assert fragment in str(caught.value)


def test_a_legacy_label_may_guess_among_differently_named_successors() -> None:
    territory = Territory.model_validate(territory_data(
        {"label": "CPTS/MSP", "crm_label": "CPTS", "legacy": True, "replaced_by": ["CPTS", "MSP"]}))
    assert [t.label for t in territory.offered_typologies] == ["CPTS", "MSP", "EHPAD"]


def test_every_label_legacy_is_refused() -> None:
    data = territory_data()
    data["typologies"] = [{"label": "Vieux", "crm_label": "X", "legacy": True, "replaced_by": ["Vieux"]}]
    with pytest.raises(ValidationError):
        Territory.model_validate(data)


# -- the texts pasted in the CRM ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "shown"),
    [
        ("Y a-t-il une demande de paramétrage ? (cocher ce qui s'applique)", "Y a-t-il une demande de paramétrage ?"),
        ("Fonctionnalités (plusieurs réponses possibles)", "Fonctionnalités"),
        ("Quels besoins de santé sont couverts ? (parcours identifiés, cas d'usage…)",
         "Quels besoins de santé sont couverts ? (parcours identifiés, cas d'usage…)"),
    ],
)
def test_form_instructions_are_not_copied(label: str, shown: str) -> None:
    assert crm_question_label(label) == shown


def test_recueil_of_a_maillage_visit_says_maillage_and_aucune(workspace: Workspace) -> None:
    visit = start(workspace, CLASSIFIED, maillage=True)
    result = workspace.deliverables(visit)
    text = result.opportunity.description
    lines = text.splitlines()
    assert lines[0] == "Maillage"  # seed 001: préciser « Maillage » dans la description de l'opportunité
    assert lines[2] == "Recueil des opportunités offre USE"
    assert "- Y a-t-il une demande de paramétrage ? — Aucune" in lines
    assert "- Y a-t-il une demande complexe ? — Aucune" in lines
    assert "- Le projet a-t-il une portée stratégique ? — Aucune" in lines
    assert "- Quels sont les partenaires ciblés ? — non renseigné" in lines  # optional, asked, unknown
    assert "(cocher" not in text and "Cochez" not in text
    assert result.activity.description.startswith("Visite du 22/11/2026 (Maillage) — ")


def test_no_maillage_no_mention(workspace: Workspace) -> None:
    result = workspace.deliverables(start(workspace, CLASSIFIED))
    assert "Maillage" not in result.opportunity.description
    assert "Maillage" not in result.activity.description
    assert result.opportunity.description.startswith("Recueil des opportunités offre USE\n")


def test_a_version_1_visit_copies_no_form_instruction(reference: ReferenceData) -> None:
    """Visits started with questionnaire v1 keep its labels, « (cocher ce qui s'applique) » included."""
    questionnaire = reference.questionnaires[("recueil-use", 1)]
    assert any("(cocher" in q.label for q in questionnaire.questions)
    answers = {f"q:{key}": value for key, value in CLASSIFIED.items()
               if key not in ("parametrage", "demandes_complexes", "portee_strategique")}
    answers["q:parametrage"] = ["groupe_favoris"]
    text = recueil_text(questionnaire, answers, "Maillage")
    assert "(cocher" not in text
    assert "- Y a-t-il une demande de paramétrage ? — Groupe de favoris" in text.splitlines()
