"""`at-tui login SERVER_URL` / `at-tui logout`: the sync server and its token (never on the command line)."""

from __future__ import annotations

import argparse
import os
import sys

LOGIN_TIMEOUT = 10.0  # seconds, for the check of the token against the server


def add_parser(commands) -> None:
    login = commands.add_parser(
        "login",
        help="se connecter au serveur de synchronisation (jeton d'accès)",
        description="Demande le jeton d'accès (att_…, saisie masquée ; lu sur l'entrée standard quand ce n'est pas "
        "un terminal), le vérifie auprès du serveur et l'enregistre dans le trousseau du système. "
        "La variable AT_TUI_TOKEN, si elle est définie, passe avant le jeton enregistré. "
        "Codes de sortie : 0 jeton enregistré (vérifié, ou serveur injoignable pour l'instant), "
        "1 jeton refusé, serveur non reconnu ou enregistrement impossible, 2 commande à corriger.",
    )
    login.add_argument("server_url", metavar="ADRESSE", help="adresse du serveur, ex. https://sync.exemple.fr")
    login.add_argument(
        "--token-file-ok",
        action="store_true",
        help="sans trousseau utilisable : accepter d'enregistrer le jeton NON CHIFFRÉ dans un fichier lisible par vous seul",
    )
    login.add_argument("--ca-bundle", metavar="FICHIER", help="autorités de certification du serveur (fichier PEM)")
    # Catches a token given as an argument, so that argparse does not echo it in its error.
    login.add_argument("extra", nargs="*", help=argparse.SUPPRESS)
    logout = commands.add_parser(
        "logout",
        help="effacer le jeton enregistré (trousseau et fichier)",
        description="Efface le jeton enregistré (trousseau et fichier). "
        "Codes de sortie : 0 fait (ou rien à effacer), 1 effacement impossible, 2 adresse invalide.",
    )
    logout.add_argument("server_url", metavar="ADRESSE", nargs="?", help="par défaut : le serveur enregistré")


def sync_auth_command(args) -> int:
    """Exit codes: 0 done; 1 refused by the server, or the token/settings could not be stored or read;
    2 a usage problem (bad address, token given as an argument, no usable keyring without the opt-in)."""
    from at_tui.store.errors import explain
    from at_tui.sync.credentials import CredentialsError

    try:
        if args.command == "login":
            return login_command(args)
        return logout_command(args)
    except CredentialsError as error:
        return _fail(str(error), 1)
    except OSError as error:  # a read-only or full data folder: settings or token file not written
        return _fail(f"{explain(error, 'Enregistrement dans le dossier de données')} Relancez la "
                     "commande une fois le problème réglé.", 1)


def _fail(message: str, code: int) -> int:
    from at_tui.cli.output import fail

    return fail(message, code)


def login_command(args) -> int:
    from at_tui.sync import credentials as cred

    if args.extra:
        return _fail(
            "Le jeton ne se donne jamais en argument (il resterait dans l'historique du shell) : lancez "
            "« at-tui login ADRESSE » et collez-le quand il est demandé. S'il a été tapé dans le terminal, "
            "effacez-le de l'historique, voire faites-le révoquer.",
            2,
        )
    try:
        url = cred.normalize_server_url(args.server_url)
        ca_bundle = cred.check_ca_bundle(args.ca_bundle)
    except cred.CredentialsError as error:
        return _fail(str(error), 2)
    if ca_bundle is None:
        saved = _saved_settings()
        if saved is not None and saved.server_url == url:
            ca_bundle = saved.ca_bundle
    usable, reason = cred.keyring_status()
    if not usable and not args.token_file_ok:
        return _login_without_keyring(url, ca_bundle, reason)
    try:
        token = cred.check_token(_read_token())
    except cred.CredentialsError as error:
        return _fail(str(error), 2)

    outcome, detail = _verify(url, token, ca_bundle)
    if outcome == "refused":
        return _fail(f"{detail} Rien n'a été enregistré.", 1)
    cred.save_settings(url, ca_bundle)
    try:
        stored = cred.save_token(url, token, allow_file=args.token_file_ok)
    except cred.CredentialsError as error:
        return _fail(
            f"{error} Le jeton n'a pas été enregistré : utilisez la variable {cred.ENV_TOKEN}, ou relancez "
            "avec --token-file-ok pour accepter un fichier lisible par vous seul.",
            1,
        )
    if outcome == "verified":
        print(f"Connecté à {url} : jeton accepté par le serveur.")
    else:
        print(f"Jeton enregistré sans avoir pu être vérifié : {detail}", file=sys.stderr)
    print(f"Jeton enregistré dans le {stored.where}.")
    if stored.warning:
        if not usable:
            print(f"({reason})", file=sys.stderr)
        print(stored.warning, file=sys.stderr)
    if _env_token_set():
        print(f"Note : la variable {cred.ENV_TOKEN} est définie ; tant qu'elle l'est, c'est elle qui est utilisée.")
    return 0


