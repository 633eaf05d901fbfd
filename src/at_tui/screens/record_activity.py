"""« Enregistrer une activité » (and « Corriger »): one journal entry, with its form when it has one.

The activities offered are those the AT may record now (the lead's, the support's or either
side's, a once-only one not done yet), in the order of the steps. The follow-up form
(« Suivi des usages » at M+1, M+3, M+6), the fiche de cadrage and the témoignage are data,
drawn with the Recueil's QuestionField. Nothing is written until Ctrl+S, and then in one
transaction (the caller's `save`): a failed write leaves the dialog open with all that was typed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Select, Static, TextArea

from at_tui.domain.answers import missing_required, parse_answer, visible_questions
from at_tui.domain.lifecycle import Activity
from at_tui.domain.opportunity import JournalEntry
from at_tui.domain.playbook import Questionnaire
from at_tui.domain.text import FieldError, clean_text
from at_tui.domain.visit import format_date, parse_visit_date
from at_tui.widgets.error_line import ErrorLine
from at_tui.widgets.key_bar import KeyBar
from at_tui.widgets.question_field import QuestionField
from at_tui.widgets.safe_text import markup

TEXT_MAX = 4000


@dataclass(frozen=True)
class Recording:
    """What the AT recorded: saved by the caller as one journal entry."""

    activity: str
    day: str  # ISO
    text: str
    answers: dict[str, Any] = dataclasses.field(default_factory=dict)
    supersedes: str | None = None


class RecordActivityScreen(ModalScreen[Recording | None]):
    """Returns the Recording once `save` accepted it, None on Échap."""

    CSS_PATH = "screens.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", "Enregistrer", id="record.save", priority=True),
        Binding("escape", "cancel", "Annuler", id="record.cancel"),
    ]

    def __init__(self, activities: list[Activity], form_for: Callable[[str], Questionnaire | None],
                 today: dt.date, save: Callable[[Recording], bool], *, default: str | None = None,
                 correcting: JournalEntry | None = None) -> None:
        super().__init__()
        self.activities = activities
        self.form_for = form_for
        self.today = today
        self.save = save
        self.correcting = correcting
        self.activity_id = correcting.activity if correcting else (
            default if default in {a.id for a in activities} else activities[0].id)
        self.initial: Mapping[str, Any] = dict(correcting.answers) if correcting else {}
        self.raw: dict[str, Any] = {}

    @property
    def activity(self) -> Activity:
        return next(a for a in self.activities if a.id == self.activity_id)

    @property
    def form(self) -> Questionnaire | None:
        return self.form_for(self.activity_id)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="record-dialog"):
            if self.correcting:
                title = (f"Corriger « {markup(self.correcting.title)} » du {format_date(self.correcting.day)} — "
                         "une nouvelle entrée remplace l'ancienne (gardée)")
            else:
                title = "Enregistrer une activité"
            yield Static(f"[b]{title}[/b]", classes="section-title")
            with VerticalScroll(id="record-body"):
                if not self.correcting:
                    with Horizontal(classes="form-row"):
                        yield Static("Activité", classes="form-label")
                        yield Select([(Content(a.title), a.id) for a in self.activities], value=self.activity_id,
                                     allow_blank=False, id="activity", compact=True)
                with Horizontal(classes="form-row"):
                    yield Static("Jour [b $error]*[/]", classes="form-label")
                    day = self.correcting.day if self.correcting else self.today.isoformat()
                    yield Input(format_date(day), placeholder="JJ/MM/AAAA", id="day", compact=True)
                yield ErrorLine(id="day-error", classes="form-error")
                yield Static("Compte rendu", classes="question-label")
                yield TextArea(self.correcting.text if self.correcting else "", id="text", soft_wrap=True,
                               tab_behavior="focus")
                yield ErrorLine(id="text-error")
                yield Vertical(*self._fields(), id="form-fields")
            yield ErrorLine(id="record-error")
            yield KeyBar(classes="dialog-keys")

    def _fields(self) -> list[Static | QuestionField]:
        form = self.form
        if form is None:
            return []
        widgets: list[Static | QuestionField] = [
            Static(f"[b]{markup(form.title)}[/b] — [b $error]*[/] réponse obligatoire", classes="section-title")]
        section = None
        for question in form.questions:
            if question.section != section:
                section = question.section
                widgets.append(Static(markup(section), classes="form-section", name=section))
            widgets.append(QuestionField(question, self.initial.get(question.id)))
        return widgets

    def on_mount(self) -> None:
        self._apply_visibility()
        self.query_one("#dialog").set_class(self.form is not None, "-with-form")
        self.query_one("#day" if self.correcting else "#activity").focus()

    async def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id != "activity" or event.value == self.activity_id or event.value is Select.NULL:
            return
        self.activity_id = str(event.value)
        self.raw = {}
        box = self.query_one("#form-fields", Vertical)
        await box.remove_children()
        await box.mount_all(self._fields())
        self.query_one("#dialog").set_class(self.form is not None, "-with-form")
        self._apply_visibility()

    def on_question_field_edited(self, event: QuestionField.Edited) -> None:
        self.raw[event.field.question.id] = event.raw
        if event.field.invalid:
            self._parse_one(event.field)
        self._apply_visibility()

    # -- answers -------------------------------------------------------------------

    def _value(self, field: QuestionField) -> Any:
        return self.raw.get(field.question.id, field.initial)

    def _parse_one(self, field: QuestionField) -> tuple[bool, Any]:
        try:
            value = parse_answer(field.question, self._value(field))
        except FieldError as problem:
            field.show_error(str(problem))
            return False, None
        field.show_error("")
        return True, value

    def _best_effort(self) -> dict[str, Any]:
        answers = {}
        for field in self.query(QuestionField):
            try:
                answers[field.question.id] = parse_answer(field.question, self._value(field))
            except FieldError:
                continue
        return answers

    def _apply_visibility(self) -> None:
        form = self.form
        if form is None:
            return
        visible = {q.id for q in visible_questions(form, self._best_effort())}
        shown_sections = set()
        for field in self.query(QuestionField):
            field.display = field.question.id in visible
            if field.display:
                shown_sections.add(field.question.section)
        for title in self.query(".form-section"):
            title.display = title.name in shown_sections

    def _answers(self) -> dict[str, Any] | None:
        """The parsed answers of the visible questions; None (fields marked) when one is wrong or missing."""
        form = self.form
        if form is None:
            return {}
        answers: dict[str, Any] = {}
        ok = True
        visible = {q.id for q in visible_questions(form, self._best_effort())}
        for field in self.query(QuestionField):
            if field.question.id not in visible:
                continue
            good, value = self._parse_one(field)
            ok = ok and good
            if good and value is not None:
                answers[field.question.id] = value
        missing = {q.id for q in missing_required(form, answers)}
        for field in self.query(QuestionField):
            if field.question.id in missing and not field.invalid:
                field.show_error("Réponse obligatoire.")
        if not ok or missing:
            first = next(f for f in self.query(QuestionField) if f.display and f.invalid)
            first.control.focus()
            first.scroll_visible()
            return None
        return answers

    # -- actions -------------------------------------------------------------------

    def action_save(self) -> None:
        error = self.query_one("#record-error", ErrorLine)
        day_error = self.query_one("#day-error", ErrorLine)
        raw_day = self.query_one("#day", Input).value
        try:
            if not raw_day.strip():
                raise FieldError("Indiquez le jour de l'activité (JJ/MM/AAAA).")
            day = parse_visit_date(raw_day)
        except FieldError as problem:
            day_error.show(str(problem))
            self.query_one("#day", Input).focus()
            error.show("Jour à corriger.")
            return
        day_error.show("")
        text_error = self.query_one("#text-error", ErrorLine)
        try:
            text = clean_text(self.query_one("#text", TextArea).text, multiline=True, max_length=TEXT_MAX)
        except FieldError as problem:
            text_error.show(str(problem))
            self.query_one("#text", TextArea).focus()
            error.show("Compte rendu à corriger.")
            return
        text_error.show("")
        answers = self._answers()
        if answers is None:
            error.show("Réponses du formulaire à corriger ou à compléter.")
            return
        error.show("")
        recording = Recording(self.activity_id, day, text, answers,
                              self.correcting.id if self.correcting else None)
        if self.save(recording):
            self.dismiss(recording)
        else:
            error.show("Rien n'a été enregistré : ce qui est saisi reste ici, réessayez (Ctrl+S).")

    def action_cancel(self) -> None:
        """Échap: nothing typed leaves at once; a report or form answers typed ask first (an
        activity is saved only by Ctrl+S)."""
        first_text = self.correcting.text if self.correcting else ""
        initial = {f.question.id: f.initial for f in self.query(QuestionField)}
        typed = (["compte rendu"] if self.query_one("#text", TextArea).text.strip() != first_text.strip() else []) + (
            ["réponses du formulaire"] if any(raw != initial.get(key) for key, raw in self.raw.items()) else [])
        if not typed:
            self.dismiss(None)
            return
        from at_tui.screens.confirm import DiscardTypedScreen

        self.app.push_screen(DiscardTypedScreen(typed, "L'activité n'est pas encore enregistrée"),
                             lambda leave: self.dismiss(None) if leave else None)
