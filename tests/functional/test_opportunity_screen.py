"""The opportunity's screen (seed 000, steps 4 to 7), driven by keys with a clock the test moves:
a simple project from its finished visit to « Terminé » over eight months, status refusals,
corrections that supersede, the maillage visit, and writes that fail."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from answer_sets import SIMPLE_ANSWERS
from helpers import type_text
from textual.widgets import Checkbox, Input, RadioSet, Select, Static, TextArea

from at_tui.app import ATApp
from at_tui.screens.maillage_partner import MaillagePartnerScreen
from at_tui.screens.opportunity import OpportunityScreen
from at_tui.screens.record_activity import RecordActivityScreen
from at_tui.screens.status_change import ConfirmStatusScreen, StatusChangeScreen
from at_tui.screens.visit_form import VisitFormScreen
from at_tui.widgets.error_line import ErrorLine
from at_tui.widgets.journal_view import JournalEntryView

SIZE = (80, 24)
LOGIN = "claire.at"


class Clock:
    """The app's « today », moved by the test."""

    def __init__(self, day: dt.date) -> None:
        self.day = day

    def __call__(self) -> dt.date:
        return self.day


@pytest.fixture
def opportunity_id(db_path, reference) -> str:
    """A finished visit classified « simple », its opportunity opened, the AT logged in."""
    from at_tui.sync.outbox import set_state
    from at_tui.workspace import Workspace

    workspace = Workspace(db_path, reference=reference)
    try:
        visit, errors = workspace.start_visit({
            "structure": "MSP de Lectoure", "departement": "32", "typologie": "MSP",
            "contact_name": "Dr Claire Roux", "contact_role": "Médecin", "visit_date": "01/12/2026"})
        assert not errors, errors
        for question, value in SIMPLE_ANSWERS.items():
            workspace.save_answer(visit, question, value)
        workspace.visits.set_status(visit.id, "terminee")
        set_state(workspace.conn, "login", LOGIN)
        workspace.conn.commit()
        assert workspace.ensure_opportunities() == 1
        return visit.id
    finally:
        workspace.close()