def _login_without_keyring(url: str, ca_bundle, reason: str) -> int:
    """No keyring and no consent to a file: keep only the address, once the server behind it is
    known to be the sync server when AT_TUI_TOKEN allows checking (never a Wi-Fi portal's address)."""
    from at_tui.sync import credentials as cred

    if _env_token_set():
        try:
            outcome, detail = _verify(url, cred.check_token(os.environ[cred.ENV_TOKEN]), ca_bundle)
        except cred.CredentialsError as error:
            return _fail(str(error), 1)
        if outcome == "refused":
            return _fail(f"{detail} Rien n'a été enregistré.", 1)
        cred.save_settings(url, ca_bundle)
        if outcome == "verified":
            print(f"Connecté à {url} : le jeton de la variable {cred.ENV_TOKEN} est accepté par le serveur. "
                  "L'adresse est enregistrée ; aucun jeton n'est enregistré (la variable reste utilisée).")
            return 0
        print(f"Adresse enregistrée sans avoir pu être vérifiée : {detail}", file=sys.stderr)
        return 1
    cred.save_settings(url, ca_bundle)
    return _fail(_no_keyring_help(reason, url), 2)


def logout_command(args) -> int:
    from at_tui.sync import credentials as cred

    if args.server_url:
        try:
            url = cred.normalize_server_url(args.server_url)
        except cred.CredentialsError as error:
            return _fail(str(error), 2)
    else:
        saved = _saved_settings()
        if saved is None:
            print("Aucun serveur enregistré : rien à effacer.")
            return 0
        url = saved.server_url
    removed = cred.delete_token(url)
    for place in removed:
        print(f"Jeton de {url} effacé : {place}.")
    if not removed:
        print(f"Aucun jeton enregistré pour {url}.")
    print("L'adresse du serveur reste enregistrée (« at-tui login ADRESSE » pour vous reconnecter).")
    if _env_token_set():
        print(f"Note : la variable {cred.ENV_TOKEN} est encore définie dans cet environnement ; elle reste utilisée.")
    return 0


def _saved_settings():
    from at_tui.sync.credentials import CredentialsError, load_settings

    try:
        return load_settings()
    except CredentialsError:
        return None  # a damaged settings file is rewritten by login


def _env_token_set() -> bool:
    import os

    from at_tui.sync.credentials import ENV_TOKEN

    return bool(os.environ.get(ENV_TOKEN, "").strip())


def _no_keyring_help(reason: str, url: str) -> str:
    from at_tui.sync.credentials import ENV_TOKEN, token_file_path

    return (
        f"{reason}\n"
        "Le jeton ne peut donc pas être enregistré de façon sûre sur ce poste. Deux possibilités :\n"
        f"  1. fournir le jeton à chaque synchronisation par la variable d'environnement {ENV_TOKEN}\n"
        f"     (ex. « export {ENV_TOKEN}=\"$(votre-gestionnaire-de-mots-de-passe …)\" ») ;\n"
        f"  2. relancer « at-tui login {url} --token-file-ok » pour accepter que le jeton soit enregistré\n"
        f"     NON CHIFFRÉ dans {token_file_path()}, fichier lisible par vous seul (droits 0600).\n"
        "L'adresse du serveur est enregistrée ; le jeton ne l'a pas été."
    )


