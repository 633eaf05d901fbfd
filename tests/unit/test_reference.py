"""The bundled reference data, and French errors naming file, item and field for malformed files."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from data_helpers import SEED_FILES, edit, load_error
from pydantic import BaseModel

from at_tui.domain.classification import COMPLEX_REQUESTS, PARAMETRIZATION, STRATEGIC, Offer
from at_tui.domain.facts import assess
from at_tui.domain.playbook import Source
from at_tui.reference.loader import ReferenceData, ReferenceDataError, load_reference

QUESTIONNAIRE = "questionnaires/recueil-use.toml"
PLAYBOOK = "playbooks/spico.toml"
TERRITORY = "territory.toml"
# The Recueil and the follow-up forms of issue 11 (suivi des usages, fiche de cadrage, témoignage).
BUNDLED_QUESTIONNAIRES = {"recueil-use", "suivi-usages", "fiche-cadrage", "temoignage"}

# The « Recueil des opportunités offre USE » of seed 000 (slide « la saisie dans le CRM »).
RECUEIL = {
    "situation_actuelle": "long_text",
    "besoins_sante": "long_text",
    "types_professionnels": "long_text",
    "fonctionnalites": "multiple_choice",
    "partenaires": "long_text",
    "professionnels_hors_structure": "integer",
    "utilisateurs_potentiels": "integer",
    "temporalite": "single_choice",
}

# Words that betray an untranslated (English) pydantic/tomllib message.
ENGLISH = re.compile(
    r"\b(Field required|Input should|Extra inputs|Value error|should be|is not|must be|or|expected)\b"
)


def assert_names(message: str, *, file: str, item: str | None = None, field: str | None = None) -> None:
    assert file in message, f"le fichier {file} n'est pas cité :\n{message}"
    if item is not None:
        assert f"« {item} »" in message, f"l'élément « {item} » n'est pas cité :\n{message}"
    if field is not None:
        assert re.search(rf"(?<![\w-]){re.escape(field)}(?![\w-])", message), (
            f"le champ {field} n'est pas cité :\n{message}"
        )


def assert_french(message: str) -> None:
    assert message.startswith("Fichier "), message
    found = ENGLISH.search(message)
    assert found is None, f"mot anglais « {found.group(0) if found else ''} » dans :\n{message}"


def sources(node: object, where: str = "") -> Iterator[tuple[str, Source]]:
    """Every Source reachable from a model, with a readable path."""
    if isinstance(node, Source):
        yield where, node
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from sources(getattr(node, name), f"{where}.{name}")
    elif isinstance(node, tuple | list):
        for index, child in enumerate(node):
            label = getattr(child, "id", None) or getattr(child, "label", None) or index
            yield from sources(child, f"{where}[{label}]")


def models_with_source_field(node: object) -> Iterator[BaseModel]:
    if isinstance(node, BaseModel):
        if "source" in type(node).model_fields:
            yield node
        for name in type(node).model_fields:
            yield from models_with_source_field(getattr(node, name))
    elif isinstance(node, tuple | list):
        for child in node:
            yield from models_with_source_field(child)


# -- bundled data ----------------------------------------------------------------------


def test_bundled_fixtures_load(reference: ReferenceData) -> None:
    assert ("spico", 1) in reference.playbooks
    assert ("recueil-use", 1) in reference.questionnaires
    assert reference.territory is not None
    assert reference.territory.region == "Occitanie"
    codes = {d.code for d in reference.territory.departements}
    assert codes == {"09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82"}
    assert {d.sector for d in reference.territory.departements} == {"Est", "Ouest"}
    assert "CPTS" in {t.crm_label for t in reference.territory.typologies}


def test_current_playbook_steps(reference: ReferenceData) -> None:
    playbook = reference.current_playbook("spico")
    assert playbook.version == max(v for (pid, v) in reference.playbooks if pid == "spico")
    assert [s.number for s in playbook.steps] == [1, 2, 3, 4, 5, 6, 7]
    assert all(s.kind != "follow_up" for s in playbook.steps[:3])
    assert all(s.kind == "follow_up" for s in playbook.steps[3:])
    assert [s.number for s in playbook.guided_steps] == [1, 2, 3]
    assert [s.kind for s in playbook.guided_steps] == ["checklist", "checklist", "classification"]
    assert playbook.questionnaire in {qid for qid, _ in reference.questionnaires}
    # Each follow-up step says who leads for each offer.
    for step in playbook.follow_up_steps:
        for offer in Offer:
            assert step.variant_for(offer).lead.value in ("AT", "CM")


def test_every_item_cites_a_seed_file(reference: ReferenceData) -> None:
    items = [*reference.playbooks.values(), *reference.questionnaires.values(), reference.territory]
    cited = list(sources(items))
    holders = list(models_with_source_field(items))
    assert len(cited) == len(holders) > 100
    for where, source in cited:
        assert source.file in SEED_FILES, f"{where} cite {source.file!r}"
        assert source.slide.strip(), where


def test_questionnaire_has_recueil_questions_and_facts(reference: ReferenceData) -> None:
    playbook = reference.current_playbook("spico")
    questionnaire = reference.current_questionnaire(playbook.questionnaire)
    by_id = {q.id: q for q in questionnaire.questions}
    for question_id, kind in RECUEIL.items():
        assert question_id in by_id, question_id
        assert by_id[question_id].type == kind, question_id
        assert by_id[question_id].label.strip()
    wanted = {"partage_documents", "partage_informations", "saisie_formulaire", "echanges_messages", "teleexpertise"}
    assert wanted <= {c.value for c in by_id["fonctionnalites"].choices}
    assert [c.value for c in by_id["temporalite"].choices] == ["mois", "trimestre", "semestre"]

    facts = {q.fact: q for q in questionnaire.questions if q.fact}
    assert set(facts) == {
        "messaging_only", "needs_dossiers", "participants", "parametrization", "complex_requests", "strategic"
    }
    counts = [q.id for q in questionnaire.questions if q.fact == "participants"]
    assert counts == ["professionnels_hors_structure", "utilisateurs_potentiels"]  # they add up
    assert facts["messaging_only"].type == facts["needs_dossiers"].type == "yes_no"
    for fact, values in (("parametrization", PARAMETRIZATION), ("complex_requests", COMPLEX_REQUESTS),
                         ("strategic", STRATEGIC)):
        assert {c.value for c in facts[fact].choices} == values | {"aucune"}
        assert facts[fact].none_choice.value == "aucune" and facts[fact].required
    assert questionnaire.classifies is True
    # Everything but the first question hangs off « opportunite ».
    assert questionnaire.questions[0].id == "opportunite"
    assert questionnaire.questions[0].required is True


def test_fixtures_override_by_environment(fixtures_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    edit(fixtures_copy, PLAYBOOK, 'title = "Déploiement SPICO — offre Coordination"',
         'title = "Déploiement SPICO — essai local"')
    monkeypatch.setenv("AT_TUI_FIXTURES", str(fixtures_copy))
    assert load_reference().current_playbook().title == "Déploiement SPICO — essai local"


# -- malformed files ----------------------------------------------------------------------

TEMPORALITE_HEAD = 'id = "temporalite"\nsection = "Temporalité"\nlabel = "Date cible souhaitée de déploiement"\n'


def test_toml_syntax_error_names_the_file(fixtures_copy: Path) -> None:
    edit(fixtures_copy, QUESTIONNAIRE, 'id = "temporalite"', 'id = "temporalite')
    message = load_error(fixtures_copy)
    assert_names(message, file=QUESTIONNAIRE)
    assert "syntaxe TOML invalide" in message
    assert re.search(r"\b\d+\b", message), "la ligne fautive doit être indiquée"


def test_unknown_question_type(fixtures_copy: Path) -> None:
    edit(fixtures_copy, QUESTIONNAIRE, TEMPORALITE_HEAD + 'type = "single_choice"',
         TEMPORALITE_HEAD + 'type = "date"')
    message = load_error(fixtures_copy)
    assert_names(message, file=QUESTIONNAIRE, item="temporalite", field="type")
    assert "'date'" in message
    assert "non reconnue" in message
    assert "long_text" in message  # the allowed values are listed


def test_unknown_question_type_message_is_all_french(fixtures_copy: Path) -> None:
    """The list of allowed values must not be joined with an English « or » (see report)."""
    edit(fixtures_copy, QUESTIONNAIRE, TEMPORALITE_HEAD + 'type = "single_choice"',
         TEMPORALITE_HEAD + 'type = "date"')
    assert_french(load_error(fixtures_copy))


def test_missing_label(fixtures_copy: Path) -> None:
    edit(fixtures_copy, QUESTIONNAIRE, 'label = "Date cible souhaitée de déploiement"\n', "")
    message = load_error(fixtures_copy)
    assert_names(message, file=QUESTIONNAIRE, item="temporalite", field="label")
    assert "manquant" in message
    assert_french(message)


def test_empty_label(fixtures_copy: Path) -> None:
    edit(fixtures_copy, QUESTIONNAIRE, 'label = "Date cible souhaitée de déploiement"', 'label = ""')
    message = load_error(fixtures_copy)
    assert_names(message, file=QUESTIONNAIRE, item="temporalite", field="label")
    assert_french(message)


@pytest.mark.parametrize("target", ["messagerie_seule", "question_fantome"], ids=["plus-loin", "inconnue"])
def test_show_if_must_point_to_an_earlier_question(fixtures_copy: Path, target: str) -> None:
    edit(
        fixtures_copy,
        QUESTIONNAIRE,
        TEMPORALITE_HEAD + 'type = "single_choice"\nrequired = true\n'
        'show_if = { question = "opportunite", any_of = [true] }',
        TEMPORALITE_HEAD + 'type = "single_choice"\nrequired = true\n'
        f'show_if = {{ question = "{target}", any_of = [true] }}',
    )
    message = load_error(fixtures_copy)
    assert_names(message, file=QUESTIONNAIRE, item="temporalite")
    assert f"« {target} »" in message
    assert "avant" in message
    assert_french(message)


def test_show_if_value_the_target_does_not_offer(fixtures_copy: Path) -> None:
    edit(fixtures_copy, QUESTIONNAIRE, 'show_if = { question = "fonctionnalites", any_of = ["autre"] }',
         'show_if = { question = "fonctionnalites", any_of = ["fax"] }')
    message = load_error(fixtures_copy)
    assert_names(message, file=QUESTIONNAIRE, item="fonctionnalites_autre")
    assert "fax" in message
    assert_french(message)


def test_duplicate_question_id(fixtures_copy: Path) -> None:
    edit(fixtures_copy, QUESTIONNAIRE, 'id = "partenaires"', 'id = "temporalite"')
    message = load_error(fixtures_copy)
    assert "double" in message
    assert_names(message, file=QUESTIONNAIRE, item="temporalite")
    assert_french(message)


def test_choice_question_without_choices(fixtures_copy: Path) -> None:
    edit(
        fixtures_copy,
        QUESTIONNAIRE,
        'choices = [\n  { value = "mois", label = "Dans le mois" },\n'
        '  { value = "trimestre", label = "Dans le trimestre" },\n'
        '  { value = "semestre", label = "Dans le semestre" },\n]\n',
        "",
    )
    message = load_error(fixtures_copy)
    assert_names(message, file=QUESTIONNAIRE, item="temporalite", field="choices")
    assert_french(message)


def test_fact_on_wrong_question_type(fixtures_copy: Path) -> None:
    edit(fixtures_copy, QUESTIONNAIRE, TEMPORALITE_HEAD + 'type = "single_choice"\n',
         TEMPORALITE_HEAD + 'type = "single_choice"\nfact = "strategic"\n')
    message = load_error(fixtures_copy)
    assert "« strategic »" in message
    assert "multiple_choice" in message
    assert_names(message, file=QUESTIONNAIRE, item="temporalite")
    assert_french(message)


CROSS_FIELD_CASES = {
    # case: (old, new, field the message must name)
    "show_if-plus-loin": (
        'id = "temporalite"\nsection = "Temporalité"\nlabel = "Date cible souhaitée de déploiement"\n'
        'type = "single_choice"\nrequired = true\nshow_if = { question = "opportunite"',
        'id = "temporalite"\nsection = "Temporalité"\nlabel = "Date cible souhaitée de déploiement"\n'
        'type = "single_choice"\nrequired = true\nshow_if = { question = "messagerie_seule"',
        "show_if",
    ),
    "id-en-double": ('id = "partenaires"', 'id = "temporalite"', "id"),
    "fact-mauvais-type": (
        TEMPORALITE_HEAD + 'type = "single_choice"\n',
        TEMPORALITE_HEAD + 'type = "single_choice"\nfact = "strategic"\n',
        "fact",
    ),
}


@pytest.mark.parametrize("case", sorted(CROSS_FIELD_CASES))
def test_cross_field_errors_name_the_field(fixtures_copy: Path, case: str) -> None:
    """Errors raised by the models' cross-field checks must also name the field (see report).

    Today they say « fichier : ... » or « (champ « questions ») », which points at the
    wrong place: whoever edits the TOML file has to guess which key to fix.
    """
    old, new, field = CROSS_FIELD_CASES[case]
    edit(fixtures_copy, QUESTIONNAIRE, old, new)
    message = load_error(fixtures_copy)
    assert_names(message, file=QUESTIONNAIRE, item="temporalite", field=field)


TEMOIGNAGES_VARIANT = (
    'id = "temoignages"\nnumber = 7\ntitle = "Témoignages"\nkind = "follow_up"\n\n[[steps.variants]]\n'
)
CREATION_COMPTES = '  { id = "creation-comptes", label = "Création des comptes"'

# One edit of one data file -> (file, old, new, item, field, a text the message must also hold).
NAMED_VALUE_CASES = {
    "fait-inconnu": (
        QUESTIONNAIRE,
        TEMPORALITE_HEAD + 'type = "single_choice"\n',
        TEMPORALITE_HEAD + 'type = "single_choice"\nfact = "budget"\n',
        "temporalite", "fact", "'budget'",
    ),
    "questionnaire-inconnu": (
        PLAYBOOK, 'questionnaire = "recueil-use"', 'questionnaire = "recueil-esms"',
        None, "questionnaire", "« recueil-esms »",
    ),
    "champ-inconnu": (
        QUESTIONNAIRE,
        'label = "Date cible souhaitée de déploiement"\n',
        'label = "Date cible souhaitée de déploiement"\ncouleur = "bleu"\n',
        "temporalite", "couleur", "champ inconnu",
    ),
    "action-sans-source": (
        PLAYBOOK,
        CREATION_COMPTES + ', source = { file = "000_8cd7b3c9dcb7e50e.txt", '
        'slide = "SPICO Discussions « simple » — 4. Qualification — Actions" } },\n',
        CREATION_COMPTES + " },\n",
        "creation-comptes", "source", "« qualification »",  # the step is named too
    ),
    "etapes-desordonnees": (
        PLAYBOOK, 'id = "lancement"\nnumber = 5', 'id = "lancement"\nnumber = 4', None, None, "numérotées",
    ),
    "lead-inconnu": (
        PLAYBOOK, TEMOIGNAGES_VARIANT + 'lead = "AT"', TEMOIGNAGES_VARIANT + 'lead = "MAP"',
        "temoignages", "lead", "'MAP'",
    ),
    "code-departement": (
        TERRITORY, '{ code = "46", name = "Lot"', '{ code = "4", name = "Lot"', None, "code", "'4'",
    ),
}


@pytest.mark.parametrize("case", sorted(NAMED_VALUE_CASES))
def test_bad_value_error_names_file_item_and_field(fixtures_copy: Path, case: str) -> None:
    name, old, new, item, field, expected = NAMED_VALUE_CASES[case]
    edit(fixtures_copy, name, old, new)
    message = load_error(fixtures_copy)
    assert_names(message, file=name, item=item, field=field)
    assert expected in message
    assert_french(message)


@pytest.mark.parametrize(("name", "value"), [(QUESTIONNAIRE, "-1"), (PLAYBOOK, "0"), (PLAYBOOK, '"deux"')])
def test_bad_version(fixtures_copy: Path, name: str, value: str) -> None:
    current = "\nversion = 2\n"
    edit(fixtures_copy, name, current, f"\nversion = {value}\n")
    message = load_error(fixtures_copy)
    assert_names(message, file=name, field="version")
    assert_french(message)


def test_missing_questionnaires_folder(fixtures_copy: Path) -> None:
    shutil.rmtree(fixtures_copy / "questionnaires")
    with pytest.raises(ReferenceDataError, match="« questionnaires » introuvable"):
        load_reference(fixtures_copy)


def test_invalid_utf8(fixtures_copy: Path) -> None:
    path = fixtures_copy / QUESTIONNAIRE
    path.write_bytes(path.read_bytes().replace("Temporalité".encode(), "Temporalité".encode("latin-1")))
    message = load_error(fixtures_copy)
    assert_names(message, file=QUESTIONNAIRE)
    assert "UTF-8" in message


def test_same_version_in_two_files(fixtures_copy: Path) -> None:
    shutil.copy(fixtures_copy / QUESTIONNAIRE, fixtures_copy / "questionnaires" / "recueil-use-copie.toml")
    message = load_error(fixtures_copy)
    assert "questionnaires/recueil-use-copie.toml" in message
    assert QUESTIONNAIRE in message
    assert "« recueil-use »" in message


# -- extending the data without code changes ----------------------------------------------------

ESMS_QUESTIONNAIRE = """\
# Diagnostic de coopération ESMS Numérique (seed 004).
id = "esms-numerique"
version = 1
title = "Diagnostic coopération ESMS Numérique"
source = { file = "004_f7222b5fc0dbfdde.txt", slide = "Engager un processus de coopération dans le cadre d'un projet ESMS Numérique" }

