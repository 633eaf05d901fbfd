"""VisitStore through the Workspace: identity, answers committed at once, history, reopening."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
import uuid
from pathlib import Path

import pytest
from helpers import IDENTITY

from at_tui.domain.text import FieldError
from at_tui.domain.visit import Visit, question_key
from at_tui.reference.loader import ReferenceData
from at_tui.store.db import StoreError
from at_tui.store.migrations import HISTORY_MERGE_SECONDS as HISTORY_COALESCE_SECONDS
from at_tui.store.visits import VisitStore
from at_tui.workspace import Workspace


class FakeClock:
    """A controllable UTC clock returning ISO strings like `utc_now`."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        # After the visit's real creation time, as a real clock would be.
        self.now = start or dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(minutes=1)

    def __call__(self) -> str:
        return self.now.isoformat(timespec="microseconds")

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def visit(workspace: Workspace) -> Visit:
    created, errors = workspace.start_visit(dict(IDENTITY))
    assert errors == {}
    assert created is not None
    return created


@pytest.fixture
def clocked(workspace: Workspace) -> tuple[VisitStore, FakeClock]:
    clock = FakeClock()
    return VisitStore(workspace.conn, clock=clock), clock


def second_connection(path: Path) -> sqlite3.Connection:
    """An independent reader, as another process would see the file."""
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def stored_answer(path: Path, visit_id: str, key: str):
    conn = second_connection(path)
    try:
        row = conn.execute(
            "SELECT value FROM answers WHERE visit_id = ? AND key = ?", (visit_id, key)
        ).fetchone()
    finally:
        conn.close()
    return None if row is None else json.loads(row[0])


def history_rows(path: Path, visit_id: str) -> list[tuple]:
    conn = second_connection(path)
    try:
        return conn.execute(
            "SELECT field, old_value, new_value, at FROM history WHERE visit_id = ? ORDER BY id",
            (visit_id,),
        ).fetchall()
    finally:
        conn.close()


# -- creation -------------------------------------------------------------------------


def test_start_visit_stores_parsed_identity_and_uuid4(workspace: Workspace, visit: Visit) -> None:
    parsed = uuid.UUID(visit.id)
    assert parsed.version == 4
    assert str(parsed) == visit.id
    assert visit.structure == "CPTS du Grand Toulouse"
    assert visit.departement == "31"
    assert visit.typologie == "CPTS/MSP"  # the typology's label is what a visit stores
    assert visit.contact_name == "Claire Dupuis"
    assert visit.contact_role == "Coordinatrice"
    assert visit.visit_date == "2026-11-22"
    assert visit.maillage is False
    assert visit.status == "en_cours"
    assert visit.finished is False
    playbook = workspace.reference.current_playbook("spico")
    assert (visit.playbook_id, visit.playbook_version) == (playbook.id, playbook.version)
    assert visit.questionnaire_id == playbook.questionnaire
    assert visit.current_step == playbook.guided_steps[0].id == "presentation"
    assert [visit] == workspace.visits.list()
    assert [(h.field, h.old_value, h.new_value) for h in workspace.visits.history(visit.id)] == [
        ("visite", None, "créée")
    ]


def test_start_visit_by_departement_name_and_other_typology(workspace: Workspace) -> None:
    created, errors = workspace.start_visit(
        {**IDENTITY, "structure": "EHPAD Les Tilleuls", "departement": "Gers", "typologie": "essms/ehpad",
         "maillage": True}
    )
    assert errors == {}
    assert created is not None
    assert created.departement == "32"
    assert created.typologie == "ESSMS/EHPAD"
    assert created.maillage is True


def test_start_visit_with_invalid_identity_saves_nothing(workspace: Workspace, db_path: Path) -> None:
    created, errors = workspace.start_visit(
        {**IDENTITY, "structure": "  ", "departement": "75", "visit_date": "31/02/2026"}
    )
    assert created is None
    assert set(errors) == {"structure", "departement", "visit_date"}
    assert "structure" in errors["structure"]
    assert "département" in errors["departement"]
    assert "Date" in errors["visit_date"]
    conn = second_connection(db_path)
    try:
        assert conn.execute("SELECT count(*) FROM visits").fetchone()[0] == 0
    finally:
        conn.close()


