"""Login throttling (ASVS V2.2.1): per account and per client address, counted in the
database, with lock-out, a clear message, and every step on the audit trail."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from tests.factories import PASSWORD

from harken.accounts import throttle
from harken.accounts.models import Lockout, LoginFailure
from harken.core.models import AuditEvent

pytestmark = pytest.mark.django_db

LOCKED = "This account is locked after too many failed sign-ins"


def sign_in(client, username, password, address="10.0.0.1", **extra):
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        **extra,
    )


def fail(client, username, times, address="10.0.0.1"):
    for _ in range(times):
        response = sign_in(client, username, "wrong-guess-123", address)
        assert response.status_code == 200


def test_five_failures_lock_the_account_even_for_the_right_password(client, quality_manager):
    fail(client, "qm", 4)
    assert not Lockout.objects.exists()
    response = sign_in(client, "qm", "wrong-guess-123")
    assert LOCKED in response.content.decode()
    response = sign_in(client, "qm", PASSWORD)
    assert response.status_code == 200
    assert LOCKED in response.content.decode()
    assert "_auth_user_id" not in client.session
    lock = AuditEvent.objects.get(action="auth.locked_out")
    assert lock.object_label == "qm"
    assert lock.changes["scope"] == "account"
    assert lock.changes["failures"] == 5
    refused = AuditEvent.objects.get(action="auth.login_refused")
    assert refused.changes["reason"] == "locked"
    # While locked no password is checked, so no further failure is counted.
    assert AuditEvent.objects.filter(action="auth.login_failed").count() == 5


def test_the_lock_applies_from_every_address_and_lifts_after_its_time(client, quality_manager):
    fail(client, "qm", 5)
    assert LOCKED in sign_in(client, "qm", PASSWORD, address="10.9.9.9").content.decode()
    Lockout.objects.update(until=timezone.now() - dt.timedelta(seconds=1))
    response = sign_in(client, "qm", PASSWORD, address="10.9.9.9")
    assert response.status_code == 302
    # The failures that caused the lock-out do not count again afterwards.
    assert not LoginFailure.objects.filter(username="qm").exists()


def test_failures_outside_the_window_are_not_counted(client, quality_manager):
    fail(client, "qm", 4)
    LoginFailure.objects.update(at=timezone.now() - dt.timedelta(minutes=16))
    fail(client, "qm", 4)
    assert not Lockout.objects.exists()
    assert sign_in(client, "qm", PASSWORD).status_code == 302


def test_a_successful_sign_in_clears_the_account_count(client, quality_manager):
    fail(client, "qm", 4)
    assert sign_in(client, "qm", PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    fail(client, "qm", 4)
    assert not Lockout.objects.exists()


def test_unknown_usernames_are_locked_alike(client):
    fail(client, "nobody-here", 5)
    assert LOCKED in sign_in(client, "nobody-here", "x-any-guess-1").content.decode()


def test_the_count_ignores_the_case_of_the_username(client, quality_manager):
    fail(client, "QM", 3)
    fail(client, "qm", 2)
    assert Lockout.objects.filter(scope="account", key="qm").exists()


def test_twenty_failures_from_one_address_lock_the_address(client, quality_manager):
    for n in range(20):
        sign_in(client, f"guess{n}", "wrong-guess-123", address="10.6.6.6")
    response = sign_in(client, "qm", PASSWORD, address="10.6.6.6")
    assert "Too many failed sign-ins came from your network address" in response.content.decode()
    assert AuditEvent.objects.get(action="auth.locked_out").changes["scope"] == "address"
    # Someone else, elsewhere, signs in as usual.
    assert sign_in(client, "qm", PASSWORD, address="10.7.7.7").status_code == 302


def test_behind_a_proxy_the_address_is_the_last_forwarded_one(settings, client, quality_manager):
    settings.BEHIND_PROXY = True
    for n in range(20):
        sign_in(
            client,
            f"guess{n}",
            "wrong-guess-123",
            address="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, 192.0.2.44",
        )
    assert Lockout.objects.get(scope="address").key == "192.0.2.44"
    response = sign_in(
        client, "qm", PASSWORD, address="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.45"
    )
    assert response.status_code == 302


def test_limits_come_from_settings(settings, client, quality_manager):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 2
    fail(client, "qm", 2)
    assert LOCKED in sign_in(client, "qm", PASSWORD).content.decode()


def test_throttling_is_shared_by_every_worker_through_the_database(quality_manager):
    # Two clients stand for two gunicorn workers: each sees the other's failures.
    fail(Client(), "qm", 3)
    fail(Client(), "qm", 2)
    assert LOCKED in sign_in(Client(), "qm", PASSWORD).content.decode()


def test_an_administrator_can_unlock_an_account(client, quality_manager):
    fail(client, "qm", 5)
    assert throttle.unlock("qm") == 1
    assert AuditEvent.objects.filter(action="auth.unlocked", object_label="qm").exists()
    assert sign_in(client, "qm", PASSWORD).status_code == 302


def test_the_admin_unlock_action_ends_a_lock_out(client, quality_manager, administrator):
    fail(client, "qm", 5)
    administrator.is_staff = True
    administrator.save()
    admin = Client()
    admin.force_login(administrator)
    assert admin.get("/admin/accounts/lockout/").status_code == 200
    lock = Lockout.objects.get()
    response = admin.post(
        "/admin/accounts/lockout/", {"action": "unlock", "_selected_action": [lock.pk]}
    )
    assert response.status_code == 302
    assert sign_in(client, "qm", PASSWORD).status_code == 302


def test_a_form_without_a_password_is_recorded_as_a_validation_failure(client):
    response = client.post("/accounts/login/", {"username": "qm", "password": ""})
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="auth.login_invalid")
    assert event.changes["errors"] == {"password": ["required"]}
    assert event.object_label == "qm"


def test_the_lock_message_names_when_to_try_again(client, quality_manager):
    fail(client, "qm", 5)
    lock = Lockout.objects.get()
    local = timezone.localtime(lock.until).strftime("%H:%M")
    assert f"Try again after {local}" in sign_in(client, "qm", PASSWORD).content.decode()


def test_the_unlock_command_ends_a_lock_out(client, quality_manager):
    import io

    from django.core.management import CommandError, call_command

    fail(client, "qm", 5)
    out = io.StringIO()
    call_command("unlock", "qm", stdout=out)
    assert out.getvalue().startswith("Unlocked qm")
    assert AuditEvent.objects.get(action="auth.unlocked").actor_label == "cli:unlock"
    assert sign_in(client, "qm", PASSWORD).status_code == 302
    with pytest.raises(CommandError, match="is not locked out"):
        call_command("unlock", "qm")
