"""`at-tui a-faire` and `at-tui opportunites` (issue 11 §4): the real command, by subprocess, on a
real database prepared through the Workspace API, offline."""

from __future__ import annotations

import json

import pytest
from answer_sets import SIMPLE_ANSWERS, finished_visit
from corpus import run_cli

COMPLEX_ANSWERS = {**SIMPLE_ANSWERS, "utilisateurs_potentiels": 40, "professionnels_hors_structure": 10,
                   "messagerie_seule": False}


@pytest.fixture
def journey(workspace, at_home) -> dict[str, str]:
    """A simple project deployed to 31/01/2027 (M+1 due 28/02/2027), and a complexe one finished
    afterwards that only the command opens (it calls ensure_opportunities itself)."""
    simple = finished_visit(workspace)
    workspace.ensure_opportunities()
    store, lifecycle = workspace.opportunities, workspace.lifecycle()
    store.add_entry(simple, lifecycle, "cadrage", "2026-12-10", author="marie", role="AT")
    store.add_entry(simple, lifecycle, "formation", "2027-01-10", author="marie", role="AT")
    store.add_entry(simple, lifecycle, "fin-deploiement", "2027-01-31", author="marie", role="AT")
    complexe = finished_visit(workspace, COMPLEX_ANSWERS, structure="CH de Béziers", departement="34",
                              typologie="CH", visit_date="15/11/2026")
    return {"simple": simple, "complexe": complexe}


def cli(home, *args):
    result = run_cli(home, *args)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def test_a_month_after_the_end_of_deployment_the_m1_follow_up_is_overdue(journey, at_home) -> None:
    result = cli(at_home, "a-faire", "--date", "2027-03-01")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines == [
        "En retard :",
        "  28/02/2027 | en retard de 1 jour | MSP de Lectoure | 32 Gers | [M1] SPICO Suivi des usages | menée par AT",
        "À venir :",
        "  30/04/2027 | MSP de Lectoure | 32 Gers | [M3] SPICO Suivi des usages | menée par AT",
        "  31/07/2027 | MSP de Lectoure | 32 Gers | [M6] SPICO Suivi des usages | menée par AT",
        "Sans date :",
        "  sans date | CH de Béziers | 34 Hérault | Cadrage (déploiement acté) | menée par CM",
    ]
    later = cli(at_home, "a-faire", "--date", "2027-03-10").stdout
    assert "en retard de 10 jours | MSP de Lectoure" in later


def test_a_faire_as_json_says_the_urgency_of_each_item(journey, at_home) -> None:
    result = cli(at_home, "a-faire", "--json", "--date", "2027-02-25")  # a Thursday: the 28th is this week
    assert result.returncode == 0, result.stderr
    items = json.loads(result.stdout)
    assert [(i["title"], i["due"], i["urgency"]) for i in items] == [
        ("[M1] SPICO Suivi des usages", "2027-02-28", "cette_semaine"),
        ("[M3] SPICO Suivi des usages", "2027-04-30", "a_venir"),
        ("[M6] SPICO Suivi des usages", "2027-07-31", "a_venir"),
        ("Cadrage (déploiement acté)", None, "sans_date"),
    ]
    assert items[0] == {
        "opportunity": journey["simple"], "structure": "MSP de Lectoure", "departement": "32",
        "activity": "suivi-m1", "title": "[M1] SPICO Suivi des usages", "due": "2027-02-28", "lead": "AT",
        "urgency": "cette_semaine",
    }
    assert (items[-1]["opportunity"], items[-1]["lead"]) == (journey["complexe"], "CM")
    overdue = json.loads(cli(at_home, "a-faire", "--json", "--date", "2027-08-01").stdout)
    assert [i["urgency"] for i in overdue] == ["en_retard", "en_retard", "en_retard", "sans_date"]


def test_opportunites_lists_every_opportunity_with_its_status_and_dates(journey, at_home) -> None:
    result = cli(at_home, "opportunites")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "MSP de Lectoure | 32 Gers | SPICO Discussions simple | menée par AT, CM en soutien | Projet en cours"
        " | visite 01/12/2026 | fin du déploiement 31/01/2027",
        "CH de Béziers | 34 Hérault | SPICO Discussions complexe | menée par CM, AT en soutien | En attente"
        " | visite 15/11/2026 | fin du déploiement —",
    ]
    (simple, complexe) = json.loads(cli(at_home, "opportunites", "--json").stdout)
    assert simple == {
        "id": journey["simple"], "structure": "MSP de Lectoure", "departement": "32",
        "offer": "discussions_simple", "offer_label": "SPICO Discussions simple", "lead": "AT", "support": "CM",
        "status": "projet_en_cours", "status_label": "Projet en cours", "status_reason": None,
        "visit_date": "2026-12-01", "launch_date": None, "deployment_end": "2027-01-31",
    }
    assert (complexe["id"], complexe["offer"], complexe["status"]) == (
        journey["complexe"], "discussions_complexe", "en_attente")


@pytest.mark.parametrize(("args", "expected"), [
    (("--statut", "projet-en-cours"), ["MSP de Lectoure"]),
    (("--statut", "projet_en_cours"), ["MSP de Lectoure"]),
    (("--statut", "En Attente"), ["CH de Béziers"]),
    (("--statut", "terminé"), []),
    (("--departement", "gers"), ["MSP de Lectoure"]),
    (("-d", "34"), ["CH de Béziers"]),
    (("-d", "34", "--statut", "projet en cours"), []),
])
def test_opportunites_filters_on_status_and_departement(journey, at_home, args, expected) -> None:
    result = cli(at_home, "opportunites", "--json", *args)
    assert result.returncode == 0, result.stderr
    assert [o["structure"] for o in json.loads(result.stdout)] == expected


def test_no_match_is_said_in_a_sentence(journey, at_home) -> None:
    result = cli(at_home, "opportunites", "--statut", "sans suite")
    assert (result.returncode, result.stdout) == (0, "Aucune opportunité pour ces critères.\n")


def test_nothing_due_is_said_and_is_not_an_error(at_home) -> None:
    result = cli(at_home, "a-faire", "--date", "2027-03-01")
    assert (result.returncode, result.stdout) == (0, "Rien à faire au 01/03/2027 : aucun suivi ni étape en attente.\n")
    empty = cli(at_home, "a-faire", "--json")
    assert (empty.returncode, json.loads(empty.stdout)) == (0, [])
    assert cli(at_home, "opportunites").stdout.startswith("Aucune opportunité pour l'instant")


@pytest.mark.parametrize("raw", ["01/03/2027", "2027-02-30", "demain", "2027-3-1"])
def test_a_bad_date_is_one_french_sentence_and_touches_nothing(at_home, raw) -> None:
    result = cli(at_home, "a-faire", "--date", raw)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"at-tui : Date « {raw} » invalide : attendue sous la forme AAAA-MM-JJ (ex. 2027-03-01)."]
    assert not at_home.exists() or not any(at_home.rglob("*.sqlite3"))  # refused before opening the database


@pytest.mark.parametrize(("args", "said"), [
    (("--statut", "gagnée"),
     "Statut « gagnée » inconnu (statuts possibles : « en attente », « projet en cours », « terminé », « sans suite »)."),
    (("--departement", "Bretagne"), "« Bretagne » n'est pas un département d'Occitanie (09, 11, 12, 30, 31, 32,"),
])
def test_an_unknown_filter_lists_the_valid_values(journey, at_home, args, said) -> None:
    result = cli(at_home, "opportunites", *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"at-tui : {said}"), result.stderr
