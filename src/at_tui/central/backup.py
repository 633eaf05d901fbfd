"""Backups and restores of the central's database, for the agency's IT (issue 13 §4, docs/backup-restore.md).

SQLite: `backup` copies the database through SQLite's backup API — a consistent copy while
the service runs and writes — into `OUT.part` (mode 0600), checks the copy (integrity check,
it is a central database), and only then gives it its name, never over an existing file: a
failure leaves nothing behind but its French sentence. `restore` copies a backup into a new
database the same way, brings its schema to this version (`backends.open_storage`) and gives
it a new instance id (`Storage.renew_instance`), so that every laptop's cursor is refused
(410): each laptop then pulls everything again and sends back what the backup did not have
(at_tui.sync.restore). PostgreSQL: the database's own tools (`pg_dump -Fc`, `pg_restore`),
then `mark_restored` gives the restored database its new instance id.

No Textual, no HTTP: the CLI (at_tui.cli.central_backup) prints what these return.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from at_tui.central.backends import display_name, is_postgres, open_storage
from at_tui.central.storage import Storage, StorageError
from at_tui.files import sync_folder
from at_tui.store.errors import explain

PAGE = 500


class BackupError(Exception):
    """A backup or restore that did not happen, said in one French sentence; nothing was left behind."""


class UsePostgresTools(BackupError):
    """A PostgreSQL database: its own tools make and restore the backup (the CLI exits 2)."""


@dataclass(frozen=True)
class Contents:
    """What a central database holds, as printed after a backup or a restore."""

    users: int
    visits: int
    opportunities: int
    journal_entries: int

    def sentence(self) -> str:
        return (f"{self.users} utilisateur(s), {self.visits} visite(s), {self.opportunities} opportunité(s), "
                f"{self.journal_entries} entrée(s) de journal")


@dataclass(frozen=True)
class Restored:
    contents: Contents
    instance: str
    migrated: tuple[int, int] | None = None  # (schema version of the backup, version now) when it was older


def pg_dump_command(db: str) -> str:
    return f"pg_dump -Fc --no-owner -f central-$(date +%F).dump '{display_name(db)}'"


def pg_restore_commands(db: str) -> str:
    target = display_name(db)
    return (f"createdb NOUVELLE_BASE && pg_restore --no-owner -d NOUVELLE_BASE central-AAAA-MM-JJ.dump && "
            f"at-tui central mark-restored --db {target.rsplit('/', 1)[0]}/NOUVELLE_BASE")


# -- backup ------------------------------------------------------------------------------------


def backup(db: str, output: str | Path) -> Contents:
    """Copy the SQLite central database `db` into `output` (see the module); what the copy holds."""
    if is_postgres(db):
        raise UsePostgresTools(
            f"La base {display_name(db)} est sur PostgreSQL : sauvegardez-la avec ses outils, par exemple "
            f"« {pg_dump_command(db)} » (voir docs/backup-restore.md)."
        )
    source = Path(db)
    if not source.is_file():
        raise BackupError(f"Base du service central introuvable : {db} (vérifiez --db).")
    target = Path(output)
    if target.exists() or target.is_symlink():
        raise BackupError(f"Le fichier {target} existe déjà : une sauvegarde n'écrase jamais un fichier, "
                          "choisissez un autre nom.")
    with _source(source) as src:
        _check_central(src, source, "La base")
        return _copy_into(src, target, "Sauvegarde de la base du service central")


# -- restore -----------------------------------------------------------------------------------


def restore(backup_file: str | Path, db: str) -> Restored:
    """Make the new SQLite central database `db` from `backup_file` (see the module)."""
    if is_postgres(db):
        raise UsePostgresTools(
            "Une base PostgreSQL se restaure avec ses outils : créez une base vide, « pg_restore » la "
            f"sauvegarde dedans, puis « at-tui central mark-restored --db {display_name(db)} » "
            "(voir docs/backup-restore.md)."
        )
    source = Path(backup_file)
    if not source.is_file():
        raise BackupError(f"Sauvegarde introuvable : {source} (vérifiez --input).")
    target = Path(db)
    if target.is_symlink() or (target.exists() and (not target.is_file() or target.stat().st_size > 0)):
        raise BackupError(f"{target} existe déjà et n'est pas vide : la restauration se fait dans une base "
                          "nouvelle (le service arrêté, puis relancé sur elle) ; indiquez un autre fichier.")
    for suffix in ("-wal", "-journal"):
        companion = Path(f"{target}{suffix}")
        if companion.exists() and companion.stat().st_size > 0:
            raise BackupError(f"{companion} existe déjà : une base a vécu à cet endroit ; indiquez un autre fichier.")
    with _source(source) as src:
        _check_central(src, source, "La sauvegarde")
        _copy_into(src, target, "Restauration de la sauvegarde", replace_empty=True)
    try:
        return mark_restored(str(target))
    except (StorageError, sqlite3.Error, OSError) as error:
        _remove(target)  # made here: a restore to do again, not a half-made database
        message = str(error) if isinstance(error, StorageError) else explain(error, "Ouverture de la base restaurée")
        raise BackupError(f"{message} La base restaurée {target} a été retirée.") from None


def mark_restored(db: str) -> Restored:
    """After a `pg_restore` (or a SQLite file put back by hand): the schema brought to this
    version (`open_storage`), a new instance id, so that every laptop pulls everything again
    and sends back what the backup lacked; what the database holds."""
    storage = open_storage(db, create=False)
    try:
        migrated = getattr(storage, "migrated", None)
        instance = storage.renew_instance()
        contents = contents_of(storage)
    finally:
        storage.close()
    changed = migrated if isinstance(migrated, tuple) and len(migrated) == 2 and migrated[0] != migrated[1] else None
    return Restored(contents, instance, changed)


def contents_of(storage: Storage) -> Contents:
    """Users, visits, opportunities and journal entries, read through the storage (either backend)."""
    visits = opportunities = entries = 0
    after = 0
    while True:
        page = storage.visits_since(after, PAGE)
        for visit in page.items:
            visits += 1
            if visit.opportunity is not None:
                opportunities += 1
                entries += len(visit.opportunity.journal)
        if not page.more or not page.items:
            break
        after = page.items[-1].seq
    return Contents(len(storage.list_users()), visits, opportunities, entries)


# -- helpers -----------------------------------------------------------------------------------


@contextlib.contextmanager
def _source(path: Path):
    """The database to copy, opened without ever creating it (read, but WAL needs its -shm)."""
    try:
        conn = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=rw", uri=True, timeout=30)
    except sqlite3.Error as error:
        raise BackupError(explain(error, f"Lecture de {path}")) from None
    try:
        yield conn
    finally:
        conn.close()


def _check_central(conn: sqlite3.Connection, path: Path, what: str) -> None:
    from at_tui.central.sqlite_schema import APPLICATION_ID

    try:
        application_id = conn.execute("PRAGMA application_id").fetchone()[0]
        instance = conn.execute("SELECT value FROM meta WHERE key = 'instance'").fetchone() \
            if application_id == APPLICATION_ID else None
    except sqlite3.DatabaseError:
        application_id, instance = None, None
    if application_id != APPLICATION_ID or instance is None:
        raise BackupError(f"{what} {path} n'est pas une base du service central at-tui "
                          "(c'est peut-être la base d'un poste, ou un autre fichier) : rien n'a été copié.")


def _copy_into(src: sqlite3.Connection, target: Path, doing: str, *, replace_empty: bool = False) -> Contents:
    """The backup API's copy of `src` into `target` through `target.part`, checked, then renamed."""
    part = Path(f"{target}.part")
    try:
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BackupError(f"{part} existe déjà (une copie interrompue ?) : supprimez-le puis recommencez.") from None
    except OSError as error:
        raise BackupError(explain(error, doing)) from None
    os.close(fd)
    try:
        dst = sqlite3.connect(part, timeout=30)
        try:
            src.backup(dst)  # one step: a consistent copy, writers of the service go on meanwhile
            dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            problems = [row[0] for row in dst.execute("PRAGMA integrity_check").fetchall()]
            if problems != ["ok"]:
                raise BackupError(f"{doing} impossible : la copie ne passe pas la vérification d'intégrité "
                                  f"({'; '.join(str(p) for p in problems[:3])[:300]}) ; rien n'a été gardé.")
            _check_central(dst, target, "La copie de")
            contents = _raw_contents(dst)
        finally:
            dst.close()
        _fsync(part)
        _os_chmod(part)
        if replace_empty and target.exists():
            os.replace(part, target)  # an empty file made for the restore (checked by the caller)
        else:
            os.link(part, target)  # fails rather than overwrite a file made meanwhile
            os.unlink(part)
        sync_folder(target.parent)
    except BackupError:
        _remove(part)
        raise
    except FileExistsError:
        _remove(part)
        raise BackupError(f"Le fichier {target} existe déjà : une sauvegarde n'écrase jamais un fichier, "
                          "choisissez un autre nom.") from None
    except (sqlite3.Error, OSError) as error:
        _remove(part)
        raise BackupError(explain(error, doing) + " Rien n'a été gardé.") from None
    return contents


def _raw_contents(conn: sqlite3.Connection) -> Contents:
    def count(sql: str) -> int:
        try:
            return conn.execute(sql).fetchone()[0]
        except sqlite3.OperationalError:  # a table a backup of an older version does not have
            return 0

    return Contents(count("SELECT count(*) FROM users"), count("SELECT count(*) FROM visits"),
                    count("SELECT count(*) FROM opportunities"), count("SELECT count(*) FROM opportunity_journal"))


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _os_chmod(path: Path) -> None:
    os.chmod(path, 0o600)  # a backup holds every visit and every token hash: the operator's eyes only


def _remove(path: Path) -> None:
    for name in (str(path), f"{path}-wal", f"{path}-shm", f"{path}-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