def test_uuids_differ_between_visits(workspace: Workspace) -> None:
    ids = {workspace.start_visit(dict(IDENTITY))[0].id for _ in range(5)}
    assert len(ids) == 5


def test_create_requires_mandatory_identity(workspace: Workspace) -> None:
    playbook = workspace.reference.current_playbook()
    questionnaire = workspace.reference.current_questionnaire(playbook.questionnaire)
    with pytest.raises(StoreError, match="obligatoires manquants.*structure"):
        workspace.visits.create(
            {**IDENTITY, "structure": "", "visit_date": "2026-11-22"},
            playbook=(playbook.id, playbook.version, playbook.model_dump(mode="json")),
            questionnaire=(questionnaire.id, questionnaire.version, questionnaire.model_dump(mode="json")),
            first_step="presentation",
        )


# -- answers ----------------------------------------------------------------------------


def test_set_answer_is_committed_before_returning(workspace: Workspace, visit: Visit, db_path: Path) -> None:
    key = question_key("situation_actuelle")
    text = "Échanges par SMS et téléphone entre médecins et infirmières 😅"
    assert workspace.visits.set_answer(visit.id, key, text) is True
    # Read by an independent connection right after the call: already on disk.
    assert stored_answer(db_path, visit.id, key) == text
    assert workspace.conn.in_transaction is False

    assert workspace.visits.set_answer(visit.id, question_key("utilisateurs_potentiels"), 12) is True
    assert stored_answer(db_path, visit.id, question_key("utilisateurs_potentiels")) == 12
    assert workspace.visits.set_answer(
        visit.id, question_key("fonctionnalites"), ["partage_documents", "autre"]
    ) is True
    assert stored_answer(db_path, visit.id, question_key("fonctionnalites")) == ["partage_documents", "autre"]
    assert workspace.visits.set_answer(visit.id, question_key("opportunite"), False) is True
    assert stored_answer(db_path, visit.id, question_key("opportunite")) is False


def test_save_answer_through_workspace_validates_then_commits(
    workspace: Workspace, visit: Visit, db_path: Path
) -> None:
    assert workspace.save_answer(visit, "utilisateurs_potentiels", " 1 200 ") == 1200
    assert stored_answer(db_path, visit.id, "q:utilisateurs_potentiels") == 1200
    with pytest.raises(FieldError):
        workspace.save_answer(visit, "utilisateurs_potentiels", "12a")
    assert stored_answer(db_path, visit.id, "q:utilisateurs_potentiels") == 1200


def test_same_value_returns_false_and_writes_no_history(workspace: Workspace, visit: Visit) -> None:
    key = question_key("temporalite")
    assert workspace.visits.set_answer(visit.id, key, "trimestre") is True
    history = workspace.visits.history(visit.id)
    updated = workspace.visits.require(visit.id).updated_at
    assert workspace.visits.set_answer(visit.id, key, "trimestre") is False
    assert workspace.visits.history(visit.id) == history
    assert workspace.visits.require(visit.id).updated_at == updated


def test_none_deletes_the_answer(workspace: Workspace, visit: Visit, db_path: Path) -> None:
    key = question_key("partenaires")
    workspace.visits.set_answer(visit.id, key, "Centre hospitalier de Rangueil")
    assert workspace.visits.set_answer(visit.id, key, None) is True
    assert key not in workspace.visits.answers(visit.id)
    conn = second_connection(db_path)
    try:
        assert conn.execute(
            "SELECT count(*) FROM answers WHERE visit_id = ? AND key = ?", (visit.id, key)
        ).fetchone()[0] == 0
    finally:
        conn.close()
    # Deleting what is not there changes nothing.
    assert workspace.visits.set_answer(visit.id, key, None) is False


