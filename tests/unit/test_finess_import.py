"""Importing the public FINESS establishments extract, on real files written in tmp_path.

Encodings (Windows-1252, UTF-8 with and without BOM, mojibake), CSV quoting, the
Occitanie filter, malformed lines counted with their line numbers, files that are
not FINESS extracts, and atomic replacement: an import that fails, is interrupted
or is killed leaves the previous structures intact.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import at_tui
from at_tui.importers.finess import FinessReader, FinessStructure, ImporterError, read_finess
from at_tui.importers.structures_store import (
    complete_structures,
    get_structure,
    import_finess,
    last_import,
    structures_count,
)
from at_tui.store.migrations import open_database
from at_tui.synthetic.finess import generate, structure_row, write_rows

SRC = Path(at_tui.__file__).resolve().parent.parent
OCCITANIE = {"09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82"}


@pytest.fixture
def conn(tmp_path: Path):
    connection = open_database(tmp_path / "at-tui.sqlite3")
    yield connection
    connection.close()


def stored(conn: sqlite3.Connection) -> dict[str, tuple]:
    rows = conn.execute(
        "SELECT finess, finess_ej, name, long_name, departement, commune, postcode, phone, category_code, "
        "category_label, typology, imported_at FROM structures ORDER BY finess"
    ).fetchall()
    return {r[0]: tuple(r) for r in rows}


def integrity(conn: sqlite3.Connection) -> str:
    return conn.execute("PRAGMA integrity_check").fetchone()[0]


def small_file(path: Path, rows: list, encoding: str = "cp1252") -> Path:
    write_rows(path, rows, encoding=encoding)
    return path


FIRST_IMPORT = [
    structure_row("460000012", "CENTRE HOSPITALIER DE CAHORS", departement="46", routing="46000 CAHORS",
                  category="355", phone="0565207000"),
    structure_row("460000020", "EHPAD LES TILLEULS", departement="46", routing="46100 FIGEAC", category="500"),
    structure_row("320000036", "ANCIENNE MSP DE LECTOURE", departement="32", routing="32700 LECTOURE",
                  category="603"),
]


# -- encodings ----------------------------------------------------------------------------------


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_the_same_file_in_cp1252_and_utf8_with_or_without_bom_gives_the_same_structures(tmp_path, newline):
    results = {}
    for encoding in ("cp1252", "utf-8", "utf-8-sig"):
        path = tmp_path / f"finess-{encoding}.csv"
        generate(path, 600, seed=7, encoding=encoding, malformed=3, newline=newline)
        structures, report = read_finess(path)
        assert report.encoding == encoding
        results[encoding] = (structures, report.read, report.kept, report.malformed, report.skipped_other_region)
    assert results["cp1252"] == results["utf-8"] == results["utf-8-sig"]
    structures = results["cp1252"][0]
    assert len(structures) > 400
    # The accents came through: the cp1252 bytes were not taken for UTF-8, nor the reverse.
    names = " ".join(s.name for s in structures)
    assert "É" in names or "È" in names
    assert "Ã" not in names
    assert "\ufeff" not in structures[0].finess


def test_encoding_is_detected_on_the_bytes_not_assumed(tmp_path):
    row = structure_row("310000010", "RÉSIDENCE LES CÈDRES", routing="31000 TOULOUSE")
    cp1252 = small_file(tmp_path / "a.csv", [row], "cp1252")
    utf8 = small_file(tmp_path / "b.csv", [row], "utf-8")
    assert "É".encode("cp1252") in cp1252.read_bytes()
    assert read_finess(cp1252)[0][0].name == read_finess(utf8)[0][0].name == "RÉSIDENCE LES CÈDRES"
    assert read_finess(cp1252)[1].encoding_label == "Windows-1252"
    assert read_finess(utf8)[1].encoding_label == "UTF-8"
    # A byte Windows-1252 leaves undefined (0x81): the file is Latin-1.
    latin = tmp_path / "c.csv"
    latin.write_bytes(cp1252.read_bytes().replace(b"LES C", b"LES \x81C"))
    structures, report = read_finess(latin)
    assert report.encoding == "latin-1"
    assert structures[0].name == "RÉSIDENCE LES CÈDRES"  # the control character U+0081 dropped


def test_utf8_release_with_mojibake_is_repaired(tmp_path):
    clean = tmp_path / "clean.csv"
    broken = tmp_path / "mojibake.csv"
    generate(clean, 800, seed=11, encoding="utf-8")
    summary = generate(broken, 800, seed=11, encoding="utf-8", mojibake=True)
    assert "Ã".encode() in broken.read_bytes()
    repaired, report = read_finess(broken)
    kept = {s.finess for s in repaired}
    assert report.mojibake_repaired == len(kept & set(summary.mojibake_finess)) > 10
    # The same seed draws the same structures; mojibake only touched names of (some) rows.
    expected = {s.finess: s for s in read_finess(clean)[0]}
    assert {s.finess: s for s in repaired}.keys() == expected.keys()
    assert [s for s in repaired if s != expected[s.finess]] == []
    # A genuine « Â » is left alone.
    row = structure_row("310000010", "EHPAD LE CHÂTEAU", long_name="EHPAD LE CHÂTEAU Ã©TÉ")
    structures, _ = read_finess(small_file(tmp_path / "chateau.csv", [row], "utf-8"))
    assert structures[0].name == "EHPAD LE CHÂTEAU"


# -- fields and quoting ---------------------------------------------------------------------------


def test_fields_are_read_by_position(tmp_path):
    row = structure_row(
        "460000012", "CH DE CAHORS", long_name="CENTRE HOSPITALIER JEAN ROUGIER", finess_ej="460000038",
        departement="46", routing="46005 CAHORS CEDEX 9", category="355", category_label="Centre Hospitalier (C.H.)",
        phone="565207000",
    )
    [structure], report = read_finess(small_file(tmp_path / "f.csv", [row]))
    assert structure == FinessStructure(
        finess="460000012", finess_ej="460000038", name="CH DE CAHORS", long_name="CENTRE HOSPITALIER JEAN ROUGIER",
        departement="46", commune="CAHORS", postcode="46005", phone="0565207000", category_code="355",
        category_label="Centre Hospitalier (C.H.)", typology="CH",
    )
    assert report.metadata == ("finess", "etalab", "111", "2026-05-12")
    assert report.extract_date == "2026-05-12"
    assert (report.read, report.kept, report.malformed) == (1, 1, 0)


def test_typology_comes_from_the_category_code(tmp_path):
    codes = {"101": "CH", "106": "CH", "355": "CH", "292": "CH", "500": "EHPAD", "354": "ESSMS (autre)",
             "183": "ESSMS (autre)", "246": "ESSMS (autre)", "189": "ESSMS (autre)", "182": "ESSMS (autre)",
             "255": "ESSMS (autre)", "437": "ESSMS (autre)", "603": "MSP", "604": "CPTS", "606": "DAC",
             "124": "Centre de santé", "620": None, "": None}
    rows = [structure_row(f"31{i:07d}", f"STRUCTURE {code or 'SANS'}", category=code, category_label="libellé")
            for i, code in enumerate(codes)]
    structures, report = read_finess(small_file(tmp_path / "f.csv", rows))
    assert {s.category_code or "": s.typology for s in structures} == codes
    assert report.unmapped_categories == {"620": 1, "(vide)": 1}


def test_quoted_fields_with_doubled_quotes_and_semicolons(tmp_path):
    path = tmp_path / "quoted.csv"
    rows = [
        structure_row("310000010", 'LIEU DE VIE "LES ESCALES"', long_name='LIEU DE VIE "LES ESCALES"; SITE 2'),
        structure_row("310000028", "EHPAD LES TILLEULS; SITE DE NAILLOUX", routing="31560 NAILLOUX"),
    ]
    small_file(path, rows)
    text = path.read_text(encoding="cp1252")
    assert '"LIEU DE VIE ""LES ESCALES"""' in text
    assert '"EHPAD LES TILLEULS; SITE DE NAILLOUX"' in text
    # And a line written by hand, as the etalab file has them.
    hand = ";".join(structure_row("310000036", "X", routing="31000 TOULOUSE")).replace(
        ";X;", ';"MAISON ""L\'OUSTAL"" ; ACCUEIL";'
    )
    with path.open("a", encoding="cp1252", newline="") as handle:
        handle.write(hand + "\n")
    structures, report = read_finess(path)
    assert [s.name for s in structures] == [
        'LIEU DE VIE "LES ESCALES"', "EHPAD LES TILLEULS; SITE DE NAILLOUX", "MAISON \"L'OUSTAL\" ; ACCUEIL",
    ]
    assert structures[0].long_name == 'LIEU DE VIE "LES ESCALES"; SITE 2'
    assert structures[1].commune == "NAILLOUX"
    assert report.malformed == 0


