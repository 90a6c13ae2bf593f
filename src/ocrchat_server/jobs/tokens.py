"""API tokens: ``ocr_<key id>_<secret>``. A store keeps the key id, to find the token's
row, and the token's hash; never the token. The web app's session ids are kept the same
way: only their hash, which is what a lookup searches for."""

from __future__ import annotations

import hashlib
import hmac
import secrets

_TOKEN_PREFIX = "ocr"  # noqa: S105 (a visible prefix, not a secret)
_KEY_ID_BYTES = 6


def hash_token(token: str) -> bytes:
    # Tokens carry 256 random bits, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(token.encode()).digest()


_DUMMY_HASH = hash_token("not-a-token")


def new_token() -> tuple[str, str]:
    """A fresh token and its key id."""
    key_id = secrets.token_hex(_KEY_ID_BYTES)
    return f"{_TOKEN_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}", key_id


def key_id_of(token: str) -> str:
    """The key id a presented token names ("" when it is not shaped like a token)."""
    parts = token.split("_", 2)
    return parts[1] if len(parts) == 3 and parts[0] == _TOKEN_PREFIX else ""


def matches(token: str, stored: bytes | None) -> bool:
    """Whether ``token`` hashes to ``stored`` (None: no row), in the same time either way."""
    return hmac.compare_digest(hash_token(token), stored or _DUMMY_HASH) and stored is not None


def new_session_id() -> str:
    """A web session's id (its cookie): 256 random bits, kept by the stores as its hash."""
    return secrets.token_urlsafe(32)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)
