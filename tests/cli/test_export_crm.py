"""`at-tui export --format crm` (issue 12 §2): the real command, by subprocess, on a real database
prepared through the Workspace API; both files parsed back with the `csv` module (not the
writer), field by field, and reloaded by LibreOffice where it is installed."""

from __future__ import annotations

import csv
import datetime as dt
import sqlite3
import subprocess
from pathlib import Path

import pytest
from answer_sets import SIMPLE_ANSWERS, finished_visit
from corpus import run_cli
from real_readers import CRM_CSV_FILTER, convert, needs_libreoffice

from at_tui.documents.crm_csv import ACTIVITY_COLUMNS, OPPORTUNITY_COLUMNS

HOSPITAL = "Hôpital de Saint-Gaudens — Cœur"
SITUATION = "Téléphone ; fax\nCahier « papier » et \"classeur\"\nRien d'autre"
COMPLEX_ANSWERS = {**SIMPLE_ANSWERS, "situation_actuelle": SITUATION, "utilisateurs_potentiels": 40,
                   "professionnels_hors_structure": 10, "messagerie_seule": False}
EARLY = "2026-11-20T09:00:00.000000+00:00"
LATER = "2026-12-08T15:30:00.000000+00:00"


class Clock:
    """The stores' clock, set by the test: what « changed since » compares."""

    def __init__(self, now: str) -> None:
        self.now = now

    def __call__(self) -> str:
        return self.now


@pytest.fixture
def journey(workspace) -> dict:
    """Two opportunities known field by field: a complexe one at the hospital of Saint-Gaudens
    (accents, a multi-line Recueil, a contact typed « =SOMME(…) », a corrected cadrage), a simple
    one in the Gers closed « sans suite » for a reason starting with « = ». Everything at EARLY."""
    clock = Clock(EARLY)
    workspace.visits.clock = clock
    workspace.opportunities.clock = clock
    hospital = finished_visit(workspace, COMPLEX_ANSWERS, structure=HOSPITAL, departement="31", typologie="CH",
                              contact_name="=SOMME(A1:A9)", contact_role="", visit_date="20/11/2026")
    msp = finished_visit(workspace, visit_date="19/11/2026")
    workspace.ensure_opportunities()
    store, lifecycle = workspace.opportunities, workspace.lifecycle()
    _, wrong = store.add_entry(hospital, lifecycle, "cadrage", "2026-11-25", author="julie", role="CM",
                               text="Cadrage fait")
    _, cadrage = store.add_entry(hospital, lifecycle, "cadrage", "2026-11-26", author="julie", role="CM",
                                 text="Cadrage fait le 26, pas le 25", supersedes=wrong.id)
    store.set_status(msp, lifecycle, "sans_suite", "=1+1 : pas de budget", author="marie", role="AT",
                     day="2026-11-21")
    return {"hospital": hospital, "msp": msp, "wrong": wrong.id, "cadrage": cadrage.id, "clock": clock,
            "report": {v: workspace.deliverables(workspace.visits.require(v)) for v in (hospital, msp)}}


