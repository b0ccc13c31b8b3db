"""Signing in and out, on the record."""

import pytest

from harken.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_login_and_logout_are_recorded(client, quality_manager, password):
    response = client.post("/accounts/login/", {"username": "qm", "password": password})
    assert response.status_code == 302
    login = AuditEvent.objects.filter(action="auth.login").get()
    assert login.actor_label == "qm"
    assert login.object_id == str(quality_manager.pk)
    client.post("/accounts/logout/")
    assert AuditEvent.objects.filter(action="auth.logout", actor_label="qm").exists()


def test_failed_login_is_recorded_without_the_password(client, quality_manager):
    response = client.post("/accounts/login/", {"username": "qm", "password": "wrong-guess-123"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    event = AuditEvent.objects.filter(action="auth.login_failed").get()
    assert event.object_label == "qm"
    assert "wrong-guess-123" not in str(event.changes)


def test_session_cookie_is_http_only_and_same_site(client, quality_manager, password):
    response = client.post("/accounts/login/", {"username": "qm", "password": password})
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"


def test_login_starts_a_new_session(client, quality_manager, password):
    client.get("/accounts/login/")
    client.cookies["sessionid"] = "fixated-session-id"
    client.post("/accounts/login/", {"username": "qm", "password": password})
    assert client.cookies["sessionid"].value != "fixated-session-id"


def test_password_change_validates_strength(client, quality_manager, password):
    client.force_login(quality_manager)
    response = client.post(
        "/accounts/password_change/",
        {"old_password": password, "new_password1": "short", "new_password2": "short"},
    )
    assert response.status_code == 200
    assert b"too short" in response.content
