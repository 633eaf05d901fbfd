"""Step 3, last part: the CRM entries to create, ready to paste, and who leads next.

The two texts the AT pastes in the CRM (seed 000, « 1. Présentation » and « 3. Classification —
Livrable(s) »): the activity's description (`a`) and the opportunity's « Recueil des opportunités
offre USE » (`c`), each copied whole by its own key, both also in the command palette.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.widgets import Static

from at_tui.screens.visit_base import VisitScreen, _escape


class DeliverablesScreen(VisitScreen, inherit_bindings=False):
    BINDINGS = [
        Binding("c", "copy_description", "Copier recueil", id="deliverables.copy"),
        Binding("a", "copy_activity", "Copier activité", id="deliverables.copy_activity"),
        Binding("t", "finish", "Terminer", id="deliverables.finish"),
        Binding("w", "visit_report", "Compte rendu", id="deliverables.report"),
        *VisitScreen.BINDINGS,
    ]

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "finish":
            return not self.visit.finished
        return super().check_action(action, parameters)

    def compose_body(self) -> ComposeResult:
        yield Static(id="deliverables")

    def on_mount(self) -> None:
        super().on_mount()
        self.render_deliverables()
        self.query_one("#visit-body").focus()

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self.render_deliverables()

    def render_deliverables(self) -> None:
        self.result = self.workspace.deliverables(self.visit)
        d = self.result
        a = d.activity
        lines = [
            "[b]1. Activité CRM[/b]",
            f"  Type d'activité : [b]{_escape(a.type)}[/b]",
            f"  Structure : {_escape(a.structure)}",
            f"  Service concerné : {_escape(a.service)}",
            f"  Description (compte rendu, a pour copier) : {_escape(a.description)}",
        ]
        o = d.opportunity
        if o is None and d.outcome.blocked:
            lines += ["", "[b]2. Opportunité CRM[/b]",
                      "  Classification à régler : revenez au résultat (Ctrl+B), qui dit quelles réponses "
                      "compléter ou corriger ; l'opportunité sera prête ensuite."]
        elif o is None:
            lines += ["", "[b]2. Opportunité CRM[/b]", "  Aucune opportunité détectée : pas d'opportunité à créer."]
        else:
            lines += ["", "[b]2. Opportunité CRM[/b]"]
            lines += [f"  [b $warning]À vérifier :[/] {_escape(warning)}" for warning in d.warnings]
            lines += [
                f"  Nom : [b]{_escape(o.name)}[/b]",
                f"  Structure : {_escape(o.structure)}",
                f"  Contact : {_escape(o.contact)}",
                f"  Statut : « {_escape(o.status)} »",
                f"  Service : [b]{_escape(o.service)}[/b]",
            ]
            if o.maillage:
                lines.append(f"  Maillage : « {_escape(o.maillage)} » est en tête de la description copiée")
            lines += ["  Description — « Recueil des opportunités offre USE » (c pour copier) :", ""]
            lines += [f"    {_escape(line)}" for line in o.description.splitlines()]
        lines += ["", f"[b]3. Suite[/b] : menée par [b]{d.next_lead.value}[/b]"]
        if d.outcome.offer is not None:
            lines.append("  Transmettre les informations au CM (Teams, mail, réunion Est/Ouest ou point dédié)."
                         if d.next_lead.value == "CM" else "  L'AT poursuit le déploiement.")
        for step in d.next_steps:
            support = f", {step.support.value} en soutien" if step.support else ""
            lines.append(f"  {step.number}. {_escape(step.title)} — menée par {step.lead.value}{support}")
        if self.visit.finished:
            lines += ["", "[b $success]Visite terminée.[/]"]
        else:
            lines += ["", "[dim]t : terminer la visite (elle reste consultable depuis l'accueil)[/dim]"]
        lines += self.followup_lines()
        self.query_one("#deliverables", Static).update("\n".join(lines))

    def palette_commands(self) -> Iterable[SystemCommand]:
        """This screen's copies, offered by the app's command palette (at_tui.app)."""
        yield SystemCommand("Copier le recueil (description de l'opportunité CRM)",
                            "Le « Recueil des opportunités offre USE », prêt à coller", self.action_copy_description)
        yield SystemCommand("Copier la description de l'activité CRM",
                            "Le compte rendu de la visite, prêt à coller", self.action_copy_activity)

    def action_visit_report(self) -> None:
        """`w`: the visit's compte rendu, Markdown and HTML, under exports/ (issue 12 §3)."""
        from at_tui.screens.visit_report_action import write_visit_report

        write_visit_report(self.app, self.visit.id)

    def action_copy_description(self) -> None:
        if self.result.opportunity is None:
            self.notify("Classification à régler : pas encore de recueil à copier." if self.result.outcome.blocked
                        else "Pas d'opportunité : pas de recueil à copier.", severity="warning")
            return
        self.app.copy_to_clipboard(self.result.opportunity.description)
        self.notify("Recueil copié dans le presse-papiers.")

    def action_copy_activity(self) -> None:
        self.app.copy_to_clipboard(self.result.activity.description)
        self.notify("Description de l'activité copiée dans le presse-papiers.")

    def action_finish(self) -> None:
        from at_tui.store.errors import cause
        from at_tui.store.pending_writes import SAVE_ERRORS

        try:
            self.workspace.visits.set_status(self.visit.id, "terminee")
        except SAVE_ERRORS as error:
            self.workspace.after_failed_write()
            self.notify(f"Visite non terminée : {cause(error)}. Réessayez (t) quand le problème est réglé.",
                        severity="error", timeout=15)
            return
        self.notify(f"Visite « {_escape(self.visit.structure)} » terminée.")
        self.app.go_home()
        self.app.request_sync(force=True)  # sent at once when the central store answers