def export(home: Path, *args: str, **options) -> subprocess.CompletedProcess:
    # The reader's local time is UTC here: « Mis à jour le » and a --depuis day are local.
    result = run_cli(home, "export", "--format", "crm", *args, env={"TZ": "UTC"}, **options)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def read(path: Path) -> list[dict[str, str]]:
    """A file as the CRM's import reads it: UTF-8 with its BOM, « ; », one header row."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    header, *lines = rows
    assert all(len(line) == len(header) for line in lines), rows
    return [dict(zip(header, line, strict=True)) for line in lines]


def test_both_files_hold_every_field_of_the_known_opportunities(journey, at_home, tmp_path) -> None:
    out = tmp_path / "crm"
    result = export(at_home, "--output", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"Import CRM écrit dans {out} (lisible par vous seul) :",
        "  opportunites.csv : 2 opportunités",
        "  activites.csv : 4 activités",
    ]
    assert sorted(p.name for p in out.iterdir()) == ["activites.csv", "opportunites.csv"]  # no temporary left
    for name in ("opportunites.csv", "activites.csv"):
        raw = (out / name).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), name  # the BOM: Excel reads UTF-8
        assert raw.count(b"\r\n") >= 3 and b";" in raw.splitlines()[0]
        assert (out / name).stat().st_mode & 0o777 == 0o600

    header = (out / "opportunites.csv").read_bytes().split(b"\r\n")[0].decode("utf-8-sig")
    assert header == ";".join(OPPORTUNITY_COLUMNS)
    opportunities = {row["Identifiant"]: row for row in read(out / "opportunites.csv")}
    # By département, then structure: the order the tracking file has.
    assert sorted(opportunities) == sorted([journey["hospital"], journey["msp"]])
    assert [row["Nom"].split()[0] for row in opportunities.values()] == sorted(
        row["Nom"].split()[0] for row in opportunities.values())
    hospital = opportunities[journey["hospital"]]
    recueil = journey["report"][journey["hospital"]].opportunity.description
    assert SITUATION in recueil and recueil.startswith("Recueil des opportunités offre USE")
    assert hospital == {
        "Identifiant": journey["hospital"], "Nom": "31 CH", "Structure": HOSPITAL, "FINESS": "",
        "Contact": "'=SOMME(A1:A9)", "Statut": "Projet en cours", "Service concerné": "SPICO Discussions complexe",
        "Pilote": "CM", "AT": "", "CM": "", "Date de visite": "20/11/2026", "Description": recueil,
        "Mis à jour le": "20/11/2026 09:00",
    }
    assert opportunities[journey["msp"]] == {
        "Identifiant": journey["msp"], "Nom": "32 libéraux", "Structure": "MSP de Lectoure", "FINESS": "",
        "Contact": "Dr Claire Roux, Médecin", "Statut": "Sans suite", "Service concerné": "SPICO Discussions simple",
        "Pilote": "AT", "AT": "", "CM": "", "Date de visite": "19/11/2026",
        "Description": journey["report"][journey["msp"]].opportunity.description,
        "Mis à jour le": "20/11/2026 09:00",
    }

    activities = read(out / "activites.csv")
    assert list(activities[0]) == list(ACTIVITY_COLUMNS)
    by_id = {row["Identifiant"]: row for row in activities}
    assert journey["wrong"] not in by_id  # superseded: the correction stands for it
    hospital_info = journey["report"][journey["hospital"]].activity.description
    assert hospital_info.startswith("Visite du 20/11/2026")
    common = {"Opportunité": "31 CH", "Identifiant de l'opportunité": journey["hospital"], "Structure": HOSPITAL,
              "Service concerné": "SPICO"}
    assert by_id[f"{journey['hospital']}:information"] == {
        **common, "Identifiant": f"{journey['hospital']}:information", "Type d'activité": "Information",
        "Titre": "Information", "Date": "20/11/2026", "Description": hospital_info, "Auteur": "", "Rôle": "AT",
        "Remplace": "",
    }
    assert by_id[journey["cadrage"]] == {
        **common, "Identifiant": journey["cadrage"], "Type d'activité": "Cadrage",
        "Titre": "Cadrage (déploiement acté)", "Date": "26/11/2026", "Description": "Cadrage fait le 26, pas le 25",
        "Auteur": "julie", "Rôle": "CM", "Remplace": journey["wrong"],
    }
    status = next(row for row in activities if row["Type d'activité"] == "Statut")
    assert {k: status[k] for k in ("Opportunité", "Structure", "Titre", "Date", "Description", "Auteur", "Rôle")} == {
        "Opportunité": "32 libéraux", "Structure": "MSP de Lectoure", "Titre": "Statut « Sans suite »",
        "Date": "21/11/2026", "Description": "'=1+1 : pas de budget", "Auteur": "marie", "Rôle": "AT"}
    assert [row["Titre"] for row in activities if row["Identifiant de l'opportunité"] == journey["msp"]] == [
        "Information", "Statut « Sans suite »"]


def test_depuis_a_date_keeps_what_changed_on_or_after_it(journey, workspace, at_home, tmp_path) -> None:
    journey["clock"].now = LATER
    store, lifecycle = workspace.opportunities, workspace.lifecycle()
    _, formation = store.add_entry(journey["hospital"], lifecycle, "formation", "2026-12-08", author="julie",
                                   role="CM", text="Formation de 12 personnes")
    result = export(at_home, "--output", str(tmp_path / "a"), "--depuis", "2026-12-08")
    assert result.returncode == 0, result.stderr
    assert "Depuis le 08/12/2026." in result.stderr
    assert [row["Identifiant"] for row in read(tmp_path / "a" / "opportunites.csv")] == [journey["hospital"]]
    (activity,) = read(tmp_path / "a" / "activites.csv")
    assert (activity["Identifiant"], activity["Titre"], activity["Description"]) == (
        formation.id, "Formation — Accompagnement aux premiers usages", "Formation de 12 personnes")

    nothing = export(at_home, "--output", str(tmp_path / "b"), "--depuis", "2026-12-09")
    assert nothing.returncode == 0, nothing.stderr
    assert "opportunites.csv : 0 opportunité\n" in nothing.stderr
    assert read(tmp_path / "b" / "opportunites.csv") == [] == read(tmp_path / "b" / "activites.csv")
    assert export(at_home, "--output", str(tmp_path / "c"), "--depuis", "2026-11-20").returncode == 0
    assert len(read(tmp_path / "c" / "activites.csv")) == 5


def test_depuis_dernier_remembers_the_last_export_of_this_laptop(journey, workspace, at_home, tmp_path) -> None:
    first = export(at_home, "--output", str(tmp_path / "1"), "--depuis", "dernier")
    assert first.returncode == 0, first.stderr
    assert first.stderr.startswith("Premier export CRM sur ce poste : tout est exporté.\n")
    assert len(read(tmp_path / "1" / "opportunites.csv")) == 2 and len(read(tmp_path / "1" / "activites.csv")) == 4

    # An entry written elsewhere before this export, arrived since (as a sync brings it): its
    # time is older than the last export, it was never sent.
    journey["clock"].now = EARLY
    store, lifecycle = workspace.opportunities, workspace.lifecycle()
    _, pulled = store.add_entry(journey["hospital"], lifecycle, "lancement", "2026-11-27", author="julie", role="CM")
    second = export(at_home, "--output", str(tmp_path / "2"), "--depuis", "dernier")
    assert second.returncode == 0, second.stderr
    assert second.stderr.startswith("Depuis le dernier export CRM de ce poste (")
    assert [row["Identifiant"] for row in read(tmp_path / "2" / "opportunites.csv")] == [journey["hospital"]]
    assert [(row["Identifiant"], row["Titre"]) for row in read(tmp_path / "2" / "activites.csv")] == [
        (pulled.id, "Réunion de lancement")]

    third = export(at_home, "--output", str(tmp_path / "3"), "--depuis", "dernier")
    assert third.returncode == 0, third.stderr
    assert read(tmp_path / "3" / "opportunites.csv") == [] == read(tmp_path / "3" / "activites.csv")

    # The AT corrects the Recueil of the MSP now: its description changed, no activity did.
    journey["clock"].now = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    workspace.save_answer(workspace.visits.require(journey["msp"]), "situation_actuelle", "Fax et courrier")
    corrected = export(at_home, "--output", str(tmp_path / "3b"), "--depuis", "dernier")
    assert corrected.returncode == 0, corrected.stderr
    (msp,) = read(tmp_path / "3b" / "opportunites.csv")
    assert msp["Identifiant"] == journey["msp"] and "— Fax et courrier" in msp["Description"]
    assert read(tmp_path / "3b" / "activites.csv") == []
    # Without --depuis, everything; the mark moves too.
    journey["clock"].now = EARLY
    store.add_entry(journey["msp"], lifecycle, "note", "2026-11-28", author="marie", role="AT", text="Rappel")
    assert export(at_home, "--output", str(tmp_path / "4")).returncode == 0
    assert len(read(tmp_path / "4" / "activites.csv")) == 6
    assert export(at_home, "--output", str(tmp_path / "5"), "--depuis", "dernier").returncode == 0
    assert read(tmp_path / "5" / "activites.csv") == []


def test_default_folder_is_dated_under_exports(journey, at_home) -> None:
    result = export(at_home)
    assert result.returncode == 0, result.stderr
    (folder,) = (at_home / "exports").iterdir()
    assert folder.name.startswith("crm-") and len(folder.name) == len("crm-AAAAMMJJ-HHMMSS")
    assert sorted(p.name for p in folder.iterdir()) == ["activites.csv", "opportunites.csv"]
    assert f"Import CRM écrit dans {folder} " in result.stderr
    assert folder.stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize("value", ["2026-02-30", "hier", "01/12/2026", "2026-12-1", ""])
def test_a_bad_depuis_is_refused_in_french_before_the_database_opens(at_home, value) -> None:
    result = export(at_home, "--depuis", value)
    assert result.returncode == 2
    assert result.stderr.startswith("at-tui : --depuis attend une date AAAA-MM-JJ (par exemple 2026-12-01) ou "
                                    "« dernier »")
    assert result.stdout == ""
    assert not (at_home / "at-tui.sqlite3").exists()


def test_visit_is_refused_for_the_crm_import(at_home) -> None:
    result = export(at_home, "--visit", "3f1c9a52-7f0e-4c2b-9d4e-2a6b8c1d0e11")
    assert result.returncode == 2 and "--visit ne s'applique pas à l'import CRM" in result.stderr


def test_an_unwritable_folder_fails_in_french_and_leaves_nothing(journey, at_home, tmp_path) -> None:
    locked = tmp_path / "lecture-seule"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        result = export(at_home, "--output", str(locked / "crm"), "--depuis", "dernier", unprivileged=True)
        assert result.returncode == 1, result.stderr
        (line,) = result.stderr.splitlines()
        assert line.startswith(f"at-tui : Écriture de l'import CRM dans {locked / 'crm'} impossible")
        assert line.endswith("Rien n'a été écrit.")
        assert list(locked.iterdir()) == []
        # Existing folder, read-only: its files are kept as they were.
        locked.chmod(0o700)
        (locked / "opportunites.csv").write_text("ancien", encoding="utf-8")
        locked.chmod(0o500)
        again = export(at_home, "--output", str(locked), unprivileged=True)
        assert again.returncode == 1 and "Rien n'a été écrit." in again.stderr
        assert [p.name for p in locked.iterdir()] == ["opportunites.csv"]
        assert (locked / "opportunites.csv").read_text(encoding="utf-8") == "ancien"
    finally:
        locked.chmod(0o700)
    conn = sqlite3.connect(at_home / "at-tui.sqlite3")
    try:  # a failed export is not remembered: « dernier » still means everything
        assert conn.execute("SELECT count(*) FROM export_marks").fetchone()[0] == 0
    finally:
        conn.close()


def test_an_output_that_is_a_file_is_refused(at_home, tmp_path) -> None:
    target = tmp_path / "opportunites.csv"
    target.write_text("à garder", encoding="utf-8")
    result = export(at_home, "--output", str(target))
    assert result.returncode == 1
    assert "n'est pas un dossier" in result.stderr and "Rien n'a été écrit." in result.stderr
    assert target.read_text(encoding="utf-8") == "à garder"


@needs_libreoffice
def test_libreoffice_reloads_both_files_with_every_accent(journey, at_home, tmp_path) -> None:
    from python_calamine import CalamineWorkbook

    out = tmp_path / "crm"
    assert export(at_home, "--output", str(out)).returncode == 0
    converted = convert([out / "opportunites.csv", out / "activites.csv"], "xlsx", tmp_path, infilter=CRM_CSV_FILTER)
    sheets = {}
    for name in ("opportunites", "activites"):
        workbook = CalamineWorkbook.from_path(str(converted / f"{name}.xlsx"))
        sheets[name] = workbook.get_sheet_by_index(0).to_python()
    header, *rows = sheets["opportunites"]
    assert header == list(OPPORTUNITY_COLUMNS)
    hospital = dict(zip(header, next(r for r in rows if r[0] == journey["hospital"]), strict=True))
    assert hospital["Structure"] == HOSPITAL and hospital["Nom"] == "31 CH"
    assert SITUATION in hospital["Description"]  # line breaks, « ; » and quotes inside one cell
    assert hospital["Service concerné"] == "SPICO Discussions complexe"
    assert hospital["Date de visite"] == dt.date(2026, 11, 20)  # a real date, day first
    assert hospital["Contact"] == "'=SOMME(A1:A9)"  # text, not a formula
    header, *rows = sheets["activites"]
    assert header == list(ACTIVITY_COLUMNS)
    cadrage = dict(zip(header, next(r for r in rows if r[0] == journey["cadrage"]), strict=True))
    assert (cadrage["Titre"], cadrage["Date"]) == ("Cadrage (déploiement acté)", dt.date(2026, 11, 26))
    titles = {dict(zip(header, r, strict=True))["Titre"] for r in rows}
    assert titles == {"Information", "Cadrage (déploiement acté)", "Statut « Sans suite »"}
    assert {dict(zip(header, r, strict=True))["Structure"] for r in rows} == {HOSPITAL, "MSP de Lectoure"}
