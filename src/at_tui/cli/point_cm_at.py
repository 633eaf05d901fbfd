"""`at-tui point-cm-at` and `at-tui central point-cm-at`: the monthly CM–AT pack of a zone (issue 12 §4).

Seed 000, « Gouvernance — POINT CM - AT 1x/mois / zone (Est/Ouest) » : « documentation de
base = fichier de déploiement à parcourir à chacune des réunions ». A CM's laptop holds the
region (an AT's laptop its own opportunities: its pack is its own), the central holds
everything: both make the same pack (`domain.cm_at_pack`) from the same tracking rows, write
it as a workbook or a page, and say on the terminal what each département has.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path

from at_tui.cli.output import fail

EXIT_USAGE = 2
ZONES = ("est", "ouest")
FORMATS = ("xlsx", "html")


def add_parser(commands) -> None:
    """`at-tui point-cm-at` (the laptop's pack)."""
    parser = commands.add_parser(
        "point-cm-at", help="préparer le point mensuel CM – AT d'une zone (xlsx ou html)",
        description="L'ordre du jour du point CM – AT mensuel d'une zone : par département, les opportunités "
        "nouvelles, en mouvement, en retard, et les remontées terrain depuis le dernier point. Lit la base "
        "locale, hors ligne (le poste d'un CM contient la région ; celui d'un AT, ses opportunités).",
    )
    add_options(parser)


def add_central_parser(sub) -> None:
    """`at-tui central point-cm-at --db F …` (the region's pack, from the central)."""
    parser = sub.add_parser(
        "point-cm-at", help="préparer le point mensuel CM – AT d'une zone d'après la base du service central",
        description="L'ordre du jour du point CM – AT mensuel d'une zone, d'après la base du service central.",
    )
    parser.add_argument("--db", required=True, metavar="BASE", help="base du service central, existante : fichier SQLite ou postgresql://…")
    add_options(parser)


def add_options(parser) -> None:
    parser.add_argument("--zone", required=True, choices=ZONES, type=str.lower, help="est ou ouest")
    parser.add_argument("--depuis", metavar="AAAA-MM-JJ",
                        help="début de la période (par défaut : le même jour du mois précédent)")
    parser.add_argument("--date", metavar="AAAA-MM-JJ", help="date du point (par défaut : aujourd'hui)")
    parser.add_argument("--format", choices=FORMATS, default="xlsx", type=str.lower,
                        help="xlsx (par défaut) ou html (page autonome, imprimable)")
    parser.add_argument("--output", "-o", metavar="CHEMIN",
                        help="fichier à écrire, lisible par vous seul (par défaut : le dossier exports/ des données, "
                        "point-cm-at-<zone>-AAAAMMJJ.<format>)")
    parser.add_argument("--jours-en-attente", type=_days, default=30, metavar="N",
                        help="« en retard » : en attente plus de N jours après la visite (30 par défaut)")


def _days(raw: str) -> int:
    text = raw.strip()
    if not text.isdigit() or len(text) > 4:
        raise argparse.ArgumentTypeError(f"« {raw[:20]} » : un nombre de jours est attendu (ex. 30)")
    return int(text)


def run(args, with_workspace: Callable) -> int:
    """What needs no database is checked first (a bad date opens nothing), then the laptop is read."""
    checked = check_arguments(args)
    if isinstance(checked, int):
        return checked
    today, since = checked
    return with_workspace(lambda workspace: laptop_command(args, workspace, today, since))


def check_arguments(args) -> int | tuple[dt.date, dt.date | None]:
    """(today, since) from --date and --depuis, or the exit code of a French refusal."""
    today = _day(args.date) if args.date is not None else dt.date.today()
    if today is None:
        return _bad_day("--date", args.date)
    since = None
    if args.depuis is not None:
        since = _day(args.depuis)
        if since is None:
            return _bad_day("--depuis", args.depuis)
        if since > today:
            return fail(f"--depuis {since:%d/%m/%Y} est après la date du point ({today:%d/%m/%Y}) : "
                        "indiquez le jour du dernier point.", EXIT_USAGE)
    if args.output:
        from at_tui.files import TargetRefused, check_target

        try:
            check_target(Path(args.output))
        except TargetRefused as error:
            return fail(str(error))
    return today, since


def laptop_command(args, workspace, today: dt.date, since: dt.date | None) -> int:
    from at_tui.documents.pack_file import write_laptop_pack

    return _write(args, lambda target: write_laptop_pack(
        workspace, args.zone, args.format, today, since=since, waiting_days=args.jours_en_attente, target=target))


def central_command(args) -> int:
    """`at-tui central point-cm-at`: the central's opportunities, the bundled reference's lifecycle and territory."""
    from at_tui.central.storage import StorageError
    from at_tui.central.tracking import open_existing, tracked_opportunities
    from at_tui.documents.pack_file import write_pack
    from at_tui.domain.territory import UnknownZone, zone_departements
    from at_tui.reference.loader import ReferenceDataError, load_reference

    checked = check_arguments(args)
    if isinstance(checked, int):
        return checked
    today, since = checked
    try:
        reference = load_reference()
        lifecycle = reference.current_lifecycle()
        territory = reference.territory
        departements = zone_departements(territory, args.zone)[1]
        storage = open_existing(args.db)
    except (ReferenceDataError, UnknownZone, StorageError) as error:
        return fail(str(error))
    try:
        tracked = tracked_opportunities(storage, {d.code for d in departements})
        return _write(args, lambda target: write_pack(
            tracked, lifecycle, territory, args.zone, today, since=since, waiting_days=args.jours_en_attente,
            file_format=args.format, target=target))
    except StorageError as error:
        return fail(str(error))
    finally:
        storage.close()


def _write(args, write: Callable) -> int:
    """Run `write(target)` → (pack, path) and say the outcome: the recap and the path, or why not."""
    from at_tui.domain.redaction import safe
    from at_tui.domain.territory import UnknownZone
    from at_tui.files import TargetRefused
    from at_tui.store.db import StoreError
    from at_tui.store.errors import explain

    target = Path(args.output) if args.output else None
    try:
        pack, target = write(target)
    except UnknownZone as error:
        return fail(str(error), EXIT_USAGE)
    except (TargetRefused, StoreError) as error:
        return fail(str(error))
    except OSError as error:
        where = f" dans {target}" if target else ""
        return fail(f"{explain(error, f'Écriture du point CM – AT{where}')} Rien n'a été écrit.")
    print(summary(pack))
    print(f"Point CM – AT écrit dans {safe(str(target))} (lisible par vous seul).", file=sys.stderr)
    return 0


def summary(pack) -> str:
    """The terminal's recap: the title, the period, a line per département."""
    from at_tui.domain.redaction import printable

    lines = [printable(pack.title), printable(pack.period) + "."]
    lines += ["  " + printable(f"{d.label} : {d.summary()}") for d in pack.departements]
    return "\n".join(lines)


def _day(raw: str) -> dt.date | None:
    from at_tui.domain.due_dates import typed_day

    return typed_day(raw)


def _bad_day(option: str, raw: str) -> int:
    return fail(f"{option} « {raw.strip()[:40]} » : date invalide, attendue sous la forme AAAA-MM-JJ "
                "(ex. 2027-03-01).", EXIT_USAGE)
