"""One sync: push every waiting operation in batches, then pull what changed centrally.

Used by `at-tui sync` and, in the background, by the app. Every step commits
before the next: a sync cut anywhere (network, Ctrl-C, power) resumes where it
stopped, and resending is harmless (the central's ledger).

The push goes round until nothing sendable is left (bounded by ROUNDS): an operation
whose earlier answer was lost, or a conflict settled by itself (outbox.record_results),
lets the visit's next operation leave in the same run.

Two queues share the batches: the visits' content (outbox) first, then their opportunities
(opportunity_outbox, issue 11 §3). A new visit's opportunity leaves in the round after its
content was applied (the central must know the visit first).

A central restored from a backup refuses every cursor (410), and answers operations based on
revisions it no longer has in a way no other central could (outbox.record_results): either way
the pull starts again from 0, this laptop queues again what the central lost
(at_tui.sync.restore), and it leaves in the same run.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from at_tui.domain.redaction import safe
from at_tui.store.db import immediate
from at_tui.sync import opportunity_outbox, outbox, restore
from at_tui.sync.central_content import checker
from at_tui.sync.reference_pull import pull_reference
from at_tui.sync.transport import CursorExpired, Offline, RetryLater, SyncError, TooLarge, Transport

BATCH = 200
PAGE = 500
ROUNDS = 10  # pushes of what became sendable during the previous one (a visit's next operation)
MALFORMED = "Réponse inattendue du serveur pour les visites : la réception reprendra plus tard."
LOGIN = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")  # the central's user names (central.storage)
TOO_LARGE = ("visite trop volumineuse pour le serveur (taille d'envoi limitée) : elle reste sur ce poste ; "
             "raccourcissez ses notes, ou demandez au service informatique de relever la limite")


@dataclass
class Report:
    sent: int = 0
    duplicates: int = 0
    conflicts: int = 0
    rejected: int = 0
    received: int = 0
    reference_received: int = 0
    errors: list[str] = field(default_factory=list)
    left: int = 0  # operations still waiting at the end
    quarantined: list[str] = field(default_factory=list)  # French reasons of central copies set aside
    standing: list[str] = field(default_factory=list)  # opportunities' conflicts and refusals left to settle
    retry_after: dt.datetime | None = None  # the server asked not to come back before this (Retry-After)
    restored: restore.Resent | None = None  # the central was restored: what this laptop queued again

    @property
    def complete(self) -> bool:
        return (not self.errors and not self.left and not self.conflicts and not self.rejected
                and not self.quarantined and not self.standing)

    def lines(self) -> list[str]:
        lines = [
            f"{self.sent} envoyée(s), {self.duplicates} déjà présente(s) au central, "
            f"{self.conflicts} conflit(s), {self.rejected} refusée(s), {self.received} visite(s) reçue(s).",
        ]
        if self.reference_received:
            lines.append(f"{self.reference_received} donnée(s) de référence reçue(s) (contacts, argumentaire, processus).")
        if self.restored is not None:
            lines.append(restored_line(self.restored))
        if self.left:
            lines.append(f"{self.left} modification(s) encore en attente d'envoi.")
        if self.quarantined:
            lines.append(f"{len(self.quarantined)} visite(s) reçue(s) du central mise(s) de côté "
                         "(contenu que ce poste ne peut pas prendre ; la version du poste est gardée) :")
            lines += [f"  - {reason}" for reason in self.quarantined]
        lines += self.standing
        lines += self.errors
        return lines


def restored_line(resent: restore.Resent) -> str:
    """What the sync report says once this laptop has compared its visits with a restored central."""
    if not resent.visits and not resent.opportunities:
        return "Le service central a été restauré : il avait tout ce que ce poste lui avait envoyé."
    return (f"Le service central a été restauré : {resent.visits} visite(s) et {resent.opportunities} "
            "opportunité(s) renvoyée(s) depuis ce poste (ce que la sauvegarde n'avait pas).")


Progress = Callable[[int, int], None]


def sync(workspace, transport: Transport, *, on_progress: Progress | None = None) -> Report:
    report = Report()
    try:
        if restore.pending(workspace.conn):  # a check cut short: finished before anything leaves
            learn_login(workspace.conn, transport)
            pull(workspace, transport, report)  # the whole region again, compared with what was sent
        push(workspace, transport, report, on_progress)
        # Before the pull: a CM's laptop takes in the region's visits only once it knows it is one.
        learn_login(workspace.conn, transport)
        checked = report.restored
        pull(workspace, transport, report)
        if report.restored is not checked:  # found restored by this pull: what it lacks leaves now
            push(workspace, transport, report, on_progress)
            pull(workspace, transport, report)
        elif report.received and opportunity_outbox.counts(workspace.conn).waiting:
            # A CM's operation waits for the central's copy of the opportunity (after a restore:
            # until the AT's laptop put the visit back); if this pull brought it, it leaves now.
            push(workspace, transport, report, on_progress)
        report.reference_received += pull_reference(workspace, transport, report)
        if report.reference_received:
            workspace.ensure_directory()  # here, in the sync's thread, rather than on the next search
            outbox.retry_skipped(workspace.conn)  # a process version a CM's laptop lacked may be here now
    except SyncError as error:
        report.errors.append(safe(str(error)))
        report.retry_after = getattr(error, "until", None)  # a RetryLater: the app holds its probes till then
    else:
        outbox.set_state(workspace.conn, "last_success", outbox.utc_now())
    report.left = outbox.summary(workspace.conn).waiting
    report.quarantined = outbox.quarantined(workspace.conn)  # every run while any is set aside
    report.standing = opportunity_outbox.standing_lines(workspace.conn)  # every run, like the visits'
    return report


def learn_login(conn, transport: Transport) -> None:
    """The central's name for this laptop's user and her role (`GET /v1/me`), asked until both
    are known (a laptop older than the role knows only the name): exports then name the owner
    of the visits made here, her own visit imported on her other laptop is hers to send — even
    on a laptop that holds none of her visits yet (docs/sync-protocol.md) —, and a CM's laptop
    takes in the region's visits and writes the lifecycle of their opportunities."""
    if outbox.get_state(conn, "login") is not None and outbox.get_state(conn, "role") is not None:
        return
    try:
        me = transport.get("/v1/me")
    except (Offline, RetryLater):
        raise  # the pull would fail the same way: said once
    except SyncError:  # best effort (a central older than /v1/me…): her pulled visits tell the name too
        return
    if not isinstance(me, dict):
        return
    user, role = me.get("user"), me.get("role")
    with immediate(conn):
        if isinstance(user, str) and LOGIN.fullmatch(user) and outbox.get_state(conn, "login") is None:
            outbox.set_state(conn, "login", user)
        if role in ("at", "cm") and outbox.get_state(conn, "role") != role:
            if role == "cm":  # earlier pulls skipped the visits made elsewhere: all of them again
                outbox.set_state(conn, "cursor:visits", "0")
            outbox.set_state(conn, "role", role)


