"""`at-tui central …`: run the central store service and manage its users and device tokens.

`serve` needs the optional dependencies (`pip install 'at-tui[central]'`); the
user commands only need SQLite, or psycopg (same extra) for a `postgresql://…`
`--db`. Every `--db` is opened through `central.backends` (schema migrated first,
under a lock; `migrate` does only that) and printed through `display_name` (never
a password). A token is printed once, as the last line of the output, and never
stored: only its hash is.
"""

from __future__ import annotations

import argparse
import sys

from at_tui.domain.redaction import printable

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8750
MISSING_DEPENDENCIES = "Le service central demande les dépendances supplémentaires : pip install 'at-tui[central]'"
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def add_parser(commands) -> None:
    central = commands.add_parser(
        "central",
        help="service central de synchronisation (pour le service informatique de l'agence)",
        description="Le magasin central où les postes des AT synchronisent leurs visites "
        "(contrat : docs/sync-protocol.md).",
    )
    sub = central.add_subparsers(dest="central_command", metavar="ACTION", required=True)

    serve = sub.add_parser("serve", help="lancer le service (HTTP ; HTTPS avec --tls-cert/--tls-key)")
    _db(serve)
    serve.add_argument("--host", default=DEFAULT_HOST, metavar="ADRESSE", help=f"adresse d'écoute ({DEFAULT_HOST})")
    serve.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"port d'écoute ({DEFAULT_PORT})")
    serve.add_argument("--tls-cert", metavar="FICHIER", help="certificat TLS (PEM) : le service parle HTTPS")
    serve.add_argument("--tls-key", metavar="FICHIER", help="clé privée du certificat TLS (PEM)")
    serve.add_argument(
        "--rate-limit", type=_rate_limit, default=None, metavar="N/min",
        help="requêtes par minute et par jeton, au-delà : 429 avec Retry-After (600/min par défaut ; 0 : aucune limite) ; "
        "comptées par processus : avec --workers N, un jeton peut aller jusqu'à N fois la limite",
    )
    from at_tui.cli.central_serve import workers_count

    serve.add_argument(
        "--workers", type=workers_count, default=1, metavar="N",
        help="processus du service (1 par défaut) ; plusieurs seulement sur PostgreSQL : "
        "SQLite n'a qu'un écrivain à la fois",
    )

    migrate = sub.add_parser(
        "migrate",
        help="créer la base ou la mettre au schéma de cette version d'at-tui (serve le fait aussi au démarrage)",
        description="Applique les étapes de schéma manquantes, en une transaction et sous verrou (plusieurs "
        "services qui démarrent ensemble n'en appliquent qu'une fois) ; refuse une base d'une version plus récente.",
    )
    _db(migrate)

    add_user = sub.add_parser("add-user", help="créer un utilisateur et son premier jeton d'appareil")
    add_user.add_argument("name", metavar="NOM", help="identifiant (minuscules, chiffres, . _ -)")
    add_user.add_argument("--role", choices=["at", "cm"], required=True, help="at : animateur ; cm : chargé de mission")
    _db(add_user)

    add_token = sub.add_parser("add-token", help="créer un jeton de plus pour un utilisateur (un par poste)")
    add_token.add_argument("name", metavar="NOM")
    _db(add_token)

    revoke = sub.add_parser("revoke", help="révoquer les jetons d'un utilisateur (tous, ou un seul par son préfixe)")
    revoke.add_argument("name", metavar="NOM")
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="révoquer tous ses jetons")
    which.add_argument("--token-prefix", metavar="PRÉFIXE", help="révoquer le jeton qui commence ainsi (voir list-users)")
    _db(revoke)

    list_users = sub.add_parser("list-users", help="lister les utilisateurs et leurs jetons actifs (préfixes)")
    _db(list_users)

    publish = sub.add_parser(
        "publish",
        help="publier les données de référence (contacts, argumentaire, processus) pour les postes",
        description="Vérifie le dossier de données comme l'application (un fichier invalide : rien n'est publié, "
        "code de sortie 2) puis publie, en une transaction, ce qui a changé.",
    )
    _db(publish)
    publish.add_argument(
        "source", nargs="?", metavar="DOSSIER",
        help="dossier organisé comme fixtures/ (directory/, argumentaire/, playbooks/, questionnaires/, "
        "territory.toml) ; par défaut : les données incluses dans le paquet",
    )

    from at_tui.cli.export_xlsx import add_central_parser

    add_central_parser(sub)
    from at_tui.cli.point_cm_at import add_central_parser as add_point_cm_at_parser

    add_point_cm_at_parser(sub)
    from at_tui.cli.central_backup import add_parsers as add_backup_parsers

    add_backup_parsers(sub)


