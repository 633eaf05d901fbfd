"""The Structure field of « Nouvelle visite », completed from the imported FINESS structures.

As the AT types, a thread worker queries the structures (a read connection of its
own: no keystroke waits on SQLite) and the matches show in a list right under the
field. The field keeps the focus: ↓ ↑ move in the list, Entrée picks, Échap closes
it, typing goes on in the field. A result for a text that is no longer the field's
value is dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.table import Table
from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from at_tui.domain.redaction import printable
from at_tui.importers.finess import FinessStructure

MAX_SUGGESTIONS = 8

Search = Callable[[str], Sequence[FinessStructure]]


def wants_completion(text: str) -> bool:
    """Complete from 2 characters, or from the first digit of a FINESS number."""
    typed = text.strip()
    return len(typed) >= 2 or typed[:1].isdigit()


def suggestion_text(structure: FinessStructure) -> str:
    """« name — commune (dépt) — category label », what a row of the list says before the number."""
    place = f"{structure.commune} ({structure.departement})" if structure.commune else f"({structure.departement})"
    parts = [structure.name, place]
    if structure.category_label:
        parts.append(structure.category_label)
    return " — ".join(parts)


def suggestion_prompt(structure: FinessStructure) -> Table:
    """One row on one line whatever the width: the text cut with « … », the FINESS number always shown."""
    row = Table.grid(expand=True, padding=(0, 0, 0, 1))
    row.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
    row.add_column(no_wrap=True, justify="right", style="dim")
    row.add_row(Text(printable(suggestion_text(structure))), Text(printable(structure.finess)))  # data, not markup
    return row


class StructureSuggestions(OptionList):
    """The FINESS structures matching the Structure field. Never focused: the field keeps the focus."""

    DEFAULT_CSS = """
    StructureSuggestions {
        display: none;
        height: auto;
        max-height: 10;
        overlay: screen;
        constrain: none inside;
        border: round $accent;
        background: $surface;
        padding: 0;
    }
    """

    can_focus = False

    class Picked(Message):
        """The AT chose a structure of the list."""

        def __init__(self, structure: FinessStructure) -> None:
            super().__init__()
            self.structure = structure

    def __init__(self, search: Search, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.search = search
        self.field: Input | None = None  # set by StructureInput
        self.structures: list[FinessStructure] = []

    @property
    def is_open(self) -> bool:
        return self.display and bool(self.structures)

    # -- completing ----------------------------------------------------------------

    def complete(self, text: str) -> None:
        """Look for `text` in a worker; the list shows the result if the field still says `text`."""
        if not wants_completion(text):
            self.close()
            self.workers.cancel_group(self, "structure-suggestions")
            return
        self._query(text)

    @work(thread=True, exclusive=True, group="structure-suggestions", exit_on_error=False)
    def _query(self, text: str) -> None:
        found = list(self.search(text))
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._found, text, found)

    def _found(self, text: str, found: list[FinessStructure]) -> None:
        field = self.field
        if not self.is_attached or field is None or field.value != text or self.screen.focused is not field:
            return  # stale: the AT typed on, picked a structure or left the field
        self.show(found)

    def show(self, structures: Sequence[FinessStructure]) -> None:
        self.structures = list(structures[:MAX_SUGGESTIONS])
        self.clear_options()
        if not self.structures:
            self.display = False
            return
        self.add_options(Option(suggestion_prompt(s), id=s.finess) for s in self.structures)
        self.highlighted = None
        self.display = True
        self.screen.refresh_bindings()

    def close(self) -> None:
        if self.display:
            self.display = False
            self.screen.refresh_bindings()

    # -- choosing ------------------------------------------------------------------

    def move(self, step: int) -> None:
        """↓ from the field enters the list at its first row; ↑ from the first row goes back to the field."""
        if not self.structures:
            return
        current = self.highlighted
        if current is None:
            self.highlighted = 0 if step > 0 else None
        else:
            target = current + step
            self.highlighted = None if target < 0 else min(target, len(self.structures) - 1)

    def pick(self) -> bool:
        """Pick the highlighted row; False when none is."""
        index = self.highlighted
        if not self.is_open or index is None:
            return False
        structure = self.structures[index]
        self.close()
        self.post_message(self.Picked(structure))
        return True

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """A click on a row."""
        event.stop()
        self.highlighted = event.option_index
        self.pick()

    def on_mount(self) -> None:
        self.watch(self.screen, "focused", self._focus_moved, init=False)

    def _focus_moved(self, focused) -> None:
        # Another field: the list closes. A click on the list may focus the scrolling form: it stays.
        if focused is not None and focused is not self.field and focused not in self.ancestors:
            self.close()


class StructureInput(Input):
    """The Structure field: its arrows, Entrée and Échap drive the suggestion list while it is open."""

    BINDINGS = [
        Binding("down", "suggestion(1)", "Suggestions", key_display="↓↑", id="structure.next"),
        Binding("up", "suggestion(-1)", "Suggestion précédente", show=False, id="structure.previous"),
        Binding("enter", "pick", "Choisir", id="structure.pick"),
        Binding("enter", "submit", "Valider", show=False),
        Binding("escape", "close_suggestions", "Fermer la liste", id="structure.close"),
    ]

    def __init__(self, suggestions: StructureSuggestions, **kwargs) -> None:
        super().__init__(**kwargs)
        self.suggestions = suggestions
        suggestions.field = self

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ("suggestion", "close_suggestions"):
            return self.suggestions.is_open
        if action == "pick":
            return self.suggestions.is_open and self.suggestions.highlighted is not None
        return super().check_action(action, parameters)

    def action_suggestion(self, step: int) -> None:
        self.suggestions.move(step)
        self.screen.refresh_bindings()  # Entrée « Choisir » only with a row highlighted

    def action_pick(self) -> None:
        self.suggestions.pick()

    def action_close_suggestions(self) -> None:
        self.suggestions.close()
