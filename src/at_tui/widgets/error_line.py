"""The French message shown under a field; takes no room while there is nothing to say."""

from __future__ import annotations

from textual.widgets import Static


class ErrorLine(Static):
    DEFAULT_CSS = """
    ErrorLine { color: $error; height: auto; display: none; }
    """

    def show(self, message: str) -> None:
        self.update(message)
        self.display = bool(message)