def _db(parser) -> None:
    parser.add_argument(
        "--db", required=True, metavar="BASE",
        help="base du service central : fichier SQLite ou postgresql://UTILISATEUR@HÔTE/BASE (créée si absente ou vide)",
    )


def _port(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"numéro de port attendu, pas « {raw} »") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError("entre 1 et 65535")
    return value


def _rate_limit(raw: str) -> int:
    """`120`, `120/min` or `2/s`: requests per minute (0: no limit)."""
    text = raw.strip().lower().replace(" ", "")
    count, _, unit = text.partition("/")
    factor = {"": 1, "min": 1, "m": 1, "s": 60, "sec": 60}.get(unit)
    if factor is None or not count.isdigit() or len(count) > 9:
        raise argparse.ArgumentTypeError(f"« {raw[:30]} » : un nombre de requêtes par minute est attendu (ex. 120/min, 2/s, 0)")
    return int(count) * factor


def central_command(args) -> int:
    from at_tui.central.storage import StorageError

    if args.central_command == "serve":
        return serve_command(args)
    if args.central_command == "publish":
        return publish_command(args)
    if args.central_command == "export-suivi":
        from at_tui.cli.export_xlsx import central_export_command

        return central_export_command(args)
    if args.central_command == "point-cm-at":
        from at_tui.cli.point_cm_at import central_command as point_cm_at_command

        return point_cm_at_command(args)
    if args.central_command == "migrate":
        return migrate_command(args)
    if args.central_command in ("backup", "restore", "mark-restored"):
        from at_tui.cli.central_backup import command as backup_command

        return backup_command(args)
    try:
        storage = _open(args.db)
    except StorageError as error:
        return _fail(str(error))
    try:
        if args.central_command == "add-user":
            return _add_user(storage, args)
        if args.central_command == "add-token":
            return _add_token(storage, args)
        if args.central_command == "revoke":
            return _revoke(storage, args)
        if args.central_command == "list-users":
            return _list_users(storage)
    except StorageError as error:
        return _fail(str(error))
    finally:
        storage.close()
    return 2


def serve_command(args) -> int:
    """One process, or several on PostgreSQL: cli/central_serve.py."""
    from at_tui.cli.central_serve import serve_command as serve

    return serve(args)


def publish_command(args) -> int:
    """Validate the whole folder first (nothing is opened or written if a file is bad), then publish."""
    from pathlib import Path

    from at_tui.central.publish import PublishError, load_source, publish, summary_lines
    from at_tui.central.storage import StorageError

    try:
        source = load_source(Path(args.source) if args.source else None)
    except PublishError as error:
        return _fail(str(error), 2)
    try:
        storage = _open(args.db)
    except StorageError as error:
        return _fail(str(error))
    try:
        counts = publish(storage, source)
    except PublishError as error:
        return _fail(str(error), 2)
    except StorageError as error:
        return _fail(str(error))
    finally:
        storage.close()
    from at_tui.central.backends import display_name

    print("\n".join(printable(line) for line in summary_lines(source, display_name(args.db), counts)), flush=True)
    return 0


def migrate_command(args) -> int:
    """`at-tui central migrate --db …`: what was done, in one French sentence."""
    from at_tui.central.backends import display_name, migrate
    from at_tui.central.storage import StorageError

    try:
        before, after = migrate(args.db)
    except StorageError as error:
        return _fail(str(error))
    name = display_name(args.db)
    if before == 0:
        message = f"Base du service central {name} créée : schéma v{after}."
    elif before == after:
        message = f"Base du service central {name} déjà au schéma v{after} : rien à faire."
    else:
        message = f"Base du service central {name} mise à jour du schéma v{before} au schéma v{after}."
    print(printable(message), flush=True)
    return 0


def _open(db: str):
    """Every sub-command's `--db`: a SQLite file or a PostgreSQL URL, its schema brought up to date."""
    from at_tui.central.backends import open_storage

    return open_storage(db)