def messages(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


def banner(screen) -> str:
    return str(screen.query_one("#opportunity-banner", Static).render())


def journal_texts(screen) -> list[str]:
    return [str(view.render()) for view in screen.query(JournalEntryView)]


async def open_screen(app, pilot, opportunity_id) -> OpportunityScreen:
    app.open_opportunity(opportunity_id)
    await pilot.pause()
    assert isinstance(app.screen, OpportunityScreen)
    return app.screen


async def record(pilot, activity: str | None, text: str = "", answers: dict | None = None,
                 day: str | None = None) -> RecordActivityScreen:
    """`r`, pick the activity (None: the one proposed), type the day, the text and the form's answers."""
    await pilot.press("r")
    await pilot.pause()
    dialog = pilot.app.screen
    assert isinstance(dialog, RecordActivityScreen)
    if activity is not None:
        dialog.query_one("#activity", Select).value = activity
        await pilot.pause()
    assert dialog.activity_id == (activity or dialog.activity_id)
    if day is not None:
        dialog.query_one("#day", Input).focus()
        dialog.query_one("#day", Input).value = ""
        await type_text(pilot, day)
    if text:
        dialog.query_one("#text", TextArea).focus()
        await type_text(pilot, text)
    for question_id, value in (answers or {}).items():
        await answer(pilot, dialog, question_id, value)
    await pilot.press("ctrl+s")
    await pilot.pause()
    return dialog


async def answer(pilot, dialog, question_id: str, value) -> None:
    """Answer one question of the form by keys, as the AT would."""
    control = dialog.query_one(f"#answer-{question_id}")
    control.focus()
    await pilot.pause()
    if isinstance(control, RadioSet):  # yes / no: Oui is first
        await pilot.press(*(["enter"] if value else ["right", "enter"]))
    else:
        await type_text(pilot, str(value))
    await pilot.pause()


SUIVI = {"indicateurs": "Messages quotidiens", "besoins_formation": False, "comptes_a_mettre_a_jour": False,
         "candidat_temoignage": False}


async def test_a_simple_project_from_visit_to_termine(opportunity_id, db_path, reference) -> None:
    clock = Clock(dt.date(2026, 12, 5))
    app = ATApp(db_path, reference=reference, today=clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot, opportunity_id)
        assert "En attente" in banner(screen) and "À faire : Cadrage (déploiement acté)" in banner(screen)

        # Step 4: the cadrage, proposed first, sets « projet en cours ».
        dialog = await record(pilot, None, "Deploiement acte")
        assert dialog.activity_id == "cadrage"
        assert app.screen is screen
        assert "Statut : Projet en cours" in banner(screen)
        assert "Cadrage (déploiement acté) · claire.at (AT)" in journal_texts(screen)[0]
        assert "Ensuite : « Réunion de lancement », « Fin du déploiement » (fixe les suivis)." in banner(screen)

        # Step 5, a month later: the training, then the end of the deployment.
        clock.day = dt.date(2027, 1, 10)
        await record(pilot, "formation", "Formation de 6 professionnels")
        clock.day = dt.date(2027, 1, 31)
        await record(pilot, "fin-deploiement")
        assert "dû le 28/02/2027" in banner(screen)  # 31 January + 1 month, clamped

        # A month on, M+1 is overdue; its form refuses to save without the required answers.
        clock.day = dt.date(2027, 3, 3)
        await pilot.press("escape")
        screen = await open_screen(app, pilot, opportunity_id)
        assert "[M1] SPICO Suivi des usages — en retard (dû le 28/02/2027)" in banner(screen)
        await pilot.press("r")
        await pilot.pause()
        dialog = app.screen
        assert dialog.activity_id == "suivi-m1"  # the overdue follow-up is proposed
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is dialog
        assert str(dialog.query_one("#field-indicateurs").query_one(ErrorLine).render()) == "Réponse obligatoire."
        for question_id, value in {**SUIVI, "usages_en_run": False}.items():
            await answer(pilot, dialog, question_id, value)
        await answer(pilot, dialog, "partenaires_maillage", "EHPAD Les Tilleuls")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen

        clock.day = dt.date(2027, 5, 2)
        await record(pilot, "suivi-m3", answers={**SUIVI, "usages_en_run": False})
        assert "Statut : Projet en cours" in banner(screen)

        # M+6 with the usages « en run »: « Terminé » is proposed, the lead confirms.
        clock.day = dt.date(2027, 8, 1)
        await record(pilot, "suivi-m6", answers={**SUIVI, "usages_en_run": True})
        assert isinstance(app.screen, ConfirmStatusScreen)
        assert "Passer l'opportunité à « Terminé » ?" in str(app.screen.query_one(".section-title", Static).render())
        await pilot.press("o")
        await pilot.pause()
        assert app.screen is screen
        assert "Statut : Terminé" in banner(screen) and "Opportunité close" in banner(screen)

    from at_tui.workspace import Workspace

    workspace = Workspace(db_path, reference=reference)
    try:
        assert workspace.opportunities.get(opportunity_id).status == "termine"
        journal = workspace.opportunities.journal(opportunity_id)
        assert [e.title for e in journal] == [
            "Information", "Cadrage (déploiement acté)", "Formation — Accompagnement aux premiers usages",
            "Fin du déploiement", "[M1] SPICO Suivi des usages", "[M3] SPICO Suivi des usages",
            "[M6] SPICO Suivi des usages", "Statut « Terminé »",
        ]
        m1 = journal[4]
        assert (m1.day, m1.author, m1.role) == ("2027-03-03", LOGIN, "AT")
        assert m1.answers["partenaires_maillage"] == "EHPAD Les Tilleuls"
        assert m1.answers["usages_en_run"] is False and journal[6].answers["usages_en_run"] is True
        assert workspace.opportunities.due() == []
    finally:
        workspace.close()


async def test_a_refused_status_change_says_why_and_changes_nothing(opportunity_id, db_path, reference) -> None:
    app = ATApp(db_path, reference=reference, today=Clock(dt.date(2026, 12, 5)))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot, opportunity_id)
        await pilot.press("t")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, StatusChangeScreen)
        assert [b.label.plain for b in dialog.query("RadioButton")] == ["Projet en cours", "Sans suite"]
        await pilot.press("right", "enter", "ctrl+s")  # « Sans suite », no reason
        await pilot.pause()
        assert app.screen is dialog
        error = str(dialog.query_one("#status-error").render())
        assert error == "Indiquez pourquoi l'opportunité passe à « Sans suite »."
        assert app.focused is dialog.query_one("#reason", TextArea)
        await type_text(pilot, "Structure fermee")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        assert "Statut : Sans suite — Structure fermee" in banner(screen)
        assert app.focused.entry.title == "Statut « Sans suite »"  # the newest entry, focused
        await pilot.press("c")  # a status entry is not corrected: the status is changed instead
        await pilot.pause()
        assert app.screen is screen
        assert messages(app)[-1] == "« Statut « Sans suite » » ne se corrige pas ici : un statut se change avec [b]t[/b]."
        await pilot.press("t")  # back to « En attente » (a reopened pipeline), then nothing more to say
        await pilot.pause()
        assert [b.label.plain for b in app.screen.query("RadioButton")] == ["En attente"]
        await pilot.press("escape")
        await pilot.pause()
    from at_tui.workspace import Workspace

    workspace = Workspace(db_path, reference=reference)
    try:
        titles = [e.title for e in workspace.opportunities.journal(opportunity_id)]
        assert titles == ["Information", "Statut « Sans suite »"]  # the refusal wrote nothing
    finally:
        workspace.close()


