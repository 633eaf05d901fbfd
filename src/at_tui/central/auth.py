"""Device tokens: `att_` + base64url of 32 random bytes; only their SHA-256 is stored.

A token is shown once, when it is made (`at-tui central add-user` / `add-token`).
It is then named by its first characters (`prefix`, e.g. `att_Xy3…`), which is
what `central list-users` shows and `central revoke --token-prefix` takes: the
prefix reveals 48 of the 256 random bits, the rest stays secret.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets

from at_tui.central.storage import Storage, TokenInfo, User

TOKEN_MARK = "att_"
TOKEN_BYTES = 32
PREFIX_LENGTH = len(TOKEN_MARK) + 8
# att_ + 43 base64url characters (32 bytes, no padding).
_TOKEN_PATTERN = re.compile(r"att_[A-Za-z0-9_-]{43}")


def new_token() -> str:
    return TOKEN_MARK + base64.urlsafe_b64encode(secrets.token_bytes(TOKEN_BYTES)).rstrip(b"=").decode("ascii")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_prefix(token: str) -> str:
    return token[:PREFIX_LENGTH]


def issue_token(storage: Storage, user_name: str) -> tuple[str, TokenInfo]:
    """A new device token for an existing user: the token (to show once) and what is stored of it."""
    token = new_token()
    info = storage.add_token(user_name, token_hash(token), token_prefix(token))
    return token, info


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` header, if it has a token's shape."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not _TOKEN_PATTERN.fullmatch(value):
        return None
    return value


def authenticate(storage: Storage, authorization: str | None) -> User | None:
    """The user an `Authorization` header names, or None (absent, malformed, unknown or revoked token)."""
    token = bearer_token(authorization)
    if token is None:
        return None
    return storage.user_for_token(token_hash(token))
