"""The import cases of the bad-input corpus (issue 9 §2, §5, §6), run as the AT runs them.

`at-tui import-finess` and `at-tui import-annuaire` as subprocesses, on files built here: each
failure ends with a French sentence and its exit code, no traceback, no escape sequence from
the file on the terminal, and the database exactly as it was (content hash and
`PRAGMA integrity_check`, `corpus.db_fingerprint`). Changes made to a file while it is read
are made from the test, once the subprocess is seen reading it (/proc/PID/fdinfo).
"""

from __future__ import annotations

import csv
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from corpus import (
    assert_fails_cleanly,
    check_case,
    cli_env,
    database,
    db_fingerprint,
    make_home,
    run_cli,
)
from small_disk import fill, needs_tmpfs, small_tmpfs, unmount

from at_tui.synthetic import annuaire as synthetic_annuaire
from at_tui.synthetic import finess as synthetic_finess

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="watches the reader through /proc")
OSC52 = "\x1b]52;c;ZWNobyBwd25lZA==\x07"
KEPT_STRUCTURES = "Les structures déjà importées sont conservées"


@pytest.fixture(scope="module")
def extracts(tmp_path_factory) -> dict[str, Path]:
    """The valid files, built once: a FINESS extract, an Annuaire one, and a big FINESS one."""
    folder = tmp_path_factory.mktemp("extracts")
    files = {"finess": folder / "finess.csv", "annuaire": folder / "annuaire.txt", "big": folder / "big.csv"}
    synthetic_finess.generate(files["finess"], 600, seed=7, encoding="utf-8")
    synthetic_annuaire.generate(files["annuaire"], 8000, seed=4, occitanie_share=0.5)
    synthetic_finess.generate(files["big"], 60_000, seed=3, encoding="utf-8")
    return files


@pytest.fixture(scope="module")
def template(tmp_path_factory, extracts) -> Path:
    """An AT_TUI_HOME with a visit and both extracts imported; each test works on its own copy."""
    home = make_home(tmp_path_factory.mktemp("template"))
    for command, name in (("import-finess", "finess"), ("import-annuaire", "annuaire")):
        result = run_cli(home, command, str(extracts[name]))
        assert result.returncode == 0, result.stderr
    return home


@pytest.fixture
def home(template: Path, tmp_path: Path) -> Path:
    target = tmp_path / "home"
    shutil.copytree(template, target)
    return target


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


# -- files that cannot be imported ---------------------------------------------------------


@pytest.mark.parametrize("command", ["import-finess", "import-annuaire"])
@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda tmp: tmp / "absent.csv", "introuvable"),
        (lambda tmp: tmp, "n'est pas un fichier mais un dossier"),
        (lambda tmp: _write(tmp / "vide.csv", b""), "est vide"),
        (lambda tmp: _write(tmp / "blancs.csv", b"\n \r\n\t\n"), "est vide"),
        (lambda tmp: _write(tmp / "bruit.bin", random.Random(1).randbytes(200_000)), "n'est pas un fichier texte"),
        (lambda tmp: _write(tmp / "archive.zip", b"PK\x03\x04" + bytes(200)), "archive compressée"),
        (lambda tmp: _write(tmp / "utf16.csv", "finess;etalab\n".encode("utf-16")), "UTF-16"),
    ],
    ids=["missing", "directory", "empty", "blank", "binary", "zip", "utf-16"],
)
def test_a_file_that_cannot_be_imported_changes_nothing(home, tmp_path, command, make, fragment):
    check_case(home, (command, str(make(tmp_path))), 1, fragment)


@pytest.mark.parametrize("command", ["import-finess", "import-annuaire"])
def test_binary_garbage_without_nul_bytes_is_not_an_extract(home, tmp_path, command):
    noise = bytes(random.Random(2).choice(range(0x80, 0x100)) for _ in range(5000))
    result = check_case(home, (command, str(_write(tmp_path / "bruit.csv", noise))), 1, "Rien n'a été importé")
    assert "n'est pas un" in result.stderr


