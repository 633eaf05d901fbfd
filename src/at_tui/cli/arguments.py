"""The argument parser in French: a wrong argument is the first message a new user reads.

argparse writes its usage and errors in English and echoes the arguments as typed; this
parser translates the usual errors, prints them like every other failure (« at-tui : … »,
made safe: an argument may hold an escape sequence) and exits 2.
"""

from __future__ import annotations

import argparse
import re
import sys

from at_tui.domain.redaction import safe

_ERRORS = (  # argparse's messages (Python 3.11–3.13) and their French
    (r"the following arguments are required: (.*)", r"argument(s) obligatoire(s) manquant(s) : \1"),
    (r"unrecognized arguments: (.*)", r"argument(s) non reconnu(s) : \1"),
    (r"one of the arguments (.*) is required", r"l'un des arguments \1 est obligatoire"),
    (r"ambiguous option: (.*) could match (.*)", r"option ambiguë : \1 peut désigner \2"),
    (r"argument (.*?): invalid choice: (.*) \(choose from (.*)\)", r"argument \1 : choix invalide : \2 (choix possibles : \3)"),
    (r"argument (.*?): invalid (.*) value: (.*)", r"argument \1 : valeur invalide : \3"),
    (r"argument (.*?): expected one argument", r"argument \1 : une valeur attendue"),
    (r"argument (.*?): expected at most one argument", r"argument \1 : une valeur au plus"),
    (r"argument (.*?): expected at least one argument", r"argument \1 : au moins une valeur attendue"),
    (r"argument (.*?): expected (\d+) arguments?", r"argument \1 : \2 valeur(s) attendue(s)"),
    (r"argument (.*?): not allowed with argument (.*)", r"argument \1 : incompatible avec l'argument \2"),
    (r"argument (.*?): ignored explicit argument (.*)", r"argument \1 : valeur \2 inattendue"),
    (r"argument (.*?): (.*)", r"argument \1 : \2"),  # a message of ours (ArgumentTypeError), already French
)


def translate(message: str) -> str:
    """argparse's English error in French; an unknown one is kept as it is."""
    for pattern, french in _ERRORS:
        match = re.fullmatch(pattern, message, flags=re.DOTALL)
        if match:
            return match.expand(french)
    return message


class FrenchArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage, headings, help option and errors are in French.

    Sub-command parsers are of the same class (argparse creates them with the parent's class)."""

    def __init__(self, *args, **kwargs) -> None:
        add_help = kwargs.pop("add_help", True)
        super().__init__(*args, add_help=False, **kwargs)
        # argparse writes « title: »; the space makes the French « arguments : ».
        self._positionals.title = "arguments "
        self._optionals.title = "options "
        if add_help:
            self.add_argument("-h", "--help", action="help", help="afficher cette aide et quitter")

    def add_argument(self, *args, **kwargs):
        """A positional taking any number of values (nargs="*") is optional, as it reads: without
        a default argparse counts it among « the following arguments are required »."""
        if kwargs.get("nargs") == argparse.ZERO_OR_MORE and args and not args[0].startswith("-"):
            kwargs.setdefault("default", [])
        return super().add_argument(*args, **kwargs)

    def format_usage(self) -> str:
        return _french_usage(super().format_usage())

    def format_help(self) -> str:
        return _french_usage(super().format_help())

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, f"at-tui : {safe(translate(message))} (aide : {self.prog} --help)\n")


def _french_usage(text: str) -> str:
    return text.replace("usage: ", "utilisation : ", 1)
