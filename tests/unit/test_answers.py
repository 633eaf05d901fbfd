"""Parsing what the AT types into answers, and which questions apply (show_if)."""

from __future__ import annotations

import re

import pytest
from answer_sets import SIMPLE_ANSWERS

from at_tui.domain.answers import (
    INTEGER_MAX,
    format_answer,
    missing_required,
    parse_answer,
    parse_count,
    visible_questions,
)
from at_tui.domain.facts import assess
from at_tui.domain.playbook import Question, Questionnaire
from at_tui.domain.text import LONG_TEXT_MAX, SHORT_TEXT_MAX, FieldError
from at_tui.reference.loader import load_reference

SOURCE = {"file": "000_8cd7b3c9dcb7e50e.txt", "slide": "3. Classification — la saisie dans le CRM"}


def question(kind: str, **extra) -> Question:
    return Question.model_validate(
        {"id": f"q_{kind}", "section": "Essai", "label": "Question d'essai", "type": kind, "source": SOURCE, **extra}
    )


@pytest.fixture(scope="module")
def recueil() -> Questionnaire:
    data = load_reference()
    return data.current_questionnaire(data.current_playbook("spico").questionnaire)


def french_error(excinfo: pytest.ExceptionInfo[FieldError]) -> str:
    message = str(excinfo.value)
    assert message and message[0].isupper(), message
    assert not re.search(r"\b(invalid|must|should|literal|Exceeds|integer string)\b", message, re.I), message
    return message


# -- integer ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12", 12),
        (" 12 ", 12),
        ("0", 0),
        ("1 200", 1200),
        ("1\u202f200", 1200),  # French thousands separator
        (15, 15),
        (str(INTEGER_MAX), INTEGER_MAX),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_integer_accepted(raw, expected) -> None:
    assert parse_answer(question("integer"), raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("12a", "nombre entier"),
        ("douze", "nombre entier"),
        ("1,5", "nombre entier"),
        ("1.5", "nombre entier"),
        (1.5, "nombre entier"),
        ("0x1F", "nombre entier"),
        ("1e3", "nombre entier"),
        ("+12", "nombre entier"),
        ("１２", "nombre entier"),  # full-width digits
        ("²", "nombre entier"),
        (True, "nombre entier"),
        ("-3", "négatif"),
        (" -3 ", "négatif"),
        (-3, "négatif"),
        (str(INTEGER_MAX + 1), "trop grand"),
        ("99999999999999999999", "trop grand"),
        (10**30, "trop grand"),
    ],
)
def test_integer_refused_in_french(raw, fragment: str) -> None:
    with pytest.raises(FieldError) as caught:
        parse_answer(question("integer"), raw)
    assert fragment in french_error(caught)


def test_integer_with_thousands_of_digits_is_a_field_error() -> None:
    """Python refuses int() of more than 4,300 digits with an English ValueError (see report)."""
    with pytest.raises(FieldError) as caught:
        parse_count("9" * 5000)
    assert "trop grand" in french_error(caught)


# -- text -------------------------------------------------------------------------------------


def test_text_is_stripped_and_empty_means_no_answer() -> None:
    assert parse_answer(question("text"), "  Dr Martin, médecin coordinateur  ") == "Dr Martin, médecin coordinateur"
    assert parse_answer(question("text"), "   ") is None
    assert parse_answer(question("text"), "") is None
    assert parse_answer(question("text"), None) is None


@pytest.mark.parametrize("kind", ["text", "long_text"])
def test_emoji_are_kept_as_is(kind: str) -> None:
    text = "Équipe motivée 👍🏽 — la coordinatrice 👩‍⚕️ veut démarrer 🇫🇷 ✅"
    assert parse_answer(question(kind), text) == text