def test_history_records_field_old_new_and_time(
    clocked: tuple[VisitStore, FakeClock], visit: Visit, db_path: Path
) -> None:
    store, clock = clocked
    key = question_key("utilisateurs_potentiels")
    store.set_answer(visit.id, key, 12)
    at_first = clock()
    clock.advance(HISTORY_COALESCE_SECONDS + 1)
    store.set_answer(visit.id, question_key("temporalite"), "mois")
    clock.advance(5)
    store.set_answer(visit.id, key, 20)
    at_last = clock()
    clock.advance(5)
    store.set_answer(visit.id, key, None)

    entries = store.history(visit.id)
    assert [(e.field, e.old_value, e.new_value) for e in entries[1:]] == [
        (key, None, 12),
        ("q:temporalite", None, "mois"),
        (key, 12, None),  # 12 -> 20 -> None within the window: one entry
    ]
    assert entries[1].at == at_first
    assert entries[3].at != at_last
    assert dt.datetime.fromisoformat(entries[3].at) == clock.now
    # Stored as JSON, readable by another connection.
    rows = history_rows(db_path, visit.id)
    assert rows[1] == (key, "null", "12", at_first)


def test_coalescing_within_window_keeps_first_old_and_last_new(
    clocked: tuple[VisitStore, FakeClock], visit: Visit
) -> None:
    store, clock = clocked
    key = question_key("situation_actuelle")
    store.set_answer(visit.id, key, "Appels")
    clock.advance(HISTORY_COALESCE_SECONDS + 10)
    for text in ("Appels t", "Appels té", "Appels tél", "Appels téléphoniques"):
        clock.advance(1)
        assert store.set_answer(visit.id, key, text) is True
    field_entries = [e for e in store.history(visit.id) if e.field == key]
    assert [(e.old_value, e.new_value) for e in field_entries] == [
        (None, "Appels"),
        ("Appels", "Appels téléphoniques"),
    ]
    assert store.answers(visit.id)[key] == "Appels téléphoniques"


def test_edits_just_inside_and_just_outside_the_window(
    clocked: tuple[VisitStore, FakeClock], visit: Visit
) -> None:
    store, clock = clocked
    key = question_key("partenaires")
    clock.advance(HISTORY_COALESCE_SECONDS * 2)  # away from the creation entry
    store.set_answer(visit.id, key, "DAC 31")
    clock.advance(HISTORY_COALESCE_SECONDS - 1)
    store.set_answer(visit.id, key, "DAC 31, CH Purpan")
    assert len([e for e in store.history(visit.id) if e.field == key]) == 1
    clock.advance(HISTORY_COALESCE_SECONDS + 1)
    store.set_answer(visit.id, key, "DAC 31, CH Purpan, URPS")
    entries = [e for e in store.history(visit.id) if e.field == key]
    assert [(e.old_value, e.new_value) for e in entries] == [
        (None, "DAC 31, CH Purpan"),
        ("DAC 31, CH Purpan", "DAC 31, CH Purpan, URPS"),
    ]


def test_edit_sessions_are_per_field(
    clocked: tuple[VisitStore, FakeClock], visit: Visit
) -> None:
    # Going back to a field a moment later (after touching another) continues its
    # edit session; entries read in time order of their last change.
    store, clock = clocked
    clock.advance(HISTORY_COALESCE_SECONDS * 2)
    a, b = question_key("besoins_sante"), question_key("types_professionnels")
    store.set_answer(visit.id, a, "Parcours diabète")
    clock.advance(1)
    store.set_answer(visit.id, b, "Médecins, IDE")
    clock.advance(1)
    store.set_answer(visit.id, a, "Parcours diabète et plaies")
    assert [(e.field, e.old_value, e.new_value) for e in store.history(visit.id)[1:]] == [
        (b, None, "Médecins, IDE"),
        (a, None, "Parcours diabète et plaies"),
    ]
    clock.advance(HISTORY_COALESCE_SECONDS)
    store.set_answer(visit.id, a, "Parcours diabète")
    assert [(e.field, e.old_value, e.new_value) for e in store.history(visit.id)[1:]] == [
        (b, None, "Médecins, IDE"),
        (a, None, "Parcours diabète et plaies"),
        (a, "Parcours diabète et plaies", "Parcours diabète"),
    ]


