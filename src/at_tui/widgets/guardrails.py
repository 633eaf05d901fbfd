"""The guardrails of an argumentaire sheet: warnings the AT ticks one by one to acknowledge them."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.geometry import Size
from textual.widgets import Checkbox, Static

from at_tui.domain.argumentaire import Sheet
from at_tui.widgets.safe_text import markup

ACK_PREFIX = "ack-"


class GuardrailCheckbox(Checkbox):
    """A Checkbox whose long label wraps under itself (Textual's stays on one line)."""

    def _label_lines(self, width: int) -> list[Content]:
        room = width - self._button.cell_length - 2  # a space before the label, one after
        return self._label.wrap(max(room, 10))

    def render(self) -> Content:
        button = self._button
        label_style = self.get_visual_style("toggle--label")
        lines = [line.pad(0, 1).stylize_before(label_style) for line in self._label_lines(self.size.width)]
        indent = " " * (button.cell_length + 1)
        first = Content.assemble(button, " ", lines[0])
        return Content("\n").join([first, *(Content(indent) + line for line in lines[1:])])

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._label_lines(width))


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
