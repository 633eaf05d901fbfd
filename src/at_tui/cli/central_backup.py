"""`at-tui central backup`, `restore` and `mark-restored`: the central's backups for the agency's IT.

The work is in at_tui.central.backup; here the arguments and what is printed (French, made
printable). Exit codes: 0 done, 1 failed (one sentence, nothing left behind), 2 a PostgreSQL
database (its own tools: pg_dump / pg_restore, the command is given).
"""

from __future__ import annotations

import sys

from at_tui.domain.redaction import printable

COMMANDS = ("backup", "restore", "mark-restored")
AFTER_RESTORE = ("Les postes reprendront toute la synchronisation à leur prochain passage et renverront "
                 "ce que la sauvegarde n'avait pas (visites, opportunités, entrées de journal).")


def add_parsers(sub) -> None:
    backup = sub.add_parser(
        "backup",
        help="sauvegarder la base SQLite du service central (possible pendant qu'il tourne)",
        description="Copie cohérente par l'API de sauvegarde de SQLite, vérifiée, en mode 0600 ; "
        "n'écrase jamais un fichier. Sur PostgreSQL : pg_dump (la commande est indiquée).",
    )
    backup.add_argument("--db", required=True, metavar="CHEMIN", help="base du service central (fichier SQLite)")
    backup.add_argument("--output", required=True, metavar="FICHIER", help="fichier de sauvegarde à créer")

    restore = sub.add_parser(
        "restore",
        help="restaurer une sauvegarde dans une base nouvelle (SQLite), avant d'y relancer le service",
        description="Copie la sauvegarde dans une base nouvelle, la met au schéma de cette version et lui "
        "donne un nouvel identifiant : chaque poste reprend la synchronisation depuis le début et renvoie "
        "ce qui manquait. Sur PostgreSQL : pg_restore puis « at-tui central mark-restored ».",
    )
    restore.add_argument("--input", required=True, metavar="FICHIER", help="sauvegarde (at-tui central backup)")
    restore.add_argument("--db", required=True, metavar="CHEMIN", help="base nouvelle à créer (fichier absent ou vide)")

    marked = sub.add_parser(
        "mark-restored",
        help="après un pg_restore : déclarer la base restaurée (les postes renvoient ce qui manque)",
        description="Donne un nouvel identifiant à la base : chaque poste reprend la synchronisation depuis "
        "le début et renvoie ce que la sauvegarde n'avait pas.",
    )
    marked.add_argument("--db", required=True, metavar="CHEMIN", help="base du service central (URL postgresql://… ou fichier)")


def command(args) -> int:
    from at_tui.central import backup
    from at_tui.central.backends import display_name
    from at_tui.central.storage import StorageError
    from at_tui.cli.output import fail

    try:
        if args.central_command == "backup":
            contents = backup.backup(args.db, args.output)
            print(printable(f"Sauvegarde écrite : {args.output} (mode 0600) — {contents.sentence()}."))
            print(printable(f"Pour la restaurer : at-tui central restore --input {args.output} --db NOUVELLE_BASE"),
                  flush=True)
            return 0
        if args.central_command == "restore":
            restored = backup.restore(args.input, args.db)
            where = f"Base restaurée : {args.db} (depuis {args.input})"
        else:
            restored = backup.mark_restored(args.db)
            where = f"Base {display_name(args.db)} déclarée restaurée"
    except backup.UsePostgresTools as error:
        return fail(str(error), 2)
    except (backup.BackupError, StorageError) as error:
        return fail(str(error), 1)
    lines = [f"{where} — {restored.contents.sentence()}."]
    if restored.migrated is not None:
        lines.append(f"Schéma mis à jour : v{restored.migrated[0]} → v{restored.migrated[1]}.")
    lines.append(f"Nouvel identifiant de la base : {restored.instance}. {AFTER_RESTORE}")
    print("\n".join(printable(line) for line in lines), file=sys.stdout, flush=True)
    return 0