@pytest.mark.parametrize(("command", "name"), [("import-finess", "finess"), ("import-annuaire", "annuaire")])
def test_a_file_the_user_cannot_read(home, tmp_path, extracts, command, name):
    private = tmp_path / "prive.csv"
    shutil.copyfile(extracts[name], private)
    private.chmod(0o000)
    check_case(home, (command, str(private)), 1, "accès refusé", "Rien n'a été importé", unprivileged=True)


def test_a_first_line_longer_than_the_csv_field_limit(home, tmp_path):
    line = '"' + "A" * (csv.field_size_limit() + 1000) + '";etalab\n'
    check_case(home, ("import-finess", str(_write(tmp_path / "long.csv", line.encode()))), 1,
               "n'est pas un extrait FINESS")


def test_a_row_longer_than_the_csv_field_limit_is_one_line_reported_in_french(home, tmp_path, extracts):
    data = extracts["finess"].read_bytes()
    long_row = ("structureet;310000010;;\"" + "A" * (csv.field_size_limit() + 10) + "\"" + ";" * 29 + "\n").encode()
    path = _write(tmp_path / "long.csv", data + long_row)
    result = run_cli(home, "import-finess", str(path))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "champ de plus de" in result.stdout and "limite du format CSV" in result.stdout
    assert "field larger" not in result.stdout


# -- files that change while they are read ---------------------------------------------------


def _reading_position(pid: int, path: Path) -> int | None:
    """How far process `pid` has read `path` (its open descriptor's offset), None when not open."""
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") != str(path):
                    continue
                with open(f"/proc/{pid}/fdinfo/{fd}", encoding="ascii") as info:
                    return int(info.readline().split()[1])
            except (FileNotFoundError, ProcessLookupError, ValueError, IndexError):
                continue
    except (FileNotFoundError, ProcessLookupError):
        pass
    return None