def test_only_occitanie_is_kept_and_geolocation_rows_are_ignored(tmp_path):
    rows = [
        structure_row("460000012", "CH DE CAHORS", departement="46", routing="46000 CAHORS"),
        structure_row("750000013", "HOPITAL DE PARIS", departement="75", routing="75013 PARIS"),
        structure_row("130000014", "CLINIQUE DE MARSEILLE", departement="13", routing="13005 MARSEILLE"),
        structure_row("2A0000015", "EHPAD D'AJACCIO", departement="2A", routing="20000 AJACCIO"),
        structure_row("090000016", "EHPAD DE FOIX", departement="9", routing="09000 FOIX"),
        "geolocalisation;460000012;570000.1;6370000.2;1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,LAMBERT_93;2025-01-17",
        structure_row("640000017", "CH DE PAU", departement="64", routing="64000 PAU"),
    ]
    structures, report = read_finess(small_file(tmp_path / "f.csv", rows))
    assert [(s.finess, s.departement) for s in structures] == [("460000012", "46"), ("090000016", "09")]
    assert (report.read, report.kept, report.skipped_other_region, report.geolocalisation) == (6, 2, 4, 1)
    assert report.malformed == 0


def test_generated_file_keeps_exactly_its_occitanie_rows(tmp_path):
    path = tmp_path / "f.csv"
    summary = generate(path, 1500, seed=3, occitanie_share=0.7)
    structures, report = read_finess(path)
    assert report.read == summary.rows
    assert report.kept == summary.occitanie == len(structures)
    assert report.skipped_other_region == summary.rows - summary.occitanie
    assert report.geolocalisation == summary.geolocalisation == summary.rows
    assert {s.departement for s in structures} <= OCCITANIE
    assert len({s.finess for s in structures}) == len(structures)


