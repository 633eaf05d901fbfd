"""`at-tui export --format xlsx|crm|rapport`: the agency's files from the laptop's store (issue 12).

One module per format (cli/export_<format>.py), each `run(args, workspace) -> exit code`;
the JSON export stays in cli/main.py.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

FORMATS = {"xlsx": "export_xlsx", "crm": "export_crm", "rapport": "export_report"}


def export_command(args, with_workspace: Callable) -> int:
    module = importlib.import_module(f"at_tui.cli.{FORMATS[args.format]}")
    check = getattr(module, "check_arguments", None)
    if check is not None:  # what needs no database is refused before it is opened
        code = check(args)
        if code is not None:
            return code
    return with_workspace(lambda workspace: module.run(args, workspace))
