"""`at-tui a-faire` and `at-tui opportunites`: the opportunities' life from the shell (issue 11 §4).

Both read the local database, offline, like the Accueil: a script or an AT who prefers a
shell sees what is due on a given day (overdue first) and every opportunity with its status,
without the app nor a server. What comes from the store (names typed by an AT, titles of a
playbook) is printed only once made printable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from at_tui.cli.output import fail, terminal_safe_json
from at_tui.domain.classification import offer_label
from at_tui.domain.redaction import printable

EXIT_USAGE = 2
# DueItem.urgency's order, as JSON says it.
URGENCIES = ("en_retard", "cette_semaine", "a_venir", "sans_date")
_HEADINGS = ("En retard", "Cette semaine", "À venir", "Sans date")


def add_parsers(commands) -> None:
    todo = commands.add_parser(
        "a-faire",
        help="ce qui est à faire pour les opportunités (suivis, étapes), les retards d'abord",
        description="Ce qui est dû à une date (aujourd'hui par défaut) : les suivis en retard d'abord, "
        "puis ceux de la semaine, les suivants, et les étapes sans date. Lit la base locale, hors ligne.",
    )
    todo.add_argument("--json", action="store_true", help="sortie JSON (liste d'objets)")
    todo.add_argument("--date", metavar="AAAA-MM-JJ", help="la date du jour à considérer (par défaut : aujourd'hui)")
    listing = commands.add_parser(
        "opportunites",
        help="lister les opportunités (offre, qui mène, statut, dates)",
        description="Toutes les opportunités ouvertes par les visites terminées, la plus récente d'abord. "
        "Lit la base locale, hors ligne.",
    )
    listing.add_argument("--json", action="store_true", help="sortie JSON (liste d'objets)")
    listing.add_argument("--statut", metavar="STATUT",
                         help="filtrer sur un statut (ex. « en attente », « projet en cours », « terminé »)")
    listing.add_argument("--departement", "-d", metavar="DÉPT", help="filtrer sur un département (numéro ou nom)")


def run(args, with_workspace: Callable) -> int:
    """Check what needs no database first (a bad date creates nothing), then read the store."""
    if args.command == "a-faire":
        today = _today(args.date)
        if today is None:
            return fail(f"Date « {args.date.strip()[:40]} » invalide : attendue sous la forme AAAA-MM-JJ "
                        "(ex. 2027-03-01).", EXIT_USAGE)
        return with_workspace(lambda workspace: todo_command(args, workspace, today))
    return with_workspace(lambda workspace: opportunities_command(args, workspace))


def _today(raw: str | None) -> dt.date | None:
    """The date asked for (a real calendar date), or today's local date when none was given."""
    if raw is None:
        return dt.date.today()
    from at_tui.domain.due_dates import typed_day

    return typed_day(raw)


# -- a-faire ----------------------------------------------------------------------------------


def todo_command(args, workspace, today: dt.date) -> int:
    workspace.ensure_opportunities()
    rows = workspace.opportunities.due()
    if args.json:
        print(terminal_safe_json([_todo_json(row, today) for row in rows]))
        return 0
    if not rows:
        print(f"Rien à faire au {today:%d/%m/%Y} : aucun suivi ni étape en attente.")
        return 0
    names = _departement_names(workspace)
    heading = None
    for row in rows:
        urgency = row.item.urgency(today)
        if urgency != heading:
            heading = urgency
            print(f"{_HEADINGS[urgency]} :")
        print("  " + todo_line(row, today, names))
    return 0


def todo_line(row, today: dt.date, names: dict[str, str]) -> str:
    """Due date (and how late), structure, département, what is due, who leads."""
    item = row.item
    day = _day(item.due)
    parts = [_french_day(day) if day else "sans date"]
    if day is not None and day < today:
        late = (today - day).days
        parts.append(f"en retard de {late} jour{'s' if late > 1 else ''}")
    parts += [printable(row.structure or ""), _departement(row.departement, names), printable(item.title),
              f"menée par {printable(item.lead)}"]
    return " | ".join(parts)