def test_departements_are_read_from_the_territory_data(tmp_path, monkeypatch):
    import shutil
    from importlib import resources

    fixtures = tmp_path / "fixtures"
    shutil.copytree(resources.files("at_tui") / "fixtures", fixtures)
    territory = fixtures / "territory.toml"
    text = territory.read_text(encoding="utf-8")
    territory.write_text(text.replace('  { code = "46", name = "Lot", sector = "Ouest" },\n', ""), encoding="utf-8")
    monkeypatch.setenv("AT_TUI_FIXTURES", str(fixtures))
    rows = [structure_row("460000012", "CH DE CAHORS", departement="46"), structure_row("310000013", "CHU")]
    structures, report = read_finess(small_file(tmp_path / "f.csv", rows))
    assert [s.finess for s in structures] == ["310000013"]
    assert report.skipped_other_region == 1


# -- malformed lines ------------------------------------------------------------------------------


def test_malformed_lines_are_counted_with_their_line_number_and_a_french_reason(tmp_path):
    good = structure_row("310000010", "EHPAD LES TILLEULS")
    rows = [
        good,                                                                  # line 2
        ";".join(good[:20]),                                                   # 3: too few fields
        structure_row("31000001", "NUMÉRO COURT"),                             # 4: 8 characters
        structure_row("31000001X", "NUMÉRO LETTRE"),                           # 5
        "structurejur;310000036;ASSOCIATION GESTIONNAIRE",                     # 6: unknown section
        ";".join(structure_row("310000044", "X")).replace(";X;", ';"EHPAD SANS FIN;'),  # 7: open quote
        structure_row("310000010", "EHPAD LES TILLEULS BIS"),                  # 8: duplicate
        structure_row("310000051", "SANS DÉPARTEMENT", departement=""),        # 9
        structure_row("310000069", "", long_name=""),                          # 10: no name
        structure_row("310000077", "NUMÉRO EJ", finess_ej="12"),               # 11
        "",                                                                    # 12: blank, ignored
        structure_row("310000085", "CMPP DE MURET", category="189"),          # 13
    ]
    structures, report = read_finess(small_file(tmp_path / "f.csv", rows))
    assert [s.finess for s in structures] == ["310000010", "310000085"]
    assert report.malformed == 9
    assert report.read == 10  # the structureet rows, malformed ones included
    reasons = {e.line: e.reason for e in report.examples}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert reasons[3] == "20 champs au lieu de 32"
    assert "numéro FINESS « 31000001 » invalide" in reasons[4] and "9 caractères" in reasons[4]
    assert "« 31000001X » invalide" in reasons[5]
    assert reasons[6].startswith("section « structurejur » inconnue")
    assert reasons[7] == "guillemet ouvrant sans guillemet fermant"
    assert reasons[8] == "numéro FINESS 310000010 en double (déjà vu ligne 2)"
    assert reasons[9] == "département manquant (colonne 14)"
    assert "raison sociale manquante" in reasons[10]
    assert "FINESS juridique « 12 »" in reasons[11]
    assert report.examples[0].excerpt.startswith("structureet;310000010;;EHPAD LES TILLEULS")
    summary = "\n".join(report.summary_lines())
    assert "9 ligne(s) mal formée(s)" in summary and "ligne 7 : guillemet ouvrant" in summary