async def test_termine_is_final(opportunity_id, db_path, reference) -> None:
    from at_tui.workspace import Workspace

    workspace = Workspace(db_path, reference=reference)
    lifecycle = workspace.lifecycle()
    workspace.opportunities.add_entry(opportunity_id, lifecycle, "cadrage", "2026-12-10", author=LOGIN, role="AT")
    workspace.opportunities.set_status(opportunity_id, lifecycle, "termine", None, author=LOGIN, role="AT",
                                       day="2026-12-11")
    workspace.close()
    app = ATApp(db_path, reference=reference, today=Clock(dt.date(2026, 12, 12)))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot, opportunity_id)
        await pilot.press("t")
        await pilot.pause()
        assert app.screen is screen
        assert "Une opportunité « Terminé » ne change plus de statut." in messages(app)


async def test_a_correction_supersedes_the_entry(opportunity_id, db_path, reference) -> None:
    app = ATApp(db_path, reference=reference, today=Clock(dt.date(2026, 12, 5)))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot, opportunity_id)
        await record(pilot, "cadrage", "Deploiement acte le 4")
        assert app.focused.entry.title == "Cadrage (déploiement acté)"  # the newest, on top
        await pilot.press("c")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, RecordActivityScreen) and dialog.correcting is not None
        assert dialog.query_one("#day", Input).value == "05/12/2026"
        text = dialog.query_one("#text", TextArea)
        assert text.text == "Deploiement acte le 4"  # prefilled
        dialog.query_one("#day", Input).value = "04/12/2026"
        text.focus()
        await pilot.press("end", "space")
        await type_text(pilot, "decembre")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        shown = journal_texts(screen)
        assert len(shown) == 2 and "Deploiement acte le 4 decembre" in shown[0] and "(correction)" in shown[0]
        assert not any(t.endswith("Deploiement acte le 4") for t in shown)
        await pilot.press("down")  # ↓ moves along the journal
        assert app.focused.entry.title == "Information"
    from at_tui.workspace import Workspace

    workspace = Workspace(db_path, reference=reference)
    try:
        journal = workspace.opportunities.journal(opportunity_id)
        cadrage = [e for e in journal if e.activity == "cadrage"]
        new = next(e for e in cadrage if e.supersedes)
        old = next(e for e in cadrage if e is not new)
        assert (old.text, new.text, new.supersedes, new.day) == (
            "Deploiement acte le 4", "Deploiement acte le 4 decembre", old.id, "2026-12-04")
    finally:
        workspace.close()


