"""`at-tui point-cm-at` and `at-tui central point-cm-at` (issue 12 §4): the real command, by
subprocess, on a real laptop database (Workspace API, fixed clocks) and a real central database
(pushed through the service's API); the files read back with readers that are not the writers
(python-calamine for the workbook, the HTML as text)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import uuid
from pathlib import Path

import pytest
from answer_sets import SIMPLE_ANSWERS, finished_visit
from corpus import run_cli
from helpers import FixedClock
from real_readers import EVERY_SHEET_AS_CSV, convert, needs_libreoffice

COMPLEX_ANSWERS = {**SIMPLE_ANSWERS, "utilisateurs_potentiels": 40, "professionnels_hors_structure": 10,
                   "messagerie_seule": False}
MEETING = ("--date", "2027-03-15")  # default period: 15/02/2027 – 15/03/2027


def opened_on(workspace, stamp: str) -> None:
    """What the workspace records next is stamped from `stamp` (one second apart)."""
    workspace.opportunities.clock = FixedClock(stamp)


@pytest.fixture
def region(workspace) -> dict[str, str]:
    """A CM's laptop: opportunities of both zones, at known times."""
    lifecycle = workspace.lifecycle()
    ids = {}
    opened_on(workspace, "2027-03-01T09:00:00+00:00")
    ids["lectoure"] = finished_visit(workspace, visit_date="01/03/2027")  # Gers: Ouest
    ids["beziers"] = finished_visit(workspace, structure="CH de Béziers", departement="34", typologie="CH",
                                    visit_date="01/03/2027")
    opened_on(workspace, "2026-11-10T09:00:00+00:00")
    ids["sete"] = finished_visit(workspace, structure="MSP de Sète", departement="34", visit_date="10/11/2026")
    opened_on(workspace, "2027-01-20T09:00:00+00:00")
    ids["nimes"] = finished_visit(workspace, COMPLEX_ANSWERS, structure="CH de Nîmes", departement="30",
                                  typologie="CH", visit_date="20/01/2027")
    workspace.ensure_opportunities()
    store = workspace.opportunities
    opened_on(workspace, "2026-12-01T09:00:00+00:00")
    store.add_entry(ids["sete"], lifecycle, "cadrage", "2026-12-01", author="marie", role="AT")
    opened_on(workspace, "2027-01-10T09:00:00+00:00")
    store.add_entry(ids["sete"], lifecycle, "fin-deploiement", "2027-01-10", author="marie", role="AT")
    opened_on(workspace, "2027-03-02T09:00:00+00:00")
    store.add_entry(ids["sete"], lifecycle, "note", "2027-03-02", author="marie", role="AT",
                    text="Les IDE demandent une formation.\n=HYPERLINK(\"http://x\")")
    store.add_entry(ids["lectoure"], lifecycle, "note", "2027-03-02", author="paul", role="AT", text="Note du Gers.")
    opened_on(workspace, "2027-03-03T09:00:00+00:00")
    store.take_charge(ids["nimes"], "carole", lifecycle)
    return ids


def cli(home, *args):
    result = run_cli(home, *args)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def read_sheets(path: Path) -> dict[str, list[list]]:
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(str(path))
    return {name: workbook.get_sheet_by_name(name).to_python() for name in workbook.sheet_names}