def test_generated_malformed_lines_are_found_where_they_were_written(tmp_path):
    path = tmp_path / "f.csv"
    summary = generate(path, 3000, seed=5, malformed=12)
    structures, report = read_finess(path)
    assert report.malformed == 12
    assert [e.line for e in report.examples] == [line for line, _ in summary.malformed_lines]
    assert len(structures) == summary.occitanie


def test_only_the_first_examples_are_kept(tmp_path):
    rows = [structure_row(f"3100000{i:02d}", "X")[:10] for i in range(45)]
    _, report = read_finess(small_file(tmp_path / "f.csv", rows))
    assert report.malformed == 45
    assert len(report.examples) == 20
    assert report.examples[-1].line == 21
    assert report.summary_lines()[-1] == "  … et 25 autre(s) ligne(s) mal formée(s)."


# -- files that cannot be imported ------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", b"\xef\xbb\xbf", b"\xef\xbb\xbf\r\n"])
def test_empty_file_is_a_clear_french_error(tmp_path, content):
    path = tmp_path / "vide.csv"
    path.write_bytes(content)
    with pytest.raises(ImporterError, match=r"est vide : aucun extrait FINESS à importer"):
        FinessReader(path)


@pytest.mark.parametrize(
    ("content", "hint"),
    [
        ("nofinesset;nofinessej;rs;rslongue\n310000010;;EHPAD;\n", "en-tête de colonnes"),
        ("Numéro FINESS,Raison sociale,Commune\n310000010,EHPAD,TOULOUSE\n", "en-tête de colonnes"),
        ("id,name,city\n1,EHPAD,TOULOUSE\n", "pas séparés par « ; »"),
        ("Bonjour, ceci est une lettre.\n", ""),
    ],
)
def test_a_file_that_is_not_finess_is_refused_in_french(tmp_path, content, hint):
    path = tmp_path / "autre.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ImporterError) as caught:
        FinessReader(path)
    message = str(caught.value)
    assert "n'est pas un extrait FINESS des établissements" in message
    assert "finess;etalab" in message and "Rien n'a été importé" in message
    assert hint in message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"PK\x03\x04\x14\x00\x00\x00", "archive compressée"),
        (b"\x1f\x8b\x08\x00", "archive compressée"),
        (b"\xff\xfef\x00i\x00", "UTF-16"),
        (b"finess;etalab\n\x00\x01\x02", "octets nuls"),
    ],
)
def test_binary_files_are_refused(tmp_path, content, expected):
    path = tmp_path / "binaire.csv"
    path.write_bytes(content)
    with pytest.raises(ImporterError, match=expected):
        FinessReader(path)