def test_coalescing_is_per_visit(clocked: tuple[VisitStore, FakeClock], workspace: Workspace) -> None:
    store, clock = clocked
    first = workspace.start_visit(dict(IDENTITY))[0]
    second = workspace.start_visit({**IDENTITY, "structure": "MSP de Samatan", "departement": "Gers"})[0]
    clock.advance(HISTORY_COALESCE_SECONDS * 2)
    key = question_key("utilisateurs_potentiels")
    store.set_answer(first.id, key, 8)
    clock.advance(1)
    store.set_answer(second.id, key, 30)
    assert [(e.old_value, e.new_value) for e in store.history(first.id) if e.field == key] == [(None, 8)]
    assert [(e.old_value, e.new_value) for e in store.history(second.id) if e.field == key] == [(None, 30)]


# -- override, status, step -------------------------------------------------------------


@pytest.mark.parametrize("justification", [None, "", "   \n"])
def test_override_requires_justification(workspace: Workspace, visit: Visit, justification) -> None:
    with pytest.raises(StoreError, match="justification"):
        workspace.visits.set_override(visit.id, "discussions_complexe", justification)
    assert workspace.visits.require(visit.id).override_offer is None


def test_override_is_stored_logged_and_removable(workspace: Workspace, visit: Visit) -> None:
    reason = "Le Conseil de l'Ordre est impliqué : projet à dimension politique."
    workspace.visits.set_override(visit.id, "discussions_complexe", reason)
    stored = workspace.visits.require(visit.id)
    assert stored.override_offer == "discussions_complexe"
    assert stored.override_justification == reason
    workspace.visits.set_override(visit.id, None, None)
    stored = workspace.visits.require(visit.id)
    assert stored.override_offer is None
    assert stored.override_justification is None
    logged = [e for e in workspace.visits.history(visit.id) if e.field == "classification_forcee"]
    assert [(e.old_value, e.new_value) for e in logged] == [
        (None, {"offer": "discussions_complexe", "justification": reason}),
        ({"offer": "discussions_complexe", "justification": reason}, None),
    ]


def test_override_with_unknown_offer_is_refused(workspace: Workspace, visit: Visit) -> None:
    """Expected: a French StoreError. Today the value is stored and `outcome()` later
    crashes with ValueError("'premium' is not a valid Offer") (see report)."""
    with pytest.raises(StoreError):
        workspace.visits.set_override(visit.id, "premium", "La structure veut tout")
    assert workspace.visits.require(visit.id).override_offer is None


def test_set_status_finishes_and_reopens(clocked: tuple[VisitStore, FakeClock], visit: Visit) -> None:
    store, clock = clocked
    clock.advance(60)
    store.set_status(visit.id, "terminee")
    finished = store.require(visit.id)
    assert finished.status == "terminee"
    assert finished.finished is True
    assert finished.finished_at == clock()
    history = store.history(visit.id)
    store.set_status(visit.id, "terminee")  # unchanged: no new entry
    assert store.history(visit.id) == history
    store.set_status(visit.id, "en_cours")
    reopened = store.require(visit.id)
    assert reopened.status == "en_cours"
    assert reopened.finished_at is None
    assert [(e.old_value, e.new_value) for e in store.history(visit.id) if e.field == "statut"] == [
        ("en_cours", "terminee"),
        ("terminee", "en_cours"),
    ]


def test_unknown_status_is_refused_by_the_schema(workspace: Workspace, visit: Visit) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        workspace.visits.set_status(visit.id, "annulee")
    assert workspace.visits.require(visit.id).status == "en_cours"
    assert workspace.conn.in_transaction is False