def push(workspace, transport: Transport, report: Report, on_progress: Progress | None = None) -> None:
    """Send every waiting operation, round after round while some became sendable (see the module)."""
    conn = workspace.conn
    if opportunity_outbox.counts(conn).waiting:
        learn_login(conn, transport)  # an opportunity opened before the first sync leaves with its AT's name
    check = checker(workspace)
    lifecycle = _lifecycle_for(workspace)
    total = outbox.summary(conn).waiting
    done = 0
    for _ in range(ROUNDS):
        sent = _push_round(conn, transport, report, check, on_progress, done, total, lifecycle)
        if not sent:
            return
        done += sent
        total = max(total, done + outbox.summary(conn).waiting)


def _push_round(conn, transport: Transport, report: Report, check, on_progress: Progress | None,
                before: int, total: int, lifecycle=None) -> int:
    """One pass over the outbox; how many operations were answered. While the server applies
    one batch, the next is taken from the outbox here (a second thread does the HTTP): the
    laptop's work and the server's overlap instead of adding up."""
    size = BATCH
    done = 0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="at-tui-push") as sender:
        batch = _take(conn, size)
        while batch:
            body = ('{"operations":[' + ",".join(op.json_text() for op in batch) + "]}").encode("utf-8")
            answer = sender.submit(transport.post, "/v1/push", body)
            following = _take(conn, size, skip={op.op_id for op in batch})
            try:
                results = _results(answer.result())
            except TooLarge:
                if len(batch) == 1:
                    # Parked and shown to the AT like a refusal: it must not hold up the others.
                    results = [{"op_id": batch[0].op_id, "status": "rejected", "reason": TOO_LARGE}]
                    _count(report, results, _record(conn, results, None, lifecycle))
                    done += 1
                    size = BATCH
                else:
                    size = max(1, len(batch) // 2)  # the operations stay `sent`, taken again first
                batch = _take(conn, size)
                continue
            except SyncError as error:
                theirs = _opportunity_ids(batch)
                outbox.record_attempt(conn, [op.op_id for op in batch if op.op_id not in theirs], str(error))
                opportunity_outbox.record_attempt(conn, theirs, str(error))
                raise
            states = _record(conn, results, check, lifecycle)
            if {r["op_id"] for r in results} != {op.op_id for op in batch}:
                # Unanswered operations stay `sent` and go again next time; stop rather than loop.
                raise SyncError("Réponse incomplète du serveur : la synchronisation reprendra plus tard.")
            _count(report, results, states)
            done += len(batch)
            if on_progress is not None:
                on_progress(min(before + done, total), max(total, before + done))
            batch = following
    return done


def _take(conn, size: int, skip=frozenset()) -> list[outbox.Operation]:
    """The next batch: content operations first, then opportunity operations in the room left."""
    batch = outbox.take_batch(conn, size, skip=skip)
    if len(batch) < size:
        batch += opportunity_outbox.take_batch(conn, size - len(batch), skip=skip)
    return batch


def _opportunity_ids(batch: list[outbox.Operation]) -> list[str]:
    return [op.op_id for op in batch if op.kind == opportunity_outbox.KIND]


def _record(conn, results: list[dict], check, lifecycle) -> dict[str, str]:
    """File the answers in each queue (each ignores the other's operations)."""
    states = outbox.record_results(conn, results, check)
    states.update(opportunity_outbox.record_results(conn, results, lifecycle))
    return states


def _lifecycle_for(workspace):
    """workspace.lifecycle, or None for a playbook this laptop cannot read (« À faire » left as is)."""
    def lifecycle(playbook_id: str):
        try:
            return workspace.lifecycle(playbook_id)
        except (KeyError, LookupError, ValueError, AttributeError):  # a playbook id unknown here
            return None

    return lifecycle if hasattr(workspace, "lifecycle") else None


def _results(answer) -> list[dict]:
    """The push's results after checking their shape (a bad answer files nothing)."""
    results = answer.get("results") if isinstance(answer, dict) else None
    if not isinstance(results, list) or not all(
        isinstance(r, dict) and isinstance(r.get("op_id"), str) and isinstance(r.get("status"), str)
        and (r.get("rev") is None or (isinstance(r["rev"], int) and not isinstance(r["rev"], bool)))
        for r in results
    ):
        raise SyncError("Réponse inattendue du serveur à l'envoi : la synchronisation reprendra plus tard.")
    return results


def _count(report: Report, results: list[dict], states: dict[str, str]) -> None:
    for result in results:
        status = result["status"]
        original = result.get("original_status")
        state = states.get(result["op_id"])
        if state == outbox.REBASED:
            continue  # sent again on the central revision: counted when that one is answered
        if state == "done" and (status == "conflict" or original == "conflict"):
            report.duplicates += 1  # the central already held this content
        elif status == "applied":
            report.sent += 1
        elif status == "duplicate" and original == "conflict":
            report.conflicts += 1
        elif status == "duplicate" and original == "rejected":
            report.rejected += 1
        elif status == "duplicate":
            report.duplicates += 1
        elif status == "conflict":
            report.conflicts += 1
        else:
            report.rejected += 1


def pull(workspace, transport: Transport, report: Report) -> None:
    conn = workspace.conn
    check = checker(workspace)
    lifecycle = _lifecycle_for(workspace)
    cursor = outbox.get_state(conn, "cursor:visits") or "0"
    while True:
        try:
            page = transport.get("/v1/visits", {"since": cursor, "limit": PAGE})
        except CursorExpired:
            if cursor == "0":
                raise
            # Another database (a restored backup?): the whole region again — nothing local is
            # removed, pulled rows are merged again — each visit compared with what was sent.
            restore.begin(conn)
            cursor = "0"
            continue
        items, next_cursor, more = _page(page)
        report.received += outbox.apply_pulled(conn, items, "visits", next_cursor, check, lifecycle)
        cursor = next_cursor
        if not more:
            if restore.pending(conn):
                report.restored = restore.finish(conn)
            return


def _page(page) -> tuple[list[dict], str, bool]:
    """A visits page's items, cursor and `more`, after checking their shape (a bad page stores nothing).
    The transport already checked it; one shape definition serves both (transport.visit_page_problem)."""
    from at_tui.sync.transport import visit_page_problem

    if visit_page_problem(page) is not None:
        raise SyncError(MALFORMED)
    return page["items"], page["cursor"], page.get("more", False)

