"""The bottom line of every screen: the keys that work here, as one line of text.

Textual's Footer mounts a widget per key and recomposes on every focus change;
drawn as text, the same information costs a fraction of the start-up time. When
the keys do not fit the terminal's width, they take a second line; the palette's key
(Ctrl+P) is always shown, on the right of the last line.
"""

from __future__ import annotations

from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static


class KeyBar(Static):
    DEFAULT_CSS = """
    KeyBar { dock: bottom; height: auto; max-height: 3; background: $footer-background; color: $footer-foreground; }
    """

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._draw()

    def _bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen:
            self._draw()

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        app = self.app
        parts: list[Content] = []
        palette = None
        seen: set[str] = set()
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if binding.action in ("command_palette", "app.command_palette"):
                palette = binding
                continue
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            key = Content.styled(f" {app.get_key_display(binding)} ", "bold $footer-key-foreground")
            part = key + Content(f"{binding.description} ")
            parts.append(part.stylize("dim") if not enabled else part)
        width = self.size.width or 80
        lines = _wrap(parts, width)
        if palette is not None and app.ENABLE_COMMAND_PALETTE:
            right = Content.styled(f" {app.get_key_display(palette)}", "bold $footer-key-foreground") + Content(
                " palette "
            )
            room = width - lines[-1].cell_length - right.cell_length
            if room > 0:
                lines[-1] = lines[-1] + Content(" " * room) + right
            else:  # never dropped: the palette is how the AT finds every other command
                lines.append(Content(" " * max(0, width - right.cell_length)) + right)
        self.update(Content("\n").join(lines))


def _wrap(parts: list[Content], width: int) -> list[Content]:
    """The keys on as few lines as the width allows (a narrow terminal gets a second line)."""
    lines: list[Content] = [Content("")]
    for part in parts:
        if lines[-1].cell_length and lines[-1].cell_length + part.cell_length > width:
            lines.append(Content(""))
        lines[-1] = lines[-1] + part
    return lines
