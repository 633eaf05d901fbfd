"""Sync credentials: server URL settings, token lookup (env, keyring, opt-in 0600 file), redaction."""

from __future__ import annotations

import json
import os
import stat
import threading
import time
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null
from keyring.compat import properties
from keyring.errors import KeyringLocked, PasswordDeleteError

from at_tui.sync import credentials as cred
from at_tui.sync.credentials import CredentialsError

URL = "https://sync.exemple.fr"
TOKEN = "att_" + "Q2hhcmxvdHRlLWVzdC11bi1qZXRvbi1kZS10ZXN0" + "_x-Y"
OTHER_TOKEN = "att_autreJetonDeTest0123456789abcdef"


class MemoryKeyring(KeyringBackend):
    """An in-memory OS keyring for the tests."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.passwords[(service, username)]
        except KeyError:
            raise PasswordDeleteError("not found") from None


class LockedKeyring(MemoryKeyring):
    """A keyring that fails on write, with the password in its error (some backends do)."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked(f"cannot unlock collection to store {password}")


class HangingKeyring(MemoryKeyring):
    """A keyring waiting forever for an unlock prompt."""

    release = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        self.release.wait(30)
        return None


class LowPriorityKeyring(MemoryKeyring):
    priority = 0.5  # type: ignore[assignment]  # like keyrings.alt's plaintext backends


class BrokenKeyring(MemoryKeyring):
    """A backend that says it is not viable (as SecretService does without D-Bus)."""

    @properties.classproperty
    def priority(cls) -> float:
        raise RuntimeError("D-Bus indisponible")


# Keep the test backends out of keyring's own registry (its auto-detection in other tests).
for _cls in (MemoryKeyring, LockedKeyring, HangingKeyring, LowPriorityKeyring, BrokenKeyring):
    KeyringBackend._classes.discard(_cls)


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AT_TUI_HOME", str(tmp_path))
    monkeypatch.delenv("AT_TUI_TOKEN", raising=False)
    return tmp_path


@pytest.fixture
def use_keyring():
    """Install a keyring backend for the test; the previous one is restored afterwards."""
    previous = keyring.get_keyring()

    def install(backend: KeyringBackend) -> KeyringBackend:
        keyring.set_keyring(backend)
        return backend

    yield install
    keyring.set_keyring(previous)


@pytest.fixture
def memory(use_keyring) -> MemoryKeyring:
    return use_keyring(MemoryKeyring())


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- server URL -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://sync.exemple.fr", "https://sync.exemple.fr"),
        ("  HTTPS://Sync.Exemple.FR/ ", "https://sync.exemple.fr"),
        ("https://sync.exemple.fr:8443/at-tui/", "https://sync.exemple.fr:8443/at-tui"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("http://localhost:8000/", "http://localhost:8000"),
    ],
)
def test_server_url_is_normalized(raw: str, expected: str) -> None:
    assert cred.normalize_server_url(raw) == expected


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("http://sync.exemple.fr", "https://"),
        ("http://192.168.1.10:8000", "n'est pas chiffrée"),
        ("sync.exemple.fr", "invalide"),
        ("ftp://sync.exemple.fr", "invalide"),
        ("", "vide"),
        ("https://marie:secret@sync.exemple.fr", "identifiant"),
        ("https://sync.exemple.fr/?token=1", "« ? »"),
        ("https://sync.exemple.fr:99999", "invalide"),
    ],
)
def test_bad_server_urls_are_refused_in_french(raw: str, words: str) -> None:
    with pytest.raises(CredentialsError) as caught:
        cred.normalize_server_url(raw)
    assert words in str(caught.value)


def test_settings_round_trip_and_hold_no_token(memory: MemoryKeyring, home: Path, tmp_path: Path) -> None:
    assert cred.load_settings() is None
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    saved = cred.save_settings("https://sync.exemple.fr/", bundle)
    cred.save_token(saved.server_url, TOKEN)
    assert cred.load_settings() == cred.SyncSettings(URL, bundle.resolve())
    data = json.loads(cred.settings_path().read_text(encoding="utf-8"))
    assert data == {"server_url": URL, "ca_bundle": str(bundle.resolve())}
    assert TOKEN not in cred.settings_path().read_text(encoding="utf-8")


def test_missing_ca_bundle_is_refused(home: Path) -> None:
    with pytest.raises(CredentialsError, match="introuvable"):
        cred.save_settings(URL, home / "absent.pem")
    assert not cred.settings_path().exists()


def test_damaged_settings_file_is_reported_in_french(home: Path) -> None:
    cred.settings_path().write_text("{pas du json", encoding="utf-8")
    with pytest.raises(CredentialsError, match="illisibles"):
        cred.load_settings()


# --- redaction ------------------------------------------------------------------------