def test_the_est_pack_as_a_workbook_on_a_cms_laptop(region, at_home, tmp_path) -> None:
    target = tmp_path / "point.xlsx"
    result = cli(at_home, "point-cm-at", "--zone", "est", *MEETING, "--output", str(target))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Point CM – AT, zone Est — 15/03/2027",
        "Depuis le 15/02/2027 jusqu'au 15/03/2027 inclus (par défaut : un mois, depuis le même jour du mois précédent).",
        "  11 Aude : 0 nouvelle, 0 en mouvement, 0 en retard, 0 note",
        "  30 Gard : 0 nouvelle, 0 en mouvement, 1 en retard, 0 note",
        "  34 Hérault : 1 nouvelle, 0 en mouvement, 1 en retard, 1 note",
        "  48 Lozère : 0 nouvelle, 0 en mouvement, 0 en retard, 0 note",
        "  66 Pyrénées-Orientales : 0 nouvelle, 0 en mouvement, 0 en retard, 0 note",
    ]
    assert result.stderr == f"Point CM – AT écrit dans {target} (lisible par vous seul).\n"
    assert target.stat().st_mode & 0o077 == 0
    sheets = read_sheets(target)
    assert list(sheets) == ["Ordre du jour", "Liste", "Synthèse"]
    listing = sheets["Liste"]
    assert listing[0][:4] == ["Département", "Rubrique", "Date", "Structure"]
    rows = [(r[0], r[1], r[2], r[3], r[6], r[7], r[8], r[9], r[10], r[11]) for r in listing[1:]]
    assert rows == [
        ("30 Gard", "En retard", dt.date(2027, 1, 20), "CH de Nîmes", "En attente", "menée par CM, AT en soutien",
         "", "carole", "En attente depuis la visite du 20/01/2027 (54 jours, au-delà de 30)", ""),
        ("34 Hérault", "Nouvelles opportunités", dt.date(2027, 3, 1), "CH de Béziers", "En attente",
         "menée par AT, CM en soutien", "", "", "Opportunité ouverte (visite du 01/03/2027)", ""),
        ("34 Hérault", "En retard", dt.date(2027, 2, 10), "MSP de Sète", "Projet en cours", "menée par AT, CM en soutien",
         "", "", "Suivi M+1 dû le 10/02/2027 : en retard de 33 jours", ""),
        ("34 Hérault", "Remontées terrain", dt.date(2027, 3, 2), "MSP de Sète", "Projet en cours",
         "menée par AT, CM en soutien", "", "", "Note — marie (AT)",
         "Les IDE demandent une formation. ; =HYPERLINK(\"http://x\")"),
    ]
    agenda = sheets["Ordre du jour"]
    headings = [r[0] for r in agenda if isinstance(r[0], str) and re.match(r"\d\d ", r[0])]
    assert headings == ["11 Aude — 0 nouvelle, 0 en mouvement, 0 en retard, 0 note",
                        "30 Gard — 0 nouvelle, 0 en mouvement, 1 en retard, 0 note",
                        "34 Hérault — 1 nouvelle, 0 en mouvement, 1 en retard, 1 note",
                        "48 Lozère — 0 nouvelle, 0 en mouvement, 0 en retard, 0 note",
                        "66 Pyrénées-Orientales — 0 nouvelle, 0 en mouvement, 0 en retard, 0 note"]
    # The note's lines under its row, the formula defused (it stays text).
    assert ["", "", "", "", "", "", "", "", "• =HYPERLINK(\"http://x\")"] in agenda
    text = json.dumps(sheets, default=str, ensure_ascii=False)
    assert "Lectoure" not in text and "Note du Gers" not in text
    assert sheets["Synthèse"][-1] == ["Zone Est", 1.0, 0.0, 2.0, 1.0]


def test_the_pack_as_a_page_with_departement_headings_and_items(region, at_home) -> None:
    result = cli(at_home, "point-cm-at", "--zone", "EST", *MEETING, "--format", "html", "--depuis", "2027-03-02")
    assert result.returncode == 0, result.stderr
    default = at_home / "exports" / "point-cm-at-est-20270315.html"
    assert result.stderr == f"Point CM – AT écrit dans {default} (lisible par vous seul).\n"
    html = default.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<title>Point CM – AT, zone Est — 15/03/2027</title>" in html
    assert "Depuis le 02/03/2027 jusqu'au 15/03/2027 inclus." in html
    assert re.findall(r"<h2>(.*?)</h2>", html)[:6] == [
        "Sommaire", "11 Aude", "30 Gard", "34 Hérault", "48 Lozère", "66 Pyrénées-Orientales"]
    hérault = html.split("<h2>34 Hérault</h2>")[1].split("<h2>")[0]
    assert re.findall(r"<h3>(.*?)</h3>", hérault) == ["En retard (1)", "Remontées terrain (1)"]  # Béziers: visited 01/03
    assert "<strong>MSP de Sète</strong> (34 libéraux)" in hérault
    assert "<strong>02/03/2027</strong> : Note — marie (AT)" in hérault and "<li>Les IDE demandent une formation.</li>" in hérault
    assert "Rien à signaler pour la période." in html.split("<h2>11 Aude</h2>")[1].split("<h2>")[0]
    assert "Lectoure" not in html


