"""From the Recueil's answers to the classification (seed 000, « Spécificité SPICO Discussions »
and « Voici ce qui définit un projet SPICO Discussions « complexe » »): table-driven, with the
bundled questionnaire, the way the AT answers it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from at_tui.domain.answers import missing_required, parse_answer
from at_tui.domain.classification import Lead, Offer
from at_tui.domain.deliverables import outcome
from at_tui.domain.facts import assess, missing_answers
from at_tui.domain.playbook import Questionnaire
from at_tui.domain.text import FieldError
from at_tui.domain.visit import Visit
from at_tui.reference.loader import load_reference

REFERENCE = load_reference()
RECUEIL = REFERENCE.current_questionnaire("recueil-use")
LEGACY = REFERENCE.questionnaires[("recueil-use", 1)]
RULES = REFERENCE.current_playbook("spico").classification

# A consistent simple project: messaging only, 10 people, every criterion answered « Aucune ».
SIMPLE = {
    "opportunite": True,
    "fonctionnalites": ["echanges_messages"],
    "utilisateurs_potentiels": 10,
    "messagerie_seule": True,
    "dossiers_coordination": False,
    "parametrage": ["aucune"],
    "demandes_complexes": ["aucune"],
    "portee_strategique": ["aucune"],
}
FEATURES = {
    "partage_documents": "Partage de documents",
    "partage_informations": "Partage d'informations",
    "saisie_formulaire": "Saisie de formulaire",
    "teleexpertise": "Télé-expertise",
    "autre": "Autre",
}


def run(questionnaire: Questionnaire = RECUEIL, **changes):
    return assess(questionnaire, {**SIMPLE, **changes}, RULES)


def test_the_bundled_questionnaire_is_the_version_that_listens_to_the_recueil() -> None:
    assert RECUEIL.version == 2
    assert RULES.participants_limit == 15
    assert "(cocher" not in " ".join(q.label for q in RECUEIL.questions)


def test_messaging_only_ten_people_nothing_else_is_simple_led_by_the_at() -> None:
    result = run()
    assert result.contradictions == () and result.missing == ()
    assert result.classification.offer is Offer.DISCUSSIONS_SIMPLE
    assert result.classification.lead is Lead.AT
    assert result.classification.reasons == ()


@pytest.mark.parametrize("feature", sorted(FEATURES))
def test_every_feature_other_than_messaging_contradicts_messaging_only(feature: str) -> None:
    result = run(fonctionnalites=["echanges_messages", feature])
    assert result.classification is None and result.blocked
    sentences = [c.sentence for c in result.contradictions]
    assert any(
        "uniquement sur des échanges de messages instantanés ?\u00a0» : Oui" in s and FEATURES[feature] in s
        and "pas seulement de la messagerie" in s
        for s in sentences
    ), sentences
    assert {"messagerie_seule", "fonctionnalites"} <= set(result.problem_question_ids)


@pytest.mark.parametrize("feature", sorted(set(FEATURES) - {"teleexpertise"}))
def test_a_feature_other_than_messaging_makes_the_project_complexe_with_its_answer_named(feature: str) -> None:
    result = run(fonctionnalites=[feature], messagerie_seule=False)
    assert result.contradictions == ()
    assert result.classification.offer is Offer.DISCUSSIONS_COMPLEXE
    assert result.classification.lead is Lead.CM
    reason = result.classification.reasons[0]
    assert reason.startswith("Le projet ne se limite pas à des échanges de messages instantanés.")
    assert "instantanés ?\u00a0» : Non" in reason and FEATURES[feature] in reason


def test_teleexpertise_with_messaging_only_yes_and_ten_people_is_never_simple() -> None:
    """The case of the issue: it used to come out simple, led by the AT, with no warning."""
    result = run(fonctionnalites=["teleexpertise"], demandes_complexes=None)
    assert result.classification is None
    assert [c.implied.question_id for c in result.contradictions] == ["fonctionnalites"]
    assert result.missing == ()  # the Recueil already says there is a request for « avis »


def test_teleexpertise_said_once_in_the_recueil_is_enough() -> None:
    """The AT is not made to answer twice what the features already say."""
    answers = {**SIMPLE, "fonctionnalites": ["teleexpertise"], "messagerie_seule": None, "demandes_complexes": None}
    criteria = {"messagerie_seule", "demandes_complexes"}
    assert criteria.isdisjoint(q.id for q in missing_answers(RECUEIL, answers))
    assert criteria <= {q.id for q in missing_required(RECUEIL, answers)}
    result = assess(RECUEIL, answers, RULES)
    assert result.classification.offer is Offer.DISCUSSIONS_COMPLEXE and result.classification.lead is Lead.CM
    first, second = result.classification.reasons
    assert first.startswith("Le projet ne se limite pas") and first.endswith("souhaitées ?\u00a0» : Télé-expertise")
    assert second.startswith("Demande complexe : demande d'avis") and second.endswith("» : Télé-expertise")
    # Without télé-expertise, both questions must be answered.
    plain = {**answers, "fonctionnalites": ["echanges_messages"]}
    assert criteria <= {q.id for q in missing_answers(RECUEIL, plain)}


def test_teleexpertise_fixed_in_place_is_complexe_led_by_the_cm_naming_the_answer() -> None:
    result = run(fonctionnalites=["teleexpertise"], messagerie_seule=False, demandes_complexes=["avis_teleexpertise"])
    assert result.classification.offer is Offer.DISCUSSIONS_COMPLEXE
    assert result.classification.lead is Lead.CM
    complex_reason = [r for r in result.classification.reasons if r.startswith("Demande complexe")]
    assert complex_reason and "Télé-expertise" in complex_reason[0]
    assert "demande complexe ?\u00a0» : Demande d'avis ou de télé-expertise" in complex_reason[0]


@pytest.mark.parametrize("stated", [["aucune"], ["groupe_favoris_public_regional"]])
def test_teleexpertise_wanted_but_no_such_request_stated_is_a_contradiction(stated: list[str]) -> None:
    result = run(fonctionnalites=["teleexpertise"], messagerie_seule=False, demandes_complexes=stated)
    assert result.classification is None
    (contradiction,) = result.contradictions
    assert contradiction.question_ids == ("demandes_complexes", "fonctionnalites")
    assert "Demande d'avis ou de télé-expertise" in contradiction.sentence


def test_form_entry_asks_whether_it_is_a_specific_form() -> None:
    unanswered = run(fonctionnalites=["saisie_formulaire"], messagerie_seule=False, parametrage=None)
    assert [m.question_id for m in unanswered.missing] == ["parametrage"]
    (check,) = unanswered.checks
    assert not check.settled and "formulaire spécifique" in check.text
    answered = run(fonctionnalites=["saisie_formulaire"], messagerie_seule=False, parametrage=["formulaire_specifique"])
    assert answered.checks[0].settled
    assert any(r.startswith("Demande de paramétrage : formulaire spécifique") for r in answered.classification.reasons)


@pytest.mark.parametrize("question", ["parametrage", "demandes_complexes", "portee_strategique"])
def test_an_unanswered_criterion_is_not_none(question: str) -> None:
    result = run(**{question: None})
    assert result.classification is None
    (missing,) = result.missing
    assert missing.question_id == question and "Aucune" in missing.why


def test_none_cannot_be_ticked_with_another_choice() -> None:
    with pytest.raises(FieldError, match="Aucune"):
        parse_answer(RECUEIL.question("parametrage"), ["aucune", "equipe_ressource"])
    assert parse_answer(RECUEIL.question("parametrage"), ["aucune"]) == ["aucune"]


@pytest.mark.parametrize(
    ("inside", "outside", "offer"),
    [
        (14, None, Offer.DISCUSSIONS_SIMPLE),
        (15, None, Offer.DISCUSSIONS_COMPLEXE),
        (16, None, Offer.DISCUSSIONS_COMPLEXE),
        (8, 6, Offer.DISCUSSIONS_SIMPLE),
        (10, 5, Offer.DISCUSSIONS_COMPLEXE),
        (10, 6, Offer.DISCUSSIONS_COMPLEXE),
        (0, 14, Offer.DISCUSSIONS_SIMPLE),
        (0, 15, Offer.DISCUSSIONS_COMPLEXE),
    ],
)
def test_people_inside_and_outside_the_structure_add_up(inside: int, outside: int | None, offer: Offer) -> None:
    result = run(utilisateurs_potentiels=inside, professionnels_hors_structure=outside)
    total = inside + (outside or 0)
    assert result.facts.participants == total
    assert result.classification.offer is offer
    assert result.participants.startswith(f"{total} personnes")
    if outside is None:
        assert "non renseigné, compté 0 : professionnels hors de la structure" in result.participants
    else:
        assert (f"= {outside} professionnels hors de la structure + {inside} utilisateurs potentiels dans la structure"
                == result.participants.removeprefix(f"{total} personnes "))
    reasons = [r for r in result.classification.reasons if r.startswith("Le projet concerne")]
    assert bool(reasons) is (total >= 15)
    if reasons:
        assert f"({total} estimés)" in reasons[0]
        assert ("À exactement 15" in reasons[0]) is (total == 15)
        assert "choix à confirmer par l'agence" in reasons[0] or total != 15


def test_the_threshold_is_the_playbooks() -> None:
    rules = RULES.model_copy(update={"participants_limit": 20})
    assert assess(RECUEIL, {**SIMPLE, "utilisateurs_potentiels": 18}, rules).classification.offer is Offer.DISCUSSIONS_SIMPLE
    assert assess(RECUEIL, {**SIMPLE, "utilisateurs_potentiels": 18}, RULES).classification.offer is Offer.DISCUSSIONS_COMPLEXE


def test_every_criterion_that_made_it_not_simple_is_listed_with_its_answer() -> None:
    result = run(
        fonctionnalites=["partage_documents", "teleexpertise"], messagerie_seule=False, dossiers_coordination=True,
        utilisateurs_potentiels=20, parametrage=["equipe_ressource"], demandes_complexes=["avis_teleexpertise"],
        portee_strategique=["projet_structurant", "acteurs_strategiques"],
    )
    reasons = result.classification.reasons
    assert result.classification.offer is Offer.DOSSIERS
    assert [r.split(" — d'après ")[0].split(" :")[0] for r in reasons] == [
        "Le projet nécessite le partage de dossiers de coordination (SPICO Dossiers).",
        "Le projet ne se limite pas à des échanges de messages instantanés.",
        "Le projet concerne 15 professionnels ou plus (20 estimés)",
        "Demande de paramétrage",
        "Demande complexe",
        "Portée stratégique",
        "Portée stratégique",
    ]
    assert all(" — d'après «\u00a0" in r or " — d'après 20" in r or "d'après" in r for r in reasons)
    assert "Partage de documents" in reasons[1] and "Télé-expertise" in reasons[1]


def test_no_opportunity_classifies_nothing() -> None:
    result = assess(RECUEIL, {"opportunite": False, "messagerie_seule": True}, RULES)
    assert not result.applies and not result.blocked and result.classification is None


def test_the_older_questionnaire_reads_an_unanswered_criterion_as_none() -> None:
    """Version 1 offered no « Aucune »: its visits keep the reading they were made with."""
    answers = {k: v for k, v in SIMPLE.items() if k not in ("parametrage", "demandes_complexes", "portee_strategique")}
    assert assess(LEGACY, answers, RULES).classification.offer is Offer.DISCUSSIONS_SIMPLE


def _visit(**fields) -> Visit:
    base = dict(
        id="v", structure="S", departement="31", typologie="CH", contact_name="", contact_role="",
        visit_date="2026-12-01", maillage=False, playbook_id="spico", playbook_version=1,
        questionnaire_id="recueil-use", questionnaire_version=2, current_step="classification",
        status="en_cours", created_at="", updated_at="",
    )
    return Visit(**{**base, **fields})


def test_an_override_needs_a_classification_and_is_kept_with_it() -> None:
    answers = {f"q:{k}": v for k, v in SIMPLE.items()}
    forced = outcome(_visit(override_offer="dossiers", override_justification="Demande ARS"), RECUEIL, answers, RULES)
    assert forced.offer is Offer.DOSSIERS and forced.lead is Lead.CM and forced.overridden
    assert forced.computed.offer is Offer.DISCUSSIONS_SIMPLE
    contradicting = {**answers, "q:fonctionnalites": ["teleexpertise"]}
    blocked = outcome(_visit(override_offer="dossiers", override_justification="x"), RECUEIL, contradicting, RULES)
    assert blocked.blocked and blocked.offer is None and blocked.label == "Classification à régler"


def _variant(**choice_changes) -> Questionnaire:
    data = RECUEIL.model_dump(mode="json")
    for question in data["questions"]:
        for choice in question["choices"]:
            if choice["value"] in choice_changes:
                choice.update(choice_changes[choice["value"]])
    return Questionnaire.model_validate(data)


def test_the_mapping_is_data_a_new_questionnaire_version_changes_it_without_code() -> None:
    variant = _variant(partage_documents={"feeds": [{"fact": "needs_dossiers", "value": True},
                                                    {"fact": "messaging_only", "value": False}]})
    result = assess(variant, {**SIMPLE, "fonctionnalites": ["partage_documents"], "messagerie_seule": False,
                              "dossiers_coordination": None}, RULES)
    assert result.classification.offer is Offer.DOSSIERS
    assert "Partage de documents" in result.classification.reasons[0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"teleexpertise": {"feeds": [{"fact": "complex_requests", "value": "inconnue"}]}}, "inconnue"),
        ({"teleexpertise": {"feeds": [{"fact": "messaging_only", "value": "non"}]}}, "true ou false"),
        ({"teleexpertise": {"feeds": [{"fact": "participants", "value": True}]}}, "fact"),
        ({"autre": {"exclusive": True}}, "exclusive"),
        ({"teleexpertise": {"asks": {"fact": "strategic", "value": "avis_teleexpertise", "text": "?"}}}, "inconnue"),
    ],
)
def test_a_bad_mapping_is_refused_at_load_with_a_french_reason(change: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _variant(**change)


def test_a_feed_to_a_criterion_no_question_asks_is_refused() -> None:
    data = RECUEIL.model_dump(mode="json")
    data["questions"] = [q for q in data["questions"] if q["id"] != "demandes_complexes"]
    with pytest.raises(ValidationError, match="n'est demandé par aucune question"):
        Questionnaire.model_validate(data)


def test_the_crm_text_says_what_the_recueil_answered_for_a_blank_criterion() -> None:
    from at_tui.domain.deliverables import recueil_text

    answers = {**SIMPLE, "fonctionnalites": ["teleexpertise"], "messagerie_seule": None, "demandes_complexes": None}
    derived = assess(RECUEIL, answers, RULES).derived
    text = recueil_text(RECUEIL, {f"q:{k}": v for k, v in answers.items()}, None, derived)
    assert "instantanés ? — Non (d'après «\u00a0Quelles sont les fonctionnalités souhaitées ?\u00a0» : Télé-expertise)" in text
    assert "demande complexe ? — Demande d'avis ou de télé-expertise (d'après" in text
    assert "non renseigné" not in text.split("Classification")[-1]
