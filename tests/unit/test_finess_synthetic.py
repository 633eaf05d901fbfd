"""The synthetic FINESS generator: the exact etalab format, deterministic, runnable as a module."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import at_tui
from at_tui.importers.finess import FINESS_NUMBER
from at_tui.synthetic.finess import finess_number, generate, luhn_key

SRC = Path(at_tui.__file__).resolve().parent.parent


def test_same_seed_same_bytes_other_seed_other_file(tmp_path):
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    generate(a, 300, seed=42, malformed=3)
    generate(b, 300, seed=42, malformed=3)
    generate(c, 300, seed=43, malformed=3)
    assert a.read_bytes() == b.read_bytes() != c.read_bytes()


def test_rows_follow_the_etalab_layout(tmp_path):
    path = tmp_path / "f.csv"
    summary = generate(path, 500, seed=1, occitanie_share=0.5)
    with path.open(encoding="cp1252", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    assert rows[0] == ["finess", "etalab", "111", "2026-05-12"]
    structures = [r for r in rows if r[0] == "structureet"]
    geolocations = [r for r in rows if r[0] == "geolocalisation"]
    assert len(structures) == summary.rows == 500 and len(geolocations) == 500
    assert {len(r) for r in structures} == {32}
    assert all(FINESS_NUMBER.fullmatch(r[1]) for r in structures)
    assert all(r[1][:2] == r[13][:2] for r in structures)  # a FINESS number starts with its département
    assert all(r[15][:5].isdigit() for r in structures)
    assert len({r[1] for r in structures}) == 500
    first_geo = rows.index(geolocations[0])
    assert first_geo < len(rows) - len(geolocations)  # interleaved, not all at the end
    assert {"46", "31", "34"} <= {r[13] for r in structures} and {"75", "13"} & {r[13] for r in structures}
    text = path.read_text(encoding="cp1252")
    assert '""' in text or '";' in text  # some names need CSV quoting
    assert {"500", "355", "603", "604", "620"} <= {r[18] for r in structures}


def test_finess_numbers_carry_a_luhn_key():
    def luhn_valid(number: str) -> bool:
        digits = [int(c) for c in number.replace("A", "0").replace("B", "0")]
        total = sum(d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(reversed(digits)))
        return total % 10 == 0

    assert luhn_key("31000001") == "3"  # reversed 1,0,0,0,0,0,1,3, doubled 2,0,0,0,0,0,2,3: sum 7, key 3
    assert all(luhn_valid(finess_number(dep, serial)) for dep in ("09", "31", "2A") for serial in range(0, 5000, 37))
    number = finess_number("46", 12)
    assert number.startswith("46000012") and len(number) == 9
    assert finess_number("2A", 5).startswith("2A000005")


def test_runnable_as_a_module(tmp_path):
    out = tmp_path / "finess.csv"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run(
        [sys.executable, "-m", "at_tui.synthetic.finess", "--rows", "120", "--encoding", "utf-8-sig",
         "--malformed", "2", "--seed", "3", str(out)],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().startswith(b"\xef\xbb\xbffiness;etalab;")
    assert "120 structures" in result.stderr and "2 lignes mal formées" in result.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "at_tui.synthetic.finess", "--rows", "5", "--encoding", "utf-16", str(out)],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert bad.returncode == 2
