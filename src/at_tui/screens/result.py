"""Step 3, second part: the classification with its reasons, and the AT's justified override.

Before the result, what stops it (`domain.facts.Assessment`): contradicting answers and
criteria left unanswered, each with its question right here so the AT fixes it in place.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from at_tui.domain.classification import OFFER_LABELS
from at_tui.domain.visit import questionnaire_answers
from at_tui.screens.visit_base import VisitScreen, _escape
from at_tui.store.errors import cause
from at_tui.store.pending_writes import SAVE_ERRORS
from at_tui.widgets.question_field import QuestionField


class ResultScreen(VisitScreen, inherit_bindings=False):
    BINDINGS = [
        Binding("m", "override", "Modifier", id="result.override"),
        *VisitScreen.BINDINGS,
    ]

    def compose_body(self) -> ComposeResult:
        yield Static(id="problems")
        yield Vertical(id="fix-fields")
        yield Static(id="result")

    def on_mount(self) -> None:
        super().on_mount()
        self.render_result()
        self.call_after_refresh(self._focus_first)

    def _focus_first(self) -> None:
        fields = list(self.query(QuestionField))
        (fields[0].control if fields else self.query_one("#visit-body")).focus()

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self.render_result()

    def render_result(self) -> None:
        result = self.outcome = self.workspace.outcome(self.visit)
        self._follow(result)
        assessment = result.assessment
        self._show_fields(assessment.problem_question_ids)
        self.query_one("#problems", Static).update("\n".join(self._problem_lines(assessment)))
        self.query_one("#problems", Static).display = bool(assessment.problem_question_ids)
        lines: list[str] = []
        computed = result.computed
        if not assessment.applies:
            lines.append("[b]Aucune opportunité à classer.[/b]")
            lines.append(
                "Le recueil indique qu'aucune opportunité n'a été détectée : seule l'activité Information "
                "est à saisir dans le CRM."
            )
        elif computed is None:
            lines.append("[b $warning]Classification en attente[/b $warning] : réglez les points ci-dessus ; "
                         "le résultat s'affiche dès que les réponses concordent.")
        else:
            lines.append(f"Classification calculée : [b]{computed.label}[/b] — menée par [b]{computed.lead.value}[/b]")
            if assessment.participants:
                lines.append(f"Personnes concernées : {_escape(assessment.participants)}.")
            if computed.reasons:
                lines.append("\nPourquoi ce n'est pas un projet « simple » :")
                lines.extend(f"  • {_escape(reason)}" for reason in computed.reasons)
            else:
                limit = self.playbook.classification.participants_limit
                lines.append(
                    f"\nMessagerie instantanée uniquement, moins de {limit} personnes, sans paramétrage, "
                    "sans demande complexe ni portée stratégique : projet « simple », mené par l'AT."
                )
            settled = [c for c in assessment.checks if c.settled]
            if settled:
                lines.append("\nVérifié avec l'AT :")
                lines.extend(f"  • {_escape(check.text)}" for check in settled)
            if result.overridden:
                lines.append(
                    f"\n[b $warning]Classification retenue par l'AT : {result.label}[/b $warning] — menée par "
                    f"[b]{result.lead.value}[/b]\nJustification : {_escape(result.justification or '')}"
                )
            lines.append("\n[dim]m : modifier la classification (justification obligatoire) "
                         "ou rétablir la classification calculée[/dim]")
        lines += self.followup_lines()
        self.query_one("#result", Static).update("\n".join(lines))

    def _follow(self, result) -> None:
        """The visit's pending opportunity follows a changed classification (never blocks the screen)."""
        try:
            self.workspace.refresh_opportunity(self.visit, result)
        except SAVE_ERRORS:
            self.workspace.after_failed_write()

    @staticmethod
    def _problem_lines(assessment) -> list[str]:
        lines: list[str] = []
        if assessment.contradictions:
            lines.append("[b $error]Réponses contradictoires[/] — corrigez l'une des deux ci-dessous :")
            lines.extend(f"  • {_escape(c.sentence)}" for c in assessment.contradictions)
        if assessment.missing:
            count = len(assessment.missing)
            what = "une réponse manque" if count == 1 else f"{count} réponses manquent"
            lines.append(f"[b $error]Classification incomplète[/] — {what} (répondez ci-dessous) :")
            lines.extend(f"  • «\u00a0{_escape(m.label)}\u00a0» : {_escape(m.why)}." for m in assessment.missing)
        unsettled = [c for c in assessment.checks if not c.settled]
        if unsettled:
            lines.append("[b $warning]À vérifier[/] :")
            lines.extend(f"  • {_escape(c.text)}" for c in unsettled)
        return lines

    def _show_fields(self, question_ids: tuple[str, ...]) -> None:
        """The questions to fix, in place; a field stays once shown so the AT sees what she changed."""
        box = self.query_one("#fix-fields", Vertical)
        shown = {f.question.id for f in box.query(QuestionField)}
        wanted = [qid for qid in question_ids if qid not in shown]
        if not wanted:
            return
        questionnaire = self.workspace.questionnaire_for(self.visit)
        answers = questionnaire_answers(self.workspace.visits.answers(self.visit.id))
        box.mount_all(QuestionField(questionnaire.question(qid), answers.get(qid)) for qid in wanted)

    def on_question_field_edited(self, event: QuestionField.Edited) -> None:
        event.stop()
        if self.save_field(event.field, event.raw):
            self.render_result()
            if not self.outcome.blocked:  # settled: bring the result into view
                self.call_after_refresh(self.query_one("#result").scroll_visible, top=True)

    def can_leave_forward(self) -> bool:
        if not self.workspace.outcome(self.visit).blocked:
            return True
        self.notify("Réglez d'abord les réponses contradictoires ou manquantes : la classification en dépend.",
                    severity="error")
        return False

    def action_override(self) -> None:
        from at_tui.screens.override import OverrideScreen

        result = self.workspace.outcome(self.visit)
        if result.computed is None:
            message = ("Réglez d'abord les réponses contradictoires ou manquantes." if result.blocked
                       else "Rien à modifier : aucune opportunité classée.")
            self.notify(message, severity="warning")
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
