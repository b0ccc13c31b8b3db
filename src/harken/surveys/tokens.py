"""Invitation tokens: long random strings in the links, stored only as their SHA-256.

A copy of the database therefore holds no working link. Looking a token up by its
hash leaks nothing through timing (an attacker would need a SHA-256 preimage); the
stored hash is still compared in constant time once found.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

# 32 random bytes: 43 URL-safe characters.
TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 100


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def well_formed(token: str) -> bool:
    """A cheap first check before any query: URL-safe characters of a plausible length."""
    return 20 <= len(token) <= MAX_TOKEN_LENGTH and all(
        c.isascii() and (c.isalnum() or c in "-_") for c in token
    )


def matches(token: str, stored_hash: str | None) -> bool:
    return bool(stored_hash) and hmac.compare_digest(token_hash(token), stored_hash or "")
