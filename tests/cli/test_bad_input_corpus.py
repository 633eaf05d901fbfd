"""The bad-input corpus (issue 9 §2): every case, run as the AT runs the CLI, ends with a French
sentence and a documented exit code, never a traceback, and leaves the database as it was.

The inputs are built here (no large committed file): a sparse file stands for a huge one,
a small tmpfs for a full disk, dropped capabilities for a user without privileges.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
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
    run_python,
)
from small_disk import fill, needs_tmpfs, small_tmpfs, unmount

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses Linux devices and capabilities")


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """One AT_TUI_HOME with a visit, built once; each test works on its own copy."""
    return make_home(tmp_path_factory.mktemp("template"))


@pytest.fixture
def home(template: Path, tmp_path: Path) -> Path:
    target = tmp_path / "home"
    shutil.copytree(template, target)
    return target


@pytest.fixture
def export_file(home: Path, tmp_path: Path) -> Path:
    """A valid export of the home's visit (readable by anyone)."""
    path = tmp_path / "visite.json"
    result = run_cli(home, "export", "--output", str(path))
    assert result.returncode == 0, result.stderr
    path.chmod(0o644)
    return path


# -- export --output: only a regular file or a new path ------------------------------------


@linux_only
@pytest.mark.parametrize(
    ("make_target", "fragment"),
    [
        (lambda tmp: tmp, "est un dossier"),
        (lambda tmp: Path("/dev/null"), "est un périphérique"),
        (lambda tmp: Path("/dev/full"), "est un périphérique"),
        (lambda tmp: _fifo(tmp / "tube"), "tube nommé (FIFO)"),
        (lambda tmp: _symlink(tmp / "lien.json", "/dev/null"), "est un périphérique"),
        (lambda tmp: _file(tmp / "fichier.txt") / "export.json", "un élément du chemin n'est pas un dossier"),
    ],
    ids=["directory", "dev-null", "dev-full", "fifo", "symlink-to-device", "below-a-file"],
)
def test_export_output_must_be_a_regular_file_or_a_new_path(home, tmp_path, make_target, fragment):
    target = make_target(tmp_path)
    kind_before = _kind(target)
    check_case(home, ("export", "--output", str(target)), 1, fragment)
    assert _kind(target) == kind_before, "the target was replaced"
    assert not list(tmp_path.glob(".*.tmp")), "a temporary file was left behind"


def test_export_file_is_private_and_replaces_an_existing_file(home, tmp_path):
    target = tmp_path / "export.json"
    target.write_text("ancien contenu")
    target.chmod(0o644)
    result = run_cli(home, "export", "--output", str(target))
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert json.loads(target.read_text(encoding="utf-8"))["visits"][0]["identity"]["structure"] == "CPTS des Coteaux"
    assert "Export écrit dans" in result.stderr and "Traceback" not in result.stderr


@linux_only
def test_export_into_a_read_only_folder(home, tmp_path):
    folder = tmp_path / "lecture-seule"
    folder.mkdir()
    folder.chmod(0o555)
    check_case(home, ("export", "--output", str(folder / "export.json")), 1, "accès refusé", unprivileged=True)
    assert list(folder.iterdir()) == []


@linux_only
def test_export_to_a_full_standard_output(home):
    before = db_fingerprint(database(home))
    with open("/dev/full", "w") as full:
        result = run_cli(home, "export", stdout=full)
    result.stdout = ""
    assert_fails_cleanly(result, 1, "disque plein")
    assert db_fingerprint(database(home)) == before


