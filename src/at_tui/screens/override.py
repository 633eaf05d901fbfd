"""Modal: the AT overrides the computed classification, with a written justification."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import RadioButton, RadioSet, Static, TextArea

from at_tui.domain.classification import OFFER_LABELS, Offer
from at_tui.domain.text import FieldError, clean_text
from at_tui.widgets.error_line import ErrorLine
from at_tui.widgets.key_bar import KeyBar

COMPUTED = "calculee"


class OverrideScreen(ModalScreen[tuple[str | None, str | None] | None]):
    """Returns (offer, justification), (None, None) to restore the computed one, or None."""

    CSS_PATH = "screens.tcss"

    BINDINGS = [
        Binding("ctrl+s", "save", "Enregistrer", id="override.save", priority=True),
        Binding("escape", "cancel", "Annuler", id="override.cancel"),
    ]

    def __init__(self, computed: Offer, current: str | None, justification: str | None) -> None:
        super().__init__()
        self.computed = computed
        self.current = current
        self.justification = justification or ""

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static("[b]Modifier la classification[/b]", classes="section-title")
            yield Static("Classification retenue :")
            buttons = [
                RadioButton(
                    f"Classification calculée ({OFFER_LABELS[self.computed]})",
                    value=self.current is None,
                    name=COMPUTED,
                )
            ]
            buttons += [
                RadioButton(label, value=offer.value == self.current, name=offer.value)
                for offer, label in OFFER_LABELS.items()
                if offer != self.computed
            ]
            yield RadioSet(*buttons, id="offer")
            yield Static("Justification (obligatoire pour une autre classification, gardée avec la visite) :")
            yield TextArea(self.justification, id="justification", soft_wrap=True, tab_behavior="focus")
            yield ErrorLine(id="override-error")
            # Inside the dialog: docked at the screen's bottom it would cover the keys of the
            # screen behind with its own, one line over two (see screens.tcss, .dialog-keys).
            yield KeyBar(classes="dialog-keys")

    def on_mount(self) -> None:
        self.query_one("#offer", RadioSet).focus()

    def action_save(self) -> None:
        radio = self.query_one("#offer", RadioSet)
        error = self.query_one("#override-error", ErrorLine)
        choice = radio.pressed_button.name if radio.pressed_button else None
        if choice is None:
            error.show("Choisissez la classification retenue.")
            return
        if choice == COMPUTED:
            self.dismiss((None, None))
            return
        try:
            text = clean_text(self.query_one("#justification", TextArea).text, multiline=True, max_length=2000)
        except FieldError as problem:
            error.show(str(problem))
            return
        if not text:
            error.show("Écrivez pourquoi la classification calculée ne convient pas.")
            self.query_one("#justification", TextArea).focus()
            return
        self.dismiss((choice, text))

    def action_cancel(self) -> None:
        self.dismiss(None)
