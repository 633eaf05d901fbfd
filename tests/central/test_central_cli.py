"""`at-tui central …` run as the IT team runs it: `python -m at_tui central …` in a separate process,
on a SQLite file and on a PostgreSQL database (`central_db`); what is about the SQLite file itself
(its permissions, a laptop's database given by mistake) stays on SQLite, with its PostgreSQL
counterpart beside it (a database that is not a central one, a server that does not answer)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from central_db import execute, holds_nothing, is_postgres, query, stored_bytes
from central_server import free_port, run_central_cli

from at_tui.central.auth import token_hash
from at_tui.central.backends import open_storage


def assert_clean_failure(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("at-tui : "), result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def test_add_user_prints_the_token_last_and_stores_only_its_hash(central_db: str) -> None:
    db = central_db
    result = run_central_cli("add-user", "marie", "--role", "at", "--db", db)
    assert result.returncode == 0, result.stderr
    *before, token = result.stdout.strip().splitlines()
    assert token.startswith("att_") and len(token) == 47
    assert any("une seule fois" in line and "lieu sûr" in line for line in before)
    storage = open_storage(db)
    try:
        assert storage.user_for_token(token_hash(token)).role == "at"
    finally:
        storage.close()
    assert token.encode() not in stored_bytes(db)
    if os.name == "posix" and not is_postgres(db):
        # tokens' hashes and visits: readable by the service's account only
        assert Path(db).stat().st_mode & 0o077 == 0


def test_tokens_per_device_list_and_revoke(central_db: str) -> None:
    db = central_db
    first = run_central_cli("add-user", "marie", "--role", "at", "--db", db).stdout.splitlines()[-1]
    second = run_central_cli("add-token", "marie", "--db", db).stdout.splitlines()[-1]
    run_central_cli("add-user", "paul", "--role", "cm", "--db", db)
    listing = run_central_cli("list-users", "--db", db)
    assert listing.returncode == 0
    assert "marie (at)" in listing.stdout and "paul (cm)" in listing.stdout
    assert first[:12] in listing.stdout and second[:12] in listing.stdout
    assert first not in listing.stdout and first[12:] not in listing.stdout

    revoked = run_central_cli("revoke", "marie", "--token-prefix", first[:12], "--db", db)
    assert revoked.returncode == 0 and "1 jeton(s) révoqué(s)" in revoked.stdout
    storage = open_storage(db)
    try:
        assert storage.user_for_token(token_hash(first)) is None
        assert storage.user_for_token(token_hash(second)) is not None
    finally:
        storage.close()
    assert_clean_failure(run_central_cli("revoke", "marie", "--token-prefix", first[:12], "--db", db), "Aucun jeton actif")
    assert_clean_failure(run_central_cli("revoke", "marie", "--token-prefix", "att", "--db", db), "Préfixe trop court")
    assert run_central_cli("revoke", "marie", "--all", "--db", db).returncode == 0
    assert "jetons actifs : aucun" in run_central_cli("list-users", "--db", db).stdout


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["add-user", "Marie Curie", "--role", "at"], ["Nom d'utilisateur", "invalide"]),
        (["add-token", "personne"], ["Utilisateur « personne » inconnu"]),
        (["revoke", "personne", "--all"], ["Utilisateur « personne » inconnu"]),
    ],
)
def test_cli_errors_are_french(central_db: str, args: list[str], fragments: list[str]) -> None:
    assert_clean_failure(run_central_cli(*args, "--db", central_db), *fragments)


def test_a_user_cannot_be_added_twice(central_db: str) -> None:
    db = central_db
    assert run_central_cli("add-user", "marie", "--role", "at", "--db", db).returncode == 0
    again = run_central_cli("add-user", "marie", "--role", "cm", "--db", db)
    assert_clean_failure(again, "existe déjà")
    assert "att_" not in again.stdout


def test_the_database_of_a_laptop_is_refused(tmp_path: Path) -> None:
    """SQLite only: a laptop's database is a SQLite file (the PostgreSQL counterpart follows)."""
    import sqlite3

    laptop = tmp_path / "at-tui.sqlite3"
    conn = sqlite3.connect(laptop)
    conn.execute("CREATE TABLE visits (id TEXT)")
    conn.commit()
    conn.close()
    for args in (["add-user", "marie", "--role", "at"], ["serve", "--port", "1"]):
        assert_clean_failure(run_central_cli(*args, "--db", str(laptop)), "n'est pas une base du service central")


def test_serve_without_the_optional_dependencies_says_what_to_install(tmp_path: Path) -> None:
    """SQLite only: the check comes before any database is opened (and no file is made)."""
    code = textwrap.dedent(
        f"""
        import sys
        sys.modules["fastapi"] = None  # as if `pip install at-tui` without the [central] extra
        sys.modules["uvicorn"] = None
        from at_tui.cli import main
        sys.exit(main(["central", "serve", "--db", {str(tmp_path / "central.sqlite3")!r}]))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, encoding="utf-8", timeout=60, check=False,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    assert result.returncode == 2
    assert "Le service central demande les dépendances supplémentaires : pip install 'at-tui[central]'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "central.sqlite3").exists()


def test_user_commands_do_not_need_fastapi(central_db: str) -> None:
    code = textwrap.dedent(
        f"""
        import sys
        sys.modules["fastapi"] = None
        sys.modules["uvicorn"] = None
        from at_tui.cli import main
        sys.exit(main(["central", "add-user", "marie", "--role", "cm", "--db", {central_db!r}]))
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, encoding="utf-8", timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("att_")


def test_a_postgresql_database_of_another_application_is_refused(postgres_db: str) -> None:
    """The PostgreSQL counterpart of a laptop's file: a database holding tables of its own is never written."""
    execute(postgres_db, "CREATE TABLE visits (id TEXT)")
    for args in (["add-user", "marie", "--role", "at"], ["serve", "--port", "1"]):
        assert_clean_failure(run_central_cli(*args, "--db", postgres_db), "n'est pas une base du service central")
    assert not holds_nothing(postgres_db) and query(postgres_db, "SELECT count(*) FROM visits") == [(0,)]


def test_an_unreachable_postgresql_is_one_french_line_without_the_password() -> None:
    url = f"postgresql://marie:mot-de-passe-secret@127.0.0.1:{free_port()}/central"
    for args in (["add-user", "marie", "--role", "at"], ["list-users"], ["serve", "--port", str(free_port())]):
        result = run_central_cli(*args, "--db", url)
        assert_clean_failure(result, "injoignable", "postgresql://marie:***@127.0.0.1",
                             "le serveur ne répond pas à cette adresse (arrêté, ou mauvais hôte ou port)")
        assert "mot-de-passe-secret" not in result.stderr + result.stdout
        assert "Connection refused" not in result.stderr  # libpq's English stays out