def test_current_step_is_persisted(workspace: Workspace, visit: Visit, db_path: Path) -> None:
    workspace.visits.set_step(visit.id, "classification")
    assert workspace.visits.require(visit.id).current_step == "classification"
    conn = second_connection(db_path)
    try:
        assert conn.execute("SELECT current_step FROM visits WHERE id = ?", (visit.id,)).fetchone()[0] == (
            "classification"
        )
    finally:
        conn.close()


def test_unknown_visit_is_reported_in_french(workspace: Workspace) -> None:
    missing = str(uuid.uuid4())
    assert workspace.visits.get(missing) is None
    with pytest.raises(StoreError, match="introuvable"):
        workspace.visits.require(missing)
    with pytest.raises(StoreError, match="introuvable"):
        workspace.visits.set_status(missing, "terminee")
    with pytest.raises(StoreError, match="introuvable"):
        workspace.visits.set_override(missing, "dossiers", "Dossiers de coordination demandés")
    with pytest.raises(StoreError, match="introuvable"):
        workspace.visits.update_identity(missing, "structure", "CPTS Sud Toulousain")


def test_set_answer_on_unknown_visit_raises_store_error(workspace: Workspace) -> None:
    """Expected behaviour: a French StoreError, not a raw sqlite3.IntegrityError (see report)."""
    missing = str(uuid.uuid4())
    with pytest.raises(StoreError, match="introuvable"):
        workspace.visits.set_answer(missing, question_key("partenaires"), "DAC 31")
    assert workspace.conn.in_transaction is False


def test_update_identity_logs_and_ignores_unchanged(workspace: Workspace, visit: Visit) -> None:
    assert workspace.save_identity(visit.id, "departement", "Haute Garonne") == "31"
    assert [e for e in workspace.visits.history(visit.id) if e.field == "departement"] == []
    assert workspace.save_identity(visit.id, "departement", "gers") == "32"
    assert workspace.save_identity(visit.id, "maillage", True) is True
    stored = workspace.visits.require(visit.id)
    assert (stored.departement, stored.maillage) == ("32", True)
    changes = {e.field: (e.old_value, e.new_value) for e in workspace.visits.history(visit.id)}
    assert changes["departement"] == ("31", "32")
    assert changes["maillage"] == (False, True)


# -- reopening -------------------------------------------------------------------------------


def test_reopening_returns_same_visit_answers_and_step(db_path: Path, reference: ReferenceData) -> None:
    first = Workspace(db_path, reference=reference)
    visit, _ = first.start_visit(dict(IDENTITY))
    first.save_answer(visit, "opportunite", True)
    first.save_answer(visit, "situation_actuelle", "Messagerie non sécurisée\nAppels fréquents")
    first.save_answer(visit, "fonctionnalites", ["autre", "partage_documents"])
    first.save_answer(visit, "utilisateurs_potentiels", "12")
    first.visits.set_step(visit.id, "classification")
    first.visits.set_override(visit.id, "discussions_complexe", "Portée régionale du projet")
    answers = first.visits.answers(visit.id)
    history = first.visits.history(visit.id)
    expected = first.visits.require(visit.id)
    first.close()

    second = Workspace(db_path, reference=reference)
    try:
        reopened = second.visits.require(visit.id)
        assert reopened == expected
        assert reopened.id == visit.id
        assert reopened.current_step == "classification"
        assert second.visits.answers(visit.id) == answers == {
            "q:opportunite": True,
            "q:situation_actuelle": "Messagerie non sécurisée\nAppels fréquents",
            "q:fonctionnalites": ["partage_documents", "autre"],
            "q:utilisateurs_potentiels": 12,
        }
        assert second.visits.history(visit.id) == history
        assert [v.id for v in second.visits.list()] == [visit.id]
    finally:
        second.close()