def test_export_to_a_closed_pipe_ends_quietly(home):
    """`at-tui contacts --json | head -c 0`: the reader went away; no traceback, exit 141."""
    process = subprocess.Popen(
        [sys.executable, "-m", "at_tui", "contacts", "--json", "--limit", "10000"],
        env=cli_env(home), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    process.stdout.close()  # before anything is written: every write fails with EPIPE
    stderr = process.stderr.read().decode("utf-8", "replace")
    assert process.wait(timeout=60) == 141, stderr
    assert stderr == ""


def test_a_closed_standard_output_is_not_a_crash(home):
    """`at-tui export >&-`: Python starts without sys.stdout; the database must not take fd 1."""
    before = db_fingerprint(database(home))
    result = subprocess.run(
        [sys.executable, "-m", "at_tui", "export"], env=cli_env(home), stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=60, check=False,
        preexec_fn=lambda: os.close(1),
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert db_fingerprint(database(home)) == before


@needs_tmpfs
@linux_only
def test_export_on_a_full_disk_keeps_the_previous_file(home, tmp_path):
    mount = small_tmpfs(tmp_path / "disque", "64k")
    try:
        target = mount / "export.json"
        target.write_text("export précédent\n")
        fill(mount, leave=2048)  # less room than the export needs
        check_case(home, ("export", "--output", str(target)), 1, "disque plein", "Aucun fichier n'a été modifié")
        assert target.read_text() == "export précédent\n"
        assert not list(mount.glob(".*.tmp")), "a temporary file was left behind"
    finally:
        unmount(mount)


# -- import FICHIER: what cannot be read ----------------------------------------------------


@linux_only
@pytest.mark.parametrize(
    ("make_source", "fragment"),
    [
        (lambda tmp: tmp, "est un dossier"),
        (lambda tmp: tmp / "absent.json", "introuvable"),
        (lambda tmp: _fifo(tmp / "tube.json"), "n'est pas un fichier ordinaire"),
        (lambda tmp: Path("/dev/zero"), "n'est pas un fichier ordinaire"),
        (lambda tmp: _bytes(tmp / "binaire.json", b"\xff\xfe\x00\x01" * 64), "UTF-8"),
        (lambda tmp: _sparse(tmp / "enorme.json", 51 * 1024 * 1024), "trop volumineux"),
        (lambda tmp: _bytes(tmp / "vide.json", b""), "vide"),
        (lambda tmp: _bytes(tmp / "coupe.json", b'{"format": "at-tui.visites", "visits": [{"id": "'), "tronqué"),
        (lambda tmp: _bytes(tmp / "liste.json", b"[1, 2, 3]"), "objet JSON attendu"),
        (lambda tmp: _bytes(tmp / "profond.json", b"[" * 100_000), "imbrication trop profonde"),
    ],
    ids=["directory", "missing", "fifo", "device", "not-utf8", "huge", "empty", "truncated", "not-an-object",
         "too-deep"],
)
def test_import_of_an_unreadable_file_changes_nothing(home, tmp_path, make_source, fragment):
    source = make_source(tmp_path)
    check_case(home, ("import", str(source)), 1, fragment)


@linux_only
def test_import_of_a_file_the_user_cannot_read(home, tmp_path, export_file):
    export_file.chmod(0o000)
    check_case(home, ("import", str(export_file)), 1, "accès refusé", unprivileged=True)


@pytest.mark.parametrize(
    "content",
    [
        '{"format": "\\u001b]52;c;aGVsbG8=\\u0007\\u001b[2J", "version": 2, "visits": []}',  # escapes in JSON
        '{"format": "\x1b]52;c;aGVsbG8=\x07", "version": 2, "visits": []}',  # raw control bytes
        '{"format": "at-tui.visites", "version": "\\u202e2", "visits": []}',
    ],
    ids=["json-escaped-osc52", "raw-osc52", "bidi-override"],
)
def test_escape_sequences_in_an_import_file_never_reach_the_terminal(home, tmp_path, content):
    source = tmp_path / "piege.json"
    source.write_text(content, encoding="utf-8")
    check_case(home, ("import", str(source)), 1)  # assert_fails_cleanly refuses ESC, BEL, CSI, bidi


@needs_tmpfs
@linux_only
def test_import_on_a_full_disk_changes_nothing(template, tmp_path, export_file):
    """The data folder on a tmpfs with almost no room left: the import is refused as a whole."""
    mount = small_tmpfs(tmp_path / "disque", "1m")
    try:
        home = mount / "home"
        shutil.copytree(template, home)
        # Another AT's visit (a new id): the import must write it.
        data = json.loads(export_file.read_text(encoding="utf-8"))
        data["visits"][0]["id"] = "0b7e0c52-7e55-4c3f-9a55-2b8f2f0c9d11"
        other = tmp_path / "autre.json"
        other.write_text(json.dumps(data), encoding="utf-8")
        fill(mount, leave=0)
        # « disque plein », or « Le disque est plein » when SQLite only reports an I/O error.
        check_case(home, ("import", str(other)), 1, "plein")
    finally:
        unmount(mount)


# -- the database and the data folder --------------------------------------------------------


def _random_bytes(home: Path) -> None:
    database(home).write_bytes(os.urandom(8192))


def _truncated(home: Path) -> None:
    db = database(home)
    with open(db, "r+b") as handle:
        handle.truncate(3000)  # the header is intact, the pages are gone


def _foreign(home: Path) -> None:
    database(home).unlink()
    conn = sqlite3.connect(database(home))
    conn.execute("CREATE TABLE comptes (nom TEXT, solde INTEGER)")
    conn.execute("INSERT INTO comptes VALUES ('Jeanne Martin', 12)")
    conn.commit()
    conn.close()


def _newer(home: Path) -> None:
    conn = sqlite3.connect(database(home))
    conn.execute("PRAGMA user_version = 999")
    conn.close()


def _directory(home: Path) -> None:
    database(home).unlink()
    database(home).mkdir()


@pytest.mark.parametrize(
    "command",
    [(), ("export",), ("contacts", "gers"), ("import", "{export}")],
    ids=["application", "export", "contacts", "import"],
)
@pytest.mark.parametrize(
    ("damage", "fragment"),
    [
        (_random_bytes, "n'est pas une base at-tui"),
        (_truncated, "base de données endommagée"),
        (_foreign, "base SQLite d'un autre programme"),
        (_newer, "version plus récente"),
        (_directory, "Ouverture de la base"),
    ],
    ids=["random-bytes", "truncated-sqlite", "foreign-sqlite", "newer-schema", "directory"],
)
def test_a_database_at_tui_cannot_use_is_left_untouched(home, export_file, command, damage, fragment):
    damage(home)
    args = tuple(arg.replace("{export}", str(export_file)) for arg in command)
    check_case(home, args, 1, fragment)


@linux_only
def test_a_read_only_database_refuses_an_import_and_still_exports(home, export_file, tmp_path):
    data = json.loads(export_file.read_text(encoding="utf-8"))
    data["visits"][0]["id"] = "0b7e0c52-7e55-4c3f-9a55-2b8f2f0c9d12"
    other = tmp_path / "autre.json"
    other.write_text(json.dumps(data), encoding="utf-8")
    database(home).chmod(0o444)
    check_case(home, ("import", str(other)), 1, "rien n'a été importé", unprivileged=True)
    result = run_cli(home, "export", unprivileged=True)
    assert result.returncode == 0, result.stderr
    assert "Jeanne Martin" in result.stdout


@linux_only
def test_a_read_only_data_folder(home):
    home.chmod(0o555)
    try:
        check_case(home, ("export",), 1, "Ouverture de la base", "est en lecture seule", "La base n'a pas été modifiée",
                   unprivileged=True)
    finally:
        home.chmod(0o700)


@linux_only
def test_a_data_folder_that_cannot_be_created(tmp_path):
    parent = tmp_path / "parent"
    parent.mkdir()
    parent.chmod(0o555)
    result = run_cli(parent / "at-tui", "export", unprivileged=True)
    assert_fails_cleanly(result, 1, "Création du dossier de données", "accès refusé")


def test_at_tui_home_pointing_to_a_file(tmp_path):
    target = tmp_path / "pas-un-dossier"
    target.write_text("x")
    for args in (("export",), ("contacts", "gers"), ("check-data",)):
        result = run_cli(target, *args)
        if args == ("check-data",):  # needs no data folder
            assert result.returncode == 0, result.stderr
            continue
        assert_fails_cleanly(result, 1, "est un fichier, pas un dossier", "AT_TUI_HOME")
    assert target.read_text() == "x"


def test_at_tui_home_below_a_file(tmp_path):
    (tmp_path / "fichier").write_text("x")
    result = run_cli(tmp_path / "fichier" / "at-tui", "export")
    assert_fails_cleanly(result, 1, "un élément du chemin n'est pas un dossier")


# -- unexpected errors, interruptions --------------------------------------------------------


def test_an_unexpected_error_gives_one_line_and_a_private_report(home):
    token = "att_" + "Z" * 40
    code = (
        "import sys\n"
        "import at_tui.cli.main\n"
        "cli = sys.modules['at_tui.cli.main']\n"
        "def broken():\n"
        "    contact = 'Jeanne Martin'\n"
        f"    raise RuntimeError('refus du serveur : Authorization: Bearer {token}')\n"
        "cli.check_data_command = broken\n"
        "sys.exit(cli.main(['check-data']))\n"
    )
    result = run_python(home, code)
    assert_fails_cleanly(result, 70, "Erreur inattendue", "Rapport : ")
    assert result.stderr.count("\n") == 1, result.stderr
    report = Path(result.stderr.split("Rapport : ")[1].split(" — ")[0].strip())
    assert report.parent == home / "crash"
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    assert stat.S_IMODE(report.parent.stat().st_mode) == 0o700
    text = report.read_text(encoding="utf-8")
    assert "RuntimeError" in text and "broken" in text
    assert token not in text and "Z" * 20 not in text
    assert "Jeanne Martin" not in text  # a local variable's value (code given by -c: no source lines)


def test_ctrl_c_gives_one_line(home):
    code = (
        "import os, signal, sys, time\n"
        "import at_tui.cli.main\n"
        "cli = sys.modules['at_tui.cli.main']\n"
        "def slow():\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    time.sleep(30)\n"
        "cli.check_data_command = slow\n"
        "sys.exit(cli.main(['check-data']))\n"
    )
    before = db_fingerprint(database(home))
    result = run_python(home, code)
    assert_fails_cleanly(result, 130, "interrompu (Ctrl+C)")
    assert result.stderr.count("\n") == 1
    assert db_fingerprint(database(home)) == before


# -- at-tui central …: paths and arguments ---------------------------------------------------


def _central_db_cases(tmp_path: Path, home: Path) -> list[tuple[str, Path]]:
    folder = tmp_path / "dossier"
    folder.mkdir()
    noise = _bytes(tmp_path / "bruit.sqlite3", os.urandom(4096))
    return [("directory", folder), ("random-bytes", noise), ("laptop-database", database(home))]


@pytest.mark.parametrize("action", [("list-users",), ("add-user", "jeanne", "--role", "at"), ("publish",)])
def test_central_commands_on_a_database_they_cannot_use(home, tmp_path, action):
    for name, db in _central_db_cases(tmp_path, home):
        before = db_fingerprint(db) if db.is_file() else None
        result = run_cli(home, "central", *action, "--db", str(db))
        assert_fails_cleanly(result, 1)
        if before is not None:
            assert db_fingerprint(db) == before, name


def test_central_serve_with_unreadable_tls_files(home, tmp_path):
    result = run_cli(
        home, "central", "serve", "--db", str(tmp_path / "c.sqlite3"), "--port", "1",
        "--tls-cert", str(tmp_path / "absent.pem"), "--tls-key", str(tmp_path / "absent.key"),
    )
    assert_fails_cleanly(result, 2, "--tls-cert", "introuvable")
    result = run_cli(
        home, "central", "serve", "--db", str(tmp_path / "c.sqlite3"), "--port", "1",
        "--tls-cert", str(tmp_path), "--tls-key", str(tmp_path),
    )
    assert_fails_cleanly(result, 2, "est un dossier")
    not_pem = _bytes(tmp_path / "cert.pem", b"pas un certificat\n")
    result = run_cli(
        home, "central", "serve", "--db", str(tmp_path / "c.sqlite3"), "--port", "1",
        "--tls-cert", str(not_pem), "--tls-key", str(not_pem),
    )
    assert_fails_cleanly(result, 2, "ne sont pas utilisables", "fichiers PEM attendus")


def test_central_user_names_with_escape_sequences_are_not_echoed(home, tmp_path):
    result = run_cli(home, "central", "add-user", "a\x1b]52;c;aGVsbG8=\x07b", "--role", "at", "--db", str(tmp_path / "c.sqlite3"))
    assert_fails_cleanly(result, 1, "invalide")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("export", "--bogus"), "argument(s) non reconnu(s)"),
        (("import",), "obligatoire(s) manquant(s)"),
        (("contacts", "--limit", "0"), "entre 1 et 10000"),
        (("contacts", "--type", "\x1b[2Jzz"), "choix invalide"),
        (("central", "revoke", "x", "--db", "c.db"), "est obligatoire"),
        (("central", "serve", "--port", "http", "--db", "c.db"), "numéro de port attendu"),
        (("commande-inconnue",), "choix invalide"),
    ],
    ids=["unknown-option", "missing-file", "bad-limit", "escape-in-choice", "revoke-without-which", "bad-port",
         "unknown-command"],
)
def test_wrong_arguments_are_explained_in_french(home, args, fragment):
    before = db_fingerprint(database(home))
    result = run_cli(home, *args)
    assert result.stderr.startswith("utilisation : "), result.stderr
    result.stderr = result.stderr[result.stderr.index("at-tui : "):]
    assert_fails_cleanly(result, 2, fragment)
    assert db_fingerprint(database(home)) == before


def test_help_documents_the_exit_codes(home):
    result = run_cli(home, "--help")
    assert result.returncode == 0
    for line in ("codes de sortie", "70   erreur inattendue", "130  interrompu", "141  la sortie a été fermée"):
        assert line in result.stdout, result.stdout


# -- small builders ----------------------------------------------------------------------------


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _symlink(path: Path, target: str) -> Path:
    path.symlink_to(target)
    return path


def _file(path: Path) -> Path:
    path.write_text("pas un dossier")
    return path


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _sparse(path: Path, size: int) -> Path:
    with open(path, "wb") as handle:
        handle.truncate(size)  # no disk used: stands for a huge file
    return path


def _kind(path: Path) -> str:
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return "absent"
    return stat.filemode(mode)[0]
