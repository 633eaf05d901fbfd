"""« Opportunités »: every opportunity of this laptop, the ones the AT leads and the ones they
support (issue 11 §3, seed 000 steps 4 to 7), with their status and what comes due next.

`f` cycles the status filter (the playbook's statuses, data), `r` the role filter (led /
supported); Entrée opens the opportunity (ATApp.open_opportunity). Reads the local store only.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Header, Static

from at_tui.domain.classification import OFFER_LABELS, Offer
from at_tui.domain.opportunity import Opportunity
from at_tui.domain.redaction import printable
from at_tui.domain.visit import format_date
from at_tui.widgets.key_bar import KeyBar
from at_tui.widgets.todo_list import NO_DATE, URGENCY_LABELS
from at_tui.widgets.visit_list import Row, VisitList

# « pilote » when this laptop's side leads: the AT's, or the CM's on a CM's laptop
# (at_tui.workspace.Workspace.role, issue 11 §3).
ROLE_FILTERS = (None, "lead", "support")
ROLE_FILTER_LABELS = {None: "toutes", "lead": "menées par vous", "support": "en soutien"}
SHORT_OFFERS = {Offer.DISCUSSIONS_SIMPLE.value: "simple", Offer.DISCUSSIONS_COMPLEXE.value: "complexe",
                Offer.DOSSIERS.value: "Dossiers"}
CELL_PADDING = 2
MARGINS = 2
MIN_STRUCTURE_WIDTH = 14
WIDE = 110  # from this width, the next due item's title has its column

EMPTY = ("[b]Aucune opportunité pour l'instant.[/b]\nUne visite terminée dont le recueil détecte une opportunité "
         "en ouvre une ici, et ses suites (cadrage, lancement, suivis M+1, M+3, M+6) viennent dans « À faire ».")


class OpportunitiesScreen(Screen):
    CSS_PATH = "screens.tcss"
    BINDINGS = [
        Binding("enter", "open", "Ouvrir", id="opportunities.open", priority=True),
        Binding("f", "cycle_status", "Filtre statut", id="opportunities.status"),
        Binding("r", "cycle_role", "Menées/soutien", id="opportunities.role"),
        Binding("escape", "close", "Retour", id="opportunities.close"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.status_filter: str | None = None
        self.role_filter: str | None = None
        self.opportunities: dict[str, Opportunity] = {}
        self.next_due: dict[str, tuple[str | None, str]] = {}  # id -> (due date, title)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="opportunities-title")
        yield VisitList(("Structure",), id="opportunities-list")
        yield Static("", id="opportunities-detail")
        yield KeyBar()

    def on_mount(self) -> None:
        self.role = self.app.workspace.role()
        self.login = self.app.workspace.login()
        self.lifecycle = self.app.workspace.lifecycle()
        self.refresh_rows()
        listing = self.query_one(VisitList)
        listing.focus()
        self.watch(listing, "cursor", self._show_detail, init=False)

    def on_screen_resume(self) -> None:
        self.refresh_rows()

    def on_resize(self) -> None:
        self.refresh_rows()

    # -- what is shown ------------------------------------------------------------------

    def status_label(self, status: str) -> str:
        return self.lifecycle.status_label(status) if self.lifecycle is not None else status

    def refresh_rows(self) -> None:
        store = self.app.workspace.opportunities
        every = store.list(status=self.status_filter)
        if self.role_filter is not None:
            every = [o for o in every if _role(o, self.role) == self.role_filter]
        self.opportunities = {o.id: o for o in every}
        self.next_due = {}
        for line in store.due():  # ordered: the first line of an opportunity is its next due item
            self.next_due.setdefault(line.item.opportunity_id, (line.item.due, line.item.title))
        width = self.size.width or 80
        wide = width >= WIDE
        headers = ["Structure", "Dépt", "Offre", "Rôle", "Statut", "Échéance"]
        fixed = [0, 4, 9, 7, max([15, *(len(self.status_label(s.id)) for s in self._statuses())]), 10]
        if wide:
            headers.append("À faire")
            fixed.append(27)
        room = width - MARGINS - sum(fixed) - CELL_PADDING * len(fixed)
        fixed[0] = max(MIN_STRUCTURE_WIDTH, room)
        rows = []
        for o in every:
            due, title = self.next_due.get(o.id, (None, ""))
            cells = [_shown(o.structure), _shown(o.departement), SHORT_OFFERS.get(o.offer, _shown(o.offer)),
                     "pilote" if _role(o, self.role) == "lead" else "soutien", _shown(self.status_label(o.status)),
                     format_date(due) if due else (NO_DATE if not title else "sans date")]
            if wide:
                cells.append(_shown(title))
            rows.append(Row(o.id, tuple(cells), self._styles(due)))
        listing = self.query_one(VisitList)
        listing.headers = tuple(headers)
        listing.set_rows(rows, fixed)
        listing.display = bool(rows)
        self._show_title(len(rows))
        self._show_detail()

    def _styles(self, due: str | None) -> tuple[str, ...]:
        """The next due date in bold red when it is past (« en retard »), as in « À faire »."""
        if due is not None and due < self.app.today().isoformat():
            return ("", "", "", "", "", "bold red")
        return ()

    def _statuses(self):
        return self.lifecycle.statuses if self.lifecycle is not None else ()

    def _show_title(self, count: int) -> None:
        status = self.status_label(self.status_filter) if self.status_filter else "tous"
        role = ROLE_FILTER_LABELS[self.role_filter]
        self.query_one("#opportunities-title", Static).update(Content.from_markup(
            f"[b]Opportunités[/b] ({count}) — statut : [b]$status[/b] ([b]f[/b]) · [b]{role}[/b] ([b]r[/b])",
            status=status))

    def _show_detail(self) -> None:
        detail = self.query_one("#opportunities-detail", Static)
        selected = self.query_one(VisitList).selected
        if selected is None:
            filtered = self.status_filter is not None or self.role_filter is not None
            detail.update("Aucune opportunité avec ces filtres : [b]f[/b] et [b]r[/b] les changent." if filtered
                          else EMPTY)
            return
        o = self.opportunities[selected]
        offer = OFFER_LABELS.get(Offer(o.offer), o.offer) if o.offer in SHORT_OFFERS else o.offer
        me = self.role
        support = f"{_shown(o.support) or '—'} en soutien"
        if _role(o, me) == "support":
            who = f"menée par {_the(_shown(o.lead))}, vous ({me}) en soutien"
        elif me == "CM" and not o.cm_login:  # led by the CMs, none took it yet
            who = f"à prendre en charge par un CM, {support}"
        elif me == "CM" and o.cm_login != self.login:
            who = f"menée par le CM {_shown(o.cm_login)}, {support}"
        else:
            who = f"menée par vous ({me}), {support}"
        if o.cm_login:
            who += f" · CM : {_shown(o.cm_login)}"
        elif o.lead == "CM" and me == "AT":
            who += " · aucun CM en charge"
        status = self.status_label(o.status)
        if o.status_reason:
            status += f" ({_shown(o.status_reason)})"
        # Variables, not escaped markup: a CRM title « [M1] … » would read as a tag.
        lines = ["[b]$structure[/b] ($departement) — $offer, $who.",
                 "Statut : [b]$status[/b] · visite du $visit"
                 + (" · fin du déploiement $end" if o.deployment_end else "")]
        due, title = self.next_due.get(o.id, (None, ""))
        if title:
            late = due is not None and due < self.app.today().isoformat()
            lines.append("À faire : « $title » — $when" + (f" [bold red]({URGENCY_LABELS[0]})[/]" if late else "")
                         + " · [b]Entrée[/b] ouvre l'opportunité.")
        else:
            lines.append("Rien à faire pour l'instant · [b]Entrée[/b] ouvre l'opportunité.")
        detail.update(Content.from_markup(
            "\n".join(lines), structure=_shown(o.structure), departement=_shown(o.departement), offer=_shown(offer),
            who=who, status=status, visit=_day(o.visit_date), end=_day(o.deployment_end), title=_shown(title),
            when=format_date(due) if due else "sans date"))

    # -- actions -------------------------------------------------------------------------

    def action_open(self) -> None:
        selected = self.query_one(VisitList).selected
        if selected is None:
            self.notify("Aucune opportunité à ouvrir.", severity="warning")
            return
        self.app.open_opportunity(selected)

    def on_visit_list_chosen(self, event: VisitList.Chosen) -> None:
        self.app.open_opportunity(event.key)

    def action_cycle_status(self) -> None:
        """Tous → each status of the playbook, in its order → tous."""
        order = [None, *(s.id for s in self._statuses())]
        index = order.index(self.status_filter) if self.status_filter in order else 0
        self.set_filters(order[(index + 1) % len(order)], self.role_filter)

    def action_cycle_role(self) -> None:
        index = ROLE_FILTERS.index(self.role_filter)
        self.set_filters(self.status_filter, ROLE_FILTERS[(index + 1) % len(ROLE_FILTERS)])

    def set_filters(self, status: str | None, role: str | None) -> None:
        self.status_filter, self.role_filter = status, role
        self.query_one(VisitList).cursor = 0
        self.refresh_rows()

    def action_close(self) -> None:
        self.app.pop_screen()

    def palette_commands(self) -> Iterable[SystemCommand]:
        """The filters, offered by the app's command palette (at_tui.app)."""
        for status in (None, *(s.id for s in self._statuses())):
            label = self.status_label(status) if status else "tous"
            yield SystemCommand(f"Opportunités : statut « {label} »", "Filtrer la liste par statut (touche f)",
                                lambda status=status: self.set_filters(status, self.role_filter))
        for role in ROLE_FILTERS:
            yield SystemCommand(f"Opportunités : {ROLE_FILTER_LABELS[role]}",
                                "Celles que vous menez, celles où vous êtes en soutien (touche r)",
                                lambda role=role: self.set_filters(self.status_filter, role))


def _role(opportunity: Opportunity, me: str) -> str:
    """« lead » when this laptop's side (`me`: "AT" or "CM") leads the opportunity."""
    return "lead" if opportunity.lead == me else "support"


def _the(role: str) -> str:
    """« l'AT », « le CM »."""
    return f"l'{role}" if role[:1] in "AEIOUaeiou" else f"le {role}"


def _day(value: str | None) -> str:
    return format_date(value) if value else "—"


def _shown(value: object) -> str:
    """A stored value as one line of plain text (it may come from a file, the central or another user)."""
    return printable("" if value is None else str(value))
