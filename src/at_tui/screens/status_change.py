"""« Statut »: move the opportunity to one of the statuses its lifecycle allows next.

« Sans suite » asks why (it is not in the slides: a pipeline needs a close without
deployment, with its reason). The lifecycle's own refusal (at_tui.domain.opportunity.
TransitionError, in French) is shown in the dialog; nothing is written then.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import RadioButton, RadioSet, Static, TextArea

from at_tui.domain.lifecycle import Lifecycle
from at_tui.domain.opportunity import Opportunity
from at_tui.domain.text import FieldError, clean_text
from at_tui.screens.confirm import ConfirmScreen
from at_tui.widgets.error_line import ErrorLine
from at_tui.widgets.key_bar import KeyBar
from at_tui.widgets.safe_text import markup

REASON_MAX = 1000

# save(target, reason) → None when done, else the French reason it was not.
SaveStatus = Callable[[str, str | None], str | None]


class StatusChangeScreen(ModalScreen[str | None]):
    """Returns the new status once `save` accepted it, None on Échap."""

    CSS_PATH = "screens.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", "Changer le statut", id="status.save", priority=True),
        Binding("escape", "cancel", "Annuler", id="status.cancel"),
    ]

    def __init__(self, opportunity: Opportunity, lifecycle: Lifecycle, save: SaveStatus) -> None:
        super().__init__()
        self.opportunity = opportunity
        self.lifecycle = lifecycle
        self.save = save
        self.targets = [lifecycle.status(s) for s in lifecycle.status(opportunity.status).next]

    def compose(self) -> ComposeResult:
        current = self.lifecycle.status_label(self.opportunity.status)
        with Vertical(id="dialog"):
            yield Static("[b]Changer le statut[/b]", classes="section-title")
            yield Static(f"Statut actuel : [b]{markup(current)}[/b]. Passer à :")
            yield RadioSet(*(RadioButton(markup(s.label), name=s.id, value=i == 0) for i, s in enumerate(self.targets)),
                           id="target")
            needs = [markup(s.label) for s in self.targets if s.reason_required]
            hint = f" (obligatoire pour « {' », « '.join(needs)} »)" if needs else ""
            yield Static(f"Raison{hint} :", classes="question-label")
            yield TextArea("", id="reason", soft_wrap=True, tab_behavior="focus")
            yield ErrorLine(id="status-error")
            yield KeyBar(classes="dialog-keys")

    def on_mount(self) -> None:
        self.query_one("#target", RadioSet).focus()

    def action_save(self) -> None:
        error = self.query_one("#status-error", ErrorLine)
        pressed = self.query_one("#target", RadioSet).pressed_button
        if pressed is None:
            error.show("Choisissez le nouveau statut.")
            return
        try:
            reason = clean_text(self.query_one("#reason", TextArea).text, multiline=True, max_length=REASON_MAX)
        except FieldError as problem:
            error.show(str(problem))
            return
        refused = self.save(str(pressed.name), reason or None)
        if refused:
            error.show(markup(refused))
            if self.lifecycle.status(str(pressed.name)).reason_required and not reason:
                self.query_one("#reason", TextArea).focus()
            return
        self.dismiss(str(pressed.name))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmStatusScreen(ConfirmScreen):
    """« Passer l'opportunité à « Terminé » ? » after an M+6 whose usages are « en run »."""

    BINDINGS = [
        Binding("o", "confirm", "Confirmer", id="status-confirm.yes"),
        Binding("escape", "cancel", "Plus tard", id="status-confirm.no"),
        Binding("n", "cancel", "Plus tard", id="status-confirm.no_key", show=False),
    ]

    def __init__(self, label: str, activity: str) -> None:
        """`label`: the proposed status; `activity`: the activity that proposes it (escaped)."""
        super().__init__(
            f"Passer l'opportunité à « {markup(label)} » ?",
            f"« {activity} » dit que les usages sont en run : le processus SPICO demande alors de passer "
            f"l'opportunité au statut « {markup(label)} ». Plus tard, le statut se change avec [b]t[/b].",
            "[b]o[/b] : confirmer · [b]Échap[/b] : plus tard",
            body_id="status-confirm-text",
        )
