"""The central accepts a visit of every typology a laptop may hold: the new list and the labels of
the earlier one (« CPTS/MSP », « ESSMS/EHPAD »), which old visits keep and keep syncing."""

from __future__ import annotations

import uuid

import pytest
from central_server import content_op, visit_content

IDENTITY = visit_content()["identity"]


@pytest.mark.parametrize("typologie", ["CPTS/MSP", "ESSMS/EHPAD", "MSP", "Professionnels libéraux", "EHPAD", "CPTS"])
def test_every_typology_a_laptop_stores_is_accepted(api, typologie: str) -> None:
    visit_id = str(uuid.uuid4())
    content = visit_content(visit_id)
    content["identity"] = {**IDENTITY, "typologie": typologie}
    [result] = api.push("alice", content_op(visit_id, 0, content))
    assert result["status"] == "applied", result
    stored = api.get("carole", f"/v1/visits/{visit_id}").json()
    assert stored["content"]["identity"]["typologie"] == typologie


def test_a_legacy_label_not_written_as_stored_is_refused(api) -> None:
    """Like any coded field: the central takes the label as the laptop stores it, never a variant."""
    visit_id = str(uuid.uuid4())
    content = visit_content(visit_id)
    content["identity"] = {**IDENTITY, "typologie": "cpts msp"}
    [result] = api.push("alice", content_op(visit_id, 0, content))
    assert result["status"] == "rejected" and "identity.typologie" in result["reason"], result
