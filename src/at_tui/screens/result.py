"""Step 3, second part: the classification with its reasons, and the AT's justified override."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from at_tui.domain.classification import OFFER_LABELS
from at_tui.screens.visit_base import VisitScreen, _escape
from at_tui.store.errors import cause
from at_tui.store.pending_writes import SAVE_ERRORS


class ResultScreen(VisitScreen, inherit_bindings=False):
    BINDINGS = [
        Binding("m", "override", "Modifier", id="result.override"),
        *VisitScreen.BINDINGS,
    ]

    def compose_body(self) -> ComposeResult:
        yield Static(id="result")

    def on_mount(self) -> None:
        super().on_mount()
        self.render_result()

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self.render_result()

    def render_result(self) -> None:
        result = self.workspace.outcome(self.visit)
        lines: list[str] = []
        computed = result.computed
        if computed is None:
            lines.append("[b]Aucune opportunité à classer.[/b]")
            lines.append(
                "Le recueil indique qu'aucune opportunité n'a été détectée (ou les réponses de "
                "classification manquent) : seule l'activité Information est à saisir dans le CRM."
            )
        else:
            lines.append(f"Classification calculée : [b]{computed.label}[/b] — menée par [b]{computed.lead.value}[/b]")
            if computed.reasons:
                lines.append("\nPourquoi ce n'est pas un projet « simple » :")
                lines.extend(f"  • {_escape(reason)}" for reason in computed.reasons)
            else:
                lines.append(
                    "\nMessagerie instantanée uniquement, moins de 15 personnes, sans paramétrage, "
                    "sans demande complexe ni portée stratégique : projet « simple », mené par l'AT."
                )
            if result.overridden:
                lines.append(
                    f"\n[b $warning]Classification retenue par l'AT : {result.label}[/b $warning] — menée par "
                    f"[b]{result.lead.value}[/b]\nJustification : {_escape(result.justification or '')}"
                )
            lines.append("\n[dim]m : modifier la classification (justification obligatoire) "
                         "ou rétablir la classification calculée[/dim]")
        lines += self.followup_lines()
        self.query_one("#result", Static).update("\n".join(lines))

    def action_override(self) -> None:
        from at_tui.screens.override import OverrideScreen

        result = self.workspace.outcome(self.visit)
        if result.computed is None:
            self.notify("Rien à modifier : aucune opportunité classée.", severity="warning")
            return

        def save(choice: tuple[str | None, str | None] | None) -> None:
            if choice is None:
                return
            offer, justification = choice
            try:
                self.workspace.visits.set_override(self.visit.id, offer, justification)
            except SAVE_ERRORS as error:
                self.workspace.after_failed_write()
                self.notify(f"Classification non enregistrée : {cause(error)}. Réessayez (Ctrl+S) quand le "
                            "problème est réglé.", severity="error", timeout=15)
                # What was typed is not lost: the dialog opens again with it.
                self.app.push_screen(OverrideScreen(result.computed.offer, offer, justification), save)
                return
            self.visit = self.workspace.visits.require(self.visit.id)
            if offer is None:
                self.notify("Classification calculée rétablie.")
            else:
                self.notify(f"Classification modifiée : {OFFER_LABELS[offer]}.")
            self.render_result()

        screen = OverrideScreen(result.computed.offer, self.visit.override_offer, self.visit.override_justification)
        self.app.push_screen(screen, save)