def test_uuid_never_changes_across_reopen(db_path: Path, reference: ReferenceData) -> None:
    ws = Workspace(db_path, reference=reference)
    visit_id = ws.start_visit(dict(IDENTITY))[0].id
    ws.close()
    for round_number in range(3):
        ws = Workspace(db_path, reference=reference)
        try:
            visits = ws.visits.list()
            assert [v.id for v in visits] == [visit_id]
            ws.save_answer(visits[0], "utilisateurs_potentiels", round_number + 1)
        finally:
            ws.close()


# -- reference snapshots -------------------------------------------------------------------


def test_visit_with_unbundled_playbook_version_opens_from_snapshot(
    db_path: Path, reference: ReferenceData
) -> None:
    first = Workspace(db_path, reference=reference)
    visit, _ = first.start_visit(dict(IDENTITY))
    first.save_answer(visit, "opportunite", True)
    first.save_answer(visit, "temporalite", "semestre")
    first.save_answer(visit, "utilisateurs_potentiels", 9)
    first.save_answer(visit, "messagerie_seule", True)
    first.save_answer(visit, "dossiers_coordination", False)
    for criterion in ("parametrage", "demandes_complexes", "portee_strategique"):
        first.save_answer(visit, criterion, ["aucune"])
    v1_playbook = first.playbook_for(visit)
    v1_questionnaire = first.questionnaire_for(visit)
    first.close()

    # The app is updated: only v2 is bundled now.
    playbook_v2 = v1_playbook.model_copy(
        update={"version": v1_playbook.version + 1, "title": "Déploiement SPICO — version 2026",
                "steps": v1_playbook.steps[:3]}
    )
    questionnaire_v2 = v1_questionnaire.model_copy(
        update={"version": v1_questionnaire.version + 1, "title": "Recueil des opportunités (v2)",
                "questions": v1_questionnaire.questions[:1]}
    )
    updated = ReferenceData(
        playbooks={(playbook_v2.id, playbook_v2.version): playbook_v2},
        questionnaires={(questionnaire_v2.id, questionnaire_v2.version): questionnaire_v2},
        territory=reference.territory,
    )
    second = Workspace(db_path, reference=updated)
    try:
        old_visit = second.visits.require(visit.id)
        playbook = second.playbook_for(old_visit)
        assert playbook == v1_playbook
        assert playbook.version == v1_playbook.version
        assert playbook.title == v1_playbook.title != playbook_v2.title
        assert len(playbook.steps) == 7
        questionnaire = second.questionnaire_for(old_visit)
        assert questionnaire == v1_questionnaire
        assert questionnaire.question("temporalite").label == "Date cible souhaitée de déploiement"
        assert second.visits.answers(visit.id) == {
            "q:opportunite": True,
            "q:temporalite": "semestre",
            "q:utilisateurs_potentiels": 9,
            "q:messagerie_seule": True,
            "q:dossiers_coordination": False,
            "q:parametrage": ["aucune"],
            "q:demandes_complexes": ["aucune"],
            "q:portee_strategique": ["aucune"],
        }
        # Answers keep being validated against the visit's own questionnaire.
        assert second.save_answer(old_visit, "temporalite", "mois") == "mois"
        # New visits get the bundled v2.
        new_visit, _ = second.start_visit({**IDENTITY, "structure": "MSP de Lectoure", "departement": "Gers"})
        assert new_visit.playbook_version == playbook_v2.version
        assert second.playbook_for(new_visit).title == "Déploiement SPICO — version 2026"
        # The old visit still produces its deliverables.
        opportunity = second.deliverables(old_visit).opportunity
        assert opportunity is not None
        assert opportunity.service == "SPICO Discussions simple"
        assert "Dans le mois" in opportunity.description
    finally:
        second.close()


def test_missing_snapshot_is_a_french_store_error(db_path: Path, reference: ReferenceData) -> None:
    ws = Workspace(db_path, reference=reference)
    try:
        visit, _ = ws.start_visit(dict(IDENTITY))
        ghost = dataclasses.replace(visit, playbook_version=99)
        with pytest.raises(StoreError, match="introuvable"):
            ws.playbook_for(ghost)
    finally:
        ws.close()
