"""Password rules (ASVS V2.1): at least 12 characters, not a common password, not all
digits, not like the person's name, wherever a password is set."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from tests.factories import PASSWORD, UserFactory, persona

from harken.core.choices import Role
from harken.core.models import User

pytestmark = pytest.mark.django_db

STRONG = "ferry-lantern-quartz-77"
WEAK = {
    "short": ("Xy7-abc", "too short"),
    "common": ("password1234", "too common"),
    "numeric": ("839104728361", "entirely numeric"),
    "like the username": ("margarethamilton", "too similar"),
}


@pytest.fixture
def admin_client(db):
    admin = persona(Role.ADMINISTRATOR, "root")
    admin.is_staff = True
    admin.save()
    client = Client()
    client.force_login(admin)
    return client


def adduser(username, password):
    import io
    import sys

    stdin, sys.stdin = sys.stdin, io.StringIO(password + "\n")
    try:
        call_command("adduser", username, "--role", "auditor", stdout=io.StringIO())
    finally:
        sys.stdin = stdin


@pytest.mark.parametrize("case", sorted(WEAK))
def test_adduser_refuses_weak_passwords(case):
    password, reason = WEAK[case]
    with pytest.raises(CommandError, match=reason):
        adduser("margarethamilton", password)
    assert not User.objects.filter(username="margarethamilton").exists()


def test_adduser_accepts_a_strong_password():
    adduser("margarethamilton", STRONG)
    assert User.objects.get(username="margarethamilton").check_password(STRONG)


@pytest.mark.parametrize("case", sorted(WEAK))
def test_the_password_change_page_refuses_weak_passwords(case):
    user = UserFactory(username="margarethamilton", roles=[Role.AUDITOR])
    client = Client()
    client.force_login(user)
    password, reason = WEAK[case]
    response = client.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": password, "new_password2": password},
    )
    assert response.status_code == 200
    assert reason in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_the_password_change_page_takes_a_strong_password(auditor):
    client = Client()
    client.force_login(auditor)
    response = client.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": STRONG, "new_password2": STRONG},
    )
    assert response.status_code == 302
    # Harken's own pages, not the admin's look-alikes of the same name.
    assert "Your new password is in force" in client.get(response.url).content.decode()
    auditor.refresh_from_db()
    assert auditor.check_password(STRONG)
    # The person stays signed in on the page they used.
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("case", sorted(WEAK))
def test_the_admin_refuses_weak_passwords_for_new_people(admin_client, case):
    password, reason = WEAK[case]
    response = admin_client.post(
        "/admin/core/user/add/",
        {
            "username": "margarethamilton",
            "usable_password": "true",
            "password1": password,
            "password2": password,
        },
    )
    assert response.status_code == 200
    assert reason in response.content.decode()
    assert not User.objects.filter(username="margarethamilton").exists()


@pytest.mark.parametrize("case", sorted(WEAK))
def test_the_admin_refuses_weak_passwords_when_setting_one(admin_client, case):
    user = UserFactory(username="margarethamilton")
    password, reason = WEAK[case]
    response = admin_client.post(
        f"/admin/core/user/{user.pk}/password/",
        {"usable_password": "true", "password1": password, "password2": password},
    )
    assert response.status_code == 200
    assert reason in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_the_admin_sets_a_strong_password(admin_client):
    user = UserFactory(username="margarethamilton")
    response = admin_client.post(
        f"/admin/core/user/{user.pk}/password/",
        {"usable_password": "true", "password1": STRONG, "password2": STRONG},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(STRONG)


def test_long_unicode_passphrases_are_kept_whole(auditor):
    # ASVS 2.1.2-2.1.4: 64 to 128 characters, any Unicode, never truncated.
    passphrase = "Grüße aus Köln 🚲 — der Rhein fließt ruhig unter der Brücke, 2026 ✓ " * 2
    passphrase = passphrase[:128]
    client = Client()
    client.force_login(auditor)
    response = client.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": passphrase, "new_password2": passphrase},
    )
    assert response.status_code == 302
    auditor.refresh_from_db()
    assert auditor.check_password(passphrase)
    assert not auditor.check_password(passphrase[:72])


def test_passwords_over_128_characters_are_refused(auditor):
    too_long = "a-long-passphrase-" * 8
    assert len(too_long) == 144
    client = Client()
    client.force_login(auditor)
    response = client.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": too_long, "new_password2": too_long},
    )
    assert "This password is too long: use at most 128 characters." in response.content.decode()


def test_changing_the_password_needs_the_current_one(auditor):
    client = Client()
    client.force_login(auditor)
    response = client.post(
        "/accounts/password_change/",
        {"old_password": "not-the-old-one-1", "new_password1": STRONG, "new_password2": STRONG},
    )
    assert response.status_code == 200
    assert "Your old password was entered incorrectly" in response.content.decode()
    auditor.refresh_from_db()
    assert auditor.check_password(PASSWORD)
