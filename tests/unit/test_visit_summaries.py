"""The Accueil's visits read a page at a time (store.visits.SummaryPages): the same rows, in the
same order, as one query over every visit — but only the pages the list draws are read."""

from __future__ import annotations

from helpers import IDENTITY

from at_tui.store.visits import SummaryPages


def test_pages_give_every_visit_in_order_and_read_only_what_is_asked(workspace, monkeypatch):
    monkeypatch.setattr(SummaryPages, "PAGE", 3)
    ids = []
    for index in range(8):
        visit, errors = workspace.start_visit({**IDENTITY, "structure": f"Structure {index}"})
        assert not errors, errors
        ids.append(visit.id)
    for visit_id in ids[:5]:
        workspace.visits.set_status(visit_id, "terminee")
    workspace.visits.set_archived(ids[7], True)

    pages = workspace.visits.summaries()
    whole = [row[0] for row in workspace.conn.execute(
        "SELECT id FROM visits WHERE archived_at IS NULL ORDER BY status = 'terminee', updated_at DESC")]
    assert len(pages) == 7 and pages.in_progress == 2
    assert pages[0].id == whole[0] and not pages._pages.keys() - {0}  # one page read for the first row
    assert [v.id for v in pages] == whole  # across page boundaries, in progress first
    assert pages[-1].id == whole[-1]
    assert pages.by_id(ids[7]).structure == "Structure 7"  # not in the list: read on its own
    assert pages.by_id("inconnue") is None

    archived = workspace.visits.summaries(archived=True)
    assert [v.id for v in archived] == [ids[7]] and archived.in_progress == 1
