"""Modal: quitting while some typed values could not be saved yet — which, why, and a choice."""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from at_tui.widgets.key_bar import KeyBar


class UnsavedQuitScreen(ModalScreen[bool]):
    """Returns True to quit anyway (the listed values are lost), False to stay."""

    CSS_PATH = "screens.tcss"

    BINDINGS = [
        Binding("o", "leave", "Quitter quand même", id="unsaved.leave"),
        Binding("escape", "stay", "Rester", id="unsaved.stay"),
        Binding("n", "stay", "Rester", id="unsaved.no", show=False),
    ]

    def __init__(self, lines: list[str], cause: str) -> None:
        super().__init__()
        self.lines = lines
        self.cause = cause

    def compose(self) -> ComposeResult:
        listed = "\n".join(f"  • {escape(line)}" for line in self.lines)
        with Vertical(id="dialog"):
            yield Static("[b]Des saisies ne sont pas enregistrées[/b]", classes="section-title")
            yield Static(
                f"Cause : {escape(self.cause)}. Ces champs ne sont pas dans la base :\n{listed}\n\n"
                "Si vous quittez maintenant, ces valeurs seront perdues. Restez pour laisser "
                "at-tui réessayer (toutes les 5 secondes) une fois le problème réglé.",
                id="unsaved-list",
            )
            yield Static("[b]o[/b] : quitter quand même · [b]Échap[/b] : rester", classes="form-hint")
        yield KeyBar()

    def action_leave(self) -> None:
        self.dismiss(True)

    def action_stay(self) -> None:
        self.dismiss(False)
