"""Where the sync finds its server and its token (docs/sync-protocol.md, « Transport et authentification »).

- The server URL (not secret) and an optional CA bundle live in `sync.json` in the data dir.
- The token is looked up, in this order: the `AT_TUI_TOKEN` environment variable, the OS
  keyring (service "at-tui", username = the server URL), then — only when the AT opted in
  at login — the file `token` in the data dir, readable by its owner alone (0600,
  unencrypted; refused when its permissions are wider).
- Headless Linux has no usable keyring: `keyring` then picks `keyring.backends.fail.Keyring`
  (every call raises NoKeyringError) or is configured with `keyring.backends.null.Keyring`
  (reads None, writes vanish). Both are detected, as is any backend whose priority is below
  keyring's own "recommended" threshold (1) — e.g. the plaintext backends of `keyrings.alt`,
  which would store the token unencrypted without saying so.
- A locked keyring behind D-Bus can wait forever for an unlock prompt: every keyring call
  (backend detection included) runs in a daemon thread and is abandoned after
  KEYRING_TIMEOUT seconds with a French error. The abandoned thread stays blocked in the
  background; it is a daemon, so it never keeps the process alive.
- The token never appears in an exception raised here: messages go through `redact`, and
  exceptions of the keyring backends are not chained (`from None`).
"""

from __future__ import annotations

import json
import logging
import os
import re
import stat
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

from at_tui.domain.redaction import MASK, redact, remember_secret  # noqa: F401 - one redaction for all
from at_tui.files import write_atomically
from at_tui.paths import data_dir

ENV_TOKEN = "AT_TUI_TOKEN"
KEYRING_SERVICE = "at-tui"
SETTINGS_FILE = "sync.json"
TOKEN_FILE = "token"
KEYRING_TIMEOUT = 30.0  # seconds: room for an unlock prompt, not forever
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_TOKEN_LENGTH = 512
_TOKEN_SHAPE = re.compile(r"att_[A-Za-z0-9_\-]+=*")  # `att_` + base64url (docs/sync-protocol.md)


T = TypeVar("T")


class CredentialsError(Exception):
    """A French message for the AT; never contains a token (it is redacted on the way in)."""

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))


class RedactingFilter(logging.Filter):
    """A logging filter that masks tokens in the formatted message (add it to a handler)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


# --- the server URL --------------------------------------------------------------------


def normalize_server_url(raw: str) -> str:
    """The canonical form of a server URL, or CredentialsError: https:// (http:// only for this machine)."""
    text = (raw or "").strip()
    if not text:
        raise CredentialsError("Adresse du serveur vide : attendu par exemple https://sync.exemple.fr")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise CredentialsError(f"Adresse du serveur invalide : « {text} ».") from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in ("https", "http") or not host:
        raise CredentialsError(
            f"Adresse du serveur invalide : « {text} » (attendu : https://nom-du-serveur, ex. https://sync.exemple.fr)."
        )
    if parts.username is not None or parts.password is not None:
        raise CredentialsError("L'adresse du serveur ne doit contenir ni identifiant ni mot de passe.")
    if parts.query or parts.fragment:
        raise CredentialsError("L'adresse du serveur ne doit contenir ni « ? » ni « # ».")
    if scheme == "http" and host not in LOCAL_HOSTS:
        raise CredentialsError(
            f"Adresse refusée : « {text} » n'est pas chiffrée. Utilisez https:// "
            "(http:// n'est accepté que pour 127.0.0.1 ou localhost, pour des essais sur ce poste)."
        )
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), "", ""))


# --- the settings file (not secret) ----------------------------------------------------


@dataclass(frozen=True)
class SyncSettings:
    server_url: str
    ca_bundle: Path | None = None


def settings_path() -> Path:
    return data_dir() / SETTINGS_FILE


