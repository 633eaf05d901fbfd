"""The opportunity's journal as it reads now: one focusable block per entry, newest first.

Newest first: the AT opens an opportunity to see what happened last and record what
follows; at 80×24 the latest entries are then on screen without scrolling. A superseded
entry is not shown (at_tui.domain.opportunity.current_entries); its correction is, marked.
The focused entry is the one `c` corrects; ↑/↓ move between entries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from at_tui.domain.answers import format_answer, visible_questions
from at_tui.domain.opportunity import JournalEntry, current_entries
from at_tui.domain.playbook import Questionnaire
from at_tui.domain.visit import format_date
from at_tui.widgets.safe_text import markup

FormFor = Callable[[str], Questionnaire | None]  # an activity id → its form, if it has one


def answers_summary(questionnaire: Questionnaire | None, answers: Mapping[str, Any]) -> list[str]:
    """« label : answer » for each answered question, in the form's order (unknown keys last, raw)."""
    if not answers:
        return []
    lines = []
    known = set()
    if questionnaire is not None:
        for question in visible_questions(questionnaire, answers):
            known.add(question.id)
            value = answers.get(question.id)
            if value is None:
                continue
            try:
                shown = format_answer(question, value)
            except (TypeError, ValueError, KeyError):  # a value of another type, from an older form
                shown = str(value)
            lines.append(f"{question.short or question.label} : {shown}")
    lines += [f"{key} : {value}" for key, value in answers.items() if key not in known and value is not None]
    return lines


def entry_text(entry: JournalEntry, form: Questionnaire | None, corrects: bool, at_login: str | None = None) -> str:
    """`at_login`: the opportunity's AT, named on her entries written before this laptop knew her login."""
    author = entry.author or (at_login if entry.role == "AT" else None)
    author = markup(author) if author else "auteur inconnu"
    side = f" ({markup(entry.role)})" if entry.role else ""
    mark = " [dim](correction)[/dim]" if corrects else ""
    lines = [f"[b]{format_date(entry.day)}[/b] · [b]{markup(entry.title)}[/b] · {author}{side}{mark}"]
    if entry.text:
        lines.append(markup(entry.text, multiline=True))
    lines += [f"[dim]•[/dim] {markup(line, multiline=True)}" for line in answers_summary(form, entry.answers)]
    return "\n".join(lines)


class JournalEntryView(Static, can_focus=True):
    BINDINGS = [
        Binding("down", "neighbour(1)", "Entrée suivante", show=False),
        Binding("up", "neighbour(-1)", "Entrée précédente", show=False),
    ]

    def __init__(self, entry: JournalEntry, text: str) -> None:
        super().__init__(text, classes="journal-entry")
        self.entry = entry

    def action_neighbour(self, step: int) -> None:
        entries = list(self.parent.query(JournalEntryView)) if self.parent else [self]
        index = entries.index(self) + step
        if 0 <= index < len(entries):
            entries[index].focus()
        elif step > 0:
            self.screen.focus_next()
        else:
            self.screen.focus_previous()


class JournalView(Vertical):
    DEFAULT_CSS = """
    JournalView { height: auto; }
    JournalEntryView { height: auto; padding: 0 1; margin: 1 0 0 0; border-left: outer $primary 40%; }
    JournalEntryView:focus { background: $primary 20%; border-left: outer $accent; }
    """

    def __init__(self, form_for: FormFor, **kwargs) -> None:
        super().__init__(**kwargs)
        self.form_for = form_for
        self.entries: list[JournalEntry] = []
        self.at_login: str | None = None

    def compose(self) -> ComposeResult:
        yield from self._views()

    def _views(self) -> list[JournalEntryView]:
        if not self.entries:
            return [JournalEntryView(None, "[dim]Journal vide.[/dim]")]  # type: ignore[arg-type]
        return [JournalEntryView(e, entry_text(e, self.form_for(e.activity), bool(e.supersedes), self.at_login))
                for e in reversed(self.entries)]

    def show(self, all_entries: list[JournalEntry], focus_id: str | None = None, at_login: str | None = None) -> None:
        """Redraw from the store's entries (superseded ones included, left out here). The focus
        goes to entry `focus_id` (one just recorded), else stays on the focused entry or moves
        to its correction."""
        focused = self.selected
        self.entries = current_entries(all_entries)
        self.at_login = at_login
        if not self.is_mounted:
            return
        wanted = {focus_id} if focus_id else {focused.id} if focused else set()
        self.call_later(self._redraw, wanted)

    async def _redraw(self, wanted: set[str]) -> None:
        await self.remove_children()
        views = self._views()
        await self.mount_all(views)
        target = next((v for v in views if v.entry is not None and wanted & {v.entry.id, v.entry.supersedes}), None)
        if target is not None:
            target.focus()

    @property
    def selected(self) -> JournalEntry | None:
        """The focused entry, if the focus is in the journal."""
        focused = self.screen.focused if self.is_mounted else None
        if isinstance(focused, JournalEntryView) and focused.parent is self:
            return focused.entry
        return None
