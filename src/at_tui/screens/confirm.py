"""Modal questions answered by one key: `o` does it, Échap (or `n`) does not.

One pattern for every « are you sure? » of the app: quitting with unsaved values
(unsaved_quit), archiving a visit, leaving a new-visit form that holds typed text.
Échap is always the safe answer: pressed twice by habit, it never loses anything.
"""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from at_tui.widgets.key_bar import KeyBar


class ConfirmScreen(ModalScreen[bool]):
    """Returns True when the AT confirms, False otherwise. Subclasses name the keys in BINDINGS
    (actions `confirm` and `cancel`); `body` is markup whose outside text is already escaped."""

    CSS_PATH = "screens.tcss"
    # Its key bar covers the whole of the screen's below (two lines at 80 columns): no key of
    # that screen, which does nothing while the question is asked, shows under it.
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen KeyBar { min-height: 2; }
    """

    BINDINGS = [
        Binding("o", "confirm", "Confirmer", id="confirm.yes"),
        Binding("escape", "cancel", "Annuler", id="confirm.no"),
        Binding("n", "cancel", "Annuler", id="confirm.no_key", show=False),
    ]

    def __init__(self, title: str, body: str, hint: str, *, body_id: str = "confirm-body") -> None:
        super().__init__()
        self.title_text = title
        self.body = body
        self.hint = hint
        self.body_id = body_id

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(f"[b]{self.title_text}[/b]", classes="section-title")
            yield Static(self.body, id=self.body_id)
            yield Static(self.hint, classes="form-hint")
        yield KeyBar()

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


class ArchiveVisitScreen(ConfirmScreen):
    """« Archiver la visite … ? », naming the visit: it leaves the Accueil, nothing is deleted."""

    BINDINGS = [
        Binding("o", "confirm", "Archiver", id="archive.yes"),
        Binding("escape", "cancel", "Annuler", id="archive.no"),
        Binding("n", "cancel", "Annuler", id="archive.no_key", show=False),
    ]

    def __init__(self, name: str) -> None:
        """`name`: the visit as the Accueil shows it (structure, département, date), already escaped."""
        super().__init__(
            "Archiver la visite ?",
            f"Archiver « {name} » ?\n\n"
            "Elle quitte la liste de l'accueil mais n'est pas supprimée : elle reste dans la base "
            "et dans les exports, et se restaure depuis les visites archivées ([b]v[/b] puis [b]x[/b]). "
            "Une visite jamais envoyée au central ne lui est pas envoyée tant qu'elle est archivée.",
            "[b]o[/b] : archiver · [b]Échap[/b] : annuler",
            body_id="archive-text",
        )


class DiscardTypedScreen(ConfirmScreen):
    """« Abandonner la saisie ? »: leaving a form that holds typed text not saved yet (a new
    visit, an activity being recorded)."""

    BINDINGS = [
        Binding("o", "confirm", "Abandonner", id="discard.yes"),
        Binding("escape", "cancel", "Continuer la saisie", id="discard.no"),
        Binding("n", "cancel", "Continuer la saisie", id="discard.no_key", show=False),
    ]

    def __init__(self, fields: list[str], unsaved: str = "La visite n'est pas encore créée") -> None:
        """`fields`: the labels of the fields that hold text; `unsaved`: what is not saved yet."""
        listed = escape(", ".join(fields))
        super().__init__(
            "Abandonner la saisie ?",
            f"Le formulaire contient du texte saisi ({listed}). {unsaved} : si vous quittez, ce texte est perdu.",
            "[b]o[/b] : abandonner · [b]Échap[/b] : continuer la saisie",
            body_id="discard-text",
        )
