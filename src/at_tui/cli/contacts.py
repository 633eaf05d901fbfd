"""`at-tui contacts QUERY`: the lookup of the app, from the shell (plain text or JSON)."""

from __future__ import annotations

import argparse
import sys

from at_tui.cli.output import fail, terminal_safe_json
from at_tui.domain.lookup import KIND_CHOICES
from at_tui.domain.redaction import printable


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "contacts",
        help="chercher dans l'annuaire (référents DAC, équipes, projets, professionnels importés)",
        description="Cherche comme l'écran Annuaire : accents, majuscules et ponctuation ignorés, "
        "chaque mot pris comme un début de mot (ex. « dac 32 », « gers », « cocon »).",
    )
    parser.add_argument("query", metavar="RECHERCHE", nargs="*", help="mots cherchés (vide : tout l'annuaire)")
    parser.add_argument("--json", action="store_true", help="sortie JSON (liste d'objets)")
    parser.add_argument("--limit", type=_positive, default=20, metavar="N", help="nombre maximal de résultats (20)")
    parser.add_argument("--departement", "-d", metavar="CODE", help="filtrer sur un département (ex. 32)")
    parser.add_argument("--type", dest="kind", choices=sorted(KIND_CHOICES), help="filtrer sur un type de contact")


def _positive(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"nombre entier attendu, pas « {raw} »") from None
    if not 1 <= value <= 10_000:
        raise argparse.ArgumentTypeError("entre 1 et 10000")
    return value


def contacts_command(args, workspace) -> int:
    """Print the matches; exit 0 when something was found, 1 otherwise (like grep)."""
    from at_tui.domain.lookup import Query
    from at_tui.domain.territory import find_departement
    from at_tui.domain.text import FieldError

    departement = None
    if args.departement:
        try:
            departement = find_departement(workspace.territory, args.departement).code
        except FieldError as error:
            return fail(str(error), 2)
    results = workspace.search_directory(
        Query.parse(" ".join(args.query), departement=departement, kind=args.kind, limit=args.limit)
    )
    if args.json:
        print(terminal_safe_json([entry.as_json() for entry in results.entries]))
    else:
        for entry in results.entries:
            print(_line(entry))
        if not results.entries:
            print("Aucun contact trouvé.", file=sys.stderr)
        elif results.truncated or len(results.entries) == args.limit:
            print(f"({len(results.entries)} premiers résultats : --limit N pour en voir plus)", file=sys.stderr)
    return 0 if results.entries else 1


def _line(entry) -> str:
    parts = [entry.name, entry.kind_label, entry.organisation]
    if entry.role != entry.organisation:
        parts.append(entry.role)
    parts.append(entry.departement_text)
    parts += [value for value in (entry.email, entry.phone) if value]
    # Imported and pulled contacts come from files and the central: printed only once made printable.
    return " | ".join(printable(str(part or "")) for part in parts)

