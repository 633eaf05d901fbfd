"""The follow-up forms of issue 11 (fixtures/questionnaires/): the usage follow-up at M+1, M+3
and M+6, the CM's fiche de cadrage and the testimonial, each a questionnaire in data that cites
its seed slide, loads beside the Recueil and never classifies."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from data_helpers import SEED_FILES, copy_fixtures, edit, load_error, needs_seeds, seed_text

from at_tui.domain.playbook import Question, Questionnaire
from at_tui.reference.loader import ReferenceData

SEED_000 = "000_8cd7b3c9dcb7e50e.txt"

# Each form -> the questions the issue names, with their type (seed 000, slides 4 to 7).
FORMS: dict[str, dict[str, str]] = {
    # « 6. Suivi des usages et remontée des indicateurs ».
    "suivi-usages": {
        "indicateurs": "long_text",
        "comptes_actifs": "integer",
        "professionnels_utilisateurs": "integer",
        "echanges": "integer",
        "besoins_formation": "yes_no",
        "besoins_formation_detail": "long_text",
        "comptes_a_mettre_a_jour": "yes_no",
        "comptes_detail": "long_text",
        "partenaires_maillage": "long_text",
        "candidat_temoignage": "yes_no",
        "candidat_temoignage_qui": "text",
        "retex": "long_text",
        "usages_en_run": "yes_no",
    },
    # Complexe & Dossiers, « 4. Qualification » : « Trame Fiche de cadrage de projet SPICO ».
    "fiche-cadrage": {
        "delai_prise_en_charge": "text",
        "nature_demande": "single_choice",
        "besoins_detailles": "long_text",
        "parametrage": "multiple_choice",
        "personne_morale": "long_text",
        "comptes_estimes": "integer",
        "plan_deploiement": "long_text",
    },
    # « 7. Témoignages ».
    "temoignage": {
        "acteur_nom": "text",
        "acteur_structure": "text",
        "acteur_role": "text",
        "format": "single_choice",
        "lien_communication": "long_text",
        "statut": "single_choice",
        "notes": "long_text",
    },
}

# A "yes" that asks for details: the detail question shows only then, and must be answered.
DETAILS = {
    "suivi-usages": {
        "besoins_formation_detail": "besoins_formation",
        "comptes_detail": "comptes_a_mettre_a_jour",
        "candidat_temoignage_qui": "candidat_temoignage",
    },
}

# Words that betray English user-facing text (French words such as « Structure » or « Notes »
# are shared with English, so only English-only words are listed).
ENGLISH = re.compile(
    r"\b(the|of|and|with|how|many|number|users?|accounts?|yes|no|training|needs|partners|status|written|"
    r"video|declined|published|done|please|enter|which|who|what)\b",
    re.IGNORECASE,
)


def fold(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(ch for ch in folded if not unicodedata.combining(ch)).split())


def form(reference: ReferenceData, form_id: str) -> Questionnaire:
    return reference.current_questionnaire(form_id)


def texts(question: Question) -> list[str]:
    return [question.label, *(question.help or "",), *(c.label for c in question.choices)]


@pytest.mark.parametrize("form_id", FORMS)
def test_form_loads_with_the_named_questions(reference: ReferenceData, form_id: str) -> None:
    questionnaire = form(reference, form_id)
    assert (questionnaire.id, questionnaire.version) == (form_id, 1)
    types = {q.id: q.type for q in questionnaire.questions}
    for question_id, kind in FORMS[form_id].items():
        assert types.get(question_id) == kind, f"{form_id} : {question_id} attendu de type {kind}"


@pytest.mark.parametrize("form_id", FORMS)
def test_form_never_classifies(reference: ReferenceData, form_id: str) -> None:
    questionnaire = form(reference, form_id)
    assert questionnaire.classifies is False
    for question in questionnaire.questions:
        assert question.fact is None, question.id
        assert all(not c.feeds and c.asks is None for c in question.choices), question.id


@pytest.mark.parametrize("form_id", FORMS)
def test_every_question_cites_a_seed_slide(reference: ReferenceData, form_id: str) -> None:
    questionnaire = form(reference, form_id)
    assert questionnaire.source.file in SEED_FILES
    for question in questionnaire.questions:
        assert question.source.file in SEED_FILES, question.id
        assert question.source.slide.strip(), question.id


@pytest.mark.parametrize("form_id", FORMS)
def test_labels_are_short_french_and_not_empty(reference: ReferenceData, form_id: str) -> None:
    questionnaire = form(reference, form_id)
    assert questionnaire.title.strip()
    for question in questionnaire.questions:
        assert question.section.strip(), question.id
        assert question.label.strip(), question.id
        assert len(question.label) <= 80, f"{question.id} : libellé de {len(question.label)} caractères"
        for text in [question.section, *texts(question)]:
            found = ENGLISH.search(text)
            assert found is None, f"{question.id} : mot anglais « {found.group(0) if found else ''} » dans {text!r}"
            assert text == text.strip() and text.isprintable(), f"{question.id} : {text!r}"


@pytest.mark.parametrize(("form_id", "detail", "trigger"), [
    (form_id, detail, trigger) for form_id, pairs in DETAILS.items() for detail, trigger in pairs.items()
])
def test_details_show_only_after_a_yes(reference: ReferenceData, form_id: str, detail: str, trigger: str) -> None:
    question = form(reference, form_id).question(detail)
    assert question.show_if is not None
    assert (question.show_if.question, question.show_if.any_of) == (trigger, (True,))
    assert question.required


def test_usages_en_run_is_asked_at_every_follow_up(reference: ReferenceData) -> None:
    """Seed 000, « 6. Suivi des usages » : at M6 with usages in run, the status becomes « Terminé »."""
    questionnaire = form(reference, "suivi-usages")
    question = questionnaire.question("usages_en_run")
    assert question.required and question.show_if is None
    assert "Terminé" in (question.help or "")
    assert "M6" in (questionnaire.question("retex").help or "")
    # One form for M1, M3 and M6: no question depends on which follow-up it is.
    assert all(q.show_if is None or q.show_if.question in {"besoins_formation", "comptes_a_mettre_a_jour",
                                                           "candidat_temoignage"} for q in questionnaire.questions)
    assert "un partenaire par ligne" in fold(questionnaire.question("partenaires_maillage").help or "")


def test_fiche_de_cadrage_asks_the_personne_morale_when_ticked(reference: ReferenceData) -> None:
    questionnaire = form(reference, "fiche-cadrage")
    parametrage = questionnaire.question("parametrage")
    assert {c.value for c in parametrage.choices} >= {"personne_morale", "formulaire_specifique", "equipe_ressource"}
    assert parametrage.none_choice is not None
    condition = questionnaire.question("personne_morale").show_if
    assert condition is not None and condition.any_of == ("personne_morale",)
    assert questionnaire.question("comptes_estimes").required
    assert questionnaire.question("plan_deploiement").required


def test_temoignage_format_and_status(reference: ReferenceData) -> None:
    questionnaire = form(reference, "temoignage")
    assert [c.label for c in questionnaire.question("format").choices] == ["Écrit", "Vidéo"]
    assert [c.label for c in questionnaire.question("statut").choices] == [
        "À solliciter", "Accepté", "Réalisé", "Publié", "Décliné",
    ]


def test_the_recueil_stays_the_playbook_questionnaire(reference: ReferenceData) -> None:
    recueil = reference.current_questionnaire("recueil-use")
    assert recueil.title == "Recueil des opportunités offre USE"
    assert recueil.classifies is True
    assert reference.current_playbook().questionnaire == "recueil-use"


@needs_seeds
def test_forms_rest_on_the_seed_text() -> None:
    """What the forms ask is written in seed 000 (slides 4 to 7), not invented."""
    seed = fold(seed_text(SEED_000))
    for phrase in [
        "M+1, M+3 et M+6", "turn-over, nouveautes outils", "mise a jour des comptes utilisateurs",
        "maillage territorial", "retex", "les usages sont en run", "fiche de cadrage",
        "demande de parametrage sur spico", "personne morale", "plan de deploiement",
        "estimation du nombre de comptes", "delai de la prise en charge", "temoignage ecrit/video",
        "lien equipe spico + communication",
    ]:
        assert fold(phrase) in seed, phrase


def test_a_broken_follow_up_form_is_named_in_french(tmp_path: Path) -> None:
    root = copy_fixtures(tmp_path)
    edit(root, "questionnaires/temoignage.toml", 'type = "single_choice"\nrequired = true\nsource = { file = '
         '"000_8cd7b3c9dcb7e50e.txt", slide = "7. Témoignages — Livrable(s)" }',
         'type = "choix"\nrequired = true\nsource = { file = "000_8cd7b3c9dcb7e50e.txt", '
         'slide = "7. Témoignages — Livrable(s)" }')
    message = load_error(root)
    assert message.startswith("Fichier questionnaires/temoignage.toml"), message
    assert "« statut »" in message and "type" in message, message
