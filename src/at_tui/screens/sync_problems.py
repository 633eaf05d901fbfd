"""« Problèmes de synchronisation »: the conflicts to settle and the visits the central refused.

One row per visit and problem. Entrée opens what settles it: the conflict screen for
a conflict, the visit itself (to correct it) for a refusal. `r` sends a refused visit
again (at_tui.sync.parked.requeue: its refused operations are kept, marked resolved).

An opportunity travels apart from its visit (issue 11 §3, at_tui.sync.opportunity_outbox):
its conflicts (a status, a date, the CM in charge changed on both sides) and refusals have
their own rows; Entrée opens the per-field conflict screen, or the opportunity. A refused
change was already undone on this laptop: `l` marks the refusal read, and its row leaves
(acknowledge_rejected_opportunity keeps the operation, marked resolved).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import replace

from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from at_tui.domain.visit import format_date, format_timestamp
from at_tui.sync.parked import CONFLICT, QUARANTINED, REJECTED, Problem, problems, requeue
from at_tui.widgets.key_bar import KeyBar
from at_tui.widgets.safe_text import markup

# Fixed widths; « Structure » (0) takes what is left.
COLUMNS = (("Problème", 8), ("Structure", 0), ("Dépt", 4), ("Visite du", 10), ("Signalé le", 16))
CELL_PADDING = 2
MIN_STRUCTURE_WIDTH = 12
OPPORTUNITY_CONFLICT, OPPORTUNITY_REJECTED = "opportunity_conflict", "opportunity_rejected"
KIND_LABELS = {CONFLICT: "Conflit", REJECTED: "Refus", QUARANTINED: "Écartée",
               OPPORTUNITY_CONFLICT: "Conflit opp.", OPPORTUNITY_REJECTED: "Refus opp."}
OPPORTUNITY_KIND_WIDTH = 12  # the « Problème » column when an opportunity has one

EMPTY = (
    "[b]Aucun problème de synchronisation.[/b]\n"
    "Le central n'a refusé aucune visite et aucun conflit n'est à régler. Les visites modifiées "
    "partent d'elles-mêmes dès que le serveur répond."
)


class SyncProblemsScreen(Screen):
    CSS_PATH = "screens.tcss"
    BINDINGS = [
        Binding("enter", "settle", "Ouvrir", id="sync_problems.open", priority=True),
        Binding("r", "requeue", "Renvoyer", id="sync_problems.requeue"),
        Binding("l", "acknowledge", "Marquer lu", id="sync_problems.acknowledge"),
        Binding("escape", "close", "Retour", id="sync_problems.close"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Problem] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            "[b]Problèmes de synchronisation[/b] : conflits, refus et versions écartées",
            id="sync-problems-title",
        )
        yield DataTable(id="sync-problems-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="sync-problems-detail")
        yield KeyBar()

    def on_mount(self) -> None:
        self.refresh_rows()
        self.query_one(DataTable).focus()

    def on_screen_resume(self) -> None:
        self.refresh_rows()

    def on_resize(self) -> None:
        self.refresh_rows()

    @property
    def selected(self) -> Problem | None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row is None or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def refresh_rows(self) -> None:
        self.rows = problems(self.app.workspace.conn) + opportunity_problems(self.app.workspace)
        table = self.query_one(DataTable)
        row = table.cursor_row or 0
        table.clear(columns=True)
        columns = COLUMNS
        if any(p.kind in (OPPORTUNITY_CONFLICT, OPPORTUNITY_REJECTED) for p in self.rows):
            columns = ((COLUMNS[0][0], OPPORTUNITY_KIND_WIDTH), *COLUMNS[1:])
        fixed = sum(width + CELL_PADDING for _, width in columns)
        rest = max(MIN_STRUCTURE_WIDTH, self.size.width - 2 - fixed - 2)
        for label, width in columns:
            table.add_column(label, width=width or rest)
        for problem in self.rows:
            table.add_row(KIND_LABELS.get(problem.kind, ""), markup(problem.structure), markup(problem.departement),
                          format_date(problem.visit_date), format_timestamp(problem.since) if problem.since else "—")
        table.display = bool(self.rows)
        if self.rows:
            table.move_cursor(row=min(row, len(self.rows) - 1))
        self._show_detail()
        self.refresh_bindings()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()
        self.refresh_bindings()

    def _show_detail(self) -> None:
        detail = self.query_one("#sync-problems-detail", Static)
        problem = self.selected
        if problem is None:
            detail.update(EMPTY)
            return
        name = markup(problem.structure)
        if problem.kind == OPPORTUNITY_CONFLICT:
            detail.update(
                f"L'opportunité de [b]{name}[/b] a été modifiée sur ce poste et au central ({markup(problem.reason)}) : "
                "ces champs ne partent plus tant que le conflit n'est pas réglé ; le journal est déjà fusionné.\n"
                "[b]Entrée[/b] : comparer les deux valeurs champ par champ et choisir."
            )
            return
        if problem.kind == OPPORTUNITY_REJECTED:
            detail.update(
                f"L'opportunité de [b]{name}[/b] : un envoi refusé par le central ; le changement refusé "
                "est annulé sur ce poste.\n"
                f"Raison donnée par le central : {markup(problem.reason)}\n"
                "[b]Entrée[/b] : ouvrir l'opportunité · [b]l[/b] : marquer le refus comme lu."
            )
            return
        if problem.kind == CONFLICT:
            detail.update(
                f"[b]{name}[/b] a été modifiée sur ce poste et au central : elle n'est plus envoyée "
                "tant que le conflit n'est pas réglé.\n"
                "[b]Entrée[/b] : comparer les deux versions champ par champ et choisir."
            )
            return
        if problem.kind == QUARANTINED:
            detail.update(
                f"[b]{name}[/b] : la version reçue du central le {format_timestamp(problem.since)} ne peut pas "
                f"être prise par ce poste ; elle est mise de côté et la version du poste est gardée.\n"
                f"Raison : {markup(problem.reason)}\n"
                "Signalez-le au service informatique : une version corrigée au central sera prise d'elle-même."
            )
            return
        times = f" ({problem.count} envois)" if problem.count > 1 else ""
        if problem.changed_since:
            what_next = ("Modifiée depuis : la nouvelle version part d'elle-même ; [b]r[/b] règle le refus · "
                         "[b]Entrée[/b] : ouvrir la visite.")
        else:
            what_next = ("[b]Entrée[/b] : ouvrir la visite pour la corriger · [b]r[/b] : la renvoyer "
                         "(après correction, ou si le problème venait du central).")
        detail.update(
            f"[b]{name}[/b] : refusée par le central le {format_timestamp(problem.since)}{times}.\n"
            f"Raison donnée par le central : {markup(problem.reason)}\n{what_next}"
        )

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "requeue":
            problem = self.selected
            return problem is not None and problem.kind == REJECTED or None  # dimmed otherwise
        if action == "acknowledge":  # shown only on a refused opportunity's row
            problem = self.selected
            return problem is not None and problem.kind == OPPORTUNITY_REJECTED
        if action == "settle":
            return self.selected is not None or None
        return True

    def palette_commands(self) -> Iterable[SystemCommand]:
        """This screen's actions, offered by the app's command palette (at_tui.app)."""
        if self.check_action("acknowledge", ()):
            yield SystemCommand("Marquer le refus de l'opportunité comme lu",
                                "Le changement refusé est déjà annulé sur ce poste ; la ligne quitte la liste (touche l)",
                                self.action_acknowledge)

    def action_settle(self) -> None:
        problem = self.selected
        if problem is None:
            return
        if problem.kind in (REJECTED, QUARANTINED):
            self.app.open_visit(problem.visit_id)
            return
        if problem.kind == OPPORTUNITY_REJECTED:
            self.app.open_opportunity(problem.visit_id)
            return
        if problem.kind == OPPORTUNITY_CONFLICT:
            self._settle_opportunity(problem)
            return
        from at_tui.screens.conflict import ConflictScreen
        from at_tui.sync.outbox import conflicts

        central = dict(conflicts(self.app.workspace.conn)).get(problem.visit_id)
        if central is None:
            self.notify("La copie du central manque pour ce conflit : elle arrivera à la prochaine synchronisation.",
                        severity="warning")
            return
        self.app.push_screen(ConflictScreen(problem.visit_id, central), lambda _settled: self._after_change())

    def _settle_opportunity(self, problem: Problem) -> None:
        from at_tui.screens.opportunity_conflict import OpportunityConflictScreen
        from at_tui.sync.opportunity_outbox import opportunity_conflicts

        found = next((c for c in opportunity_conflicts(self.app.workspace.conn) if c[0] == problem.visit_id), None)
        if found is None:
            self.notify("Ce conflit est déjà réglé.", severity="warning")
            self._after_change()
            return
        visit_id, local, central, fields = found
        self.app.push_screen(OpportunityConflictScreen(visit_id, local, central, fields),
                             lambda _settled: self._after_change())

    def action_requeue(self) -> None:
        problem = self.selected
        if problem is None or problem.kind != REJECTED:
            return
        done = requeue(self.app.workspace.conn, problem.visit_id)
        name = markup(problem.structure)
        if not done.settled:
            self.notify("Cette visite n'est plus refusée.", severity="warning")
        elif done.queued:
            self.notify(f"« {name} » sera renvoyée au central à la prochaine synchronisation.")
        else:
            self.notify(f"Refus réglé : la dernière version de « {name} » est déjà envoyée ou en attente d'envoi.")
        self._after_change()
        self.app.request_sync(force=True)

    def action_acknowledge(self) -> None:
        """The user has read why the central refused an opportunity's change (already undone
        here): the refusal leaves the list, kept in the store as resolved."""
        from at_tui.sync.opportunity_outbox import acknowledge_rejected_opportunity

        problem = self.selected
        if problem is None or problem.kind != OPPORTUNITY_REJECTED:
            return
        name = markup(problem.structure)
        try:
            done = acknowledge_rejected_opportunity(self.app.workspace.conn, problem.visit_id)
        except sqlite3.Error as error:
            from at_tui.store.errors import explain

            self.notify(explain(error, "Marquer le refus comme lu"), severity="error", timeout=15, markup=False)
            return
        if done:
            self.notify(f"Refus lu : l'opportunité de « {name} » quitte la liste ; le changement refusé reste "
                        "annulé sur ce poste.")
        else:
            self.notify("Ce refus est déjà marqué comme lu.", severity="warning")
        self._after_change()

    def _after_change(self) -> None:
        self.refresh_rows()
        self.app.refresh_sync_status()

    def action_close(self) -> None:
        self.dismiss()


def opportunity_problems(workspace) -> list[Problem]:
    """The opportunities' conflicts, then their refusals, as rows of this screen (the visit names them)."""
    from at_tui.domain.opportunity_fields import FIELD_LABELS
    from at_tui.sync.opportunity_outbox import opportunity_conflicts, rejected_opportunity_ops

    conn = workspace.conn
    found: list[Problem] = []
    template = Problem("", OPPORTUNITY_CONFLICT, "", "", "", "", "", 1)
    for visit_id, _local, _central, fields in opportunity_conflicts(conn):
        labels = ", ".join(FIELD_LABELS.get(name, name).lower() for name in fields)
        found.append(_named(workspace, replace(template, visit_id=visit_id, reason=labels)))
    refused: dict[str, tuple[str, int]] = {}  # one row per visit: its latest reason, how many refusals
    for visit_id, reason in rejected_opportunity_ops(conn):
        refused[visit_id] = (reason, refused.get(visit_id, ("", 0))[1] + 1)
    for visit_id, (reason, count) in refused.items():
        found.append(_named(workspace, replace(template, visit_id=visit_id, kind=OPPORTUNITY_REJECTED,
                                               reason=reason, count=count)))
    return found


def _named(workspace, problem: Problem) -> Problem:
    visit = workspace.visits.get(problem.visit_id)
    if visit is None:
        return replace(problem, structure=problem.visit_id)
    return replace(problem, structure=visit.structure, departement=visit.departement, visit_date=visit.visit_date)