def test_missing_file(tmp_path):
    with pytest.raises(ImporterError, match="introuvable"):
        FinessReader(tmp_path / "absent.csv")
    with pytest.raises(ImporterError, match="n'est pas un fichier"):
        FinessReader(tmp_path)


def test_a_file_without_structures_or_without_occitanie_keeps_the_previous_import(conn, tmp_path):
    import_finess(conn, small_file(tmp_path / "a.csv", FIRST_IMPORT))
    before = stored(conn)
    only_geo = tmp_path / "geo.csv"
    write_rows(only_geo, ["geolocalisation;460000012;1;2;x;2025-01-17"])
    with pytest.raises(ImporterError, match="aucune ligne « structureet »") as caught:
        import_finess(conn, only_geo)
    assert "conservées" in str(caught.value)
    elsewhere = small_file(tmp_path / "paris.csv", [structure_row("750000013", "HOPITAL", departement="75")])
    with pytest.raises(ImporterError, match="Aucune structure d'Occitanie"):
        import_finess(conn, elsewhere)
    assert stored(conn) == before
    assert not conn.in_transaction


# -- storage: replace, atomicity --------------------------------------------------------------------


def test_import_stores_the_structures_and_reports(conn, tmp_path):
    path = tmp_path / "f.csv"
    summary = generate(path, 2000, seed=2, malformed=4)
    calls = []
    report = import_finess(conn, path, on_progress=lambda done, total: calls.append((done, total)),
                           imported_at="2026-11-22T10:00:00+00:00")
    assert report.kept == summary.occitanie == structures_count(conn)
    assert report.malformed == 4
    expected = {s.finess: s for s in read_finess(path)[0]}
    assert {f: row[:11] for f, row in stored(conn).items()} == {f: tuple(s) for f, s in expected.items()}
    assert last_import(conn) == "2026-11-22T10:00:00+00:00"
    assert get_structure(conn, next(iter(expected))) == next(iter(expected.values()))
    total = path.stat().st_size
    assert calls[0] == (0, total) and calls[-1] == (total, total)
    assert all(t == total for _, t in calls)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert integrity(conn) == "ok"


def test_reimport_replaces_the_previous_one(conn, tmp_path):
    import_finess(conn, small_file(tmp_path / "a.csv", FIRST_IMPORT))
    assert set(stored(conn)) == {"460000012", "460000020", "320000036"}
    second = [
        structure_row("460000012", "CENTRE HOSPITALIER JEAN ROUGIER", departement="46", routing="46000 CAHORS",
                      category="355"),
        structure_row("820000019", "CPTS DU GRAND MONTAUBAN", departement="82", routing="82000 MONTAUBAN",
                      category="604"),
    ]
    report = import_finess(conn, small_file(tmp_path / "b.csv", second, "utf-8"))
    rows = stored(conn)
    assert set(rows) == {"460000012", "820000019"} and structures_count(conn) == report.kept == 2
    assert rows["460000012"][2] == "CENTRE HOSPITALIER JEAN ROUGIER"
    assert complete_structures(conn, "ancienne msp") == []
    assert complete_structures(conn, "tilleuls") == []
    assert [s.finess for s in complete_structures(conn, "rougier")] == ["460000012"]
    assert [s.typology for s in complete_structures(conn, "cpts grand")] == ["CPTS"]
    assert integrity(conn) == "ok"


class Interrupted(Exception):
    pass


def test_an_import_interrupted_by_the_progress_callback_leaves_the_previous_data(conn, tmp_path):
    import_finess(conn, small_file(tmp_path / "a.csv", FIRST_IMPORT))
    before = stored(conn)
    big = tmp_path / "big.csv"
    generate(big, 4000, seed=9)

    def stop_midway(done: int, total: int) -> None:
        if 0 < done < total:
            raise Interrupted

    with pytest.raises(Interrupted):
        import_finess(conn, big, on_progress=stop_midway)
    assert stored(conn) == before
    assert integrity(conn) == "ok"
    assert not conn.in_transaction
    assert conn.execute("SELECT count(*) FROM temp.sqlite_master").fetchone()[0] == 0  # staging dropped
    # The same connection imports normally afterwards.
    report = import_finess(conn, big)
    assert structures_count(conn) == report.kept > 3000