async def test_maillage_opens_a_prefilled_visit_form(opportunity_id, db_path, reference) -> None:
    from at_tui.workspace import Workspace

    workspace = Workspace(db_path, reference=reference)
    lifecycle = workspace.lifecycle()
    for activity, day in (("cadrage", "2026-12-10"), ("fin-deploiement", "2027-01-31")):
        workspace.opportunities.add_entry(opportunity_id, lifecycle, activity, day, author=LOGIN, role="AT")
    workspace.opportunities.add_entry(
        opportunity_id, lifecycle, "suivi-m1", "2027-03-01", author=LOGIN, role="AT",
        answers={**SUIVI, "usages_en_run": False, "partenaires_maillage": "EHPAD Les Tilleuls, Lectoure\n\nSSIAD du Gers"})
    workspace.close()
    app = ATApp(db_path, reference=reference, today=Clock(dt.date(2027, 3, 2)))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot, opportunity_id)
        await pilot.press("p")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, MaillagePartnerScreen)
        assert picker.partners == ["EHPAD Les Tilleuls, Lectoure", "SSIAD du Gers"]
        await pilot.press("down", "enter")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, VisitFormScreen) and not form.editing
        assert form.query_one("#structure", Input).value == "SSIAD du Gers"
        assert form.query_one("#departement", Input).value.startswith("32")
        assert form.query_one("#maillage", Checkbox).value is True
        await pilot.press("escape")  # nothing typed: back at once
        await pilot.pause()
        assert app.screen is screen
        # A partner not named at a follow-up: typed.
        await pilot.press("p")
        await pilot.pause()
        app.screen.query_one("#partner-name", Input).focus()
        await type_text(pilot, "Pharmacie du Centre")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.query_one("#structure", Input).value == "Pharmacie du Centre"


async def test_a_failed_write_is_said_once_and_keeps_what_was_typed(opportunity_id, db_path, reference,
                                                                    monkeypatch) -> None:
    app = ATApp(db_path, reference=reference, today=Clock(dt.date(2026, 12, 5)))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot, opportunity_id)
        store = app.workspace.opportunities

        def full(*args, **kwargs):
            raise sqlite3.OperationalError("database or disk is full")

        monkeypatch.setattr(store, "add_entry", full)
        monkeypatch.setattr(store, "set_check", full)
        dialog = await record(pilot, "cadrage", "Acte")
        assert app.screen is dialog  # still open, with what was typed
        assert dialog.query_one("#text", TextArea).text == "Acte"
        failures = [m for m in messages(app) if "non enregistrée" in m]
        assert failures == ["Activité non enregistrée : disque plein. Rien n'a été modifié : réessayez quand le "
                            "problème est réglé."]
        monkeypatch.undo()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen and "Statut : Projet en cours" in banner(screen)
        # A ticked action that cannot be saved unticks itself.
        monkeypatch.setattr(store, "set_check", full)
        box = screen.query_one("#check-qualification-recueil-detaille", Checkbox)
        box.focus()
        await pilot.press("space")
        await pilot.pause()
        assert box.value is False
        assert messages(app)[-1].startswith("Case non enregistrée : disque plein.")


async def test_actions_are_ticked_and_kept(opportunity_id, db_path, reference) -> None:
    app = ATApp(db_path, reference=reference, today=Clock(dt.date(2026, 12, 5)))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot, opportunity_id)
        screen.query_one("#check-lancement-supports", Checkbox).focus()
        await pilot.press("space")
        await pilot.pause()
        assert app.workspace.opportunities.checks(opportunity_id) == {"lancement:supports": True}


async def test_an_unknown_opportunity_is_refused(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        before = app.screen
        app.open_opportunity("inconnue")
        await pilot.pause()
        assert app.screen is before
        assert messages(app)[-1].startswith("Opportunité introuvable")


async def test_the_palette_offers_the_screen_actions(opportunity_id, db_path, reference) -> None:
    app = ATApp(db_path, reference=reference, today=Clock(dt.date(2026, 12, 5)))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot, opportunity_id)
        titles = [c.title for c in app.get_system_commands(screen)]
        for title in ("Enregistrer une activité", "Corriger l'entrée du journal",
                      "Changer le statut de l'opportunité", "Maillage : nouvelle visite pour un partenaire"):
            assert title in titles


def test_help_explains_the_screen_keys() -> None:
    from importlib import resources

    text = (resources.files("at_tui") / "help.md").read_text(encoding="utf-8")
    keys = [b.key for b in OpportunityScreen.BINDINGS if b.show and b.key != "escape"]
    assert keys == ["r", "c", "t", "p", "m"]
    missing = [key for key in keys if f"| `{key}` | Opportunité" not in text]
    assert not missing, f"help.md does not explain: {missing}"