def _while_reading(home: Path, command: str, path: Path, act: Callable[[subprocess.Popen], None]):
    """Run the import; once it has read 1 MiB of `path` (its main read), `act`; return (code, out, err)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "at_tui", command, str(path)], env=cli_env(home), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8", errors="replace",
    )
    acted = False
    try:
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            position = _reading_position(process.pid, path)
            if position is not None and 1 << 20 < position < path.stat().st_size - (1 << 20):
                act(process)
                acted = True
                break
            time.sleep(0.002)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert acted, f"the import ended before it could be acted on:\n{out}{err}"
    return process.returncode, out, err


def _completed(code: int, out: str, err: str) -> subprocess.CompletedProcess:
    return subprocess.CompletedProcess([], code, out, err)


def _append(path: Path) -> Callable[[subprocess.Popen], None]:
    def act(_process) -> None:
        with path.open("ab") as handle:
            handle.write(b"structureet;310000999;;AJOUT;;;;;;;;;;31;;31000 TOULOUSE\n")

    return act


def _replace(path: Path, other: Path) -> Callable[[subprocess.Popen], None]:
    return lambda _process: os.replace(other, path)


def _delete(path: Path) -> Callable[[subprocess.Popen], None]:
    return lambda _process: path.unlink()


@linux_only
@pytest.mark.parametrize(
    ("change", "fragment"),
    [("append", "le fichier a changé pendant la lecture"), ("replace", "le fichier a changé pendant la lecture"),
     ("delete", "le fichier a disparu pendant la lecture")],
)
def test_a_file_that_changes_or_vanishes_while_it_is_read(home, tmp_path, extracts, change, fragment):
    path = tmp_path / "finess.csv"
    shutil.copyfile(extracts["big"], path)
    other = tmp_path / "autre.csv"
    shutil.copyfile(extracts["finess"], other)
    act = {"append": _append(path), "replace": _replace(path, other), "delete": _delete(path)}[change]
    before = db_fingerprint(database(home))
    result = _completed(*_while_reading(home, "import-finess", path, act))
    assert_fails_cleanly(result, 1, fragment, "Rien n'a été remplacé")
    assert db_fingerprint(database(home)) == before


@linux_only
def test_ctrl_c_during_an_import_says_in_one_line_that_nothing_changed(home, extracts):
    before = db_fingerprint(database(home))
    result = _completed(*_while_reading(home, "import-finess", extracts["big"], lambda p: p.send_signal(signal.SIGINT)))
    assert_fails_cleanly(result, 130, "interrompu (Ctrl+C) : rien n'a changé", KEPT_STRUCTURES)
    assert result.stderr.count("\n") == 1
    assert db_fingerprint(database(home)) == before


# -- a full disk -----------------------------------------------------------------------------


@needs_tmpfs
@linux_only
@pytest.mark.parametrize(("command", "name", "kept"), [
    ("import-finess", "big", KEPT_STRUCTURES),
    ("import-annuaire", "annuaire", "Les professionnels déjà importés sont conservés"),
])
def test_a_full_disk_during_an_import_changes_nothing(template, tmp_path, extracts, command, name, kept):
    mount = small_tmpfs(tmp_path / "disque", "24m")
    try:
        home = mount / "home"
        shutil.copytree(template, home)
        fill(mount, leave=256 * 1024)
        check_case(home, (command, str(extracts[name])), 1, "disque plein", kept)
    finally:
        unmount(mount)


# -- a file much shorter than the previous import ---------------------------------------------


@pytest.mark.parametrize(("command", "rows"), [
    ("import-finess", lambda tmp: synthetic_finess.generate(tmp / "court.csv", 40, seed=8, encoding="utf-8").path),
    ("import-annuaire", lambda tmp: synthetic_annuaire.generate(tmp / "court.txt", 100, seed=8, occitanie_share=0.5).path),
])
def test_a_file_far_shorter_than_the_previous_import_needs_force(home, tmp_path, command, rows):
    path = rows(tmp_path)
    check_case(home, (command, str(path)), 1, "à l'import précédent : moins de la moitié", f"at-tui {command} --force")
    forced = run_cli(home, command, "--force", str(path))
    assert forced.returncode == 0, forced.stderr
    assert "Traceback" not in forced.stdout + forced.stderr


# -- what the report says about the file -----------------------------------------------------


def test_a_stray_windows_1252_byte_is_reported_and_decoded_on_its_line_only(home, tmp_path, extracts):
    lines = extracts["finess"].read_bytes().split(b"\n")
    stray = next(i for i, line in enumerate(lines) if line.startswith(b"structureet;") and "É".encode() in line)
    lines[stray] = lines[stray].replace("É".encode(), b"\xc9")
    path = _write(tmp_path / "melange.csv", b"\n".join(lines))
    result = run_cli(home, "import-finess", str(path))
    assert result.returncode == 0, result.stderr
    assert f"Fichier {path} (UTF-8, extrait du " in result.stdout
    assert f"1 ligne(s) hors UTF-8 lue(s) en Windows-1252, chacune seule (ligne(s) {stray + 1})" in result.stdout


def test_a_truncated_file_is_reported_as_such(home, tmp_path, extracts):
    data = extracts["finess"].read_bytes()
    path = _write(tmp_path / "tronque.csv", data[: data.rindex(b"\nstructureet;") + 60])
    result = run_cli(home, "import-finess", str(path))
    assert result.returncode == 0, result.stderr
    assert "dernière ligne incomplète : fichier tronqué ?" in result.stdout


# -- terminal safety -------------------------------------------------------------------------


def test_an_escape_sequence_in_a_finess_first_line_never_reaches_the_terminal(home, tmp_path):
    path = _write(tmp_path / "osc.csv", f"{OSC52}finess;etalab;111\nstructureet;1\n".encode())
    check_case(home, ("import-finess", str(path)), 1, "n'est pas un extrait FINESS")


def test_an_escape_sequence_in_an_annuaire_header_never_reaches_the_terminal(home, tmp_path):
    path = _write(tmp_path / "osc.txt", f"Identifiant{OSC52}|Nom\x1b[2J|\n1|X|\n".encode())
    check_case(home, ("import-annuaire", str(path)), 1, "colonne(s) manquante(s)")


def test_escape_sequences_in_rows_and_the_file_name_never_reach_the_report(home, tmp_path, extracts):
    path = tmp_path / f"finess{OSC52}.csv"
    data = extracts["finess"].read_bytes()
    path.write_bytes(data + f"{OSC52}section;x\n".encode() + f"structureet;{OSC52}\n".encode())
    result = run_cli(home, "import-finess", str(path))
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "\x1b" not in output and "\x07" not in output
    assert "inconnue" in result.stdout and "Fichier " in result.stdout
