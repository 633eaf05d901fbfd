"""Where an opportunity lives after the visit (seed 000, steps 4 to 7): its banner, its journal,
and the steps of its variant as a checklist with resources and the activities to record.

The AT records activities (`r`, with the follow-up forms), corrects one (`c`: a new entry that
supersedes it, the journal stays append-only), changes the status (`t`) and opens a maillage
visit for a partner (`p`). On a CM's laptop (issue 11 §3) the same screen is the CM's: `m`
takes the opportunity in charge (the CM in charge := this login), `r` offers what the playbook
gives the CM (délai de prise en charge, démarrage, fiche de cadrage, cadrage, lancement,
formation, suivis), and the status is changed only by the side that leads (« pilotage »: the
central refuses it from the other side). Every write is one transaction of the store; a failure is said in
one French sentence and nothing is half-saved.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Checkbox, Header, Static

from at_tui.domain.lifecycle import Activity
from at_tui.domain.opportunity import (
    JournalEntry,
    Opportunity,
    TransitionError,
    current_entries,
    done_activities,
    may_record,
    proposed_status,
)
from at_tui.screens.record_activity import RecordActivityScreen, Recording
from at_tui.store.pending_writes import SAVE_ERRORS
from at_tui.widgets.follow_up_steps import activities_text, compose_steps
from at_tui.widgets.journal_view import JournalEntryView, JournalView
from at_tui.widgets.key_bar import KeyBar
from at_tui.widgets.opportunity_banner import banner_text, next_due
from at_tui.widgets.safe_text import markup
from at_tui.workspace import Workspace


class OpportunityScreen(Screen):
    CSS_PATH = "screens.tcss"
    BINDINGS = [
        Binding("r", "record", "Enregistrer une activité", id="opportunity.record"),
        Binding("c", "correct", "Corriger", id="opportunity.correct"),
        Binding("t", "status", "Statut", id="opportunity.status"),
        Binding("p", "maillage", "Maillage", id="opportunity.maillage"),
        Binding("m", "take_charge", "Prendre en charge", id="opportunity.take_charge"),
        Binding("escape", "back", "Retour", id="opportunity.back"),
    ]

    def __init__(self, workspace: Workspace, opportunity_id: str) -> None:
        super().__init__()
        self.workspace = workspace
        self.opportunity_id = opportunity_id
        self.role = workspace.role()  # "AT" or "CM": this laptop's side
        self.lifecycle = workspace.lifecycle()
        self.playbook = workspace.reference.current_playbook("spico")
        self.opportunity: Opportunity = workspace.opportunities.get(opportunity_id)  # type: ignore[assignment]
        self.entries: list[JournalEntry] = workspace.opportunities.journal(opportunity_id)
        self._last_entry: JournalEntry | None = None  # the journal entry last focused (`c` corrects it)
        self._shown = False
        self._in_dialog = False
        self._recorded_id: str | None = None  # the entry just recorded: it takes the focus

    @property
    def author(self) -> str | None:
        return self.workspace.login()

    # -- drawing ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self._banner(), id="opportunity-banner")
        with VerticalScroll(id="opportunity-body"):
            yield Static("Journal [dim](le plus récent en haut ; ↑ ↓ pour parcourir, c pour corriger)[/dim]",
                         classes="section-title")
            journal = JournalView(self.form_for, id="journal")
            journal.entries = current_entries(self.entries)
            journal.at_login = self.opportunity.at_login
            yield journal
            yield Static("Étapes 4 à 7", classes="section-title")
            yield from compose_steps(self.playbook, self.opportunity, self.workspace.opportunities.checks(self.opportunity_id))
        yield KeyBar()

    def on_mount(self) -> None:
        self._draw_activities()
        entries = self.query(JournalEntryView)
        if entries:
            entries.first().focus()

    def _banner(self) -> str:
        return banner_text(self.opportunity, self.lifecycle, self.entries, self.app.today(), self.role)

    def _draw_activities(self) -> None:
        today = self.app.today()
        for step in self.playbook.follow_up_steps:
            self.query_one(f"#activities-{step.id}", Static).update(
                activities_text(step, self.lifecycle, self.opportunity, self.entries, today))

    def central_changed(self) -> None:
        """A sync brought changes (the other side's journal entries, status, dates): shown now."""
        self.reload()

    def reload(self, focus_id: str | None = None) -> None:
        """Read the opportunity and its journal again and redraw what they show; the focus goes
        to entry `focus_id` when given (the one just recorded)."""
        self.opportunity = self.workspace.opportunities.get(self.opportunity_id) or self.opportunity
        self.entries = self.workspace.opportunities.journal(self.opportunity_id)
        self.query_one("#opportunity-banner", Static).update(self._banner())
        self.query_one(JournalView).show(self.entries, focus_id, self.opportunity.at_login)
        self._draw_activities()

    def form_for(self, activity_id: str):
        """The form (questionnaire) an activity carries, current version; None without one."""
        try:
            form = self.lifecycle.activity(activity_id).form
        except KeyError:  # a status change, or an activity of another playbook version
            return None
        if form is None:
            return None
        try:
            return self.workspace.reference.current_questionnaire(form)
        except KeyError:
            return None

    def on_descendant_focus(self, event) -> None:
        if isinstance(event.widget, JournalEntryView) and event.widget.entry is not None:
            self._last_entry = event.widget.entry

    # -- the checklist -------------------------------------------------------------------

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        box = event.checkbox
        if not box.name:
            return
        try:
            self.workspace.opportunities.set_check(self.opportunity_id, box.name, event.value, self.author)
        except SAVE_ERRORS as error:
            self._write_failed(error, "Case non enregistrée")
            with box.prevent(Checkbox.Changed):
                box.value = not event.value  # shows what the store holds

    # -- recording -------------------------------------------------------------------------

    def recordable(self) -> list[Activity]:
        """What the AT may record now, in the order of the steps: their side's activities, and a
        once-only one only while it is not done."""
        done = done_activities(self.entries)
        order = {step.id: step.number for step in self.playbook.steps}
        activities = [a for a in self.lifecycle.activities
                      if may_record(a, self.opportunity, self.role) and not (a.once and a.id in done)]
        return sorted(activities, key=lambda a: order.get(a.step or "", len(order) + 1))

    def action_record(self) -> None:
        activities = self.recordable()
        if not activities:
            self.notify("Aucune activité à enregistrer pour l'instant.", severity="warning")
            return
        due = next_due(self.opportunity, self.entries, self.lifecycle, self.app.today())
        self._push_dialog(
            RecordActivityScreen(activities, self.form_for, self.app.today(), self._save_recording,
                                 default=due.activity if due else None),
            self._recorded)

    def action_correct(self) -> None:
        journal = self.query_one(JournalView)
        entry = journal.selected or self._last_entry
        current = {e.id for e in journal.entries}
        if entry is None or entry.id not in current:
            entry = journal.entries[-1] if journal.entries else None
        if entry is None:
            self.notify("Journal vide : rien à corriger.", severity="warning")
            return
        try:
            activity = self.lifecycle.activity(entry.activity)
        except KeyError:
            self.notify(f"« {markup(entry.title)} » ne se corrige pas ici : un statut se change avec [b]t[/b].",
                        severity="warning")
            return
        self._push_dialog(
            RecordActivityScreen([activity], self.form_for, self.app.today(), self._save_recording,
                                 correcting=entry),
            self._recorded)

    def _save_recording(self, recording: Recording) -> bool:
        try:
            _, entry = self.workspace.opportunities.add_entry(
                self.opportunity_id, self.lifecycle, recording.activity, recording.day, author=self.author,
                role=self.role, text=recording.text, answers=recording.answers, supersedes=recording.supersedes)
        except SAVE_ERRORS as error:
            self._write_failed(error, "Activité non enregistrée")
            return False
        self._recorded_id = entry.id
        return True

    def _recorded(self, recording: Recording | None) -> None:
        if recording is None:
            return
        self.reload(self._recorded_id)
        activity = self.lifecycle.activity(recording.activity)
        what = "Correction enregistrée" if recording.supersedes else "Activité enregistrée"
        self.notify(f"{what} : « {markup(activity.title)} ».")
        self._propose(activity, recording)

    def _propose(self, activity: Activity, recording: Recording) -> None:
        """An M+6 whose usages are « en run » proposes « Terminé »: the lead confirms it."""
        target = proposed_status(activity, recording.answers)
        if target is None or target == self.opportunity.status:
            return
        current = self.lifecycle.status(self.opportunity.status)
        if target not in current.next:
            return
        label = self.lifecycle.status_label(target)
        if self.opportunity.lead != self.role:
            who = _the(self.opportunity.lead)
            self.notify(f"{who[:1].upper()}{who[1:]}, qui mène l'opportunité, la passera à « {label} ».")
            return
        from at_tui.screens.status_change import ConfirmStatusScreen

        def confirmed(yes: bool | None) -> None:
            if yes and self._save_status(target, None) is None:
                self.notify(f"Opportunité passée à « {label} ».")

        self._push_dialog(ConfirmStatusScreen(label, markup(activity.title)), confirmed)

    # -- status --------------------------------------------------------------------------

    def action_status(self) -> None:
        from at_tui.screens.status_change import StatusChangeScreen

        if self.opportunity.lead != self.role:  # « pilotage »: the central would refuse it
            self.notify(f"Le statut est tenu par {_the(self.opportunity.lead)} qui mène ce projet : "
                        "il le change de son côté.", severity="warning")
            return

        try:
            status = self.lifecycle.status(self.opportunity.status)
        except KeyError:
            status = None
        if status is None or not status.next:
            label = self.lifecycle.status_label(self.opportunity.status)
            self.notify(f"Une opportunité « {markup(label)} » ne change plus de statut.", severity="warning")
            return

        def changed(target: str | None) -> None:
            if target is not None:
                self.notify(f"Statut : « {markup(self.lifecycle.status_label(target))} ».")

        self._push_dialog(StatusChangeScreen(self.opportunity, self.lifecycle, self._save_status), changed)

    def _save_status(self, target: str, reason: str | None) -> str | None:
        """None when saved; else why not, in French (the lifecycle's refusal or the write's failure)."""
        try:
            self.workspace.opportunities.set_status(
                self.opportunity_id, self.lifecycle, target, reason, author=self.author, role=self.role,
                day=self.app.today().isoformat())
        except TransitionError as refusal:
            return str(refusal)
        except SAVE_ERRORS as error:
            self._write_failed(error, "Statut non enregistré")
            return "Rien n'a été enregistré : réessayez (Ctrl+S) quand le problème est réglé."
        journal = self.workspace.opportunities.journal(self.opportunity_id)
        self._recorded_id = max(journal, key=lambda e: e.created_at).id if journal else None  # the status entry
        self.reload(self._recorded_id)
        return None

    # -- taking charge (a CM) -------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """`m` is a CM's, on an opportunity not already theirs (hidden otherwise)."""
        if action == "take_charge":
            return self.role == "CM" and self.opportunity.cm_login != self.author
        return True

    def action_take_charge(self) -> None:
        """The CM in charge := this login, committed at once (the sync sends it)."""
        if self.role != "CM":
            self.notify("Seul un chargé de mission prend une opportunité en charge.", severity="warning")
            return
        login = self.author
        if not login:
            self.notify("Ce poste ne connaît pas encore votre identifiant : synchronisez d'abord (at-tui login).",
                        severity="warning")
            return
        before = self.opportunity.cm_login
        try:
            self.workspace.opportunities.take_charge(self.opportunity_id, login, self.lifecycle)
        except SAVE_ERRORS as error:
            self._write_failed(error, "Prise en charge non enregistrée")
            return
        self.reload()
        self.refresh_bindings()
        taken = f" (à la place de {markup(before)})" if before else ""
        self.notify(f"Opportunité prise en charge par vous ({markup(login)}){taken} : elle est dans « Mes projets ».")

    # -- maillage ------------------------------------------------------------------------

    def action_maillage(self) -> None:
        from at_tui.screens.maillage_partner import MaillagePartnerScreen, named_partners

        def chosen(name: str | None) -> None:
            if name:
                from at_tui.screens.visit_form import VisitFormScreen

                self.app.push_screen(VisitFormScreen(prefill={
                    "structure": name, "departement": self.opportunity.departement, "maillage": True}))

        self._push_dialog(MaillagePartnerScreen(named_partners(self.entries)), chosen)

    # -- the rest --------------------------------------------------------------------------

    def _write_failed(self, error: BaseException, what: str) -> None:
        from at_tui.store.errors import cause

        self.workspace.after_failed_write()
        self.notify(f"{what} : {cause(error)}. Rien n'a été modifié : réessayez quand le problème est réglé.",
                    severity="error", timeout=15)

    def action_back(self) -> None:
        self.app.pop_screen()

    def on_screen_resume(self) -> None:
        if self._shown and not self._in_dialog:  # back from a form (a visit): the store may have changed
            self.reload()
        self._shown, self._in_dialog = True, False

    def _push_dialog(self, screen, callback) -> None:
        """A dialog of this screen: its callback redraws what it changed (not the resume)."""
        self._in_dialog = True
        self.app.push_screen(screen, callback)

    def palette_commands(self) -> Iterable[SystemCommand]:
        """This screen's actions, offered by the app's command palette (at_tui.app)."""
        yield SystemCommand("Enregistrer une activité", "Cadrage, formation, suivi M+1/M+3/M+6, témoignage, note…",
                            self.action_record)
        yield SystemCommand("Corriger l'entrée du journal", "Une nouvelle entrée remplace celle choisie (gardée)",
                            self.action_correct)
        yield SystemCommand("Changer le statut de l'opportunité", "Projet en cours, Terminé, Sans suite (avec raison)",
                            self.action_status)
        yield SystemCommand("Maillage : nouvelle visite pour un partenaire",
                            "Partenaires nommés au dernier suivi, ou un autre", self.action_maillage)
        if self.check_action("take_charge", ()):
            yield SystemCommand("Prendre en charge l'opportunité", "Vous devenez le CM en charge (touche m)",
                                self.action_take_charge)


def _the(role: str) -> str:
    """« l'AT », « le CM » (a role letter from the store, made safe for markup)."""
    shown = markup(role)
    return f"l'{shown}" if shown[:1] in "AEIOUaeiou" else f"le {shown}"