@pytest.mark.parametrize("kind", ["text", "long_text"])
@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x07", "\x7f", "\u202e", "\u200b"])
def test_control_characters_refused(kind: str, char: str) -> None:
    with pytest.raises(FieldError) as caught:
        parse_answer(question(kind), f"Réunion{char}[31m de lancement")
    message = french_error(caught)
    assert f"U+{ord(char):04X}" in message
    assert "contrôle" in message


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_newline_refused_in_short_text(newline: str) -> None:
    with pytest.raises(FieldError) as caught:
        parse_answer(question("text"), f"Télé-expertise{newline}dermatologie")
    assert "ligne" in french_error(caught)


def test_long_text_keeps_lines_and_tabs() -> None:
    raw = "Fonctionnement actuel :\r\n\t- SMS entre IDE\r\n\t- appels au médecin traitant\r"
    assert parse_answer(question("long_text"), raw) == (
        "Fonctionnement actuel :\n\t- SMS entre IDE\n\t- appels au médecin traitant"
    )


@pytest.mark.parametrize(("kind", "limit"), [("text", SHORT_TEXT_MAX), ("long_text", LONG_TEXT_MAX)])
def test_text_length_limits(kind: str, limit: int) -> None:
    assert parse_answer(question(kind), "é" * limit) == "é" * limit
    with pytest.raises(FieldError) as caught:
        parse_answer(question(kind), "é" * (limit + 1))
    assert "trop long" in french_error(caught)


@pytest.mark.parametrize("kind", ["text", "long_text"])
def test_hundred_thousand_characters_refused(kind: str) -> None:
    with pytest.raises(FieldError) as caught:
        parse_answer(question(kind), "Compte rendu très détaillé. " * 3572)  # ~100,000 characters
    message = french_error(caught)
    assert "Texte trop long" in message
    assert "caractères" in message


def test_question_max_length_overrides_default() -> None:
    short = question("long_text", max_length=50)
    assert parse_answer(short, "a" * 50) == "a" * 50
    with pytest.raises(FieldError):
        parse_answer(short, "a" * 51)


# -- yes / no ----------------------------------------------------------------------------------


def test_yes_no() -> None:
    q = question("yes_no")
    assert parse_answer(q, True) is True
    assert parse_answer(q, False) is False
    assert parse_answer(q, None) is None
    assert parse_answer(q, "") is None
    for raw in ("oui", "Non", 1, 0, "true"):
        with pytest.raises(FieldError) as caught:
            parse_answer(q, raw)
        assert "Oui ou Non" in french_error(caught)


# -- choices -------------------------------------------------------------------------------------


def test_single_choice(recueil: Questionnaire) -> None:
    q = recueil.question("temporalite")
    assert parse_answer(q, "trimestre") == "trimestre"
    assert parse_answer(q, "") is None
    assert parse_answer(q, None) is None
    for raw in ("Dans le trimestre", "annee", "TRIMESTRE"):
        with pytest.raises(FieldError) as caught:
            parse_answer(q, raw)
        assert "liste" in french_error(caught)


def test_multiple_choice_keeps_questionnaire_order(recueil: Questionnaire) -> None:
    q = recueil.question("fonctionnalites")
    first = parse_answer(q, ["autre", "teleexpertise", "partage_documents"])
    second = parse_answer(q, ("partage_documents", "autre", "teleexpertise", "autre"))
    assert first == second == ["partage_documents", "teleexpertise", "autre"]
    assert parse_answer(q, {"echanges_messages"}) == ["echanges_messages"]
    assert parse_answer(q, []) is None
    assert parse_answer(q, None) is None


def test_multiple_choice_unknown_values_named(recueil: Questionnaire) -> None:
    q = recueil.question("fonctionnalites")
    with pytest.raises(FieldError) as caught:
        parse_answer(q, ["partage_documents", "visio", "fax"])
    message = french_error(caught)
    assert message.startswith("Choix inconnu")
    assert "fax" in message and "visio" in message
    assert "partage_documents" not in message