def test_a_failure_inside_the_swap_rolls_everything_back(conn, tmp_path):
    import_finess(conn, small_file(tmp_path / "a.csv", FIRST_IMPORT))
    before = stored(conn)
    fts_before = conn.execute("SELECT rowid FROM structures_fts WHERE structures_fts MATCH 'tilleuls'").fetchall()
    conn.execute(
        "CREATE TEMP TRIGGER simulated_failure BEFORE INSERT ON main.structures WHEN NEW.finess = '310000036' "
        "BEGIN SELECT RAISE(ABORT, 'panne simulée'); END"
    )
    rows = [structure_row(f"3100000{i}{i}", f"STRUCTURE {i}") for i in range(1, 4)]
    rows.append(structure_row("310000036", "LA STRUCTURE QUI ÉCHOUE"))
    with pytest.raises(ImporterError, match="panne simulée") as caught:
        import_finess(conn, small_file(tmp_path / "b.csv", rows))
    assert "conservées" in str(caught.value)
    assert stored(conn) == before
    assert conn.execute("SELECT rowid FROM structures_fts WHERE structures_fts MATCH 'tilleuls'").fetchall() == fts_before
    assert integrity(conn) == "ok"


def test_the_database_stays_writable_while_a_file_is_parsed(conn, tmp_path):
    """Staging is TEMP: the app can save a visit while the CLI parses a big file."""
    db_path = Path(conn.execute("PRAGMA database_list").fetchone()[2])
    import_finess(conn, small_file(tmp_path / "a.csv", FIRST_IMPORT))
    big = tmp_path / "big.csv"
    generate(big, 3000, seed=4)
    other = sqlite3.connect(db_path, timeout=0, isolation_level=None)
    other.execute("CREATE TABLE IF NOT EXISTS app_writes (n INTEGER)")
    writes = []

    def write_from_the_app(done: int, total: int) -> None:
        if 0 < done < total:
            other.execute("BEGIN IMMEDIATE")  # would raise « database is locked » with timeout=0
            other.execute("INSERT INTO app_writes VALUES (?)", (done,))
            other.execute("COMMIT")
            writes.append(done)

    import_finess(conn, big, on_progress=write_from_the_app)
    assert writes and other.execute("SELECT count(*) FROM app_writes").fetchone()[0] == len(writes)
    other.close()


def test_tables_coexist_with_the_versioned_schema(tmp_path):
    from at_tui.store.migrations import SCHEMA_VERSION, open_database

    path = tmp_path / "db.sqlite3"
    conn = open_database(path)
    import_finess(conn, small_file(tmp_path / "a.csv", FIRST_IMPORT))
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()
    conn = open_database(path)  # reopening: not taken for a newer schema, nothing to migrate
    assert structures_count(conn) == 3
    conn.close()


def test_text_progress_bar_for_the_command_line(conn, tmp_path):
    import io

    from at_tui.importers.progress import TextProgress

    path = tmp_path / "f.csv"
    generate(path, 1500, seed=6)
    out = io.StringIO()
    with TextProgress("Import FINESS", out, force=True) as bar:
        import_finess(conn, path, on_progress=bar)
    text = out.getvalue()
    assert text.startswith(f"\rImport FINESS [{'.' * 30}]   0%  0,0 / ")
    assert text.rstrip("\n").rsplit("\r", 1)[1].startswith(f"Import FINESS [{'#' * 30}] 100%")
    assert text.endswith(" Mio\n")
    silent = io.StringIO()  # not a terminal: nothing drawn
    with TextProgress("Import FINESS", silent) as bar:
        bar(10, 100)
    assert silent.getvalue() == ""