def load_settings() -> SyncSettings | None:
    """The saved server, or None when `at-tui login` was never run."""
    path = settings_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise CredentialsError(f"Réglages de synchronisation illisibles ({path}) : {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("server_url"), str):
        raise CredentialsError(f"Réglages de synchronisation invalides ({path}) : « server_url » manquant.")
    ca_bundle = data.get("ca_bundle")
    if ca_bundle is not None and not isinstance(ca_bundle, str):
        raise CredentialsError(f"Réglages de synchronisation invalides ({path}) : « ca_bundle » doit être un chemin.")
    return SyncSettings(normalize_server_url(data["server_url"]), Path(ca_bundle) if ca_bundle else None)


def save_settings(server_url: str, ca_bundle: Path | str | None = None) -> SyncSettings:
    """Validate and write the server URL (and CA bundle) atomically; the token never goes here."""
    settings = SyncSettings(normalize_server_url(server_url), check_ca_bundle(ca_bundle))
    data: dict[str, Any] = {"server_url": settings.server_url}
    if settings.ca_bundle is not None:
        data["ca_bundle"] = str(settings.ca_bundle)
    write_atomically(settings_path(), json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    return settings


def check_ca_bundle(ca_bundle: Path | str | None) -> Path | None:
    """The CA bundle as an absolute path (None when not given), or CredentialsError when it is missing."""
    if ca_bundle is None or ca_bundle == "":
        return None
    path = Path(ca_bundle).expanduser().resolve()
    if not path.is_file():
        raise CredentialsError(f"Fichier d'autorités de certification introuvable : {path}")
    return path


# --- tokens ----------------------------------------------------------------------------


def check_token(token: str) -> str:
    """The token without surrounding blanks, or CredentialsError (whose message never shows it)."""
    token = (token or "").strip()
    remember_secret(token)  # whatever it is, it must never be shown back
    if not token:
        raise CredentialsError("Aucun jeton saisi.")
    if len(token) > MAX_TOKEN_LENGTH or not _TOKEN_SHAPE.fullmatch(token):
        raise CredentialsError(
            "Jeton mal formé : un jeton at-tui commence par « att_ », suivi de lettres, chiffres, « - » ou « _ »."
        )
    return token


@dataclass(frozen=True)
class StoredToken:
    """Where `save_token` put the token: `kind` "keyring" or "file", and a French description."""

    kind: Literal["keyring", "file"]
    where: str
    warning: str | None = None


def token_file_path() -> Path:
    return data_dir() / TOKEN_FILE


def keyring_status() -> tuple[bool, str]:
    """(usable, reason in French): whether the OS keyring can hold the token, and why not."""
    try:
        return _call_keyring(_probe_backend)
    except CredentialsError as error:
        return False, str(error)


def get_token(server_url: str) -> str | None:
    """The token for this server: AT_TUI_TOKEN, then the keyring, then the opt-in file; None when none."""
    from_env = os.environ.get(ENV_TOKEN, "").strip()
    if from_env:
        try:
            return check_token(from_env)
        except CredentialsError as error:
            raise CredentialsError(f"Variable {ENV_TOKEN} : {error}") from None
    url = normalize_server_url(server_url)
    keyring_error: CredentialsError | None = None
    usable, _reason = keyring_status()
    if usable:
        try:
            token = _call_keyring(lambda keyring: keyring.get_password(KEYRING_SERVICE, url))
        except CredentialsError as error:
            keyring_error = error
        else:
            if token:
                return token
    token = _read_token_file(url)
    if token:
        return token
    if keyring_error is not None:
        raise keyring_error
    return None


def save_token(server_url: str, token: str, *, allow_file: bool = False) -> StoredToken:
    """Store the token in the keyring; in the 0600 file only when `allow_file` (keyring unusable or failing)."""
    url = normalize_server_url(server_url)
    token = check_token(token)
    usable, reason = keyring_status()
    if usable:
        try:
            _call_keyring(lambda keyring: keyring.set_password(KEYRING_SERVICE, url, token))
        except CredentialsError as error:
            if not allow_file:
                raise
            reason = str(error)
        else:
            _remove_from_token_file(url)  # one place only: the keyring now wins
            return StoredToken("keyring", f"trousseau du système ({backend_name()})")
    if not allow_file:
        raise CredentialsError(f"{reason} Le jeton n'a pas été enregistré.")
    path = _write_token_file(url, token)
    return StoredToken(
        "file",
        f"fichier {path}",
        f"Attention : le jeton est enregistré NON CHIFFRÉ dans {path}, lisible par vous seul (droits 0600). "
        "Toute personne qui accède à votre compte peut le lire ; « at-tui logout » l'efface.",
    )


def delete_token(server_url: str) -> list[str]:
    """Remove the token of this server from the keyring and the file; the places it was removed from (French)."""
    url = normalize_server_url(server_url)
    removed: list[str] = []
    usable, _reason = keyring_status()
    if usable:

        def delete(keyring) -> bool:
            from keyring.errors import PasswordDeleteError

            if keyring.get_password(KEYRING_SERVICE, url) is None:
                return False
            try:
                keyring.delete_password(KEYRING_SERVICE, url)
            except PasswordDeleteError:
                return False
            return True

        if _call_keyring(delete):
            removed.append(f"trousseau du système ({backend_name()})")
    if _remove_from_token_file(url):
        removed.append(f"fichier {token_file_path()}")
    return removed


def backend_name() -> str:
    try:
        return _call_keyring(lambda keyring: _describe(keyring))
    except CredentialsError:
        return "inconnu"


# --- the keyring, guarded --------------------------------------------------------------


def _describe(keyring) -> str:
    cls = type(keyring)
    return f"{cls.__module__}.{cls.__name__}"


def _probe_backend(keyring) -> tuple[bool, str]:
    from keyring.backends import fail, null

    name = _describe(keyring)
    if isinstance(keyring, fail.Keyring):
        return False, (
            f"Aucun trousseau du système utilisable (module keyring : {name}). "
            "C'est le cas habituel d'un Linux sans session graphique ni service Secret Service (D-Bus)."
        )
    if isinstance(keyring, null.Keyring):
        return False, (
            f"Le trousseau du système est désactivé (module keyring : {name}, qui n'enregistre rien). "
            "Il a été choisi par PYTHON_KEYRING_BACKEND ou par le fichier keyringrc.cfg."
        )
    try:
        priority = float(type(keyring).priority)
    except Exception as error:  # a backend says it is not viable by raising from its priority
        return False, f"Le trousseau du système ({name}) n'est pas disponible : {redact(str(error)) or type(error).__name__}."
    if priority < 1:
        return False, (
            f"Le trousseau choisi ({name}, priorité {priority:g}) n'est pas un trousseau sûr "
            "(keyring le déconseille : il peut stocker le jeton sans chiffrement)."
        )
    return True, f"trousseau du système ({name})"


def _call_keyring(action: Callable[[Any], T]) -> T:
    """Run `action(backend)` in a daemon thread; CredentialsError on any failure or after KEYRING_TIMEOUT."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            import keyring

            outcome["value"] = action(keyring.get_keyring())
        except BaseException as error:  # noqa: BLE001 - reported to the caller below
            outcome["error"] = error

    thread = threading.Thread(target=run, name="at-tui-keyring", daemon=True)
    thread.start()
    thread.join(KEYRING_TIMEOUT)
    if thread.is_alive():
        raise CredentialsError(
            f"Le trousseau du système ne répond pas après {KEYRING_TIMEOUT:g} s (verrouillé, en attente de "
            f"déverrouillage ?). Déverrouillez-le puis recommencez, ou utilisez la variable {ENV_TOKEN}."
        )
    if "error" in outcome:
        error = outcome["error"]
        if isinstance(error, CredentialsError):
            raise CredentialsError(str(error)) from None
        if isinstance(error, KeyboardInterrupt):
            raise KeyboardInterrupt from None
        detail = redact(str(error)) or type(error).__name__
        raise CredentialsError(f"Erreur du trousseau du système ({type(error).__name__}) : {detail}") from None
    return outcome["value"]


# --- the opt-in file -------------------------------------------------------------------


def _read_token_file(url: str) -> str | None:
    path = token_file_path()
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise CredentialsError(f"Fichier de jeton illisible ({path}) : {error.strerror or error}") from None
    try:
        _check_private(path, os.fstat(fd))
        with os.fdopen(fd, "r", encoding="utf-8") as handle:
            fd = -1
            raw = handle.read()
    finally:
        if fd >= 0:
            os.close(fd)
    try:
        tokens = json.loads(raw).get("tokens", {})
    except (ValueError, AttributeError):
        raise CredentialsError(f"Fichier de jeton invalide ({path}) : supprimez-le (« at-tui logout »).") from None
    token = tokens.get(url) if isinstance(tokens, dict) else None
    if not isinstance(token, str):
        return None
    try:
        return check_token(token)
    except CredentialsError as error:
        raise CredentialsError(f"Fichier de jeton {path} : {error}") from None


def _check_private(path: Path, info: os.stat_result) -> None:
    """Refuse a token file that others can read or write, or that another user owns (POSIX only)."""
    if os.name == "nt":  # Windows: modes do not describe access; the data dir is in the user's profile
        return
    mode = stat.S_IMODE(info.st_mode)
    if not stat.S_ISREG(info.st_mode):
        raise CredentialsError(f"Fichier de jeton refusé : {path} n'est pas un fichier ordinaire.")
    if info.st_uid != os.getuid():
        raise CredentialsError(f"Fichier de jeton refusé : {path} appartient à un autre utilisateur.")
    if mode & 0o077:
        raise CredentialsError(
            f"Fichier de jeton refusé : {path} est accessible à d'autres utilisateurs (droits {mode:04o}, "
            f"attendu 0600). Corrigez avec « chmod 600 {path} », ou effacez-le avec « at-tui logout »."
        )


def _load_token_file_for_update() -> tuple[dict[str, str], bool]:
    """The tokens of the file (empty when absent, refused or damaged), and whether the file exists."""
    path = token_file_path()
    try:
        info = path.lstat()
    except FileNotFoundError:
        return {}, False
    try:
        _check_private(path, info)
        tokens = json.loads(path.read_text(encoding="utf-8")).get("tokens", {})
    except (CredentialsError, OSError, ValueError, AttributeError):
        return {}, True  # a file we refuse to read is replaced by a 0600 one, or removed
    if not isinstance(tokens, dict):
        return {}, True
    return {k: v for k, v in tokens.items() if isinstance(k, str) and isinstance(v, str)}, True


def _write_token_file(url: str, token: str) -> Path:
    tokens, _exists = _load_token_file_for_update()
    tokens[url] = token
    return _write_private(token_file_path(), tokens)


def _remove_from_token_file(url: str) -> bool:
    """Drop this server's token from the file (the file goes when it holds no other); whether it changed."""
    tokens, exists = _load_token_file_for_update()
    if not exists:
        return False
    found = tokens.pop(url, None) is not None
    if not tokens:
        token_file_path().unlink(missing_ok=True)
        return True
    if found:
        _write_private(token_file_path(), tokens)
    return found


def _write_private(path: Path, tokens: dict[str, str]) -> Path:
    """Write atomically a file readable by its owner alone: created 0600 (O_EXCL), then renamed over."""
    text = json.dumps({"version": 1, "tokens": tokens}, indent=2) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.unlink(missing_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(tmp, flags, 0o600)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)  # the umask can only narrow the mode; make it exact before writing
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            fd = -1
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    if sys.platform != "win32":
        os.chmod(path, 0o600)
    return path
