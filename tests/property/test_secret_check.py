"""What looks like a secret (refused on credentials items) and what does not."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harken.property.secret_check import entropy, secret_reason


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk", "key or certificate block"),
        ("-----BEGIN CERTIFICATE-----", "key or certificate block"),
        ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBx7aLongKeyMaterialHere", "SSH key"),
        ("password=hunter2", "“password”"),
        ("Password: Summer2024!", "“Password”"),
        ('{"api_key": "live-9f8e7d"}', "“api_key”"),
        ("PIN: 4821", "“PIN”"),
        ("token = abc", "“token”"),
        ("key AKIAIOSFODNN7EXAMPLE for the bucket", "AWS access key"),
        ("AIzaSyA-1234567890abcdefghijklmnopqrstu", "Google API key"),
        ("ghp_0123456789abcdefghijklmnopqrstuvwxyzAB", "GitHub token"),
        ("xoxb-123456789012-abcdefghij", "Slack token"),
        ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "payment API key"),
        (
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "JWT",
        ),
        ("postgres://app:s3cr3t@db.internal/prod", "connection string"),
        ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "random-looking"),
        ("Kx9fQ2mLp7RtZ4wBv8NcY3hJ", "random-looking"),
        ("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "random-looking"),
    ],
)
def test_secret_looking_text_is_named(text, reason):
    found = secret_reason(text)
    assert found is not None
    assert reason in found


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Remote service VPN account, held in the customer's password vault",
        "Password: held by the line lead",
        "Token: RSA SecurID hardware token issued to the holder",
        "Account name svc-harken-field on the customer's VPN",
        "Badge BADGE-2026-00417-ACME for building 3",
        "Asset tag ASSET-2024-000123-ACME, fixture FIXTURE-MLD-0042-REV-B-2025",
        "https://portal.customer.example/login/sso?tenant=acme-2024",
        "Kept in /srv/data2024/acme/customer on the analysis share",
        "Contact j.smith@customer.example to revoke",
        "Internationalisation of the service portal",
        "Drawing 7741 rev C, customer part no. 4471-220-0031-B",
    ],
)
def test_descriptions_of_credentials_pass(text):
    assert secret_reason(text) is None


def test_entropy_is_in_bits_per_character():
    assert entropy("") == 0
    assert entropy("aaaa") == 0
    assert entropy("abab") == 1
    assert entropy("abcd") == 2


WORDS = st.lists(
    st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=12), min_size=1, max_size=12
)


@settings(max_examples=200)
@given(WORDS)
def test_sentences_of_plain_words_never_look_secret(words):
    assert secret_reason(" ".join(words)) is None


@settings(max_examples=200)
@given(st.text(alphabet=string.ascii_uppercase + string.digits, min_size=16, max_size=16), WORDS)
def test_an_aws_key_is_found_anywhere_in_a_text(tail, words):
    text = " ".join([*words[:3], f"AKIA{tail}", *words[3:]])
    assert secret_reason(text) == "it looks like an AWS access key"


@settings(max_examples=200)
@given(
    st.sampled_from(["password", "passwd", "secret", "api_key", "token", "pwd"]),
    st.text(min_size=1, max_size=30).filter(
        lambda s: s.strip() and not s[0].isspace() and s[0] not in "\"',;"
    ),
)
def test_any_value_given_with_an_equals_sign_is_refused(word, value):
    assert secret_reason(f"{word}={value}") is not None