def _add_user(storage, args) -> int:
    from at_tui.central.auth import issue_token

    user = storage.add_user(args.name, args.role)
    token, info = issue_token(storage, user.name)
    role = "animateur (at)" if user.role == "at" else "chargé de mission (cm)"
    print(f"Utilisateur « {user.name} » créé : {role}.")
    _print_token(info.prefix, token)
    return 0


def _add_token(storage, args) -> int:
    from at_tui.central.auth import issue_token
    from at_tui.central.storage import StorageError

    if storage.get_user(args.name) is None:
        raise StorageError(f"Utilisateur « {args.name[:64]} » inconnu (at-tui central list-users).")
    token, info = issue_token(storage, args.name)
    print(f"Nouveau jeton pour « {args.name} ».")
    _print_token(info.prefix, token)
    return 0


def _print_token(prefix: str, token: str) -> None:
    print(
        f"Jeton d'accès du poste ({prefix}…), affiché une seule fois : gardez-le en lieu sûr et "
        "donnez-le à son seul destinataire (il ne peut pas être retrouvé, seulement révoqué)."
    )
    print(token, flush=True)


def _revoke(storage, args) -> int:
    from at_tui.central.storage import StorageError

    if storage.get_user(args.name) is None:
        raise StorageError(f"Utilisateur « {args.name[:64]} » inconnu (at-tui central list-users).")
    prefix = None
    if not args.all:
        prefix = args.token_prefix.rstrip("…").strip()
        if len(prefix) < 6:
            return _fail("Préfixe trop court : donnez le préfixe affiché par « at-tui central list-users ».", 2)
        active = [t for t in storage.list_tokens(args.name) if t.revoked_at is None and t.prefix.startswith(prefix)]
        if len(active) > 1:
            return _fail(f"{len(active)} jetons actifs commencent par « {prefix} » : donnez un préfixe plus long.")
    count = storage.revoke_tokens(args.name, prefix)
    if count == 0:
        return _fail(f"Aucun jeton actif à révoquer pour « {args.name} »" + (f" commençant par « {prefix} »." if prefix else "."))
    print(f"{count} jeton(s) révoqué(s) pour « {args.name} » : les postes concernés ne peuvent plus se synchroniser.")
    return 0


def _list_users(storage) -> int:
    users = storage.list_users()
    if not users:
        print("Aucun utilisateur (at-tui central add-user NOM --role at|cm --db …).", file=sys.stderr)
        return 0
    for user in users:
        active = [t for t in storage.list_tokens(user.name) if t.revoked_at is None]
        tokens = ", ".join(f"{t.prefix}… (créé le {t.created_at[:10]})" for t in active) or "aucun"
        # Read back from a database file: printed only once made printable (names are checked on
        # the way in, but the file may have been written by anything).
        print(printable(f"{user.name} ({user.role}) — jetons actifs : {tokens}"))
    return 0


def _fail(message: str, code: int = 1) -> int:
    from at_tui.cli.output import fail

    return fail(message, code)


def _unreadable_tls_file(option: str, raw: str) -> str | None:
    """Why a --tls-cert/--tls-key file cannot be used, in French; None when it can be read.

    Checked before uvicorn starts: its own failure is an English traceback."""
    from pathlib import Path

    from at_tui.store.errors import explain

    path = Path(raw)
    try:
        if path.is_dir():
            return f"{option} {raw} est un dossier : indiquez le fichier PEM."
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as error:
        return explain(error, f"Lecture du fichier {option} {raw}")
    return None


def _unusable_tls_pair(cert: str, key: str) -> str | None:
    """Why the certificate and its key cannot serve HTTPS, in French; None when they can."""
    import ssl

    try:
        # A key protected by a pass phrase cannot be used here: refused, never prompted for.
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert, key, password=lambda: b"")
    except (ssl.SSLError, ValueError) as error:
        reason = getattr(error, "reason", None) or str(error)
        return (
            f"Le certificat TLS {cert} et sa clé {key} ne sont pas utilisables : fichiers PEM attendus, "
            f"la clé correspondant au certificat et sans phrase de passe ({reason})."
        )
    except OSError as error:
        from at_tui.store.errors import explain

        return explain(error, f"Lecture du certificat TLS {cert}")
    return None
