"""Steps 1 and 2: the step's actions as a checklist, its resources, deliverables and notes."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Checkbox, Static, TextArea

from at_tui.domain.text import FieldError
from at_tui.domain.visit import check_key, notes_key
from at_tui.screens.visit_base import VisitScreen, _escape
from at_tui.widgets.error_line import ErrorLine
from at_tui.widgets.step_info import step_info


class ChecklistScreen(VisitScreen):
    def compose_body(self) -> ComposeResult:
        answers = self.workspace.visits.answers(self.visit.id)
        variant = self.stop.step.variant_for(None)
        yield Static(_lead_text(variant), classes="lead")
        yield Static("Actions", classes="section-title")
        for action in variant.actions:
            yield Checkbox(
                _escape(action.label),
                value=bool(answers.get(check_key(self.stop.step.id, action.id))),
                id=f"check-{action.id}",
                classes="action",
            )
        yield Static("Compte rendu des échanges (repris dans l'activité CRM)", classes="section-title")
        yield TextArea(
            answers.get(notes_key(self.stop.step.id)) or "",
            id="notes",
            classes="notes",
            soft_wrap=True,
            tab_behavior="focus",
        )
        yield ErrorLine(id="notes-error")
        yield from step_info(variant)

    def on_mount(self) -> None:
        super().on_mount()
        self.query(Checkbox).first().focus()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        action_id = event.checkbox.id.removeprefix("check-")
        self.workspace.visits.set_answer(
            self.visit.id, check_key(self.stop.step.id, action_id), True if event.value else None
        )

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        error = self.query_one("#notes-error", ErrorLine)
        try:
            self.workspace.save_note(self.visit.id, notes_key(self.stop.step.id), event.text_area.text)
        except FieldError as problem:
            error.show(str(problem))
            event.text_area.add_class("-field-error")
            return
        error.show("")
        event.text_area.remove_class("-field-error")

    def can_leave_forward(self) -> bool:
        if self.query_one("#notes", TextArea).has_class("-field-error"):
            self.notify("Corrigez le compte rendu avant de continuer.", severity="error")
            return False
        return True


def _lead_text(variant) -> str:
    support = f" — {variant.support.value} en soutien" if variant.support else ""
    return f"Lead : [b]{variant.lead.value}[/b]{support}"