# -- imports that cannot lie (issue 9 §6) --------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("append", "le fichier a changé pendant la lecture"),
        ("replace", "le fichier a changé pendant la lecture"),
        ("touch", "le fichier a changé pendant la lecture"),
        ("delete", "le fichier a disparu pendant la lecture"),
    ],
)
def test_a_file_that_changes_while_it_is_read_is_refused_and_nothing_is_replaced(conn, tmp_path, change, expected):
    import os

    import_finess(conn, small_file(tmp_path / "a.csv", FIRST_IMPORT))
    before = stored(conn)
    big = tmp_path / "big.csv"
    generate(big, 4000, seed=9)
    other = tmp_path / "other.csv"
    generate(other, 4000, seed=10)
    changed = []

    def change_midway(done: int, total: int) -> None:
        if 0 < done < total and not changed:
            changed.append(done)
            if change == "append":
                with big.open("ab") as handle:
                    handle.write(b"structureet;310000999;;AJOUT;;;;;;;;;;31;;31000 TOULOUSE\n")
            elif change == "replace":
                os.replace(other, big)
            elif change == "touch":
                status = big.stat()
                os.utime(big, ns=(status.st_atime_ns, status.st_mtime_ns - 5_000_000_000))
            else:
                big.unlink()

    with pytest.raises(ImporterError, match=expected) as caught:
        import_finess(conn, big, on_progress=change_midway)
    assert changed, "the callback never ran mid-import: the file is too small for the test"
    assert "Rien n'a été remplacé" in str(caught.value)
    assert stored(conn) == before
    assert integrity(conn) == "ok"


def test_a_utf8_extract_with_one_stray_windows_1252_byte_is_read_as_utf8_line_by_line(tmp_path):
    clean = tmp_path / "clean.csv"
    generate(clean, 800, seed=12, encoding="utf-8")
    data = clean.read_bytes()
    lines = data.split(b"\n")
    # One line's « É » written in Windows-1252 (one byte) instead of UTF-8 (two).
    stray = next(i for i, line in enumerate(lines) if line.startswith(b"structureet;") and "É".encode() in line)
    lines[stray] = lines[stray].replace("É".encode(), "É".encode("cp1252"))
    mixed = tmp_path / "mixed.csv"
    mixed.write_bytes(b"\n".join(lines))
    expected, _ = read_finess(clean)
    structures, report = read_finess(mixed)
    assert structures == expected  # every name right, the stray line's too
    assert not any("Ã" in s.name or "\ufffd" in s.name for s in structures)
    assert report.encoding == "utf-8" and report.encoding_label == "UTF-8"
    assert report.fallback_lines == 1
    summary = "\n".join(report.summary_lines())
    assert f"1 ligne(s) hors UTF-8 lue(s) en Windows-1252, chacune seule (ligne(s) {stray + 1})" in summary


def test_a_file_in_windows_1252_throughout_is_not_reported_as_mixed(tmp_path):
    path = tmp_path / "cp1252.csv"
    generate(path, 600, seed=7, encoding="cp1252")
    structures, report = read_finess(path)
    assert report.encoding_label == "Windows-1252" and report.fallback_lines > 50
    assert report.encoding_note is None
    assert "Windows-1252, chacune seule" not in "\n".join(report.summary_lines())
    assert any("É" in s.name or "È" in s.name for s in structures)


def test_a_truncated_last_line_is_reported_as_a_truncated_file(tmp_path):
    path = small_file(tmp_path / "a.csv", FIRST_IMPORT, "utf-8")
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex(b"32700 LECT")])  # cut inside the last row, no line end
    structures, report = read_finess(path)
    assert [s.finess for s in structures] == ["460000012", "460000020"]
    assert report.truncated_line == 4 and report.malformed == 1
    summary = "\n".join(report.summary_lines())
    assert "Attention, ligne 4 : dernière ligne incomplète : fichier tronqué ?" in summary
    assert "ligne 4 : dernière ligne incomplète : fichier tronqué ? (16 champs au lieu de 32)" in summary
    # A complete last row without its final line end is not a truncation.
    path.write_bytes(data.rstrip(b"\r\n"))
    structures, report = read_finess(path)
    assert len(structures) == 3 and report.truncated_line is None and report.malformed == 0


