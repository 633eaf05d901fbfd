"""The visit content made by SQLite (export and sync payload) is exactly what the stored
visit and answers say, field by field and in the same order."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import IDENTITY
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from at_tui.domain.visit import IDENTITY_FIELDS
from at_tui.reference.loader import load_reference
from at_tui.store.visit_content import content_json
from at_tui.workspace import Workspace

REFERENCE = load_reference()

texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)  # SQLite text is UTF-8: no lone surrogates
values = st.one_of(
    texts,
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.lists(texts, max_size=4),
)
answers = st.dictionaries(st.builds(lambda ns, rest: f"{ns}:{rest}", st.sampled_from(["q", "check", "notes", "ack"]),
                                    texts.filter(bool)), values, max_size=8)


def expected(workspace: Workspace, visit_id: str) -> dict:
    """The definition the export format gives (docs/visit-format.md), from the stored rows."""
    visit = workspace.visits.require(visit_id)
    return {
        "id": visit.id,
        "identity": {name: getattr(visit, name) for name in IDENTITY_FIELDS},
        "playbook": {"id": visit.playbook_id, "version": visit.playbook_version},
        "questionnaire": {"id": visit.questionnaire_id, "version": visit.questionnaire_version},
        "status": visit.status,
        "current_step": visit.current_step,
        "created_at": visit.created_at,
        "updated_at": visit.updated_at,
        "finished_at": visit.finished_at,
        "answers": dict(sorted(workspace.visits.answers(visit.id).items())),
        "override": (
            {"offer": visit.override_offer, "justification": visit.override_justification}
            if visit.override_offer
            else None
        ),
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answers=answers, maillage=st.booleans(), override=st.booleans(), structure=texts.filter(str.strip))
def test_content_is_the_stored_visit(tmp_path: Path, answers, maillage, override, structure) -> None:
    workspace = Workspace(tmp_path / f"content-{abs(hash((structure, maillage, override)))}.sqlite3", reference=REFERENCE)
    try:
        visit, errors = workspace.start_visit(IDENTITY)
        assert not errors
        workspace.visits.update_identity(visit.id, "maillage", maillage)
        workspace.visits.update_identity(visit.id, "structure", structure)
        for key, value in answers.items():
            workspace.visits.set_answer(visit.id, key, value)
        if override:
            workspace.visits.set_override(visit.id, "dossiers", "Justification « forcée »\net longue")
        made = json.loads(content_json(workspace.conn, visit.id))
        wanted = expected(workspace, visit.id)
        assert made == wanted
        assert list(made["answers"]) == list(wanted["answers"])  # sorted the same way
        assert made["identity"]["maillage"] is maillage  # a JSON boolean, not 0/1
    finally:
        workspace.close()