def _todo_json(row, today: dt.date) -> dict:
    item = row.item
    return {
        "opportunity": item.opportunity_id,
        "structure": row.structure,
        "departement": row.departement,
        "activity": item.activity,
        "title": item.title,
        "due": item.due,
        "lead": item.lead,
        "urgency": URGENCIES[item.urgency(today)],
    }


# -- opportunites ----------------------------------------------------------------------------


def opportunities_command(args, workspace) -> int:
    from at_tui.domain.territory import find_departement
    from at_tui.domain.text import FieldError

    lifecycle = workspace.lifecycle()
    status = None
    if args.statut is not None:
        status = find_status(lifecycle, args.statut)
        if status is None:
            valid = ", ".join(f"« {s.label.lower()} »" for s in (lifecycle.statuses if lifecycle else ()))
            return fail(f"Statut « {args.statut.strip()[:40]} » inconnu (statuts possibles : {valid}).", EXIT_USAGE)
    departement = None
    if args.departement is not None:
        try:
            departement = find_departement(workspace.territory, args.departement).code
        except FieldError as error:
            return fail(str(error), EXIT_USAGE)
    workspace.ensure_opportunities()
    opportunities = workspace.opportunities.list(status=status, departement=departement)
    if args.json:
        print(terminal_safe_json([_opportunity_json(o, lifecycle) for o in opportunities]))
        return 0
    if not opportunities:
        print("Aucune opportunité" + (" pour ces critères." if status or departement else " pour l'instant : "
              "une visite terminée qui en a détecté une en ouvre une."))
        return 0
    names = _departement_names(workspace)
    for opportunity in opportunities:
        print(opportunity_line(opportunity, lifecycle, names))
    return 0


def find_status(lifecycle, raw: str) -> str | None:
    """A status by its id or its label, accents, case and punctuation ignored (« terminé », « en-attente »)."""
    from at_tui.domain.text import fold

    wanted = fold(raw)
    for status in lifecycle.statuses if lifecycle else ():
        if wanted and wanted in (fold(status.id), fold(status.label)):
            return status.id
    return None


def opportunity_line(opportunity, lifecycle, names: dict[str, str]) -> str:
    """Structure, département, offer, who leads and supports, status, visit date, end of deployment."""
    who = f"menée par {printable(opportunity.lead)}"
    if opportunity.support:
        who += f", {printable(opportunity.support)} en soutien"
    status = printable(lifecycle.status_label(opportunity.status)) if lifecycle else printable(opportunity.status)
    if opportunity.status_reason:
        status += f" ({printable(opportunity.status_reason)})"
    end = _day(opportunity.deployment_end)
    visit = _day(opportunity.visit_date)
    return " | ".join([
        printable(opportunity.structure or ""), _departement(opportunity.departement, names),
        printable(offer_label(opportunity.offer)), who, status,
        f"visite {_french_day(visit) if visit else '—'}",
        f"fin du déploiement {_french_day(end) if end else '—'}",
    ])


def _opportunity_json(opportunity, lifecycle) -> dict:
    return {
        "id": opportunity.id,
        "structure": opportunity.structure,
        "departement": opportunity.departement,
        "offer": opportunity.offer,
        "offer_label": offer_label(opportunity.offer),
        "lead": opportunity.lead,
        "support": opportunity.support,
        "status": opportunity.status,
        "status_label": lifecycle.status_label(opportunity.status) if lifecycle else opportunity.status,
        "status_reason": opportunity.status_reason,
        "visit_date": opportunity.visit_date,
        "launch_date": opportunity.launch_date,
        "deployment_end": opportunity.deployment_end,
    }


# -- shared -------------------------------------------------------------------------------------


def _day(value: str | None) -> dt.date | None:
    from at_tui.domain.due_dates import parse_day

    return parse_day(value)


def _french_day(day: dt.date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


def _departement_names(workspace) -> dict[str, str]:
    return {d.code: f"{d.code} {d.name}" for d in workspace.territory.departements}


def _departement(code: str | None, names: dict[str, str]) -> str:
    return printable(names.get(code or "", code or "—"))

