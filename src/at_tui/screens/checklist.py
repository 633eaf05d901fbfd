"""Steps 1 and 2: the step's actions as a checklist, its resources, deliverables and notes.

A step flagged `argumentaire` in the playbook (step 1) first shows the argumentaire sheet of
the visit's typology: its guardrails, to acknowledge before going on, then its sections.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Checkbox, Markdown, Static, TextArea

from at_tui.domain.text import FieldError
from at_tui.domain.visit import ack_key, check_key, notes_key
from at_tui.screens.visit_base import VisitScreen, _escape
from at_tui.store.pending_writes import NotSaved, not_saved_message
from at_tui.widgets.error_line import ErrorLine
from at_tui.widgets.guardrails import ACK_PREFIX, GuardrailPanel
from at_tui.widgets.sheet_view import sections_markdown
from at_tui.widgets.step_info import step_info
from at_tui.widgets.wrapping import WrappingCheckbox


class ChecklistScreen(VisitScreen):
    BINDINGS = [
        Binding("f6", "argumentaire", "Argumentaire", id="checklist.argumentaire"),
    ]

    def compose_body(self) -> ComposeResult:
        answers = self.workspace.visits.answers(self.visit.id)
        answers.update(self.workspace.pending.raw_values(self.visit.id))  # typed, not saved yet
        variant = self.stop.step.variant_for(None)
        self.sheet = None
        if self.stop.step.argumentaire:
            yield from self._compose_argumentaire(answers)
        yield Static(_lead_text(variant), classes="lead")
        yield Static("Actions", classes="section-title")
        for action in variant.actions:
            yield WrappingCheckbox(  # an action is read whole at 80 columns
                _escape(action.label),
                value=bool(answers.get(check_key(self.stop.step.id, action.id))),
                id=f"check-{action.id}",
                classes="action",
            )
        yield Static("Compte rendu des échanges (repris dans l'activité CRM)", classes="section-title")
        notes = answers.get(notes_key(self.stop.step.id))
        yield TextArea(
            notes if isinstance(notes, str) else "" if notes is None else str(notes),  # whatever was stored
            id="notes",
            classes="notes",
            soft_wrap=True,
            tab_behavior="focus",
        )
        yield ErrorLine(id="notes-error")
        yield from step_info(variant)

    def _compose_argumentaire(self, answers: dict) -> ComposeResult:
        self.sheet = sheet = self.workspace.reference.argumentaire.for_typology(self.visit.typologie)
        if sheet is None:
            yield Static(
                f"Pas de fiche argumentaire pour la typologie « {_escape(self.visit.typologie)} » : "
                "présentez SPICO avec les pages générales (F6).",
                id="no-sheet",
                classes="lead",
            )
            return
        acknowledged = {g.id for g in sheet.guardrails if answers.get(ack_key(sheet.id, g.id))}
        if sheet.guardrails:
            yield GuardrailPanel(sheet, acknowledged, id="guardrails")
        yield Static(f"Argumentaire — {_escape(sheet.title)}", classes="section-title")
        yield Markdown(sections_markdown(sheet), id="sheet-sections", open_links=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.show_pending()
        self.query(Checkbox).first().focus()

    def on_screen_resume(self) -> None:
        typology = self.visit.typologie
        super().on_screen_resume()
        if self.stop.step.argumentaire and self.visit.typologie != typology:
            # The typology was changed (F2): show the new typology's sheet and guardrails.
            self.app.call_later(self.app.open_visit, self.visit.id, self.stop.key)

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        if event.checkbox.has_class("guardrail"):
            guardrail_id = event.checkbox.id.removeprefix(ACK_PREFIX)
            key, what = ack_key(self.sheet.id, guardrail_id), "Garde-fou"
        else:
            key, what = check_key(self.stop.step.id, event.checkbox.id.removeprefix("check-")), "Action"
        text = event.checkbox.label.plain
        label = f"{what} « {text if len(text) <= 60 else text[:59] + '…'} »"
        try:
            self.workspace.save_flag(self.visit.id, key, event.value, label)
        except NotSaved as problem:
            self.notify(f"{_escape(label)} : {problem.message}.", severity="error")
            self.app.show_pending()
            return
        self.app.after_save()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        error = self.query_one("#notes-error", ErrorLine)
        try:
            self.workspace.save_note(self.visit.id, notes_key(self.stop.step.id), event.text_area.text,
                                     label=f"Compte rendu de l'étape « {self.stop.step.title} »")
        except FieldError as problem:
            error.show(str(problem))
            event.text_area.add_class("-field-error")
            return
        except NotSaved as problem:
            error.show(problem.message)
            event.text_area.remove_class("-field-error")
            self.app.show_pending()
            return
        error.show("")
        event.text_area.remove_class("-field-error")
        self.app.after_save()

    def show_pending(self) -> None:
        """The notes' error line says whether they wait to be saved; cleared once they went through."""
        write = self.workspace.pending.get(self.visit.id, notes_key(self.stop.step.id))
        error = self.query_one("#notes-error", ErrorLine)
        notes = self.query_one("#notes", TextArea)
        if write is not None:
            error.show(not_saved_message(write.cause))
        elif not notes.has_class("-field-error"):
            error.show("")

    def can_leave_forward(self) -> bool:
        pending = self.pending_guardrails()
        if pending:
            count = len(pending)
            what = "1 garde-fou" if count == 1 else f"{count} garde-fous"
            self.notify(
                f"Cochez les garde-fous de l'argumentaire pour confirmer que vous en avez pris "
                f"connaissance : encore {what} avant de continuer.",
                title="Garde-fous à confirmer",
                severity="warning",
            )
            pending[0].focus()
            return False
        if self.query_one("#notes", TextArea).has_class("-field-error"):
            self.notify("Corrigez le compte rendu avant de continuer.", severity="error")
            return False
        return True

    def pending_guardrails(self) -> list[Checkbox]:
        """The guardrails of this step not acknowledged yet (none without a sheet)."""
        panels = self.query(GuardrailPanel)
        return panels.first().pending() if panels else []

    def action_argumentaire(self) -> None:
        self.app.action_argumentaire(self.visit.typologie)


def _lead_text(variant) -> str:
    support = f" — {variant.support.value} en soutien" if variant.support else ""
    return f"Menée par : [b]{variant.lead.value}[/b]{support}"
