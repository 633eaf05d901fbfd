"""The card of one contact: every known field, its source and when it was last checked."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from at_tui.domain.lookup import Entry
from at_tui.domain.visit import format_date
from at_tui.widgets.key_bar import KeyBar
from at_tui.widgets.safe_text import markup


class ContactCard(ModalScreen):
    CSS_PATH = "screens.tcss"
    offers_lookup = False
    BINDINGS = [
        Binding("escape", "close", "Fermer", id="card.close"),
        Binding("c", "copy_email", "Copier l'e-mail", id="card.copy"),
        Binding("t", "copy_phone", "Copier le téléphone", id="card.phone"),
    ]

    def __init__(self, entry: Entry) -> None:
        super().__init__()
        self.entry = entry

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="card"):
            yield Static(f"[b]{markup(self.entry.name)}[/b]", id="card-title")
            yield Static(_card_text(self.entry), id="card-body")
            yield KeyBar(classes="dialog-keys")  # in the card: the lookup's keys stay readable behind

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "copy_email":
            return bool(self.entry.email)
        if action == "copy_phone":
            return bool(self.entry.phone)
        return True

    def action_copy_email(self) -> None:
        copy_email(self.app, self.entry)

    def action_copy_phone(self) -> None:
        if self.entry.phone:
            self.app.copy_to_clipboard(self.entry.phone)
            self.app.notify(f"Numéro copié : {markup(self.entry.phone)}", title="Presse-papiers")

    def action_close(self) -> None:
        self.app.pop_screen()


def _card_text(entry: Entry) -> str:
    rows = [
        ("Type", entry.kind_label),
        ("Structure", entry.organisation),
        ("Rôle", entry.role),
        ("Département(s)", entry.departement_text),
        ("Secteur", entry.sector),
        ("Commune", entry.commune),
        ("E-mail", entry.email),
        ("Téléphone", entry.phone),
        ("Site", entry.url),
        ("Remarque", entry.notes),
        ("Source", entry.source),
        ("Vérifié le" if entry.kind != "professionnel" else "Importé le",
         format_date(entry.last_checked) if entry.last_checked else None),
    ]
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"[dim]{label:<{width}}  [/dim]{markup(value)}" for label, value in rows if value)


def copy_email(app, entry: Entry | None) -> None:
    """Copy an entry's e-mail with Textual's copy_to_clipboard (OSC 52: works over SSH)."""
    if entry is None:
        app.notify("Aucun contact sélectionné.", severity="warning")
    elif not entry.email:
        app.notify(f"Pas d'adresse e-mail connue pour {markup(entry.name)}.", severity="warning")
    else:
        app.copy_to_clipboard(entry.email)
        app.notify(f"Adresse copiée : {markup(entry.email)}", title="Presse-papiers")
