"""One sync: push every waiting operation in batches, then pull what changed centrally.

Used by `at-tui sync` and, in the background, by the app. Every step commits
before the next: a sync cut anywhere (network, Ctrl-C, power) resumes where it
stopped, and resending is harmless (the central's ledger).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from at_tui.sync import outbox
from at_tui.sync.reference_pull import pull_reference
from at_tui.sync.transport import CursorExpired, SyncError, TooLarge, Transport

BATCH = 200
PAGE = 500
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

    @property
    def complete(self) -> bool:
        return not self.errors and not self.left and not self.conflicts and not self.rejected

    def lines(self) -> list[str]:
        lines = [
            f"{self.sent} envoyée(s), {self.duplicates} déjà présente(s) au central, "
            f"{self.conflicts} conflit(s), {self.rejected} refusée(s), {self.received} visite(s) reçue(s).",
        ]
        if self.reference_received:
            lines.append(f"{self.reference_received} donnée(s) de référence reçue(s) (contacts, argumentaire, processus).")
        if self.left:
            lines.append(f"{self.left} modification(s) encore en attente d'envoi.")
        lines += self.errors
        return lines


Progress = Callable[[int, int], None]


def sync(workspace, transport: Transport, *, on_progress: Progress | None = None) -> Report:
    report = Report()
    try:
        push(workspace, transport, report, on_progress)
        pull(workspace, transport, report)
        report.reference_received += pull_reference(workspace, transport, report)
        if report.reference_received:
            workspace.ensure_directory()  # here, in the sync's thread, rather than on the next search
    except SyncError as error:
        report.errors.append(str(error))
    else:
        outbox.set_state(workspace.conn, "last_success", outbox.utc_now())
    report.left = outbox.summary(workspace.conn).waiting
    return report


def push(workspace, transport: Transport, report: Report, on_progress: Progress | None = None) -> None:
    """Send every waiting operation. While the server applies one batch, the next is taken
    from the outbox here (a second thread does the HTTP): the laptop's work and the
    server's overlap instead of adding up."""
    conn = workspace.conn
    total = outbox.summary(conn).waiting
    size = BATCH
    done = 0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="at-tui-push") as sender:
        batch = outbox.take_batch(conn, size)
        while batch:
            body = ('{"operations":[' + ",".join(op.json_text() for op in batch) + "]}").encode("utf-8")
            answer = sender.submit(transport.post, "/v1/push", body)
            following = outbox.take_batch(conn, size, skip={op.op_id for op in batch})
            try:
                results = answer.result()["results"]
            except TooLarge:
                if len(batch) == 1:
                    # Parked and shown to the AT like a refusal: it must not hold up the others.
                    results = [{"op_id": batch[0].op_id, "status": "rejected", "reason": TOO_LARGE}]
                    outbox.record_results(conn, results)
                    _count(report, results)
                    size = BATCH
                else:
                    size = max(1, len(batch) // 2)  # the operations stay `sent`, taken again first
                batch = outbox.take_batch(conn, size)
                continue
            except SyncError as error:
                outbox.record_attempt(conn, [op.op_id for op in batch], str(error))
                raise
            outbox.record_results(conn, results)
            if {r["op_id"] for r in results} != {op.op_id for op in batch}:
                # Unanswered operations stay `sent` and go again next time; stop rather than loop.
                raise SyncError("Réponse incomplète du serveur : la synchronisation reprendra plus tard.")
            _count(report, results)
            done += len(batch)
            if on_progress is not None:
                on_progress(min(done, total), max(total, done))
            batch = following


def _count(report: Report, results: list[dict]) -> None:
    for result in results:
        status = result["status"]
        original = result.get("original_status")
        if status == "applied":
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
    cursor = outbox.get_state(conn, "cursor:visits") or "0"
    while True:
        try:
            page = transport.get("/v1/visits", {"since": cursor, "limit": PAGE})
        except CursorExpired:
            if cursor == "0":
                raise
            cursor = "0"  # full resync: nothing local is removed, pulled rows are merged again
            continue
        report.received += outbox.apply_pulled(conn, page["items"], "visits", page["cursor"])
        cursor = page["cursor"]
        if not page.get("more"):
            return

