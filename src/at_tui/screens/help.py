"""The help screen: keys and the shape of a visit, from the packaged help.md."""

from __future__ import annotations

from importlib import resources

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from at_tui.widgets.key_bar import KeyBar


class HelpScreen(ModalScreen[None]):
    CSS_PATH = "screens.tcss"

    BINDINGS = [
        Binding("escape,f1,q", "close", "Fermer", id="help.close"),
    ]

    def compose(self) -> ComposeResult:
        text = (resources.files("at_tui") / "help.md").read_text(encoding="utf-8")
        with Vertical(id="help-dialog"):
            with VerticalScroll(id="help-body"):
                yield Markdown(text)
            yield KeyBar(classes="dialog-keys")  # in the dialog: the keys of the screen behind stay whole

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def action_close(self) -> None:
        self.dismiss()
