"""The central checks every pushed visit with the laptop's own rules (issue 9 §7): each invalid
field is refused with a French reason naming it, and nothing is stored — the visit keeps its
revision and content, the cursor does not move, and the ledger holds only the refusal.

Through the real API (in process, on a SQLite file and on a PostgreSQL database). Users: alice (AT), carole (CM).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from central_db import query
from central_server import content_op, free_port, visit_content

from at_tui.central.storage import STREAM_VISITS

IDENTITY = visit_content()["identity"]


def new_id() -> str:
    return str(uuid.uuid4())


def central(api, visit_id: str, user: str = "carole") -> dict:
    response = api.get(user, f"/v1/visits/{visit_id}")
    assert response.status_code == 200, response.text
    return response.json()


def identity(**changes) -> dict:
    return {"identity": {**IDENTITY, **changes}}


def answers(**pairs) -> dict:
    return {"answers": {key.replace("__", ":").replace("_dash_", "-"): value for key, value in pairs.items()}}


# (the content's changes, a fragment of the reason)
INVALID = [
    pytest.param(identity(structure="MSP \x1b]52;c;aGVsbG8=\x07"), "identity.structure", id="structure-escape"),
    pytest.param(identity(structure="MSP\u202edes Coteaux"), "identity.structure", id="structure-bidi"),
    pytest.param(identity(structure="  "), "indiquez le nom de la structure", id="structure-empty"),
    pytest.param(identity(structure="x" * 201), "identity.structure » : texte trop long", id="structure-long"),
    pytest.param(identity(contact_name="Claire\nMartin"), "identity.contact_name » : une seule ligne", id="contact-newline"),
    pytest.param(identity(contact_role="r" * 201), "identity.contact_role", id="contact-role-long"),
    pytest.param(identity(commune="c" * 101), "identity.commune", id="commune-long"),
    pytest.param(identity(departement="75"), "identity.departement", id="departement-unknown"),
    pytest.param(identity(departement="Haute-Garonne"), "doit être écrit « 31 »", id="departement-by-name"),
    pytest.param(identity(typologie="Boulangerie"), "identity.typologie", id="typologie-unknown"),
    pytest.param(identity(typologie=""), "identity.typologie", id="typologie-empty"),
    pytest.param(identity(visit_date="1999-12-31"), "identity.visit_date » : année 1999", id="visit-date-1999"),
    pytest.param(identity(visit_date="22/11/2026"), "doit être écrit « 2026-11-22 »", id="visit-date-french"),
    pytest.param(identity(visit_date="demain"), "identity.visit_date", id="visit-date-garbage"),
    pytest.param(identity(finess="12345"), "identity.finess", id="finess-short"),
    pytest.param({"created_at": "9999-12-31T23:59:59+00:00"}, "champ « created_at »", id="created-9999"),
    pytest.param({"updated_at": "0001-01-01T00:00:00+14:00"}, "champ « updated_at »", id="updated-year-1-plus-14"),
    pytest.param(
        {"status": "terminee", "finished_at": "2101-01-01T00:00:00+00:00"}, "champ « finished_at »", id="finished-2101"
    ),
    pytest.param({"playbook": {"id": "spico", "version": 99}}, "processus « spico » version 99 est inconnu", id="playbook"),
    pytest.param({"questionnaire": {"id": "recueil-use", "version": 7}}, "questionnaire « recueil-use » version 7",
                 id="questionnaire-version"),
    pytest.param({"questionnaire": {"id": "autre", "version": 1}}, "n'est pas le questionnaire du processus",
                 id="questionnaire-other"),
    pytest.param(answers(q__inconnue="x"), "réponse « q:inconnue » : question inconnue", id="question-unknown"),
    pytest.param(answers(q__opportunite="oui"), "réponse « q:opportunite » : true ou false", id="yes-no-text"),
    pytest.param(answers(q__utilisateurs_potentiels=-3), "ne peut pas être négatif", id="integer-negative"),
    pytest.param(answers(q__utilisateurs_potentiels=5_000_000), "trop grand", id="integer-too-big"),
    pytest.param(answers(q__temporalite="decennie"), "réponse « q:temporalite »", id="choice-unknown"),
    pytest.param(answers(q__fonctionnalites=["partage_documents", "teleportation"]), "teleportation",
                 id="multiple-choice-unknown"),
    pytest.param(answers(q__fonctionnalites_autre="a\tb"), "réponse « q:fonctionnalites_autre »", id="text-tab"),
    pytest.param(answers(q__besoins_sante="Deux lignes\nune cloche\x07"), "réponse « q:besoins_sante »", id="long-text-bell"),
    pytest.param(answers(notes__inconnue="x"), "étape « inconnue » inconnue", id="notes-unknown-step"),
    pytest.param(answers(notes__presentation="a\x00b"), "réponse « notes:presentation »", id="notes-nul"),
    pytest.param(answers(check__presentation__nope=True), "action « nope » inconnue", id="check-unknown"),
    pytest.param(answers(check__presentation__offre_dash_coordination="oui"), "true ou false", id="check-text"),
    pytest.param(answers(ack__ch__nope=True), "garde-fou « nope » inconnu", id="ack-unknown-guardrail"),
    pytest.param(answers(ack__nulle_part__x=True), "fiche argumentaire « nulle_part » inconnue", id="ack-unknown-sheet"),
    pytest.param({"override": {"offer": "dossiers", "justification": "Parce que\x1b[2J"}}, "override.justification",
                 id="override-escape"),
    pytest.param({"override": {"offer": "dossiers", "justification": "   "}}, "doit être justifiée", id="override-blank"),
]


def state(api) -> tuple:
    """What a refusal must leave as it was: the visits and the operations applied."""
    return (
        query(api.db, "SELECT id, rev, owner, content, followup, seq FROM visits ORDER BY id"),
        query(api.db, "SELECT op_id FROM operations WHERE status = 'applied' ORDER BY op_id"),
        api.storage.last_seq(STREAM_VISITS),
    )


@pytest.mark.parametrize(("changes", "fragment"), INVALID)
def test_an_invalid_new_visit_is_refused_and_nothing_stored(api, changes, fragment) -> None:
    before = state(api)
    visit_id = new_id()
    [result] = api.push("alice", content_op(visit_id, 0, visit_content(visit_id, **changes)))
    assert result["status"] == "rejected", result
    assert result["code"] == "invalid"
    assert fragment in result["reason"], result["reason"]
    assert "\x1b" not in result["reason"] and "\x07" not in result["reason"] and "\x00" not in result["reason"]
    assert api.get("alice", f"/v1/visits/{visit_id}").status_code == 404
    assert state(api) == before
    # Only the refusal is recorded (a re-send gets the same answer).
    assert query(api.db, "SELECT status FROM operations") == [("rejected",)]


@pytest.mark.parametrize(("changes", "fragment"), INVALID)
def test_an_invalid_update_leaves_the_visit_as_it_was(api, changes, fragment) -> None:
    visit_id = new_id()
    assert api.push("alice", content_op(visit_id, 0))[0]["status"] == "applied"
    stored = central(api, visit_id)
    before = state(api)
    [result] = api.push("alice", content_op(visit_id, 1, visit_content(visit_id, **changes)))
    assert result["status"] == "rejected" and fragment in result["reason"], result
    assert central(api, visit_id) == stored
    assert state(api) == before


def test_a_visit_the_laptop_makes_is_accepted_whole(api) -> None:
    """Every kind of answer, a finished visit, an override: the rules refuse nothing a laptop makes."""
    visit_id = new_id()
    content = visit_content(
        visit_id,
        status="terminee",
        finished_at="2026-11-22T11:00:00+01:00",
        override={"offer": "dossiers", "justification": "Projet régional\navec la CPTS."},
        answers={
            "q:opportunite": True,
            "q:situation_actuelle": "Messagerie sécurisée\net téléphone. 🙂",
            "q:fonctionnalites": ["partage_documents", "echanges_messages"],
            "q:temporalite": "trimestre",
            "q:utilisateurs_potentiels": 12,
            "q:professionnels_hors_structure": None,
            "check:presentation:offre-coordination": True,
            "check:demonstration:public-cible": False,
            "notes:presentation": "Accueil chaleureux.",
            "ack:ch:equipe-ressource-expertise": True,
        },
    )
    content["identity"] = {**IDENTITY, "departement": "09", "finess": "310780259"}
    [result] = api.push("alice", content_op(visit_id, 0, content))
    assert result == {"op_id": result["op_id"], "status": "applied", "rev": 1}, result
    assert central(api, visit_id)["content"]["answers"] == content["answers"]


def test_several_problems_are_listed_together(api) -> None:
    visit_id = new_id()
    content = visit_content(visit_id, **identity(departement="75", typologie="?"), **answers(q__inconnue=1))
    [result] = api.push("alice", content_op(visit_id, 0, content))
    reason = result["reason"]
    assert "identity.departement" in reason and "identity.typologie" in reason and "q:inconnue" in reason


def test_a_playbook_published_on_the_central_is_known(api) -> None:
    """A version published with `at-tui central publish` is accepted once published, not before."""
    from at_tui.central.publish import load_source, publish
    from at_tui.domain.reference_items import PLAYBOOKS, playbook_key

    visit_id = new_id()
    content = visit_content(visit_id, playbook={"id": "spico", "version": 9})
    [before] = api.push("alice", content_op(visit_id, 0, content))
    assert before["status"] == "rejected" and "version 9 est inconnu" in before["reason"]

    source = load_source()
    spico = source.items[PLAYBOOKS][playbook_key("spico", 2)]
    source.items[PLAYBOOKS][playbook_key("spico", 9)] = {**spico, "version": 9}
    publish(api.storage, source)
    [after] = api.push("alice", content_op(visit_id, 0, content))
    assert after["status"] == "applied", after


def test_a_reason_never_quotes_a_token(api) -> None:
    token = api.tokens["bruno"]
    visit_id = new_id()
    [result] = api.push("alice", content_op(visit_id, 0, visit_content(visit_id, answers={f"q:{token}": "x"})))
    assert result["status"] == "rejected"
    assert token not in json.dumps(result) and token[4:] not in json.dumps(result)
    assert token not in json.dumps(query(api.db, "SELECT result FROM operations"))


def test_serve_refuses_to_start_without_reference_data(tmp_path: Path) -> None:
    """The rules need the territory and questionnaires: a broken install stops `serve` in French
    (SQLite only: the reference data are at stake here, not the database)."""
    import os
    import subprocess
    import sys

    empty = tmp_path / "donnees"
    empty.mkdir()
    env = {**os.environ, "AT_TUI_FIXTURES": str(empty), "PYTHONIOENCODING": "utf-8"}
    env.pop("AT_TUI_HOME", None)
    result = subprocess.run(
        [sys.executable, "-m", "at_tui", "central", "serve", "--db", str(tmp_path / "c.sqlite3"), "--port", str(free_port())],
        env=env, capture_output=True, text=True, encoding="utf-8", timeout=60, check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "ne peut pas vérifier les visites reçues" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_withdrawn_argumentaire_sheet_is_no_longer_known(api) -> None:
    """The laptops drop a sheet the central withdrew: a guardrail of it is refused like on a laptop."""
    from at_tui.central.publish import load_source, publish
    from at_tui.domain.reference_items import ARGUMENTAIRE

    def push_ack() -> dict:
        visit_id = new_id()
        payload = visit_content(visit_id, answers={"ack:ch:equipe-ressource-expertise": True})
        return api.push("alice", content_op(visit_id, 0, payload))[0]

    assert push_ack()["status"] == "applied"
    publish(api.storage, load_source())
    assert push_ack()["status"] == "applied"
    source = load_source()
    del source.items[ARGUMENTAIRE]["sheet:ch"]
    assert publish(api.storage, source)[ARGUMENTAIRE].withdrawn == 1
    refused = push_ack()
    assert refused["status"] == "rejected" and "fiche argumentaire « ch » inconnue" in refused["reason"], refused
