"""The bottom line of every screen: the keys that work here, as one line of text.

Textual's Footer mounts a widget per key and recomposes on every focus change;
drawn as text, the same information costs a fraction of the start-up time.
"""

from __future__ import annotations

from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static


class KeyBar(Static):
    DEFAULT_CSS = """
    KeyBar { dock: bottom; height: 1; background: $footer-background; color: $footer-foreground; }
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
        line = Content("").join(parts)
        if palette is not None and app.ENABLE_COMMAND_PALETTE:
            right = Content.styled(f" {app.get_key_display(palette)}", "bold $footer-key-foreground") + Content(
                " palette "
            )
            room = (self.size.width or 80) - line.cell_length - right.cell_length
            if room > 0:  # else the keys of this screen matter more; F1 lists everything
                line = line + Content(" " * room) + right
        self.update(line)
