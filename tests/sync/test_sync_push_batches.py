"""Pushing in batches: a body over the server's size limit (413) is split until it fits, and
one visit too large on its own is parked as refused without holding up the others."""

from __future__ import annotations

import random
from pathlib import Path

from central.central_api import make_api
from helpers import IDENTITY

from at_tui.central.models import Limits
from at_tui.reference.loader import load_reference
from at_tui.sync import outbox
from at_tui.sync.engine import TOO_LARGE, sync
from at_tui.sync.transport import RetryPolicy, Transport
from at_tui.workspace import Workspace

REFERENCE = load_reference()
NOTE = "Compte rendu de la présentation de SPICO à l'équipe de coordination. " * 40  # ~2.8 kB


class CountingTransport:
    """The in-process app, remembering the status and size of each push."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.pushes: list[tuple[int, int]] = []

    def handle_request(self, request):
        response = self.inner.handle_request(request)
        if request.url.path == "/v1/push":
            self.pushes.append((response.status_code, len(request.content)))
        return response

    def close(self) -> None:
        self.inner.close()


def capture(workspace: Workspace, count: int, questions: tuple[str, ...] = ("situation_actuelle",),
            note: str = NOTE) -> list[str]:
    ids = []
    for index in range(count):
        visit, errors = workspace.start_visit({**IDENTITY, "structure": f"Maison de santé n° {index}"})
        assert not errors
        for question in questions:
            workspace.save_answer(visit, question, note)
        ids.append(visit.id)
    return ids


def client(api, http) -> Transport:
    return Transport("http://central", api.tokens["alice"], http=http,
                     retry=RetryPolicy(attempts=2, base=0, cap=0), sleep=lambda _: None, rng=random.Random(0))


def test_a_batch_over_the_size_limit_is_split_until_it_fits(tmp_path: Path, central_db: str) -> None:
    api_gen = make_api(central_db, Limits(max_body_bytes=40_000))
    api = next(api_gen)
    workspace = Workspace(tmp_path / "laptop.sqlite3", reference=REFERENCE)
    try:
        ids = capture(workspace, 30)
        http = CountingTransport(api.client._transport)
        with client(api, http) as transport:
            report = sync(workspace, transport)
        assert report.complete and report.sent == 30, report.lines()
        statuses = [status for status, _ in http.pushes]
        assert statuses[0] == 413 and statuses.count(200) >= 3  # refused whole, then sent in smaller pieces
        assert all(size <= 40_000 for status, size in http.pushes if status == 200)
        assert {visit_id: api.storage.get_visit(visit_id).rev for visit_id in ids} == dict.fromkeys(ids, 1)
        assert outbox.summary(workspace.conn).waiting == 0
    finally:
        workspace.close()
        next(api_gen, None)


def test_one_visit_too_large_alone_is_parked_and_the_others_go(tmp_path: Path, central_db: str) -> None:
    api_gen = make_api(central_db, Limits(max_body_bytes=40_000))
    api = next(api_gen)
    workspace = Workspace(tmp_path / "laptop.sqlite3", reference=REFERENCE)
    try:
        long_notes = ("situation_actuelle", "besoins_sante", "partenaires")
        [huge] = capture(workspace, 1, long_notes, NOTE * 6)  # 3 × ~17 kB: over the limit on its own
        others = capture(workspace, 5)
        with client(api, CountingTransport(api.client._transport)) as transport:
            report = sync(workspace, transport)
        assert report.sent == 5 and report.rejected == 1 and not report.errors
        assert all(api.storage.get_visit(visit_id) is not None for visit_id in others)
        assert api.storage.get_visit(huge) is None
        row = workspace.conn.execute("SELECT state, last_error FROM outbox WHERE visit_id = ?", (huge,)).fetchone()
        assert tuple(row) == ("rejected", TOO_LARGE)  # kept, with the reason the AT sees
        answers = workspace.visits.answers(huge)
        assert all(answers[f"q:{question}"] == (NOTE * 6).strip() for question in long_notes)  # nothing lost
    finally:
        workspace.close()
        next(api_gen, None)
