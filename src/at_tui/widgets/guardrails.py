"""The guardrails of an argumentaire sheet: warnings the AT ticks one by one to acknowledge them."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Checkbox, Static

from at_tui.domain.argumentaire import Sheet
from at_tui.widgets.safe_text import markup
from at_tui.widgets.wrapping import WrappingCheckbox

ACK_PREFIX = "ack-"


class GuardrailCheckbox(WrappingCheckbox):
    """A guardrail to acknowledge: its long label wraps under itself."""


class GuardrailPanel(Vertical):
    """One Checkbox per guardrail (id `ack-<guardrail id>`), under a title counting what remains."""

    def __init__(self, sheet: Sheet, acknowledged: set[str], **kwargs) -> None:
        super().__init__(**kwargs)
        self.sheet = sheet
        self.acknowledged = acknowledged

    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="guardrails-title")
        for guardrail in self.sheet.guardrails:
            yield GuardrailCheckbox(
                markup(guardrail.text),
                value=guardrail.id in self.acknowledged,
                id=f"{ACK_PREFIX}{guardrail.id}",
                classes="guardrail",
            )

    def pending(self) -> list[Checkbox]:
        """The guardrails not acknowledged yet, in order."""
        return [box for box in self.query(Checkbox) if not box.value]

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        guardrail_id = (event.checkbox.id or "").removeprefix(ACK_PREFIX)
        if event.value:
            self.acknowledged.add(guardrail_id)
        else:
            self.acknowledged.discard(guardrail_id)
        self.query_one("#guardrails-title", Static).update(self._title())
        self.set_class(not self._remaining(), "-all-acknowledged")

    def on_mount(self) -> None:
        self.set_class(not self._remaining(), "-all-acknowledged")

    def _remaining(self) -> int:
        return sum(g.id not in self.acknowledged for g in self.sheet.guardrails)

    def _title(self) -> str:
        remaining = self._remaining()
        if not remaining:
            state = "tous confirmés"
        elif remaining == 1:
            state = "1 à confirmer avant de continuer"
        else:
            state = f"{remaining} à confirmer avant de continuer"
        return f"⚠ [b]Garde-fous[/b] — {state}\n[dim]Cochez chacun (Espace) pour indiquer que vous en avez pris connaissance.[/dim]"