def test_redact_masks_every_token() -> None:
    text = f"Authorization: Bearer {TOKEN} ; autre={OTHER_TOKEN}== fin"
    masked = cred.redact(text)
    assert TOKEN not in masked and OTHER_TOKEN not in masked
    assert masked == "Authorization: Bearer att_…(masqué) ; autre=att_…(masqué) fin"
    assert cred.redact("aucun jeton ici") == "aucun jeton ici"


def test_redacting_logging_filter(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    logger = logging.getLogger("at_tui.test_credentials")
    redacting = cred.RedactingFilter()
    logger.addFilter(redacting)
    try:
        with caplog.at_level(logging.INFO, logger=logger.name):
            logger.info("envoi avec %s", TOKEN)
    finally:
        logger.removeFilter(redacting)
    assert TOKEN not in caplog.text
    assert "att_…(masqué)" in caplog.text


def test_credentials_error_never_shows_a_token() -> None:
    assert TOKEN not in str(CredentialsError(f"échec pour {TOKEN}"))


@pytest.mark.parametrize("bad", ["att_secret!valeur", "secretSansPrefixe123", "att_" + "a" * 600, "att_é-accent"])
def test_malformed_token_is_refused_without_echo(bad: str) -> None:
    with pytest.raises(CredentialsError) as caught:
        cred.check_token(bad)
    assert "mal formé" in str(caught.value)
    assert bad not in str(caught.value)
    assert "secret" not in str(caught.value)


# --- keyring --------------------------------------------------------------------------


def test_save_get_delete_with_the_keyring(memory: MemoryKeyring, home: Path) -> None:
    assert cred.keyring_status()[0] is True
    assert cred.get_token(URL) is None
    stored = cred.save_token(URL + "/", TOKEN)
    assert stored.kind == "keyring" and "trousseau du système" in stored.where and stored.warning is None
    assert memory.passwords == {("at-tui", URL): TOKEN}
    assert cred.get_token(URL) == TOKEN
    assert cred.get_token("https://autre.exemple.fr") is None
    assert not cred.token_file_path().exists()
    removed = cred.delete_token(URL)
    assert len(removed) == 1 and "trousseau" in removed[0]
    assert cred.get_token(URL) is None
    assert cred.delete_token(URL) == []


def test_environment_variable_wins_over_keyring(memory: MemoryKeyring, monkeypatch: pytest.MonkeyPatch) -> None:
    cred.save_token(URL, TOKEN)
    monkeypatch.setenv("AT_TUI_TOKEN", f"  {OTHER_TOKEN}\n")
    assert cred.get_token(URL) == OTHER_TOKEN
    monkeypatch.setenv("AT_TUI_TOKEN", "")
    assert cred.get_token(URL) == TOKEN


def test_malformed_environment_variable_is_reported_without_its_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AT_TUI_TOKEN", "att_pas bon")
    with pytest.raises(CredentialsError) as caught:
        cred.get_token(URL)
    assert "AT_TUI_TOKEN" in str(caught.value)
    assert "pas bon" not in str(caught.value)


def test_environment_variable_works_without_any_keyring(use_keyring, monkeypatch: pytest.MonkeyPatch) -> None:
    use_keyring(fail.Keyring())
    monkeypatch.setenv("AT_TUI_TOKEN", TOKEN)
    assert cred.get_token(URL) == TOKEN


def test_fail_backend_is_detected_in_french(use_keyring, home: Path) -> None:
    use_keyring(fail.Keyring())
    usable, reason = cred.keyring_status()
    assert usable is False
    assert "Aucun trousseau du système utilisable" in reason and "keyring.backends.fail.Keyring" in reason
    with pytest.raises(CredentialsError) as caught:
        cred.save_token(URL, TOKEN)
    assert "n'a pas été enregistré" in str(caught.value)
    assert TOKEN not in str(caught.value)
    assert not cred.token_file_path().exists()
    assert cred.get_token(URL) is None  # no NoKeyringError escapes
    assert cred.delete_token(URL) == []


def test_null_backend_is_detected_in_french(use_keyring, home: Path) -> None:
    use_keyring(null.Keyring())
    usable, reason = cred.keyring_status()
    assert usable is False
    assert "désactivé" in reason and "keyring.backends.null.Keyring" in reason
    with pytest.raises(CredentialsError):
        cred.save_token(URL, TOKEN)  # the null backend would have "saved" it silently
    assert cred.get_token(URL) is None


@pytest.mark.parametrize(
    ("backend", "words"),
    [(LowPriorityKeyring, "priorité 0.5"), (BrokenKeyring, "D-Bus indisponible")],
)
def test_unrecommended_or_unviable_backends_are_unusable(use_keyring, backend, words: str) -> None:
    use_keyring(backend())
    usable, reason = cred.keyring_status()
    assert usable is False
    assert words in reason


def test_keyring_errors_are_french_and_never_carry_the_token(use_keyring, home: Path) -> None:
    use_keyring(LockedKeyring())
    with pytest.raises(CredentialsError) as caught:
        cred.save_token(URL, TOKEN)
    message = str(caught.value)
    assert "Erreur du trousseau du système (KeyringLocked)" in message
    assert TOKEN not in message and "att_…(masqué)" in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert not cred.token_file_path().exists()
    # With the opt-in, a failing keyring falls back to the file.
    stored = cred.save_token(URL, TOKEN, allow_file=True)
    assert stored.kind == "file"
    assert cred.get_token(URL) == TOKEN


def test_a_hanging_keyring_does_not_freeze(use_keyring, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cred, "KEYRING_TIMEOUT", 0.3)
    use_keyring(HangingKeyring())
    start = time.monotonic()
    try:
        with pytest.raises(CredentialsError, match="ne répond pas"):
            cred.get_token(URL)
    finally:
        HangingKeyring.release.set()
    assert time.monotonic() - start < 5


# --- the opt-in file ------------------------------------------------------------------


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
def test_file_opt_in_is_private_and_per_server(use_keyring, home: Path) -> None:
    use_keyring(fail.Keyring())
    previous_umask = os.umask(0)  # even with a permissive umask
    try:
        stored = cred.save_token(URL, TOKEN, allow_file=True)
    finally:
        os.umask(previous_umask)
    path = cred.token_file_path()
    assert path == home / "token"
    assert stored.kind == "file" and str(path) in stored.where
    assert stored.warning and "NON CHIFFRÉ" in stored.warning and TOKEN not in stored.warning
    assert _mode(path) == 0o600
    assert cred.get_token(URL) == TOKEN
    assert cred.get_token("https://autre.exemple.fr") is None
    cred.save_token("https://autre.exemple.fr", OTHER_TOKEN, allow_file=True)
    assert _mode(path) == 0o600
    assert (cred.get_token(URL), cred.get_token("https://autre.exemple.fr")) == (TOKEN, OTHER_TOKEN)
    assert [p.name for p in home.iterdir() if p.name.endswith(".tmp")] == []
    assert cred.delete_token(URL) == [f"fichier {path}"]
    assert cred.get_token(URL) is None and path.exists()
    cred.delete_token("https://autre.exemple.fr")
    assert not path.exists()


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_file_with_wider_permissions_is_refused(use_keyring, home: Path, mode: int) -> None:
    use_keyring(fail.Keyring())
    cred.save_token(URL, TOKEN, allow_file=True)
    path = cred.token_file_path()
    path.chmod(mode)
    with pytest.raises(CredentialsError) as caught:
        cred.get_token(URL)
    message = str(caught.value)
    assert f"droits {mode:04o}" in message and "chmod 600" in message
    assert TOKEN not in message
    # logout removes the refused file.
    assert cred.delete_token(URL) == [f"fichier {path}"]
    assert not path.exists()


@pytest.mark.skipif(os.name == "nt", reason="POSIX symlinks")
def test_symlinked_token_file_is_refused(use_keyring, home: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    use_keyring(fail.Keyring())
    elsewhere = tmp_path_factory.mktemp("ailleurs") / "token"
    elsewhere.write_text(json.dumps({"version": 1, "tokens": {URL: TOKEN}}), encoding="utf-8")
    elsewhere.chmod(0o600)
    cred.token_file_path().symlink_to(elsewhere)
    with pytest.raises(CredentialsError, match="illisible|ordinaire"):
        cred.get_token(URL)


def test_keyring_save_clears_an_older_file_entry(use_keyring, home: Path) -> None:
    use_keyring(fail.Keyring())
    cred.save_token(URL, OTHER_TOKEN, allow_file=True)
    assert cred.token_file_path().exists()
    memory = use_keyring(MemoryKeyring())
    assert cred.get_token(URL) == OTHER_TOKEN  # the keyring is empty: the file answers
    assert cred.save_token(URL, TOKEN).kind == "keyring"
    assert not cred.token_file_path().exists()
    assert cred.get_token(URL) == TOKEN == memory.passwords[("at-tui", URL)]


def test_token_never_lands_in_settings_sqlite_or_other_files(memory: MemoryKeyring, home: Path) -> None:
    from at_tui.paths import database_path
    from at_tui.store.migrations import open_database

    cred.save_settings(URL)
    cred.save_token(URL, TOKEN)
    conn = open_database(database_path())
    conn.close()
    secret = TOKEN.encode()
    files = [p for p in home.rglob("*") if p.is_file()]
    assert any(p.suffix == ".sqlite3" for p in files) and cred.settings_path() in files
    assert [p.name for p in files if secret in p.read_bytes()] == []