def _read_token() -> str:
    """The token, never echoed: getpass on a terminal, a plain line otherwise (getpass would go to /dev/tty)."""
    import getpass

    stdin = sys.stdin
    try:
        if stdin is not None and stdin.isatty():
            return getpass.getpass("Jeton d'accès (att_…, saisie masquée) : ")
        return stdin.readline() if stdin is not None else ""
    except EOFError:
        return ""


def _verify(url: str, token: str, ca_bundle) -> tuple[str, str]:
    """("verified" | "refused" | "unverified", French detail): `GET /v1/visits?limit=1` with the token.

    CredentialsError (nothing is saved) when what answers is not the sync server: a certificate
    this machine does not trust, a captive portal's page or redirect, an answer of the wrong shape."""
    import ssl

    import httpx

    from at_tui.domain.redaction import safe
    from at_tui.sync.credentials import CredentialsError
    from at_tui.sync.transport import PORTAL, SyncError, certificate_problem, checked_answer, network_cause

    verify: ssl.SSLContext | bool = True
    if ca_bundle:
        try:
            verify = ssl.create_default_context(cafile=str(ca_bundle))
        except (OSError, ssl.SSLError, ValueError) as error:
            detail = getattr(error, "strerror", None) or getattr(error, "reason", None) or str(error)
            raise CredentialsError(
                f"Fichier d'autorités de certification inutilisable ({ca_bundle}) : {safe(detail, limit=200)}. "
                "Rien n'a été enregistré."
            ) from None
    try:
        response = httpx.get(
            f"{url}/v1/visits",
            params={"limit": 1},
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=LOGIN_TIMEOUT,
            verify=verify,
            follow_redirects=False,
        )
    except httpx.TimeoutException:
        return "unverified", f"le serveur {url} n'a pas répondu dans les {LOGIN_TIMEOUT:g} s."
    except httpx.HTTPError as error:
        reason = certificate_problem(error)
        if reason is not None:
            raise CredentialsError(
                f"Le certificat du serveur {url} n'est pas reconnu par ce poste ({reason}) : connexion refusée, "
                "rien n'a été enregistré. Vérifiez l'adresse ou indiquez l'autorité de certification du serveur "
                "avec « at-tui login ADRESSE --ca-bundle FICHIER »."
            ) from None
        return "unverified", f"pas de réponse de {url} : {network_cause(error)}."
    except (httpx.InvalidURL, OSError, ValueError) as error:
        return "unverified", f"le serveur {url} est injoignable ({safe(error, limit=200) or type(error).__name__})."
    status = response.status_code
    if status < 400:
        try:
            checked_answer(response, "/v1/visits")
        except SyncError as error:
            raise CredentialsError(f"{_login_sentence(error)} Rien n'a été enregistré.") from None
        return "verified", ""
    if status == 401:
        return "refused", f"Jeton refusé par le serveur {url} (inconnu, révoqué ou mal copié)."
    if status in (407, 511):  # a portal or a proxy asks for a login of its own
        raise CredentialsError(f"Connexion impossible : {PORTAL}. Rien n'a été enregistré.")
    if status in (429,) or status >= 500:
        return "unverified", f"le serveur {url} est indisponible pour l'instant (HTTP {status})."
    raise CredentialsError(
        f"Réponse inattendue de {url} (HTTP {status}) : est-ce bien l'adresse du serveur de synchronisation ? "
        "Rien n'a été enregistré."
    )


def _login_sentence(error) -> str:
    """The transport's verdict on an answer that is not the server's, worded for a login."""
    from at_tui.sync.transport import PORTAL, UNEXPECTED, Malformed

    if isinstance(error, Malformed):
        return f"Connexion impossible : {UNEXPECTED} : est-ce bien l'adresse du serveur de synchronisation ?"
    if "renvoie vers une autre adresse" in str(error):
        return f"Connexion impossible : {str(error).removeprefix('Synchronisation impossible : ').split(' ; ')[0]}."
    return f"Connexion impossible : {PORTAL} (si vous l'êtes déjà, vérifiez l'adresse du serveur)."
