"""Step 3, first part: the needs questionnaire, saved answer by answer."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from at_tui.domain.answers import visible_questions
from at_tui.domain.facts import missing_answers
from at_tui.domain.visit import question_key, questionnaire_answers
from at_tui.screens.visit_base import VisitScreen, _escape
from at_tui.store.pending_writes import not_saved_message
from at_tui.widgets.question_field import QuestionField


class QuestionnaireScreen(VisitScreen):
    def compose_body(self) -> ComposeResult:
        self.questionnaire = self.workspace.questionnaire_for(self.visit)
        answers = self.workspace.visits.answers(self.visit.id)
        answers.update(self.workspace.pending.raw_values(self.visit.id, "q:"))  # typed, not saved yet
        answers = questionnaire_answers(answers)
        yield Static(
            f"[b]{_escape(self.questionnaire.title)}[/b] — chaque réponse est enregistrée dès sa saisie. "
            "[b $error]*[/] réponse obligatoire.",
            classes="lead",
        )
        section = None
        for question in self.questionnaire.questions:
            if question.section != section:
                section = question.section
                yield Static(_escape(section), classes="section-title", id=f"section-{question.id}")
            yield QuestionField(question, answers.get(question.id))

    def on_mount(self) -> None:
        super().on_mount()
        self.show_pending()
        self._apply_visibility()
        # Coming back to a visit: start at the first required answer still missing.
        missing = {q.id for q in missing_answers(self.questionnaire, self._answers())}
        fields = [f for f in self.query(QuestionField) if f.display]
        target = next((f for f in fields if f.question.id in missing), fields[0])
        target.control.focus()

    def _answers(self) -> dict:
        return questionnaire_answers(self.workspace.visits.answers(self.visit.id))

    def _apply_visibility(self) -> None:
        visible = {q.id for q in visible_questions(self.questionnaire, self._answers())}
        sections: dict[str, bool] = {}
        for field in self.query(QuestionField):
            shown = field.question.id in visible
            field.display = shown
            sections[field.question.section] = sections.get(field.question.section, False) or shown
        for title in self.query(".section-title"):
            question_id = title.id.removeprefix("section-")
            title.display = sections[self.questionnaire.question(question_id).section]

    def on_question_field_edited(self, event: QuestionField.Edited) -> None:
        field = event.field
        if not self.save_field(field, event.raw):
            return
        if any(q.show_if and q.show_if.question == field.question.id for q in self.questionnaire.questions):
            self._apply_visibility()

    def show_pending(self) -> None:
        """Each field says whether its value waits to be saved (after a retry, the message clears)."""
        pending = self.workspace.pending
        for field in self.query(QuestionField):
            write = pending.get(self.visit.id, question_key(field.question.id))
            if write is not None:
                field.show_not_saved(not_saved_message(write.cause))
            elif field.not_saved:
                field.show_error("")

    def can_leave_forward(self) -> bool:
        missing = {q.id for q in missing_answers(self.questionnaire, self._answers())}
        for field in self.query(QuestionField):
            if field.question.id in missing and not field.invalid:
                field.show_error("Réponse obligatoire.")
        blocking = [f for f in self.query(QuestionField) if f.display and f.invalid]
        if not blocking:
            return True
        blocking[0].control.focus()
        blocking[0].scroll_visible()
        count = len(blocking)
        what = "réponse à corriger ou à compléter" if count == 1 else "réponses à corriger ou à compléter"
        self.notify(f"{count} {what} avant la classification.", severity="error")
        return False
