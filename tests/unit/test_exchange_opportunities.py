"""Exchange format v3 (issue 11 §4): a visit's file carries its opportunity, its whole journal and
its ticked actions; the journal merges by entry id, a status or date changed on both sides is
reported and ours kept; files of versions 1 and 2 still import. Real SQLite files, two laptops."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from answer_sets import SIMPLE_ANSWERS

from at_tui.domain.opportunity_revisions import merge_checks, merge_opportunity
from at_tui.exchange import ExchangeError, Fate, dumps, export_visits, import_visits
from at_tui.workspace import Workspace

OPPORTUNITY_TABLES = ("opportunities", "journal", "due_items", "opportunity_checks", "visits")
M1_ANSWERS = {"indicateurs": "Messagerie utilisée chaque jour.\nDossiers : pas encore.", "comptes_actifs": 12,
              "besoins_formation": False}


def make_laptop(root: Path, name: str, reference) -> Workspace:
    path = root / name / "at-tui.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    return Workspace(path, reference=reference)


@pytest.fixture
def at_laptop(tmp_path, reference):
    workspace = make_laptop(tmp_path, "at", reference)
    yield workspace
    workspace.close()


@pytest.fixture
def cm_laptop(tmp_path, reference):
    workspace = make_laptop(tmp_path, "cm", reference)
    yield workspace
    workspace.close()


def finished_visit(workspace: Workspace, structure: str = "MSP de Lectoure") -> str:
    visit, errors = workspace.start_visit({
        "structure": structure, "departement": "32", "typologie": "MSP", "contact_name": "Dr Claire Roux",
        "contact_role": "Médecin", "visit_date": "01/12/2026",
    })
    assert not errors, errors
    for question, value in SIMPLE_ANSWERS.items():
        workspace.save_answer(visit, question, value)
    workspace.visits.set_status(visit.id, "terminee")
    workspace.ensure_opportunities()
    return visit.id


def record(workspace: Workspace, visit_id: str, activity: str, day: str, **options):
    options.setdefault("author", "marie")
    options.setdefault("role", "AT")
    return workspace.opportunities.add_entry(visit_id, workspace.lifecycle(), activity, day, **options)


def transfer(source: Workspace, target: Workspace):
    return import_visits(target, dumps(export_visits(source)))


def dump(workspace: Workspace) -> dict[str, list]:
    return {t: [tuple(r) for r in workspace.conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2")]
            for t in OPPORTUNITY_TABLES}


def journal_ids(workspace: Workspace, visit_id: str) -> set[str]:
    return {e.id for e in workspace.opportunities.journal(visit_id)}


def project_with_history(workspace: Workspace) -> str:
    """Cadrage, end of the deployment (then corrected by a superseding entry), M+1 with its form."""
    visit_id = finished_visit(workspace)
    record(workspace, visit_id, "cadrage", "2026-12-10", text="Déploiement acté avec la coordinatrice.")
    _, first_end = record(workspace, visit_id, "fin-deploiement", "2027-01-31")
    record(workspace, visit_id, "fin-deploiement", "2027-02-15", supersedes=first_end.id,
           text="Correction : la formation des IDE a eu lieu le 15 février.")
    record(workspace, visit_id, "suivi-m1", "2027-03-16", answers=M1_ANSWERS)
    workspace.opportunities.set_check(visit_id, "lancement:reunion-lancement", True, "marie")
    return visit_id


# -- the file -------------------------------------------------------------------------------


def test_the_file_carries_the_opportunity_its_whole_journal_and_its_checks(at_laptop) -> None:
    visit_id = project_with_history(at_laptop)
    envelope = json.loads(dumps(export_visits(at_laptop)))
    assert envelope["version"] == 3
    (visit,) = envelope["visits"]
    opportunity = visit["opportunity"]
    assert opportunity["playbook"] == {"id": "spico", "version": 2}
    assert {k: opportunity[k] for k in ("offer", "lead", "support", "status", "visit_date", "deployment_end")} == {
        "offer": "discussions_simple", "lead": "AT", "support": "CM", "status": "projet_en_cours",
        "visit_date": "2026-12-01", "deployment_end": "2027-02-15"}
    assert [(e["title"], e["day"]) for e in visit["journal"]] == [
        ("Information", "2026-12-01"), ("Cadrage (déploiement acté)", "2026-12-10"),
        ("Fin du déploiement", "2027-01-31"), ("Fin du déploiement", "2027-02-15"),
        ("[M1] SPICO Suivi des usages", "2027-03-16")]
    assert visit["journal"][3]["supersedes"] == visit["journal"][2]["id"]  # superseded entries travel too
    assert visit["journal"][4]["answers"] == M1_ANSWERS
    assert set(visit["journal"][0]) == {"id", "activity", "type", "title", "day", "author", "role", "text",
                                        "answers", "supersedes", "created_at"}
    assert visit["opportunity_checks"] == [{"key": "lancement:reunion-lancement", "done": True,
                                            "author": "marie", "updated_at": visit["opportunity_checks"][0]["updated_at"]}]
    assert visit_id == visit["id"]


def test_a_visit_without_opportunity_carries_none(at_laptop) -> None:
    visit, _ = at_laptop.start_visit({"structure": "CH d'Auch", "departement": "32", "typologie": "CH",
                                      "visit_date": "02/12/2026"})
    (exported,) = export_visits(at_laptop)["visits"]
    assert not {"opportunity", "journal", "opportunity_checks"} & set(exported)


# -- round trip -------------------------------------------------------------------------------


def test_round_trip_into_a_second_database(at_laptop, cm_laptop) -> None:
    visit_id = project_with_history(at_laptop)
    report = transfer(at_laptop, cm_laptop)
    (fate,) = report.fates
    assert fate.fate is Fate.IMPORTED and report.complete
    assert fate.line.endswith(": importée, avec son opportunité (5 entrées de journal).")
    assert cm_laptop.opportunities.get(visit_id) == at_laptop.opportunities.get(visit_id)
    assert cm_laptop.opportunities.journal(visit_id) == at_laptop.opportunities.journal(visit_id)
    assert cm_laptop.opportunities.checks(visit_id) == {"lancement:reunion-lancement": True}
    assert cm_laptop.opportunities.exchange_copy(visit_id) == at_laptop.opportunities.exchange_copy(visit_id)
    # What is due is recomputed on the other laptop: M+3 and M+6 from the corrected end of the deployment.
    assert [(d.item.title, d.item.due) for d in cm_laptop.opportunities.due()] == [
        ("[M3] SPICO Suivi des usages", "2027-05-15"), ("[M6] SPICO Suivi des usages", "2027-08-15")]
    assert cm_laptop.ensure_opportunities() == 0  # it came with the file


def test_reimporting_is_harmless(at_laptop, cm_laptop) -> None:
    project_with_history(at_laptop)
    text = dumps(export_visits(at_laptop))
    import_visits(cm_laptop, text)
    before = dump(cm_laptop)
    report = import_visits(cm_laptop, text)
    assert [f.fate for f in report.fates] == [Fate.PRESENT] and report.complete
    assert report.fates[0].opportunity == ""
    assert dump(cm_laptop) == before


def test_a_newer_copy_brings_its_status_dates_and_follow_ups(at_laptop, cm_laptop) -> None:
    visit_id = finished_visit(at_laptop)
    transfer(at_laptop, cm_laptop)
    assert cm_laptop.opportunities.get(visit_id).status == "en_attente"
    record(at_laptop, visit_id, "cadrage", "2026-12-10")
    record(at_laptop, visit_id, "fin-deploiement", "2027-01-31")
    report = transfer(at_laptop, cm_laptop)
    assert report.complete
    assert "opportunité mise à jour (statut et dates du fichier, 2 entrées de journal ajoutées)" in report.fates[0].line
    opportunity = cm_laptop.opportunities.get(visit_id)
    assert (opportunity.status, opportunity.deployment_end) == ("projet_en_cours", "2027-01-31")
    assert [d.item.due for d in cm_laptop.opportunities.due()] == ["2027-02-28", "2027-04-30", "2027-07-31"]


def test_entries_appended_on_both_sides_are_all_kept(at_laptop, cm_laptop) -> None:
    visit_id = finished_visit(at_laptop)
    record(at_laptop, visit_id, "cadrage", "2026-12-10")
    transfer(at_laptop, cm_laptop)
    _, m1 = record(at_laptop, visit_id, "retex", "2027-01-05", text="Premiers retours des IDE.")
    _, note = record(cm_laptop, visit_id, "note", "2027-01-06", author="paul", role="CM",
                     text="Appel de la coordinatrice : besoin d'un second créneau.")
    cm_laptop.opportunities.set_check(visit_id, "qualification:recueil-detaille", True, "paul")

    to_cm = transfer(at_laptop, cm_laptop)
    to_at = transfer(cm_laptop, at_laptop)
    assert to_cm.complete and to_at.complete
    assert "1 entrée de journal ajoutée" in to_cm.fates[0].line
    assert "1 action de la check-list reprise" in to_at.fates[0].line
    both = journal_ids(at_laptop, visit_id)
    assert {m1.id, note.id} <= both and both == journal_ids(cm_laptop, visit_id)
    assert len(both) == 4  # Information, cadrage, RETEX, the CM's note: nothing lost, nothing twice
    assert at_laptop.opportunities.checks(visit_id) == {"qualification:recueil-detaille": True}
    assert at_laptop.opportunities.get(visit_id) == cm_laptop.opportunities.get(visit_id)


def test_a_status_and_a_date_changed_on_both_sides_are_reported_and_ours_kept(at_laptop, cm_laptop) -> None:
    visit_id = finished_visit(at_laptop)
    transfer(at_laptop, cm_laptop)
    record(at_laptop, visit_id, "cadrage", "2026-12-10")
    record(at_laptop, visit_id, "fin-deploiement", "2027-01-31")
    other = finished_visit(at_laptop, structure="CPTS du Gers")
    record(cm_laptop, visit_id, "fin-deploiement", "2027-02-28", author="paul", role="CM")
    cm_laptop.opportunities.set_status(visit_id, cm_laptop.lifecycle(), "sans_suite", "La structure renonce.",
                                       author="paul", role="CM", day="2027-03-01")

    report = transfer(at_laptop, cm_laptop)
    fates = {f.visit_id: f for f in report.fates}
    assert fates[visit_id].opportunity_diverged and not report.complete
    assert "opportunité divergente : statut, fin du déploiement (ceux de ce poste sont gardés" in fates[visit_id].line
    assert report.opportunities_diverged == [visit_id]
    assert "1 opportunité divergente" in report.summary
    kept = cm_laptop.opportunities.get(visit_id)
    assert (kept.status, kept.status_reason, kept.deployment_end) == ("sans_suite", "La structure renonce.",
                                                                       "2027-02-28")
    assert journal_ids(at_laptop, visit_id) <= journal_ids(cm_laptop, visit_id)  # the AT's entries imported
    # Closed here: nothing of it is due any more (recomputed after the merge); the other visit's is.
    assert {d.item.opportunity_id for d in cm_laptop.opportunities.due()} == {other}
    assert fates[other].fate is Fate.IMPORTED and cm_laptop.opportunities.get(other) is not None


def test_the_opportunity_of_a_divergent_visit_is_left_alone(at_laptop, cm_laptop) -> None:
    visit_id = finished_visit(at_laptop)
    transfer(at_laptop, cm_laptop)
    at_laptop.visits.set_answer(visit_id, "q:situation_actuelle", "Messagerie sécurisée déjà en test.")
    cm_laptop.visits.set_answer(visit_id, "q:situation_actuelle", "Téléphone uniquement.")
    record(at_laptop, visit_id, "cadrage", "2026-12-10")
    before = dump(cm_laptop)
    report = transfer(at_laptop, cm_laptop)
    assert report.diverged == [visit_id] and report.fates[0].opportunity == ""
    assert dump(cm_laptop) == before  # « rien n'est écrit pour elle »: nor for its opportunity


# -- older files and malformed ones -------------------------------------------------------------


def test_a_version_2_file_still_imports_and_the_laptop_opens_the_opportunity(at_laptop, cm_laptop) -> None:
    visit_id = finished_visit(at_laptop)
    envelope = export_visits(at_laptop)
    envelope["version"] = 2
    for visit in envelope["visits"]:
        for name in ("opportunity", "journal", "opportunity_checks"):
            visit.pop(name)
    report = import_visits(cm_laptop, dumps(envelope))
    assert report.imported == [visit_id] and report.fates[0].opportunity == ""
    assert cm_laptop.opportunities.get(visit_id) is None
    assert cm_laptop.ensure_opportunities() == 1
    assert [e.title for e in cm_laptop.opportunities.journal(visit_id)] == ["Information"]
    # The Information entry has the same id on both laptops: a v3 file later merges with it.
    record(at_laptop, visit_id, "cadrage", "2026-12-10")
    assert transfer(at_laptop, cm_laptop).complete
    assert journal_ids(cm_laptop, visit_id) == journal_ids(at_laptop, visit_id)
    assert cm_laptop.opportunities.get(visit_id).status == "projet_en_cours"


def test_an_activity_this_laptop_does_not_know_is_kept_as_history(at_laptop, cm_laptop) -> None:
    visit_id = finished_visit(at_laptop)
    envelope = export_visits(at_laptop)
    entry = {**envelope["visits"][0]["journal"][0], "id": "5b1c5a8e-2f7e-4d3f-9a51-0c4f3f0b9e11",
             "activity": "ancienne-etape", "title": "Étape d'un ancien processus"}
    envelope["visits"][0]["journal"].append(entry)
    import_visits(cm_laptop, dumps(envelope))
    assert "ancienne-etape" in {e.activity for e in cm_laptop.opportunities.journal(visit_id)}


def _journal_entry(envelope: dict) -> dict:
    return envelope["visits"][0]["journal"][0]


@pytest.mark.parametrize(
    ("spoil", "fragments"),
    [
        (lambda e: _journal_entry(e).update(day="2027-02-30"), ("journal.0.day", "date AAAA-MM-JJ attendue")),
        (lambda e: _journal_entry(e).update(day="1999-12-31"), ("journal.0.day", "année 1999 hors limites")),
        (lambda e: _journal_entry(e).update(title="Information\x07"), ("journal.0.title", "Caractère non autorisé")),
        (lambda e: _journal_entry(e).update(text="x" * 20_001), ("journal.0.text", "Texte trop long")),
        (lambda e: _journal_entry(e).update(role="chef"), ("journal.0.role", "non reconnue")),
        (lambda e: _journal_entry(e).update(answers={"indicateurs": {"a": 1}}), ("journal.0.answers", "attendu")),
        (lambda e: _journal_entry(e).pop("created_at"), ("journal.0.created_at", "champ obligatoire manquant")),
        (lambda e: _journal_entry(e).update(supersedes="5b1c5a8e-2f7e-4d3f-9a51-0c4f3f0b9e11"),
         ("journal, entrée n° 1", "absente du journal du fichier")),
        (lambda e: e["visits"][0]["journal"].append(copy.deepcopy(_journal_entry(e))), ("présent deux fois",)),
        (lambda e: e["visits"][0]["opportunity"].update(status="gagnee"), ("statut « gagnee » inconnu",)),
        (lambda e: e["visits"][0]["opportunity"].update(deployment_end="31/01/2027"),
         ("opportunity.deployment_end", "date AAAA-MM-JJ attendue")),
        (lambda e: e["visits"][0].pop("opportunity"), ("sans opportunité",)),
        (lambda e: e["visits"][0]["opportunity"]["playbook"].update(id="autre"),
         ("ne connaît pas la vie des opportunités du processus « autre »",)),
    ],
)
def test_a_malformed_opportunity_refuses_the_file_in_french(at_laptop, cm_laptop, spoil, fragments) -> None:
    finished_visit(at_laptop)
    envelope = copy.deepcopy(export_visits(at_laptop))
    spoil(envelope)
    before = dump(cm_laptop)
    with pytest.raises(ExchangeError) as caught:
        import_visits(cm_laptop, dumps(envelope))
    message = str(caught.value)
    assert message.startswith("Import refusé") and "Visite « MSP de Lectoure »" in message, message
    for fragment in fragments:
        assert fragment in message, message
    assert dump(cm_laptop) == before


# -- the pure rule ------------------------------------------------------------------------------


def test_the_merge_rule_group_by_group(reference) -> None:
    from at_tui.domain.opportunity import JournalEntry

    lifecycle = reference.current_playbook("spico").lifecycle

    def entry(entry_id: str, activity: str) -> JournalEntry:
        return JournalEntry(entry_id, "o", activity, "T", "T", "2027-01-01", None, "AT")

    base = {"status": "en_attente", "status_reason": None, "launch_date": None, "deployment_end": None,
            "offer": "discussions_simple", "lead": "AT", "support": "CM", "at_login": None, "cm_login": None,
            "visit_date": "2026-12-01"}
    early, late = "2027-01-01T10:00:00+00:00", "2027-01-02T10:00:00+00:00"
    info = entry("i", "information")
    # Only the other side recorded the launch, only this side the end: each keeps its own change.
    ours = {**base, "deployment_end": "2027-01-31"}
    theirs = {**base, "launch_date": "2027-01-10", "cm_login": "paul"}
    result = merge_opportunity(ours, late, [info, entry("a", "fin-deploiement")],
                               theirs, early, [info, entry("b", "lancement")], lifecycle)
    assert dict(result.taken) == {"launch_date": "2027-01-10", "cm_login": "paul"} and result.diverged == ()
    assert [e.id for e in result.new_entries] == ["b"] and result.updated_at == late
    # A difference no entry explains, between two known values: a divergence.
    result = merge_opportunity({**base, "deployment_end": "2027-01-31"}, early, [info],
                               {**base, "deployment_end": "2027-02-28"}, early, [info], lifecycle)
    assert result.diverged == ("fin du déploiement",) and not result.taken
    # The older copy coming back changes nothing.
    result = merge_opportunity({**base, "status": "projet_en_cours"}, late, [info, entry("c", "cadrage")],
                               base, early, [info], lifecycle)
    assert not result.changed and result.diverged == ()


def test_checks_take_the_later_change() -> None:
    ours = {"a:x": {"key": "a:x", "done": True, "author": None, "updated_at": "2027-01-02T00:00:00+00:00"},
            "a:y": {"key": "a:y", "done": False, "author": None, "updated_at": "2027-01-01T00:00:00+00:00"}}
    theirs = [{"key": "a:x", "done": False, "author": None, "updated_at": "2027-01-01T00:00:00+00:00"},
              {"key": "a:y", "done": True, "author": None, "updated_at": "2027-01-03T00:00:00+00:00"},
              {"key": "a:z", "done": True, "author": None, "updated_at": "2027-01-01T00:00:00+00:00"}]
    assert [c["key"] for c in merge_checks(ours, theirs)] == ["a:y", "a:z"]


def test_an_entry_id_of_another_opportunity_refuses_the_whole_file(at_laptop, cm_laptop) -> None:
    first = finished_visit(at_laptop)
    finished_visit(at_laptop, structure="CPTS du Gers")
    envelope = export_visits(at_laptop)
    envelope["visits"][1]["journal"][0]["id"] = f"{first}:information"  # the first visit's entry
    before = dump(cm_laptop)
    with pytest.raises(ExchangeError, match="appartient ici à l'opportunité"):
        import_visits(cm_laptop, dumps(envelope))
    assert dump(cm_laptop) == before  # the first visit, already written in the transaction, is gone too
