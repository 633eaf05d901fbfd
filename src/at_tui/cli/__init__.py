"""The command line: `at-tui` launches the app, its sub-commands work from the shell."""

from at_tui.cli.main import main

__all__ = ["main"]
