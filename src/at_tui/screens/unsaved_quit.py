"""Modal: quitting while some typed values could not be saved yet — which, why, and a choice."""

from __future__ import annotations

from rich.markup import escape
from textual.binding import Binding

from at_tui.screens.confirm import ConfirmScreen


class UnsavedQuitScreen(ConfirmScreen):
    """Returns True to quit anyway (the listed values are lost), False to stay."""

    BINDINGS = [
        Binding("o", "confirm", "Quitter quand même", id="unsaved.leave"),
        Binding("escape", "cancel", "Rester", id="unsaved.stay"),
        Binding("n", "cancel", "Rester", id="unsaved.no", show=False),
    ]

    def __init__(self, lines: list[str], cause: str) -> None:
        self.lines = lines
        self.cause = cause
        listed = "\n".join(f"  • {escape(line)}" for line in lines)
        super().__init__(
            "Des saisies ne sont pas enregistrées",
            f"Cause : {escape(cause)}. Ces champs ne sont pas dans la base :\n{listed}\n\n"
            "Si vous quittez maintenant, ces valeurs seront perdues. Restez pour laisser "
            "at-tui réessayer (toutes les 5 secondes) une fois le problème réglé.",
            "[b]o[/b] : quitter quand même · [b]Échap[/b] : rester",
            body_id="unsaved-list",
        )