def test_an_ats_laptop_and_the_other_zone(region, at_home, tmp_path) -> None:
    target = tmp_path / "ouest.xlsx"
    result = cli(at_home, "point-cm-at", "--zone", "ouest", *MEETING, "-o", str(target), "--jours-en-attente", "60")
    assert result.returncode == 0, result.stderr
    assert "  32 Gers : 1 nouvelle, 0 en mouvement, 0 en retard, 1 note" in result.stdout.splitlines()
    listing = read_sheets(target)["Liste"]
    assert {r[3] for r in listing[1:]} == {"MSP de Lectoure"}


@pytest.mark.parametrize(("args", "message"), [
    ((), "argument(s) obligatoire(s) manquant(s) : --zone"),
    (("--zone", "nord"), "argument --zone : choix invalide : 'nord' (choix possibles : 'est', 'ouest')"),
    (("--zone", "est", "--depuis", "15/02/2027"), "--depuis « 15/02/2027 » : date invalide, attendue sous la forme AAAA-MM-JJ"),
    (("--zone", "est", "--depuis", "2027-02-30"), "--depuis « 2027-02-30 » : date invalide"),
    (("--zone", "est", "--date", "demain"), "--date « demain » : date invalide"),
    (("--zone", "est", *MEETING, "--depuis", "2027-04-01"), "--depuis 01/04/2027 est après la date du point (15/03/2027)"),
    (("--zone", "est", "--format", "pdf"), "argument --format : choix invalide : 'pdf'"),
    (("--zone", "est", "--jours-en-attente", "-3"), "un nombre de jours est attendu"),
])
def test_bad_arguments_are_refused_in_french_with_exit_2(at_home, args, message) -> None:
    result = cli(at_home, "point-cm-at", *args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "at-tui : " in result.stderr
    assert not (at_home / "exports").exists() and not (at_home / "at-tui.sqlite3").exists()  # refused before opening


def test_a_folder_as_target_fails_in_one_sentence_and_writes_nothing(region, at_home, tmp_path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    refused = cli(at_home, "point-cm-at", "--zone", "est", "-o", str(folder))
    assert refused.returncode == 1 and refused.stderr.startswith("at-tui : ") and "Rien n'a été écrit" in refused.stderr
    assert list(folder.iterdir()) == []


# -- the central ---------------------------------------------------------------------------------


def push_opportunity(api, structure: str, departement: str, visit_date: str, journal=()) -> str:
    from central_server import content_op, visit_content

    visit_id = str(uuid.uuid4())
    identity = {"structure": structure, "departement": departement, "typologie": "CH", "contact_name": "Dr Roux",
                "contact_role": "Directrice", "visit_date": visit_date, "maillage": False, "commune": "", "finess": ""}
    [created] = api.push("alice", content_op(visit_id, 0, visit_content(visit_id, identity=identity)))
    assert created["status"] == "applied", created
    fields = {"playbook_id": "spico", "playbook_version": 2, "offer": "discussions_simple", "lead": "AT",
              "support": "CM", "status": "en_attente", "status_reason": None, "at_login": "alice", "cm_login": None,
              "visit_date": visit_date, "launch_date": None, "deployment_end": None}
    information = {"id": f"{visit_id}:information", "activity": "information", "type": "Information",
                   "title": "Information", "day": visit_date, "author": "alice", "role": "AT", "text": "Compte rendu.",
                   "answers": {}, "supersedes": None, "created_at": f"{visit_date}T10:00:00.000000+00:00"}
    op = {"op_id": str(uuid.uuid4()), "visit_id": visit_id, "kind": "opportunity", "base_rev": 0,
          "payload": {"fields": fields, "base": None, "journal": [information, *journal]}}
    [opened] = api.push("alice", op)
    assert opened["status"] == "applied", opened
    return visit_id


def test_the_central_pack_of_a_zone(at_home, tmp_path, monkeypatch) -> None:
    pytest.importorskip("fastapi", reason="dépendances du service central absentes (pip install 'at-tui[central]')")
    monkeypatch.syspath_prepend(str(Path(__file__).parents[1] / "central"))
    from central_api import make_api

    db = tmp_path / "central.sqlite3"
    note = {"id": str(uuid.uuid4()), "activity": "note", "type": "Note", "title": "Note", "day": "2027-03-05",
            "author": "alice", "role": "AT", "text": "La direction valide le projet.", "answers": {},
            "supersedes": None, "created_at": "2027-03-05T10:00:00.000000+00:00"}
    api_context = make_api(db)
    api = next(api_context)
    try:
        push_opportunity(api, "CH de Béziers", "34", "2027-03-01", [note])
        push_opportunity(api, "EHPAD de Nîmes", "30", "2027-01-20")
        push_opportunity(api, "CH de Toulouse", "31", "2027-03-01")  # Ouest
    finally:
        api_context.close()
    target = tmp_path / "central.html"
    result = cli(at_home, "central", "point-cm-at", "--db", str(db), "--zone", "est", *MEETING,
                 "--format", "html", "-o", str(target))
    assert result.returncode == 0, result.stderr
    assert "  30 Gard : 0 nouvelle, 0 en mouvement, 1 en retard, 0 note" in result.stdout.splitlines()
    assert "  34 Hérault : 1 nouvelle, 0 en mouvement, 0 en retard, 1 note" in result.stdout.splitlines()
    html = target.read_text(encoding="utf-8")
    assert "<strong>CH de Béziers</strong> (34 CH)" in html and "La direction valide le projet." in html
    assert "<strong>EHPAD de Nîmes</strong>" in html and "54 jours, au-delà de 30" in html
    assert "Toulouse" not in html
    # The zone's indicators over 12 months, as SVG charts after the agenda.
    charts = html.split('<section class="indicateurs"')[1]
    assert "Période : 12 derniers mois (jusqu’au 15/03/2027) · zone : Est · 2 visites terminées · 2 opportunités" in charts
    assert "<svg" in charts
    workbook = tmp_path / "central.xlsx"
    as_xlsx = cli(at_home, "central", "point-cm-at", "--db", str(db), "--zone", "ouest", *MEETING, "-o", str(workbook))
    assert as_xlsx.returncode == 0, as_xlsx.stderr
    assert [r[3] for r in read_sheets(workbook)["Liste"][1:]] == ["CH de Toulouse"]
    missing = cli(at_home, "central", "point-cm-at", "--db", str(tmp_path / "absent.sqlite3"), "--zone", "est")
    assert missing.returncode == 1 and "Base du service central introuvable" in missing.stderr
    assert not (tmp_path / "absent.sqlite3").exists()


@needs_libreoffice
def test_libreoffice_opens_the_pack_with_its_dates(region, at_home, tmp_path) -> None:
    workbook = tmp_path / "point.xlsx"
    assert cli(at_home, "point-cm-at", "--zone", "est", *MEETING, "-o", str(workbook)).returncode == 0
    out = convert([workbook], EVERY_SHEET_AS_CSV, tmp_path)
    with (out / "point-Ordre du jour.csv").open(encoding="utf-8", newline="") as handle:
        agenda = list(csv.reader(handle))
    assert [row[0] for row in agenda if row[0].startswith("34 ")] == [
        "34 Hérault — 1 nouvelle, 0 en mouvement, 1 en retard, 1 note"]
    assert ["01/03/2027", "CH de Béziers", "34 CH", "SPICO Discussions simple", "En attente",
            "menée par AT, CM en soutien", "", "", "Opportunité ouverte (visite du 01/03/2027)"] in agenda
    with (out / "point-Synthèse.csv").open(encoding="utf-8", newline="") as handle:
        assert list(csv.reader(handle))[-1] == ["Zone Est", "1", "0", "2", "1"]
