"""What the CLI prints from files, the database or the server cannot act on the terminal (§5),
and argparse's errors are in French."""

from __future__ import annotations

import json

import pytest
from corpus import make_home, run_cli

from at_tui.cli.arguments import translate
from at_tui.cli.contacts import _line
from at_tui.cli.output import escape_json_text, fail, terminal_safe_json
from at_tui.domain.lookup import Entry

OSC52 = "\x1b]52;c;aGVsbG8=\x07"
UNSAFE = ("\x1b", "\x07", "\x9b", "\x7f", "\u202e")


def test_a_contact_line_is_printable():
    entry = Entry(
        key="ps:1", kind="professionnel", name=f"Paul{OSC52} DURAND", organisation="Cabinet\x1b[2J du Centre",
        role="Médecin\u202e", departements=("31",), email="p\x9b@x.fr", phone="05\x0761",
    )
    line = _line(entry)
    assert not any(char in line for char in UNSAFE), repr(line)
    assert line.startswith("Paul DURAND | ")


def test_json_output_keeps_the_values_and_escapes_what_a_terminal_would_act_on():
    value = [{"name": f"a{OSC52}\x9b\u202e\x7fz", "role": "Coordinatrice « santé » 🙂"}]
    text = terminal_safe_json(value)
    assert json.loads(text) == value
    assert not any(char in text for char in UNSAFE), repr(text)
    assert "Coordinatrice « santé » 🙂" in text  # readable text stays as it is
    assert escape_json_text('"\u2066"') == '"\\u2066"'


def test_fail_prints_one_safe_line(capsys):
    assert fail(f"Nom {OSC52}refusé : att_{'x' * 30}", 2) == 2
    err = capsys.readouterr().err
    assert err.startswith("at-tui : Nom refusé : att_…(masqué)")
    assert not any(char in err for char in UNSAFE)


@pytest.mark.parametrize(
    ("english", "french"),
    [
        ("the following arguments are required: FICHIER", "argument(s) obligatoire(s) manquant(s) : FICHIER"),
        ("unrecognized arguments: --x", "argument(s) non reconnu(s) : --x"),
        ("argument --type: invalid choice: 'zz' (choose from 'at', 'cm')",
         "argument --type : choix invalide : 'zz' (choix possibles : 'at', 'cm')"),
        ("argument --limit: invalid _positive value: 'x'", "argument --limit : valeur invalide : 'x'"),
        ("argument --output/-o: expected one argument", "argument --output/-o : une valeur attendue"),
        ("argument --all: not allowed with argument --token-prefix",
         "argument --all : incompatible avec l'argument --token-prefix"),
        ("one of the arguments --all --token-prefix is required",
         "l'un des arguments --all --token-prefix est obligatoire"),
        ("argument --port: entre 1 et 65535", "argument --port : entre 1 et 65535"),
        ("something new in Python 3.14", "something new in Python 3.14"),
    ],
)
def test_argparse_errors_are_translated(english, french):
    assert translate(english) == french


def test_help_is_in_french(tmp_path):
    result = run_cli(tmp_path / "home", "export", "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("utilisation : at-tui export")
    assert "afficher cette aide et quitter" in result.stdout and "show this help" not in result.stdout


def test_imported_professionals_are_printed_without_escape_sequences(tmp_path):
    """End to end: an Annuaire Santé extract whose names hold OSC 52 and CSI sequences, imported,
    then searched from the shell in text and JSON."""
    from at_tui.synthetic.annuaire import activity_row, write_rows

    home = make_home(tmp_path, with_visit=False)
    extract = write_rows(tmp_path / "annuaire.txt", [
        activity_row(
            identifier="10001234567", last_name=f"ZORGLUB{OSC52}", first_name="Paul\x1b[2J",
            profession="Médecin", structure="Cabinet\u202e du Centre", commune="TOULOUSE", postcode="31000",
            departement="31", departement_name="Haute-Garonne",
        ),
    ])
    imported = run_cli(home, "import-annuaire", str(extract))
    assert imported.returncode == 0, imported.stderr
    for args in (("contacts", "zorglub"), ("contacts", "zorglub", "--json")):
        result = run_cli(home, *args)
        assert result.returncode == 0, result.stderr
        assert "ZORGLUB" in result.stdout.upper()
        assert not any(char in result.stdout + result.stderr for char in UNSAFE), repr(result.stdout)
