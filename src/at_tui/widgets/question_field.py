"""One question of a questionnaire: its label, the right control for its type, its error line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, RadioButton, RadioSet, SelectionList, Static, TextArea

from at_tui.domain.playbook import Question
from at_tui.widgets.error_line import ErrorLine
from at_tui.widgets.wrapping import WrappingRadioButton, WrappingSelectionList


class QuestionField(Vertical):
    """Posts `QuestionField.Edited` with the raw value each time the AT changes it."""

    @dataclass
    class Edited(Message):
        field: QuestionField
        raw: Any

    def __init__(self, question: Question, value: Any) -> None:
        super().__init__(id=f"field-{question.id}", classes="question")
        self.question = question
        self.initial = value
        self._ticked = set(value) if isinstance(value, list) else set()

    def compose(self) -> ComposeResult:
        question = self.question
        mark = " [b $error]*[/]" if question.required else ""
        yield Static(escape(question.label) + mark, classes="question-label")
        if question.help:
            yield Static(escape(question.help), classes="question-help")
        yield self._control()
        yield ErrorLine()

    def _control(self):
        question, value = self.question, self.initial
        control_id = f"answer-{question.id}"
        # A stored value of another type (an older questionnaire, content pulled from the central)
        # is shown as text rather than stopping the screen from drawing.
        text = "" if value is None else value if isinstance(value, str) else str(value)
        if question.type == "text":
            return Input(value=text, id=control_id, placeholder="Votre réponse", compact=True)
        if question.type == "integer":
            return Input(value=text, id=control_id, placeholder="Nombre (ex. 12)", compact=True)
        if question.type == "long_text":
            return TextArea(text, id=control_id, soft_wrap=True, tab_behavior="focus", classes="long-text")
        if question.type == "yes_no":
            return RadioSet(
                RadioButton("Oui", value=value is True, id=f"{control_id}-oui"),
                RadioButton("Non", value=value is False, id=f"{control_id}-non"),
                id=control_id,
                classes="yes-no",
            )
        if question.type == "single_choice":
            return RadioSet(
                *(
                    WrappingRadioButton(escape(c.label), value=value == c.value, name=c.value)
                    for c in question.choices
                ),
                id=control_id,
            )
        selected = {v for v in value if isinstance(v, str)} if isinstance(value, list) else set()
        return WrappingSelectionList(
            *((escape(c.label), c.value, c.value in selected) for c in question.choices),
            id=control_id,
        )

    @property
    def control(self):
        return self.query_one(f"#answer-{self.question.id}")

    def show_error(self, message: str) -> None:
        self.query_one(ErrorLine).show(message)
        self.set_class(bool(message), "-field-error")
        self.remove_class("-not-saved")

    def show_not_saved(self, message: str) -> None:
        """The value is valid but waits to be saved: said in the error line, without blocking
        the way forward (it is kept and retried, see at_tui.store.pending_writes)."""
        self.query_one(ErrorLine).show(message)
        self.remove_class("-field-error")
        self.add_class("-not-saved")

    @property
    def not_saved(self) -> bool:
        return self.has_class("-not-saved")

    @property
    def invalid(self) -> bool:
        return self.has_class("-field-error")

    # -- control events → Edited ------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Edited(self, event.value))

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self.post_message(self.Edited(self, event.text_area.text))

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        button = event.pressed
        if self.question.type == "yes_no":
            raw: Any = button.id.endswith("-oui")
        else:
            raw = button.name
        self.post_message(self.Edited(self, raw))

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged) -> None:
        event.stop()
        selection = event.selection_list
        chosen = list(selection.selected)
        none = self.question.none_choice
        if none is not None and none.value in chosen and len(chosen) > 1:
            # « Aucune » excludes the other choices: the one just ticked wins, the others untick
            # (each untick posts SelectedChanged again, with the coherent selection).
            keep_none = none.value not in self._ticked
            for value in chosen:
                if (value == none.value) != keep_none:
                    selection.deselect(value)
            return
        self._ticked = set(chosen)
        self.post_message(self.Edited(self, chosen))