def test_a_file_keeping_less_than_half_of_the_previous_import_needs_force(conn, tmp_path):
    full = tmp_path / "full.csv"
    generate(full, 600, seed=7)
    kept = import_finess(conn, full).kept
    before = stored(conn)
    partial = small_file(tmp_path / "partial.csv", FIRST_IMPORT)
    with pytest.raises(ImporterError) as caught:
        import_finess(conn, partial)
    message = str(caught.value)
    assert f"ne donne que 3 structure(s) d'Occitanie, contre {kept} à l'import précédent" in message
    assert "--force" in message and "conservées" in message
    assert stored(conn) == before
    report = import_finess(conn, partial, force=True)
    assert structures_count(conn) == report.kept == 3
    # Half or more is not « far below »: no --force needed.
    import_finess(conn, full)
    half = tmp_path / "half.csv"
    half.write_bytes(full.read_bytes())
    assert import_finess(conn, half).kept == kept


def test_a_line_longer_than_the_csv_field_limit_is_one_malformed_line_in_french(tmp_path):
    import csv

    long_field = '"' + "A" * (csv.field_size_limit() + 10) + '"'
    rows = [*FIRST_IMPORT, "structureet;310000010;;" + long_field + ";" + ";" * 28]
    structures, report = read_finess(small_file(tmp_path / "a.csv", rows))
    assert len(structures) == 3 and report.malformed == 1
    reason = report.examples[0].reason
    assert reason.startswith("champ de plus de") and "limite du format CSV" in reason
    assert "field larger" not in "\n".join(report.summary_lines())


def test_escape_sequences_from_the_file_never_reach_a_message(tmp_path):
    osc52 = "\x1b]52;c;ZWNobyBwd25lZA==\x07"
    path = tmp_path / "a.csv"
    path.write_text(f"{osc52}finess;etalab\nstructureet;{';' * 31}\n", encoding="utf-8")
    with pytest.raises(ImporterError) as caught:
        FinessReader(path)
    assert "\x1b" not in str(caught.value) and "\x07" not in str(caught.value)
    assert "finess;etalab" in str(caught.value)
    # An unknown section and a category code quoted by the report.
    rows = [*FIRST_IMPORT, f"{osc52}section;x", structure_row("310000010", "EHPAD", category=f"\x1b[2J{osc52}")]
    structures, report = read_finess(small_file(tmp_path / "b.csv", rows, "utf-8"))
    summary = "\n".join(report.summary_lines())
    assert "\x1b" not in summary and "\x07" not in summary
    assert "section « section » inconnue" in summary or "section « ]52" not in summary


def test_each_line_is_decoded_on_its_own_whatever_came_before(tmp_path):
    from at_tui.importers.source import ExtractSource

    lines = [
        ("RÉSIDENCE".encode("cp1252"), "RÉSIDENCE"),
        ("CÈDRES".encode("cp1252"), "CÈDRES"),
        ("ÉTANGS".encode(), "ÉTANGS"),  # UTF-8 after Windows-1252 lines
        ("PRÉ".encode() + b" V\xc9RT", "PRÉ VÉRT"),  # UTF-8 with one stray Windows-1252 byte
        (b"ascii", "ascii"),
        ("CAFÉ".encode("cp1252"), "CAFÉ"),
        ("SANTÉ".encode("cp1252") + b" \x81", "SANTÉ \x81"),  # a byte Windows-1252 leaves undefined: Latin-1
    ]
    path = tmp_path / "lines.txt"
    path.write_bytes(b"".join(raw + b"\n" for raw, _ in lines))
    source = ExtractSource(path, "extrait", "ici")
    assert [line.rstrip("\n") for _, line in source.lines()] == [text for _, text in lines]
    decoding = source.decoding
    assert (decoding.cp1252, decoding.latin1, decoding.examples) == (4, 1, [1, 2, 4, 6, 7])
    assert decoding.mixed and decoding.codec() == "utf-8"
    assert "5 ligne(s) hors UTF-8" in decoding.summary()