async def test_at_80x24_the_banner_and_the_newest_entry_are_on_screen(opportunity_id, db_path, reference) -> None:
    app = ATApp(db_path, reference=reference, today=Clock(dt.date(2026, 12, 5)))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot, opportunity_id)
        focused = app.focused
        assert isinstance(focused, JournalEntryView) and focused.entry.title == "Information"
        region = focused.region
        assert region.height > 0 and screen.region.contains_region(region)
        widget, _ = screen.get_widget_at(*region.center)
        assert widget is focused or focused in widget.ancestors
        # The banner is whole: structure, offer, lead, status, dates, what is due.
        text = banner(screen)
        for part in ("MSP de Lectoure", "SPICO Discussions simple", "menée par AT, CM en soutien",
                     "Statut : En attente", "visite 01/12/2026", "fin du déploiement —",
                     "À faire : Cadrage (déploiement acté)"):
            assert part in text
        assert screen.query_one("#opportunity-banner").region.height == len(text.splitlines())


async def test_the_at_supporting_a_complexe_project_records_her_contributions_and_a_temoignage(
        db_path, reference) -> None:
    """Complexe: the CM leads (délai, cadrage, follow-ups are the CM's); the AT adds RETEX,
    témoignages (step 7, with their form) and notes."""
    from at_tui.workspace import Workspace

    workspace = Workspace(db_path, reference=reference)
    visit, _ = workspace.start_visit({"structure": "CPTS du Gers", "departement": "32", "typologie": "CPTS",
                                      "visit_date": "01/12/2026"})
    for question, value in {**SIMPLE_ANSWERS, "utilisateurs_potentiels": 20, "professionnels_hors_structure": 5}.items():
        workspace.save_answer(visit, question, value)
    workspace.visits.set_status(visit.id, "terminee")
    workspace.ensure_opportunities()
    opportunity = workspace.opportunities.get(visit.id)
    workspace.close()
    assert (opportunity.offer, opportunity.lead, opportunity.support) == ("discussions_complexe", "CM", "AT")

    app = ATApp(db_path, reference=reference, today=Clock(dt.date(2026, 12, 5)))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot, visit.id)
        assert "menée par CM, AT en soutien" in banner(screen)
        assert "À faire : Cadrage (déploiement acté) (prochaine étape, par CM)" in banner(screen)
        await pilot.press("r")
        await pilot.pause()
        dialog = app.screen
        assert [a.id for a in dialog.activities] == ["retex", "temoignage", "note"]
        dialog.query_one("#activity", Select).value = "temoignage"
        await pilot.pause()
        assert dialog.form.id == "temoignage"
        for question_id, text in (("acteur_nom", "Dr Marc Vidal"), ("acteur_structure", "CPTS du Gers")):
            dialog.query_one(f"#answer-{question_id}").focus()
            await type_text(pilot, text)
        for question_id, downs in (("format", 1), ("statut", 1)):  # « Vidéo », « Accepté »
            dialog.query_one(f"#answer-{question_id}").focus()
            await pilot.press(*["down"] * downs, "enter")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        top = journal_texts(screen)[0]
        assert "Témoignage" in top and "Format du témoignage : Vidéo" in top and "Statut du témoignage : Accepté" in top


async def test_escape_with_a_typed_report_asks_before_discarding_it(db_path, reference, opportunity_id):
    """A report being typed is not saved until Ctrl+S: Échap asks first, « continuer » keeps the
    text, « o » leaves and records nothing; with nothing typed Échap leaves at once."""
    from at_tui.screens.confirm import DiscardTypedScreen

    app = ATApp(db_path, reference=reference, today=Clock(dt.date(2026, 12, 10)))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot, opportunity_id)
        before = len(app.workspace.opportunities.journal(opportunity_id))
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, RecordActivityScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen  # nothing typed: no question
        await pilot.press("r")
        await pilot.pause()
        app.screen.query_one("#text", TextArea).focus()
        await type_text(pilot, "Compte rendu en cours")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, DiscardTypedScreen)
        assert "L'activité n'est pas encore enregistrée" in str(app.screen.query_one("#discard-text", Static).render())
        await pilot.press("escape")  # continue typing
        await pilot.pause()
        assert isinstance(app.screen, RecordActivityScreen)
        assert app.screen.query_one("#text", TextArea).text == "Compte rendu en cours"
        await pilot.press("escape", "o")
        await pilot.pause()
        assert app.screen is screen
        assert len(app.workspace.opportunities.journal(opportunity_id)) == before
