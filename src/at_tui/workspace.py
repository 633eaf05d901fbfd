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
from at_tui.store.readers import Readers
from at_tui.store.visits import VisitStore

_NOT_COPIED = object()


class Workspace:
    def __init__(self, db_path: Path, reference: Any = None) -> None:
        self.db_path = db_path
        self.conn = open_database(db_path)
        self.visits = VisitStore(self.conn)
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

    def save_identity(self, visit_id: str, field: str, raw: Any) -> Any:
        """Validate then save one identity field; raises FieldError (nothing saved)."""
        from at_tui.domain.identity import parse_identity_field

        value = parse_identity_field(self.territory, field, raw)
        self.visits.update_identity(visit_id, field, value)
        return value

    def save_answer(self, visit: Visit, question_id: str, raw: Any) -> Any:
        """Validate then save one questionnaire answer; raises FieldError (nothing saved)."""
        from at_tui.domain.answers import parse_answer

        key = question_key(question_id)
        checked = self._checked_text.get((visit.id, key))
        value = parse_answer(self.question_for(visit, question_id), raw, checked)
        self.visits.set_answer(visit.id, key, value)
        self._remember_checked(visit.id, key, raw)
        return value

    def save_note(self, visit_id: str, key: str, raw: str) -> str | None:
        from at_tui.domain.text import clean_text

        value = clean_text(raw, multiline=True, checked=self._checked_text.get((visit_id, key))) or None
        self.visits.set_answer(visit_id, key, value)
        self._remember_checked(visit_id, key, raw)
        return value

    def _remember_checked(self, visit_id: str, key: str, raw: Any) -> None:
        """The last text accepted per field: the next keystroke only rescans what changed."""
        if isinstance(raw, str):
            from at_tui.domain.text import normalize_newlines

            self._checked_text[(visit_id, key)] = normalize_newlines(raw)

    def outcome(self, visit: Visit):
        from at_tui.domain.deliverables import outcome

        return outcome(visit, self.questionnaire_for(visit), self.visits.answers(visit.id))

    def deliverables(self, visit: Visit):
        from at_tui.domain.deliverables import build_deliverables

        return build_deliverables(
            visit,
            self.playbook_for(visit),
            self.questionnaire_for(visit),
            self.territory,
            self.visits.answers(visit.id),
        )
