"""« Maillage »: pick a partner named at the last follow-up, or type one, to visit next.

Seed 000, « 6. Suivi des usages — Actions »: « Développer le maillage territorial ». The
partners come from the latest « Suivi des usages » answer `partenaires_maillage` (one per
line); the chosen name opens « Nouvelle visite » prefilled as a maillage visit.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static

from at_tui.domain.opportunity import JournalEntry, current_entries
from at_tui.domain.text import FieldError, clean_text
from at_tui.widgets.error_line import ErrorLine
from at_tui.widgets.key_bar import KeyBar
from at_tui.widgets.safe_text import markup

PARTNERS_QUESTION = "partenaires_maillage"


def named_partners(entries: Iterable[JournalEntry]) -> list[str]:
    """The partners of the latest entry that names some, one per line, in the order written."""
    for entry in reversed(current_entries(entries)):
        value = entry.answers.get(PARTNERS_QUESTION)
        if isinstance(value, str) and value.strip():
            lines = (line.strip(" \t-•*") for line in value.splitlines())
            return list(dict.fromkeys(line for line in lines if line))
    return []


class MaillagePartnerScreen(ModalScreen[str | None]):
    """Returns the partner's name (picked or typed), None on Échap."""

    CSS_PATH = "screens.tcss"
    BINDINGS = [
        Binding("escape", "cancel", "Annuler", id="maillage.cancel"),
    ]

    def __init__(self, partners: list[str]) -> None:
        super().__init__()
        self.partners = partners

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static("[b]Maillage : nouvelle visite pour un partenaire[/b]", classes="section-title")
            if self.partners:
                yield Static("Partenaires nommés au dernier suivi ([b]Entrée[/b] pour choisir) :")
                yield OptionList(*(markup(p) for p in self.partners), id="partners")
            else:
                yield Static("[dim]Aucun partenaire nommé dans les suivis.[/dim]")
            yield Static("Ou un autre partenaire (nom, puis [b]Entrée[/b]) :", classes="question-label")
            yield Input(placeholder="Nom de la structure partenaire", id="partner-name", compact=True)
            yield ErrorLine(id="partner-error")
            yield KeyBar(classes="dialog-keys")

    def on_mount(self) -> None:
        self.query_one("#partners" if self.partners else "#partner-name").focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.partners[event.option_index])

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            name = clean_text(event.value, max_length=200)
        except FieldError as problem:
            self.query_one("#partner-error", ErrorLine).show(str(problem))
            return
        if not name:
            self.query_one("#partner-error", ErrorLine).show("Indiquez le nom du partenaire.")
            return
        self.dismiss(name)

    def action_cancel(self) -> None:
        self.dismiss(None)
