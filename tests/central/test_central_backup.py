"""`at-tui central backup`, `restore` and `mark-restored` as the agency's IT runs them (real CLI
processes, real service): a checked 0600 copy taken while the service writes, never over a file,
nothing left behind by a failure; a restore into a new database only, migrated when the backup is
older, with a new instance id (every laptop's cursor → 410). The laptops' side of a restore:
tests/sync/test_restore_round_trip.py."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import threading
from pathlib import Path

import httpx
import pytest
from central_db import execute, is_postgres, query
from central_server import content_op, run_central_cli, start_central
from small_disk import fill, needs_tmpfs, remount_read_only, small_tmpfs, unmount

from at_tui.central.backends import migrate_to, open_storage
from at_tui.central.storage import SCHEMA_VERSION
from at_tui.store.migrations import open_database


def backup(db: str | Path, output: Path):
    return run_central_cli("backup", "--db", str(db), "--output", str(output))


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith((".part", ".part-journal")))


def central_file(tmp_path: Path, users: int = 1) -> Path:
    db = tmp_path / "central.sqlite3"
    for index in range(users):
        assert run_central_cli("add-user", f"at{index}", "--role", "at", "--db", str(db)).returncode == 0
    return db


def test_a_backup_taken_while_the_service_writes_is_whole_and_restores(tmp_path) -> None:
    server = start_central(tmp_path)
    token = server.add_user("marie", "at")
    stop = threading.Event()
    pushed: list[str] = []

    def write() -> None:
        with httpx.Client(base_url=server.url, headers=server.auth(token), timeout=10) as client:
            while not stop.is_set():
                ops = [content_op(f"00000000-0000-4000-8000-{len(pushed) + i:012d}") for i in range(20)]
                if client.post("/v1/push", json={"operations": ops}).status_code == 200:
                    pushed.extend(op["visit_id"] for op in ops)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(pushed) < 40:
            stop.wait(0.05)
        outputs = [tmp_path / f"central-{index}.bak" for index in range(3)]
        for output in outputs:
            done = backup(server.db, output)
            assert done.returncode == 0, done.stderr
            assert output.stat().st_mode & 0o777 == 0o600
    finally:
        stop.set()
        writer.join()
        server.stop()
    assert leftovers(tmp_path) == []
    counts = []
    for index, output in enumerate(outputs):
        conn = sqlite3.connect(output)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
        counts.append(conn.execute("SELECT count(*) FROM visits").fetchone()[0])
        conn.close()
        restored = tmp_path / f"restored-{index}.sqlite3"
        done = run_central_cli("restore", "--input", str(output), "--db", str(restored))
        assert done.returncode == 0, done.stderr
        assert f"{counts[-1]} visite(s)" in done.stdout and "1 utilisateur(s)" in done.stdout
    assert counts == sorted(counts) and 0 < counts[0] and counts[-1] <= len(pushed)
    assert counts[0] % 20 == 0  # whole pushes only: one transaction each, never half of one


def test_a_backup_never_overwrites_and_refuses_what_is_not_a_central_database(tmp_path) -> None:
    db = central_file(tmp_path)
    existing = tmp_path / "existante.bak"
    existing.write_bytes(b"a garder")
    done = backup(db, existing)
    assert done.returncode == 1 and "existe déjà" in done.stderr and "n'écrase jamais" in done.stderr
    assert existing.read_bytes() == b"a garder"

    laptop = tmp_path / "poste.sqlite3"
    open_database(laptop).close()
    for source in (laptop, existing, tmp_path / "absente.sqlite3"):
        done = backup(source, tmp_path / "copie.bak")
        assert done.returncode == 1, done.stderr
        assert done.stderr.count("\n") == 1 and done.stderr.startswith("at-tui : ")  # one French sentence
        assert ("n'est pas une base du service central" in done.stderr or "introuvable" in done.stderr)
    assert not (tmp_path / "copie.bak").exists() and leftovers(tmp_path) == []
    assert not (tmp_path / "absente.sqlite3").exists()  # never created by a backup

    done = backup(db, tmp_path / "dossier-absent" / "copie.bak")
    assert done.returncode == 1 and "impossible" in done.stderr


def test_on_postgresql_the_backup_names_pg_dump_and_hides_the_password(tmp_path) -> None:
    done = backup("postgresql://agence:s3cr3t@db.example/central", tmp_path / "copie.bak")
    assert done.returncode == 2
    assert "pg_dump -Fc" in done.stderr and "s3cr3t" not in done.stderr and "agence:***@" in done.stderr
    done = run_central_cli("restore", "--input", str(tmp_path / "x.bak"), "--db", "postgresql://agence@db/neuve")
    assert done.returncode == 2 and "pg_restore" in done.stderr and "mark-restored" in done.stderr
    assert not (tmp_path / "copie.bak").exists()


@needs_tmpfs
@pytest.mark.parametrize("trouble", ["full", "read-only"])
def test_a_full_or_read_only_disk_leaves_no_partial_backup(tmp_path, trouble) -> None:
    db = central_file(tmp_path, users=30)
    small = small_tmpfs(tmp_path / "petit", "64k")
    try:
        if trouble == "full":
            fill(small, leave=8192)
        else:
            remount_read_only(small)
        done = backup(db, small / "central.bak")
        assert done.returncode == 1, done.stdout
        assert ("disque plein" in done.stderr or "lecture seule" in done.stderr), done.stderr
        assert not (small / "central.bak").exists() and leftovers(small) == []
    finally:
        unmount(small)


def test_a_restore_goes_into_a_new_database_only(tmp_path) -> None:
    db = central_file(tmp_path)
    saved = tmp_path / "central.bak"
    assert backup(db, saved).returncode == 0
    busy = tmp_path / "occupee.sqlite3"
    busy.write_bytes(b"des donnees")
    done = run_central_cli("restore", "--input", str(saved), "--db", str(busy))
    assert done.returncode == 1 and "n'est pas vide" in done.stderr and busy.read_bytes() == b"des donnees"
    done = run_central_cli("restore", "--input", str(db.with_name("absente.bak")), "--db", str(tmp_path / "n.sqlite3"))
    assert done.returncode == 1 and "introuvable" in done.stderr and not (tmp_path / "n.sqlite3").exists()
    laptop = tmp_path / "poste.sqlite3"
    open_database(laptop).close()
    done = run_central_cli("restore", "--input", str(laptop), "--db", str(tmp_path / "n.sqlite3"))
    assert done.returncode == 1 and "n'est pas une base du service central" in done.stderr
    assert not (tmp_path / "n.sqlite3").exists() and leftovers(tmp_path) == []

    empty = tmp_path / "vide.sqlite3"
    empty.touch()  # made beforehand by the operator: an empty file is taken
    done = run_central_cli("restore", "--input", str(saved), "--db", str(empty))
    assert done.returncode == 0, done.stderr
    before, after = open_storage(str(db), create=False), open_storage(str(empty), create=False)
    try:
        assert before.instance != after.instance  # every cursor of the old database → 410
        assert after.instance in done.stdout and [u.name for u in after.list_users()] == ["at0"]
    finally:
        before.close()
        after.close()
    assert os.stat(empty).st_mode & 0o777 == 0o600


def test_a_backup_of_an_older_version_is_migrated_when_restored(tmp_path) -> None:
    old = tmp_path / "ancienne.sqlite3"
    assert migrate_to(str(old), 2) == (0, 2)
    conn = sqlite3.connect(old)
    conn.execute("INSERT INTO users (name, role, created_at) VALUES ('marie', 'at', '2026-11-01T08:00:00+00:00')")
    conn.commit()
    conn.close()
    saved = tmp_path / "ancienne.bak"
    done = backup(old, saved)
    assert done.returncode == 0, done.stderr
    assert sqlite3.connect(saved).execute("PRAGMA user_version").fetchone()[0] == 2  # a copy, as it was
    restored = tmp_path / "restauree.sqlite3"
    done = run_central_cli("restore", "--input", str(saved), "--db", str(restored))
    assert done.returncode == 0, done.stderr
    assert f"Schéma mis à jour : v2 → v{SCHEMA_VERSION}" in done.stdout and "1 utilisateur(s)" in done.stdout
    conn = sqlite3.connect(restored)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("SELECT count(*) FROM schema_migrations WHERE version = ?",
                            (SCHEMA_VERSION,)).fetchone()[0] == 1
    finally:
        conn.close()


def test_mark_restored_renews_the_instance_so_old_cursors_are_refused(tmp_path) -> None:
    server = start_central(tmp_path)
    try:
        token = server.add_user("marie", "at")
        assert httpx.post(server.url + "/v1/push", json={"operations": [content_op(
            "11111111-2222-4333-8444-555555555555")]}, headers=server.auth(token)).status_code == 200
        cursor = httpx.get(server.url + "/v1/visits", params={"since": "0"}, headers=server.auth(token)).json()["cursor"]
        server.stop()
        done = run_central_cli("mark-restored", "--db", server.db)
        assert done.returncode == 0, done.stderr
        assert "1 visite(s)" in done.stdout and "Nouvel identifiant" in done.stdout
        server.start()
        answer = httpx.get(server.url + "/v1/visits", params={"since": cursor}, headers=server.auth(token))
        assert answer.status_code == 410
    finally:
        server.stop()
    done = run_central_cli("mark-restored", "--db", str(tmp_path / "absente.sqlite3"))
    assert done.returncode == 1 and not (tmp_path / "absente.sqlite3").exists()


def test_an_older_version_s_backup_is_migrated_and_renewed_on_either_backend(new_central_db, tmp_path) -> None:
    """The documented path of each backend: `backup`/`restore` on SQLite; `pg_dump -Fc`,
    `pg_restore` then `mark-restored` on PostgreSQL (the tools of /usr/bin)."""
    old = new_central_db("ancienne")
    assert migrate_to(old, 2) == (0, 2)
    execute(old, "INSERT INTO users (name, role, created_at) VALUES (?, ?, ?)", "marie", "at", "2026-11-01T08:00:00+00:00")
    [(instance,)] = query(old, "SELECT value FROM meta WHERE key = 'instance'")
    saved, restored = tmp_path / "ancienne.bak", new_central_db("restauree")
    if is_postgres(old):
        tools = {name: shutil.which(name) or f"/usr/bin/{name}" for name in ("pg_dump", "pg_restore")}
        done = subprocess.run([tools["pg_dump"], "-Fc", "--no-owner", "-f", str(saved), old],
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        done = subprocess.run([tools["pg_restore"], "--no-owner", "-d", restored, str(saved)],
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        done = run_central_cli("mark-restored", "--db", restored)
    else:
        assert backup(old, saved).returncode == 0
        done = run_central_cli("restore", "--input", str(saved), "--db", restored)
    assert done.returncode == 0, done.stderr
    assert f"Schéma mis à jour : v2 → v{SCHEMA_VERSION}" in done.stdout and "1 utilisateur(s)" in done.stdout
    [(renewed,)] = query(restored, "SELECT value FROM meta WHERE key = 'instance'")
    assert renewed != instance and renewed in done.stdout
    assert query(restored, "SELECT count(*) FROM schema_migrations WHERE version = ?", SCHEMA_VERSION) == [(1,)]
