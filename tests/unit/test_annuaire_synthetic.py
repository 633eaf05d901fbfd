"""The synthetic Annuaire Santé generator: the published layout, realistic content, deterministic, fast,
runnable as a module."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import at_tui
from at_tui.importers.annuaire import COLUMNS as WANTED
from at_tui.importers.annuaire import column_key, read_annuaire
from at_tui.synthetic.annuaire import COLUMNS, OCCITANIE, generate, header

SRC = Path(at_tui.__file__).resolve().parent.parent


def rows_of(path: Path, encoding: str = "utf-8") -> tuple[list[str], list[dict[str, str]]]:
    lines = path.read_text(encoding=encoding).splitlines()
    names = lines[0].split("|")
    return names, [dict(zip(names, line.split("|"))) for line in lines[1:]]


def test_same_seed_same_bytes_other_seed_other_file(tmp_path):
    a, b, c = tmp_path / "a.txt", tmp_path / "b.txt", tmp_path / "c.txt"
    generate(a, 400, seed=42, malformed=3)
    generate(b, 400, seed=42, malformed=3)
    generate(c, 400, seed=43, malformed=3)
    assert a.read_bytes() == b.read_bytes() != c.read_bytes()


def test_rows_follow_the_published_layout(tmp_path):
    path = tmp_path / "a.txt"
    summary = generate(path, 2000, seed=1, occitanie_share=0.5)
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert len(lines) == summary.lines == 2001
    assert lines[0] == "|".join(COLUMNS) + "|" and len(COLUMNS) == 52
    assert all(line.endswith("|") and line.count("|") == 52 for line in lines)
    # Every column the importer looks for is there, under its published name.
    assert {name for name in WANTED.values()} <= set(COLUMNS)
    _, rows = rows_of(path)
    assert all(re.fullmatch(r"10\d{9}", r["Identifiant PP"]) for r in rows)
    assert all(r["Identification nationale PP"] == "8" + r["Identifiant PP"] for r in rows)
    with_postcode = [r for r in rows if r["Code postal (coord. structure)"]]
    assert all(re.fullmatch(r"\d{5}", r["Code postal (coord. structure)"]) for r in with_postcode)
    for r in with_postcode:
        code = r["Code Département (structure)"]
        if code in OCCITANIE:  # real postcodes: they start with the département
            assert r["Code postal (coord. structure)"].startswith(code)
            assert r["Libellé Département (structure)"] == OCCITANIE[code][0]
    phones = [r["Téléphone (coord. structure)"] for r in rows]
    assert 0 < phones.count("") < len(phones)
    assert all(re.fullmatch(r"0\d{9}|0\d( \d\d){4}", p) for p in phones if p)
    emails = [r["Adresse e-mail (coord. structure)"] for r in rows]
    assert 0 < len([e for e in emails if e]) < len(emails) / 2
    assert all(re.fullmatch(r"[a-z0-9.-]+@[a-z.]+", e) for e in emails if e)


def test_content_is_realistic(tmp_path):
    path = tmp_path / "a.txt"
    summary = generate(path, 6000, seed=2, occitanie_share=0.3)
    _, rows = rows_of(path)
    last, first = "Nom d'exercice", "Prénom d'exercice"
    names = " ".join(f"{r[last]} {r[first]}" for r in rows)
    for expected in ("É", "È", "Ë", "Î", "'", "-", "SAINT-", "Hélène".upper()):
        assert expected in names.upper(), expected
    professions = Counter(r["Libellé profession"] for r in rows)
    assert {"Médecin", "Infirmier", "Masseur-kinésithérapeute", "Pharmacien", "Sage-femme"} <= set(professions)
    assert professions.most_common(2)[0][0] in ("Infirmier", "Médecin")
    specialties = {r["Libellé savoir-faire"] for r in rows if r["Libellé profession"] == "Médecin"}
    assert {"Médecine Générale", "Cardiologie et maladies vasculaires", "Pédiatrie"} <= specialties
    assert {r["Libellé mode exercice"] for r in rows} == {"Libéral", "Salarié", "Bénévole"}
    # People repeat, one row per activity; some rows have no structure address at all.
    per_person = Counter(r["Identifiant PP"] for r in rows)
    assert len(per_person) == summary.people < len(rows)
    assert max(per_person.values()) >= 3
    assert sum(1 for r in rows if not r["Raison sociale site"] and not r["Code postal (coord. structure)"]) \
        == summary.no_departement > 0
    departements = Counter(r["Code Département (structure)"] for r in rows)
    assert set(OCCITANIE) <= set(departements) and {"75", "2A", "974"} <= set(departements)
    assert 0.2 < summary.occitanie / summary.rows < 0.4


def test_header_capitalisation_varies_on_request(tmp_path):
    variants = {case: header(case) for case in ("real", "lower", "upper", "drift")}
    assert len(set(variants.values())) == 4
    assert "code département (structure)" in variants["lower"]
    assert "CODE DÉPARTEMENT (STRUCTURE)" in variants["upper"]
    assert "Code département (structure)|" in variants["drift"] and "Nom d’exercice" in variants["drift"]
    keys = {case: [column_key(name) for name in text.split("|")] for case, text in variants.items()}
    assert keys["real"] == keys["lower"] == keys["upper"]
    # Drift also renamed a column the import ignores, as a real release did; the wanted ones stay found.
    assert keys["drift"] != keys["real"]
    for name in WANTED.values():
        assert keys["drift"].index(column_key(name)) == COLUMNS.index(name)
    generate(tmp_path / "a.txt", 50, header_case="upper")
    assert (tmp_path / "a.txt").read_text(encoding="utf-8").startswith("TYPE D'IDENTIFIANT PP|IDENTIFIANT PP|")


def test_cp1252_files_are_written_in_cp1252(tmp_path):
    generate(tmp_path / "a.txt", 500, seed=3, encoding="cp1252")
    generate(tmp_path / "b.txt", 500, seed=3, encoding="utf-8")
    raw = (tmp_path / "a.txt").read_bytes()
    assert "é".encode("cp1252") in raw and "é".encode() not in raw
    assert raw.decode("cp1252") == (tmp_path / "b.txt").read_text(encoding="utf-8")


def test_malformed_lines_are_where_the_summary_says(tmp_path):
    path = tmp_path / "a.txt"
    summary = generate(path, 1000, seed=5, malformed=8)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == summary.lines == 1009
    assert [kind for _, kind in summary.malformed_lines] == ["short", "bar_inside", "no_identifier", "no_name"] * 2
    for number, kind in summary.malformed_lines:
        line = lines[number - 1]
        fields = line.split("|")
        if kind == "short":
            assert len(fields) < 52
        elif kind == "bar_inside":
            assert len(fields) == 54
        elif kind == "no_identifier":
            assert len(fields) == 53 and fields[1] == ""
        else:
            assert len(fields) == 53 and fields[7].strip() == ""


def test_the_importer_reads_what_the_summary_counts(tmp_path):
    path = tmp_path / "a.txt"
    summary = generate(path, 4000, seed=6, occitanie_share=0.4, malformed=4, header_case="drift")
    professionals, report = read_annuaire(path)
    assert (report.kept, report.duplicates, report.skipped_other_region, report.skipped_no_departement) == (
        summary.kept, summary.duplicates, summary.other_region, summary.no_departement
    )
    assert report.people == summary.kept_people and report.malformed == 4 and len(professionals) == summary.kept


def test_runnable_as_a_module(tmp_path):
    out = tmp_path / "annuaire.txt"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run(
        [sys.executable, "-m", "at_tui.synthetic.annuaire", "--rows", "700", "--encoding", "cp1252",
         "--occitanie-share", "0.5", "--seed", "9", "--malformed", "3", "--header-case", "lower",
         "--shuffle-columns", str(out)],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "700 lignes d'activité" in result.stderr and "3 lignes mal formées" in result.stderr
    head = out.read_bytes().split(b"\n", 1)[0].decode("cp1252")
    assert head.islower() and head.split("|")[:2] != ["type d'identifiant pp", "identifiant pp"]
    professionals, report = read_annuaire(out)
    assert report.encoding == "cp1252" and report.malformed == 3 and len(professionals) > 200
    bad = subprocess.run(
        [sys.executable, "-m", "at_tui.synthetic.annuaire", "--occitanie-share", "2", str(out)],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert bad.returncode != 0 and "--occitanie-share entre 0 et 1" in bad.stderr
