"""What every screen of a visit shares: the banner, step navigation, resume position."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Static

from at_tui.domain.flow import Stop
from at_tui.domain.visit import Visit, format_date
from at_tui.widgets.key_bar import KeyBar
from at_tui.workspace import Workspace


class VisitScreen(Screen):
    """Base of the visit screens; subclasses compose `compose_body`."""

    CSS_PATH = "screens.tcss"

    BINDINGS = [
        Binding("ctrl+n", "next_stop", "Suivant", id="visit.next", priority=True),
        Binding("ctrl+b", "previous_stop", "Retour", id="visit.previous", priority=True),
        Binding("f2", "edit_identity", "Identité", id="visit.identity"),
        Binding("escape", "home", "Accueil", id="visit.home"),
    ]

    def __init__(self, workspace: Workspace, visit: Visit, stops: list[Stop], index: int) -> None:
        super().__init__()
        self.workspace = workspace
        self.visit = visit
        self.stops = stops
        self.index = index
        self.stop = stops[index]
        self.playbook = workspace.playbook_for(visit)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self.banner_text(), id="visit-banner")
        with VerticalScroll(id="visit-body"):
            yield from self.compose_body()
        yield KeyBar()

    def compose_body(self) -> ComposeResult:
        raise NotImplementedError

    def on_mount(self) -> None:
        from at_tui.store.pending_writes import SAVE_ERRORS

        try:
            self.workspace.visits.set_step(self.visit.id, self.stop.key)
        except SAVE_ERRORS:  # only where the visit resumes: written again at the next step
            self.workspace.after_failed_write()

    def on_screen_resume(self) -> None:
        self.visit = self.workspace.visits.require(self.visit.id)
        self.query_one("#visit-banner", Static).update(self.banner_text())

    def banner_text(self) -> str:
        visit = self.visit
        guided = self.playbook.guided_steps
        parts = []
        for step in guided:
            label = f"{step.number} {step.title}"
            parts.append(f"[reverse] {label} [/reverse]" if step.id == self.stop.step.id else label)
        done = " · [b]terminée[/b]" if visit.finished else ""
        followup = self.followup()
        if followup is not None:
            done += f" · suivi CM : [b]{_escape(followup.label)}[/b]"
        return (
            f"[b]{_escape(visit.structure)}[/b] — {_escape(visit.departement)} · {_escape(visit.typologie)} · "
            f"{format_date(visit.visit_date)}{done}\n"
            + " › ".join(parts)
            + f"\n{self.position_text()}"
        )

    def position_text(self) -> str:
        """« Étape 3/7 · Classification — Recueil des besoins (1/3) »: steps of the process, not screens
        (at_tui.domain.flow.Position); an archived visit says so."""
        from at_tui.domain.flow import position

        where = position(self.playbook, self.stops, self.index)
        text = f"Étape {where.number}/{where.total} · [b]{_escape(where.title)}[/b]"
        if where.parts > 1:
            text += f" — {_escape(where.part)} ({where.part_number}/{where.parts})"
        if self.workspace.visits.archived_at(self.visit.id):
            text += " · [b]archivée[/b]"
        return text

    def followup(self):
        """The CM's follow-up of this visit (at_tui.sync.parked.Followup), None when none was received."""
        from at_tui.sync.parked import followup

        return followup(self.workspace.conn, self.visit.id)

    def followup_lines(self) -> list[str]:
        """The CM's follow-up as shown at the end of the result and deliverables; [] when none."""
        followup = self.followup()
        if followup is None:
            return []
        lines = ["", "[b]Suivi du chargé de mission[/b] [dim](reçu du central, lecture seule)[/dim]",
                 f"  Statut : [b]{_escape(followup.label)}[/b]"
                 + (f" — {_escape(followup.lead_label)}" if followup.lead_label else "")]
        if followup.comment:
            lines.append(f"  Commentaire : {_escape(followup.comment)}")
        return lines

    # -- answers -----------------------------------------------------------------

    def save_field(self, field, raw) -> bool:
        """Save what the AT typed in a QuestionField; the field shows why when it was not saved."""
        from at_tui.domain.text import FieldError
        from at_tui.store.pending_writes import NotSaved

        try:
            self.workspace.save_answer(self.visit, field.question.id, raw)
        except FieldError as problem:
            field.show_error(str(problem))
            return False
        except NotSaved as problem:
            field.show_not_saved(problem.message)
            self.app.show_pending()
            return False
        field.show_error("")
        self.app.after_save()
        return True

    # -- navigation --------------------------------------------------------------

    def can_leave_forward(self) -> bool:
        """Subclasses refuse to move on while a required answer is missing."""
        return True

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "next_stop":
            return self.index + 1 < len(self.stops)
        if action == "previous_stop":
            return self.index > 0
        return True

    def action_next_stop(self) -> None:
        if self.can_leave_forward():
            self.app.open_visit(self.visit.id, self.stops[self.index + 1].key)

    def action_previous_stop(self) -> None:
        self.app.open_visit(self.visit.id, self.stops[self.index - 1].key)

    def action_home(self) -> None:
        self.app.go_home()

    def action_edit_identity(self) -> None:
        from at_tui.screens.visit_form import VisitFormScreen

        self.app.push_screen(VisitFormScreen(self.visit.id))


def _escape(text: object) -> str:
    """Text from a file, the central or another user, made safe to show inside markup: escape
    sequences and control characters removed (newlines kept), markup brackets escaped."""
    from at_tui.widgets.safe_text import markup

    return markup(text, multiline=True)