def test_format_answer_in_french(recueil: Questionnaire) -> None:
    assert format_answer(recueil.question("opportunite"), True) == "Oui"
    assert format_answer(recueil.question("opportunite"), False) == "Non"
    assert format_answer(recueil.question("temporalite"), "mois") == "Dans le mois"
    assert format_answer(recueil.question("fonctionnalites"), ["partage_documents", "teleexpertise"]) == (
        "Partage de documents, Télé-expertise"
    )
    assert format_answer(recueil.question("utilisateurs_potentiels"), 1200) == "1\u202f200"
    assert format_answer(recueil.question("partenaires"), None) == "non renseigné"


# -- show_if ------------------------------------------------------------------------------------------


def ids(questions) -> list[str]:
    return [q.id for q in questions]


def test_nothing_answered_shows_only_the_opportunity_question(recueil: Questionnaire) -> None:
    assert ids(visible_questions(recueil, {})) == ["opportunite"]
    assert ids(missing_required(recueil, {})) == ["opportunite"]


def test_no_opportunity_hides_classification_questions(recueil: Questionnaire) -> None:
    answers = {"opportunite": False}
    assert ids(visible_questions(recueil, answers)) == ["opportunite"]
    assert missing_required(recueil, answers) == []


def test_stale_answers_do_not_show_hidden_questions(recueil: Questionnaire) -> None:
    # The AT first said yes, filled things in, then changed her mind.
    answers = {
        "opportunite": False,
        "fonctionnalites": ["autre"],
        "messagerie_seule": True,
        "utilisateurs_potentiels": 8,
    }
    assert ids(visible_questions(recueil, answers)) == ["opportunite"]
    assert missing_required(recueil, answers) == []
    assert assess(recueil, answers).facts is None


def test_opportunity_shows_recueil_and_classification(recueil: Questionnaire) -> None:
    visible = ids(visible_questions(recueil, {"opportunite": True}))
    assert "fonctionnalites_autre" not in visible
    for question_id in ("situation_actuelle", "temporalite", "messagerie_seule", "dossiers_coordination",
                        "parametrage", "demandes_complexes", "portee_strategique", "utilisateurs_potentiels"):
        assert question_id in visible
    assert visible == [q.id for q in recueil.questions if q.id != "fonctionnalites_autre"]
    missing = ids(missing_required(recueil, {"opportunite": True}))
    assert missing == [q.id for q in recueil.questions if q.required and q.id not in
                       ("opportunite", "fonctionnalites_autre")]
    assert "partenaires" not in missing  # optional


def test_autre_shows_its_precision(recueil: Questionnaire) -> None:
    base = {"opportunite": True}
    assert "fonctionnalites_autre" not in ids(visible_questions(recueil, {**base, "fonctionnalites": ["teleexpertise"]}))
    answers = {**base, "fonctionnalites": ["partage_documents", "autre"]}
    visible = ids(visible_questions(recueil, answers))
    assert visible.index("fonctionnalites_autre") == visible.index("fonctionnalites") + 1
    assert "fonctionnalites_autre" in ids(missing_required(recueil, answers))
    answered = {**answers, "fonctionnalites_autre": "Agenda partagé"}
    assert "fonctionnalites_autre" not in ids(missing_required(recueil, answered))


def test_complete_answers_leave_nothing_missing(recueil: Questionnaire) -> None:
    answers = {k: v for k, v in SIMPLE_ANSWERS.items() if k != "professionnels_hors_structure"}
    assert missing_required(recueil, answers) == []
    for question_id in list(answers):
        if recueil.question(question_id).required:
            partial = {k: v for k, v in answers.items() if k != question_id}
            assert question_id in ids(missing_required(recueil, partial))
    facts = assess(recueil, answers).facts
    assert facts is not None
    assert (facts.messaging_only, facts.participants, facts.needs_dossiers) == (True, 8, False)


def test_empty_required_answer_counts_as_missing(recueil: Questionnaire) -> None:
    value = parse_answer(recueil.question("situation_actuelle"), "   ")
    assert value is None
    answers = {"opportunite": True, "situation_actuelle": value}
    assert "situation_actuelle" in ids(missing_required(recueil, answers))
