"""A keyring backend whose every call raises, as a D-Bus Secret Service that crashes: chosen in a
subprocess with PYTHON_KEYRING_BACKEND=raising_keyring.RaisingKeyring (tests/sync on PYTHONPATH).
Its error quotes a token, as a backend echoing what it was given might."""

from __future__ import annotations

from keyring.backend import KeyringBackend

QUOTED = "att_dG9rZW4tY2l0ZS1wYXItdW4tdHJvdXNzZWF1LXF1aS1wbGFudGU"


class RaisingKeyring(KeyringBackend):
    priority = 5  # type: ignore[assignment] - a "recommended" backend: the failure comes at use

    def get_password(self, service, username):
        raise RuntimeError(f"org.freedesktop.DBus.Error.NoReply: le service a planté ({QUOTED})")

    def set_password(self, service, username, password):
        raise RuntimeError(f"org.freedesktop.DBus.Error.NoReply: écriture impossible ({password})")

    def delete_password(self, service, username):
        raise RuntimeError("org.freedesktop.DBus.Error.NoReply: effacement impossible")