[[questions]]
id = "dui_reference"
section = "Éligibilité"
label = "La structure est-elle équipée d'un DUI référencé Ségur ?"
type = "yes_no"
required = true
source = { file = "004_f7222b5fc0dbfdde.txt", slide = "Critères d'éligibilité" }

[[questions]]
id = "nombre_essms"
section = "Éligibilité"
label = "Combien d'ESSMS composent le groupement ?"
help = "Un groupement compte au moins 15 ESSMS."
type = "integer"
required = true
show_if = { question = "dui_reference", any_of = [true] }
source = { file = "004_f7222b5fc0dbfdde.txt", slide = "Critères d'éligibilité" }

[[questions]]
id = "depenses"
section = "Dépenses éligibles"
label = "Quelles dépenses sont envisagées ?"
type = "multiple_choice"
choices = [
  { value = "licence", label = "Licence d'utilisation" },
  { value = "formation", label = "Formation des professionnels" },
  { value = "materiel", label = "Matériel" },
]
source = { file = "004_f7222b5fc0dbfdde.txt", slide = "Dépenses éligibles" }

[[questions]]
id = "enjeux"
section = "Diagnostic"
label = "Quels sont les enjeux communs et spécifiques de la grappe ?"
type = "long_text"
source = { file = "004_f7222b5fc0dbfdde.txt", slide = "Engager un processus de coopération" }
"""


def test_second_questionnaire_loads_without_code_change(fixtures_copy: Path) -> None:
    (fixtures_copy / "questionnaires" / "esms-numerique.toml").write_text(ESMS_QUESTIONNAIRE, encoding="utf-8")
    data = load_reference(fixtures_copy)
    assert {qid for qid, _ in data.questionnaires} == {*BUNDLED_QUESTIONNAIRES, "esms-numerique"}
    esms = data.current_questionnaire("esms-numerique")
    assert [q.id for q in esms.questions] == ["dui_reference", "nombre_essms", "depenses", "enjeux"]
    assert esms.question("nombre_essms").show_if is not None
    assert esms.classifies is False
    assert assess(esms, {"dui_reference": True, "nombre_essms": 15}).facts is None
    # The SPICO playbook still uses its own questionnaire, which still classifies.
    assert data.current_questionnaire(data.current_playbook().questionnaire).classifies is True
    for _, source in sources(esms):
        assert source.file in SEED_FILES


def test_newer_questionnaire_version_becomes_current(fixtures_copy: Path) -> None:
    text = (fixtures_copy / QUESTIONNAIRE).read_text(encoding="utf-8")
    newer = text.replace("\nversion = 2\n", "\nversion = 3\n").replace(
        'title = "Recueil des opportunités offre USE"', 'title = "Recueil des opportunités offre USE (2027)"'
    )
    (fixtures_copy / "questionnaires" / "recueil-use-v3.toml").write_text(newer, encoding="utf-8")
    data = load_reference(fixtures_copy)
    assert {v for (qid, v) in data.questionnaires if qid == "recueil-use"} == {1, 2, 3}
    assert data.current_questionnaire("recueil-use").title.endswith("(2027)")
    assert data.questionnaires[("recueil-use", 2)].title == "Recueil des opportunités offre USE"


def test_non_toml_files_are_ignored(fixtures_copy: Path) -> None:
    (fixtures_copy / "questionnaires" / "LISEZMOI.md").write_text("Notes de l'équipe", encoding="utf-8")
    (fixtures_copy / "questionnaires" / "brouillon.toml.bak").write_text("pas du TOML [", encoding="utf-8")
    data = load_reference(fixtures_copy)
    assert {qid for qid, _ in data.questionnaires} == BUNDLED_QUESTIONNAIRES
