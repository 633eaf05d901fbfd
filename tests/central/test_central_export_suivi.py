"""`at-tui central export-suivi` (issue 12 §1): the region's tracking file from a real central
database (SQLite and PostgreSQL), filled through the central's own API (pushes of visits,
opportunities and journals)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from central_db import holds_nothing
from central_server import content_op, visit_content
from opportunity_ops import COMPLEXE, journal_entry, new_id, opportunity_fields, opportunity_op
from python_calamine import CalamineWorkbook

D = dt.date
HEADER_END = ["Comptes estimés", "Utilisateurs potentiels", "Dernière activité", "Date de la dernière activité"]


def push_visit(api, owner: str, identity: dict, answers: dict | None = None) -> str:
    visit_id = new_id()
    content = visit_content(visit_id, status="terminee", finished_at="2026-11-22T11:00:00+00:00")
    content["identity"] = {**content["identity"], **identity}
    if answers is not None:
        content["answers"] = answers
    [created] = api.push(owner, content_op(visit_id, 0, content))
    assert created["status"] == "applied", created
    return visit_id


def open_opportunity(api, owner: str, visit_id: str, **changes) -> dict:
    fields = opportunity_fields(at_login=owner, **changes)
    information = journal_entry(owner, "AT", "information", id=f"{visit_id}:information", type="Information",
                                title="Information", day="2026-11-22", text="Présentation de l'offre SPICO.")
    [opened] = api.push(owner, opportunity_op(visit_id, fields, None, [information]))
    assert opened["status"] == "applied", opened
    return fields


def region(api) -> dict[str, str]:
    """Three opportunities (31 Ouest deployed; 34 and 11 Est) and a visit without any."""
    deployed = push_visit(api, "alice", {"structure": "MSP des Coteaux", "departement": "31", "finess": "310780259"})
    base = open_opportunity(api, "alice", deployed)
    moved = {**base, "status": "projet_en_cours", "launch_date": "2026-12-15", "deployment_end": "2027-01-15"}
    entries = [
        journal_entry(activity="fiche-cadrage", type="Cadrage", title="Fiche de cadrage SPICO", day="2026-12-01",
                      answers={"comptes_estimes": 30}),
        journal_entry(activity="cadrage", type="Cadrage", title="Cadrage (déploiement acté)", day="2026-12-03"),
        journal_entry(activity="suivi-m1", type="Suivi des usages", title="[M1] SPICO Suivi des usages",
                      day="2027-02-20", answers={"usages_en_run": False}),
    ]
    [applied] = api.push("alice", opportunity_op(deployed, moved, base, entries))
    assert applied["status"] == "applied", applied
    [taken] = api.push("carole", opportunity_op(deployed, {**moved, "cm_login": "carole"}, moved))  # prise en charge
    assert taken["status"] == "applied", taken
    hospital = push_visit(api, "alice", {"structure": "CH de Béziers", "departement": "34", "typologie": "CH"},
                          {"q:opportunite": True, "q:utilisateurs_potentiels": 45})
    open_opportunity(api, "alice", hospital, **COMPLEXE)
    aude = push_visit(api, "bruno", {"structure": "@Maison de santé", "departement": "11"})
    open_opportunity(api, "bruno", aude, visit_date="2026-11-25")
    push_visit(api, "bruno", {"structure": "Sans opportunité", "departement": "11"}, {"q:opportunite": False})
    return {"deployed": deployed, "hospital": hospital, "aude": aude}


def export(home: Path, db: str | Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AT_TUI_", "PYTEST"))}
    return subprocess.run(
        [sys.executable, "-m", "at_tui", "central", "export-suivi", "--db", str(db), *args],
        env={**env, "AT_TUI_HOME": str(home), "PYTHONIOENCODING": "utf-8"},
        capture_output=True, text=True, encoding="utf-8", timeout=120, check=False,
    )


def read(path: Path) -> tuple[list, dict[str, list]]:
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Suivi").to_python()
    return rows[0], {row[2]: ["" if v == "" else int(v) if isinstance(v, float) else v for v in row] for row in rows[1:]}


def test_the_whole_region_one_row_per_opportunity_every_column(api, tmp_path) -> None:
    region(api)
    target = tmp_path / "region.xlsx"
    result = export(tmp_path / "home", api.db, "--output", str(target))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert f"Fichier de suivi écrit dans {target} : 3 opportunités" in result.stderr
    header, rows = read(target)
    assert header[:3] == ["Département", "Zone", "Structure"] and header[-4:] == HEADER_END
    assert rows == {
        "MSP des Coteaux": [
            "31 Haute-Garonne", "Ouest", "MSP des Coteaux", "310780259", "CPTS/MSP", "31 CPTS",
            "SPICO Discussions simple", "AT", "CM", "alice", "carole", "Projet en cours", "",
            D(2026, 11, 22), D(2026, 12, 3), D(2026, 12, 15), D(2027, 1, 15),
            D(2027, 2, 15), D(2027, 2, 20), D(2027, 4, 15), "", D(2027, 7, 15), "",
            30, 12, "[M1] SPICO Suivi des usages", D(2027, 2, 20),
        ],
        "CH de Béziers": [
            "34 Hérault", "Est", "CH de Béziers", "", "CH", "34 CH", "SPICO Discussions complexe", "CM", "AT",
            "alice", "", "En attente", "", D(2026, 11, 22), "", "", "", "", "", "", "", "", "",
            "", 45, "Information", D(2026, 11, 22),
        ],
        "'@Maison de santé": [
            "11 Aude", "Est", "'@Maison de santé", "", "CPTS/MSP", "11 CPTS", "SPICO Discussions simple", "AT", "CM",
            "bruno", "", "En attente", "", D(2026, 11, 25), "", "", "", "", "", "", "", "", "",
            "", 12, "Information", D(2026, 11, 22),
        ],
    }


def test_a_zone_keeps_only_its_departements_and_the_default_name_is_dated(api, tmp_path) -> None:
    region(api)
    home = tmp_path / "home"
    est = export(home, api.db, "--zone", "est")
    assert est.returncode == 0, est.stderr
    (written,) = (home / "exports").glob("suivi-deploiements-est-*.xlsx")
    assert f"écrit dans {written} : 2 opportunités" in est.stderr
    assert set(read(written)[1]) == {"CH de Béziers", "'@Maison de santé"}
    ouest = tmp_path / "ouest.xlsx"
    assert export(home, api.db, "--zone", "Ouest", "--output", str(ouest)).returncode == 0
    assert set(read(ouest)[1]) == {"MSP des Coteaux"}


def test_a_missing_database_is_said_and_not_created(tmp_path) -> None:
    """SQLite: an absent file (the PostgreSQL counterpart, an empty database, follows)."""
    missing = tmp_path / "absente.sqlite3"
    result = export(tmp_path / "home", missing, "--output", str(tmp_path / "x.xlsx"))
    assert result.returncode == 1
    assert result.stderr.startswith("at-tui : Base du service central introuvable") and "Traceback" not in result.stderr
    assert not missing.exists() and not (tmp_path / "x.xlsx").exists()


def test_an_empty_postgresql_database_is_said_and_left_empty(tmp_path, postgres_db: str) -> None:
    result = export(tmp_path / "home", postgres_db, "--output", str(tmp_path / "x.xlsx"))
    assert result.returncode == 1
    assert result.stderr.startswith("at-tui : Base du service central introuvable") and "Traceback" not in result.stderr
    assert holds_nothing(postgres_db)
    assert not (tmp_path / "x.xlsx").exists()
