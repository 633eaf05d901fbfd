"""The app's working set: the local store plus the reference data, for screens and CLI.

Screens call this instead of reaching into `store` and `domain` separately, so
the rules for saving an answer live in one place.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from at_tui.domain.reference_items import CONTACTS
from at_tui.domain.visit import Visit, question_key
from at_tui.store.migrations import open_database
from at_tui.store.opportunities import OpportunityStore
from at_tui.store.pending_writes import SAVE_ERRORS, NotSaved, PendingWrite, PendingWrites
from at_tui.store.readers import Readers
from at_tui.store.visits import VisitStore

_NOT_COPIED = object()
BUSY_WAIT_MS = 250  # how long a save waits for the write lock while an earlier one already failed on it


def identity_key(field: str) -> str:
    """The pending-writes key of an identity field (answer keys never start with this)."""
    return f"identity:{field}"


class Workspace:
    def __init__(self, db_path: Path, reference: Any = None, busy_timeout_ms: int | None = None) -> None:
        """`busy_timeout_ms`: how long a save waits for another program's write lock before it is
        kept as unsaved (tests shorten it; the default is the connection's)."""
        self.db_path = db_path
        self.conn = open_database(db_path)
        if busy_timeout_ms is not None:
            self.conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        self._busy_timeout_ms = busy_timeout_ms  # None: the connection's, read when first needed
        self._waiting_briefly = False  # see _wait_briefly
        self.visits = VisitStore(self.conn)
        self.opportunities = OpportunityStore(self.conn, self.visits.clock)
        self.pending = PendingWrites()  # saves that failed, retried until they go through
        self.readers = Readers(db_path)  # for searches run in worker threads
        self._directory_lock = threading.Lock()
        self._directory_version: object = _NOT_COPIED  # the pulled contacts' version last copied
        self._reference = reference
        self._reference_lock = threading.Lock()
        self._questions: dict[tuple[str, int], dict] = {}
        self._checked_text: dict[tuple[str, str], str] = {}
        self._kept: dict[tuple[str, str, int], Any] = {}  # validated copies of older playbooks

    def close(self) -> None:
        self.readers.close()
        self.conn.close()

    @property
    def reference(self):
        """Loaded on first use, once, from any thread: the Accueil does not need it (start-up time).

        The bundled data files, with the valid argumentaire and playbooks pulled from the
        central laid over them (at_tui.reference.pulled); a reference given to the
        constructor is used as it is."""
        if self._reference is None:
            with self._reference_lock:
                if self._reference is None:
                    from at_tui.reference.loader import load_reference

                    self._reference = self._with_pulled(load_reference())
        return self._reference

    def _with_pulled(self, reference):
        from at_tui.reference.pulled import with_pulled

        try:
            return with_pulled(reference, self.readers.get())
        except Exception:  # pulled data must never stop the app: the bundled data then
            return reference

    @property
    def territory(self):
        return self.reference.territory

    # -- contacts lookup (callable from worker threads) ------------------------

    def ensure_directory(self) -> None:
        """Copy the directory into the database when it changed: the bundled contacts, with the
        contacts pulled from the central laid over them (at_tui.reference.pulled).

        Each call costs one small read (a pull may have changed the contacts meanwhile); the
        copy itself runs only after a change, in the caller's thread (a worker, never the
        start-up path)."""
        from at_tui.store.pulled_reference import version

        pulled = version(self.readers.get(), CONTACTS)
        if self._directory_version == pulled:
            return
        with self._directory_lock:
            if self._directory_version == pulled:
                return
            from at_tui.reference.pulled import merged_contacts
            from at_tui.store.db import connect
            from at_tui.store.directory import directory_fingerprint, sync_contacts

            reference = self.reference
            conn = connect(self.db_path)  # its own connection: this may run in a worker thread
            try:
                if pulled is None:  # nothing ever pulled: the bundled directory, as before
                    sync_contacts(conn, reference.contacts, reference.territory)
                else:
                    fingerprint = f"{directory_fingerprint(reference.contacts, reference.territory)}+{pulled}"
                    sync_contacts(conn, merged_contacts(reference, conn), reference.territory, fingerprint)
            finally:
                conn.close()
            self._directory_version = pulled

    def search_directory(self, query):
        """Contacts then professionals matching `query` (a domain.lookup.Query)."""
        from at_tui.store.directory import search

        self.ensure_directory()
        return search(self.readers.get(), query)

    def complete_structures(self, text: str, limit: int = 8) -> list:
        """Imported FINESS structures matching what the AT typed (none if never imported).

        For worker threads: runs on this thread's read connection, never on `conn`."""
        from at_tui.importers.structures_store import complete_structures

        return complete_structures(self.readers.get(), text, limit)

    # -- playbook of a visit --------------------------------------------------

    def playbook_for(self, visit: Visit):
        return self._versioned("playbook", visit.playbook_id, visit.playbook_version)

    def questionnaire_for(self, visit: Visit):
        return self._versioned("questionnaire", visit.questionnaire_id, visit.questionnaire_version)

    def _versioned(self, kind: str, ref_id: str, version: int):
        """The bundled version a visit started with, else the copy kept when it started."""
        catalogue = self.reference.playbooks if kind == "playbook" else self.reference.questionnaires
        found = catalogue.get((ref_id, version)) or self._kept.get((kind, ref_id, version))
        if found is None:
            from at_tui.domain.playbook import Playbook, Questionnaire

            model = Playbook if kind == "playbook" else Questionnaire
            found = model.model_validate(self._snapshot(kind, ref_id, version))
            self._kept[(kind, ref_id, version)] = found
        return found

    def question_for(self, visit: Visit, question_id: str):
        """A question of the visit's questionnaire, by id (looked up on every keystroke)."""
        key = (visit.questionnaire_id, visit.questionnaire_version)
        questions = self._questions.get(key)
        if questions is None:
            questions = {q.id: q for q in self.questionnaire_for(visit).questions}
            self._questions[key] = questions
        return questions[question_id]

    def _snapshot(self, kind: str, ref_id: str, version: int) -> dict:
        content = self.visits.snapshot(kind, ref_id, version)
        if content is None:
            from at_tui.store.db import StoreError

            raise StoreError(f"Version {version} de « {ref_id} » introuvable : la visite ne peut pas s'ouvrir.")
        return content

    # -- visits ------------------------------------------------------------------

    def start_visit(self, raw_identity: dict[str, Any], playbook_id: str = "spico") -> tuple[Visit | None, dict[str, str]]:
        from at_tui.domain.identity import parse_identity

        values, errors = parse_identity(self.territory, raw_identity)
        if errors:
            return None, errors
        playbook = self.reference.current_playbook(playbook_id)
        questionnaire = self.reference.current_questionnaire(playbook.questionnaire)
        visit = self.visits.create(
            values,
            playbook=(playbook.id, playbook.version, playbook.model_dump(mode="json")),
            questionnaire=(questionnaire.id, questionnaire.version, questionnaire.model_dump(mode="json")),
            first_step=playbook.guided_steps[0].id,
        )
        return visit, {}

    # Every save below: FieldError when the value is refused (nothing saved, nothing kept);
    # NotSaved when the value is valid but could not be written (kept in `pending`, retried).

    def save_identity(self, visit_id: str, field: str, raw: Any) -> Any:
        """Validate then save one identity field."""
        from at_tui.domain.identity import FIELD_LABELS, parse_identity_field

        value = parse_identity_field(self.territory, field, raw)
        key = identity_key(field)
        try:
            self.visits.update_identity(visit_id, field, value)
        except SAVE_ERRORS as error:
            self._hold(visit_id, key, FIELD_LABELS.get(field, field), raw,
                       lambda: self.visits.update_identity(visit_id, field, value), error)
        if self.pending:
            self._saved(visit_id, key)
        return value

    def save_answer(self, visit: Visit, question_id: str, raw: Any) -> Any:
        """Validate then save one questionnaire answer."""
        from at_tui.domain.answers import parse_answer

        key = question_key(question_id)
        checked = self._checked_text.get((visit.id, key))
        question = self.question_for(visit, question_id)
        value = parse_answer(question, raw, checked)
        try:
            self.visits.set_answer(visit.id, key, value)
        except SAVE_ERRORS as error:
            self._hold(visit.id, key, question.label, raw, lambda: self.visits.set_answer(visit.id, key, value), error)
        if self.pending:
            self._saved(visit.id, key)
        self._remember_checked(visit.id, key, raw)
        return value

    def save_note(self, visit_id: str, key: str, raw: str, label: str = "Compte rendu") -> str | None:
        from at_tui.domain.text import clean_text

        value = clean_text(raw, multiline=True, checked=self._checked_text.get((visit_id, key))) or None
        self._remember_checked(visit_id, key, raw)
        self._write(visit_id, key, label, raw, lambda: self.visits.set_answer(visit_id, key, value))
        return value

    def save_flag(self, visit_id: str, key: str, checked: bool, label: str) -> None:
        """A checked action or an acknowledged guardrail (unchecked removes it)."""
        value = True if checked else None
        self._write(visit_id, key, label, checked, lambda: self.visits.set_answer(visit_id, key, value))

    def _write(self, visit_id: str, key: str, label: str, raw: Any, save) -> None:
        """Run a save; when it fails, keep it in `pending` and raise NotSaved with the French cause."""
        try:
            save()
        except SAVE_ERRORS as error:
            self._hold(visit_id, key, label, raw, save, error)
        if self.pending:
            self._saved(visit_id, key)

    # save_answer and save_identity inline `_write`: they run on every keystroke, and the happy
    # path then costs one dict truth test more than the bare save (bench/save_answer.py).

    def _hold(self, visit_id: str, key: str, label: str, raw: Any, save, error: BaseException) -> None:
        self.after_failed_write()
        write = PendingWrite(visit_id, key, label, raw, save, error)
        self.pending.hold(write)
        self._wait_briefly(write.cause == _busy())
        raise NotSaved(write.cause) from error

    def _saved(self, visit_id: str, key: str) -> None:
        """A field went through: its older unsaved value is obsolete, and the others are tried again."""
        self.pending.release(visit_id, key)
        self.retry_pending()

    def retry_pending(self) -> int:
        """Try the unsaved writes again (next change, the app's timer, before quitting)."""
        if not self.pending:
            return 0
        done = self.pending.retry(self.after_failed_write)
        if self._waiting_briefly:
            self._wait_briefly(any(write.cause == _busy() for write in self.pending))
        return done

    def _wait_briefly(self, briefly: bool) -> None:
        """While another program holds the base, a save waits for it only briefly: the value is
        kept and retried anyway, and each keystroke would otherwise freeze the screen for the
        whole busy timeout. The usual wait comes back once nothing waits for the lock."""
        if briefly == self._waiting_briefly:
            return
        try:
            if self._busy_timeout_ms is None:
                self._busy_timeout_ms = self.conn.execute("PRAGMA busy_timeout").fetchone()[0]
            wait = min(BUSY_WAIT_MS, self._busy_timeout_ms) if briefly else self._busy_timeout_ms
            self.conn.execute(f"PRAGMA busy_timeout = {int(wait)}")
        except SAVE_ERRORS:
            return
        self._waiting_briefly = briefly

    def after_failed_write(self) -> None:
        """A failed COMMIT whose ROLLBACK failed too would leave the connection inside a
        transaction, and every later save would fail for that reason alone."""
        if self.conn.in_transaction:
            try:
                self.conn.execute("ROLLBACK")
            except SAVE_ERRORS:
                pass

    def unsaved_summary(self) -> list[str]:
        """One line per visit with unsaved fields: « Structure : champ, champ » (quit confirmation)."""
        from at_tui.domain.redaction import printable

        by_visit: dict[str, list[str]] = {}
        for write in self.pending:
            by_visit.setdefault(write.visit_id, []).append(write.label)
        lines = []
        for visit_id, labels in by_visit.items():
            try:
                visit = self.visits.get(visit_id)
                name = visit.structure if visit else visit_id
            except SAVE_ERRORS:  # the base may be unreadable too: the id then
                name = visit_id
            lines.append(f"« {printable(str(name))} » : {', '.join(printable(label) for label in labels)}")
        return lines

    def _remember_checked(self, visit_id: str, key: str, raw: Any) -> None:
        """The last text accepted per field: the next keystroke only rescans what changed."""
        if isinstance(raw, str):
            from at_tui.domain.text import normalize_newlines

            self._checked_text[(visit_id, key)] = normalize_newlines(raw)

    def outcome(self, visit: Visit):
        from at_tui.domain.deliverables import outcome

        return outcome(visit, self.questionnaire_for(visit), self.visits.answers(visit.id),
                       self.playbook_for(visit).classification)

    # -- opportunities (steps 4 to 7) ---------------------------------------------

    def role(self) -> str:
        """This laptop's side, in the domain's letters: "CM" once the central said so at login
        (sync_state « role » = 'cm'), else "AT" (a laptop never synced is an AT's)."""
        from at_tui.sync.outbox import get_state

        return "CM" if get_state(self.conn, "role") == "cm" else "AT"

    def login(self) -> str | None:
        """The login the central gave this laptop (None before the first sync): the author of
        journal entries, the CM in charge, the owner of the visits made here."""
        from at_tui.sync.outbox import get_state

        return get_state(self.conn, "login")

    def visit_refusal(self, visit_id: str) -> str | None:
        """Why this laptop may not open a visit to edit it, in one French sentence; None when it may.

        A visit's content stays the AT's who made it (issue 11 §3): on a CM's laptop a visit
        whose owner is not this login (pulled from the central, received by file) is refused —
        its summary is the opportunity's « Information » entry. An AT's laptop keeps today's rule."""
        if self.role() != "CM":
            return None
        from at_tui.domain.redaction import printable
        from at_tui.store.visit_content import known_owner

        owner = known_owner(self.conn, visit_id)
        if owner is not None and owner == self.login():
            return None
        who = f"de {printable(owner)}" if owner else "d'un autre poste"
        return (f"Visite {who} : son contenu reste à l'AT qui l'a faite ; son compte rendu se lit dans l'entrée "
                "« Information » du journal de l'opportunité.")

    def lifecycle(self, playbook_id: str = "spico"):
        """The current lifecycle of a playbook: an opportunity follows the process as it is now,
        whichever version its visit started with."""
        return self.reference.current_playbook(playbook_id).lifecycle

    def ensure_opportunities(self) -> int:
        """Open the opportunity of each finished visit that detected one (and has none yet).

        Returns how many were opened. A visit whose classification is still to settle, or
        without opportunity, opens none; a pending opportunity follows a changed classification."""
        from at_tui.domain.classification import Lead
        from at_tui.domain.opportunity import JournalEntry, Opportunity
        from at_tui.store.visit_content import known_owner
        from at_tui.sync.outbox import get_state
        from at_tui.sync.parked import followup

        opened = 0
        without: list[str] = []
        for visit_id in self.opportunities.missing_for_finished_visits():
            visit = self.visits.require(visit_id)
            playbook = self.reference.current_playbook(visit.playbook_id)
            lifecycle = playbook.lifecycle
            result = self.outcome(visit)
            if lifecycle is None or result.offer is None:
                without.append(visit_id)
                continue
            support = Lead.CM.value if result.lead is Lead.AT else Lead.AT.value
            login = get_state(self.conn, "login")
            owner = known_owner(self.conn, visit.id) or login  # the AT's, even on a CM's laptop
            opportunity = Opportunity(
                id=visit.id, structure=visit.structure, departement=visit.departement, offer=result.offer.value,
                lead=result.lead.value, support=support, status=lifecycle.initial, at_login=owner,
                visit_date=visit.visit_date,
            )
            information = JournalEntry(
                id=f"{visit.id}:information", opportunity_id=visit.id, activity="information",
                type=lifecycle.activity("information").type, title=lifecycle.activity("information").title,
                day=visit.visit_date, author=owner, role=Lead.AT.value,
                text=self.deliverables(visit).activity.description,
            )
            cm = followup(self.conn, visit.id)
            self.opportunities.open(opportunity, playbook.id, playbook.version, lifecycle, information,
                                    cm.status if cm is not None else None)
            opened += 1
        self.opportunities.scanned_without_opportunity(without)
        return opened

    def refresh_opportunity(self, visit: Visit, result) -> None:
        """A pending opportunity follows its visit's classification when the AT changes it
        (answers fixed, classification overridden): offer, lead and support, and its « À faire »."""
        from at_tui.domain.classification import Lead

        current = self.opportunities.get(visit.id)
        if current is None or result.offer is None:
            return
        support = Lead.CM.value if result.lead is Lead.AT else Lead.AT.value
        if (current.offer, current.lead, current.support) != (result.offer.value, result.lead.value, support):
            self.opportunities.reclassify(visit.id, result.offer.value, result.lead.value, support,
                                          self.lifecycle(visit.playbook_id))

    def deliverables(self, visit: Visit):
        from at_tui.domain.deliverables import build_deliverables

        return build_deliverables(
            visit,
            self.playbook_for(visit),
            self.questionnaire_for(visit),
            self.territory,
            self.visits.answers(visit.id),
        )


def _busy() -> str:
    """The cause of a write lock held too long (imported late: not needed at start-up)."""
    from at_tui.store.errors import BUSY

    return BUSY
