"""Does a text look like a secret? For credentials and access items, Harken records that
a credential exists, who holds it and when it is revoked, never the secret itself; a
field that seems to hold one is refused before anything is stored.

Plain Python, no Django. The checks err on the side of refusing: a person can always
describe a credential ("the VPN account in the customer's vault, held by J. Smith")
without quoting it.
"""

from __future__ import annotations

import math
import re
from collections import Counter

# A key or certificate block in PEM form (private keys, PGP blocks, SSH keys).
_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]+-----|-----BEGIN")
_SSH_KEY = re.compile(r"\b(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp\d+) AAAA[0-9A-Za-z+/]{20,}")
# `password=…`, `api_key: …`, `"token": "…"`: a secret word, a separator, a value.
_ASSIGNMENT = re.compile(
    r"(?i)\b(password|passwd|passphrase|pwd|pass|pin|secret|client[_ -]?secret|token|"
    r"access[_ -]?token|auth[_ -]?token|api[_ -]?key|apikey|access[_ -]?key|private[_ -]?key|"
    r"secret[_ -]?key)\b[\"']?\s*(=|:)\s*[\"']?([^\s\"',;]+)"
)
# Well-known token shapes.
_TOKENS = (
    (re.compile(r"\b(AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b"), "an AWS access key"),
    (re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b"), "a Google API key"),
    (re.compile(r"\b(ghp|gho|ghu|ghs|ghr)_[0-9A-Za-z]{30,}\b"), "a GitHub token"),
    (re.compile(r"\bgithub_pat_[0-9A-Za-z_]{30,}\b"), "a GitHub token"),
    (re.compile(r"\bglpat-[0-9A-Za-z_\-]{20,}\b"), "a GitLab token"),
    (re.compile(r"\bxox[abprs]-[0-9A-Za-z\-]{10,}\b"), "a Slack token"),
    (re.compile(r"\b(sk|rk|pk)_(live|test)_[0-9A-Za-z]{16,}\b"), "a payment API key"),
    (re.compile(r"\bsk-[0-9A-Za-z_\-]{20,}\b"), "an API key"),
    (re.compile(r"\beyJ[0-9A-Za-z_\-]{8,}\.eyJ[0-9A-Za-z_\-]{8,}\.[0-9A-Za-z_\-]{8,}"), "a JWT"),
)
# scheme://user:password@host — a connection string that carries its password.
_URL_CREDENTIALS = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@]+:[^\s@/]+@")
_CANDIDATE = re.compile(r"[A-Za-z0-9+/=_\-]{20,}")
_HEX = re.compile(r"[0-9a-fA-F]{32,}")
# Bits per character above which a long token is taken for random: words and codes
# people type stay well below (asset tags ~3.3, a sentence's words ~3), random base64
# of 20+ characters is above 4.
ENTROPY_LIMIT = 3.7
# A random token has long runs mixing letters, digits and cases.
MIXED_STRETCH = 10


def entropy(text: str) -> float:
    """Shannon entropy of `text` in bits per character."""
    if not text:
        return 0.0
    counts = Counter(text)
    total = len(text)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def _mixed(segment: str) -> bool:
    """Letters and digits together, or upper and lower case that is not a capitalised word."""
    letters = any(c.isalpha() for c in segment)
    digits = any(c.isdigit() for c in segment)
    cases = any(c.islower() for c in segment) and any(c.isupper() for c in segment)
    return (letters and digits) or (cases and not segment.istitle())


def _looks_random(token: str) -> bool:
    """Long hexadecimal, or a long stretch mixing letters, digits and cases with high
    entropy. Codes people make (`FIXTURE-MLD-0042-REV-B`) mix only between their parts."""
    if _HEX.fullmatch(token):
        return any(c.isdigit() for c in token) and any(c.isalpha() for c in token)
    segments = re.split(r"[\-_./+=]+", token)
    longest = max((len(s) for s in segments if _mixed(s)), default=0)
    return longest >= MIXED_STRETCH and entropy(token) >= ENTROPY_LIMIT


def _plain_value(value: str) -> bool:
    """A value after `password:` that is a word about the password ("Password: held by
    the line lead"), not the password: short and letters only."""
    return value.isalpha() and len(value) < 12


def secret_reason(text: str) -> str | None:
    """Why `text` looks like it holds a secret, or None when it does not."""
    if not text:
        return None
    if _PEM.search(text):
        return "it contains a key or certificate block (-----BEGIN …)"
    if _SSH_KEY.search(text):
        return "it contains an SSH key"
    for pattern, what in _TOKENS:
        if pattern.search(text):
            return f"it looks like {what}"
    if _URL_CREDENTIALS.search(text):
        return "it is a connection string with a password in it"
    for match in _ASSIGNMENT.finditer(text):
        separator, value = match.group(2), match.group(3)
        if separator == "=" or not _plain_value(value):
            return f"it gives a value for “{match.group(1)}”"
    for token in re.split(r"\s+", text):
        if "://" in token or "@" in token:
            continue  # addresses are not secrets; one with a password was caught above
        for candidate in _CANDIDATE.findall(token):
            if _looks_random(candidate):
                return "it contains a long random-looking string (a key or token?)"
    return None
