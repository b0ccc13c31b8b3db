"""Sessions (ASVS V3): a new one on sign-in, sign-out that ends it, idle and absolute
timeouts, the list of one's sessions with "sign out the others"; API tokens untouched."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from tests.factories import PASSWORD

from harken.accounts import sessions
from harken.accounts.models import UserSession
from harken.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def signed_in(username, agent="Browser A", address="10.0.0.1"):
    client = Client(HTTP_USER_AGENT=agent, REMOTE_ADDR=address)
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def age(client, **stamps):
    """Move the session's clocks back: age(client, seen=31 * 60) means 31 minutes ago."""
    session = client.session
    now = int(time.time())
    if "seen" in stamps:
        session[sessions.SEEN_KEY] = now - stamps["seen"]
    if "started" in stamps:
        session[sessions.STARTED_KEY] = now - stamps["started"]
    session.save()


def test_sign_in_records_the_session_with_address_and_browser(quality_manager):
    client = signed_in("qm", agent="Firefox on Linux", address="10.1.2.3")
    row = UserSession.objects.get()
    assert (row.user, row.address, row.user_agent) == (
        quality_manager,
        "10.1.2.3",
        "Firefox on Linux",
    )
    assert row.session_key == client.session.session_key


def test_sign_out_is_post_only_and_ends_the_session(quality_manager):
    client = signed_in("qm")
    key = client.session.session_key
    assert client.get("/accounts/logout/").status_code == 405
    assert client.get("/").status_code == 200
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert not Session.objects.filter(session_key=key).exists()
    assert not UserSession.objects.exists()
    assert client.get("/")["Location"].startswith("/accounts/login/")


def test_an_idle_session_ends_after_thirty_minutes(quality_manager):
    client = signed_in("qm")
    age(client, seen=29 * 60)
    assert client.get("/").status_code == 200
    age(client, seen=31 * 60)
    response = client.get("/customers/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/customers/"
    page = client.get(response["Location"]).content.decode()
    assert "signed out after 30 minutes without activity" in page
    event = AuditEvent.objects.get(action="auth.session_expired")
    assert (event.actor_label, event.changes["reason"]) == ("qm", "idle")
    assert not UserSession.objects.exists()


def test_a_busy_session_still_ends_after_twelve_hours(quality_manager):
    client = signed_in("qm")
    age(client, started=12 * 3600 - 60, seen=10)
    assert client.get("/").status_code == 200
    age(client, started=12 * 3600 + 1, seen=10)
    assert client.get("/").status_code == 302
    assert AuditEvent.objects.get(action="auth.session_expired").changes["reason"] == "absolute"


def test_the_timeouts_come_from_settings(settings, quality_manager):
    settings.SESSION_IDLE_MINUTES = 5
    client = signed_in("qm")
    age(client, seen=6 * 60)
    assert client.get("/").status_code == 302


def test_an_htmx_request_of_an_expired_session_is_sent_to_sign_in(quality_manager):
    client = signed_in("qm")
    age(client, seen=31 * 60)
    response = client.get("/customers/", HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/accounts/login/?next=%2Fcustomers%2F"


def test_requests_keep_the_session_alive_and_the_list_up_to_date(quality_manager):
    client = signed_in("qm")
    UserSession.objects.update(last_seen_at=timezone.now() - dt.timedelta(minutes=5))
    age(client, seen=5 * 60)
    client.get("/")
    row = UserSession.objects.get()
    assert timezone.now() - row.last_seen_at < dt.timedelta(seconds=30)
    assert client.session[sessions.SEEN_KEY] >= int(time.time()) - 30


def test_the_api_token_is_not_bound_to_sessions(quality_manager):
    token = Token.objects.create(user=quality_manager)
    client = signed_in("qm")
    age(client, seen=31 * 60)
    response = client.get("/api/customers/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200
    fresh = Client()
    assert fresh.get("/api/customers/", HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 200


def test_my_sessions_lists_only_my_active_sessions(quality_manager, auditor):
    mine = signed_in("qm", agent="Firefox on Linux")
    signed_in("qm", agent="Safari on iPhone", address="10.0.0.2")
    signed_in("auditor", agent="Edge of the auditor")
    page = mine.get("/accounts/sessions/").content.decode()
    assert page.count('data-testid="session-row"') == 2
    assert "Firefox on Linux" in page and "Safari on iPhone" in page
    assert "Edge of the auditor" not in page
    assert "This session" in page
    assert "Sign out the other sessions (1)" in page


def test_sign_out_the_others_ends_them_and_keeps_mine(quality_manager, auditor):
    mine = signed_in("qm", agent="A")
    other = signed_in("qm", agent="B")
    colleague = signed_in("auditor", agent="C")
    response = mine.post("/accounts/sessions/", {"action": "end_others"})
    assert response.status_code == 302
    assert other.get("/")["Location"].startswith("/accounts/login/")
    assert mine.get("/").status_code == 200
    assert colleague.get("/").status_code == 200
    assert list(
        UserSession.objects.filter(user=quality_manager).values_list("user_agent", flat=True)
    ) == ["A"]
    event = AuditEvent.objects.get(action="auth.sessions_ended")
    assert event.changes == {
        "sessions": 1,
        "reason": "signed out by the person",
        "kept_current": True,
    }


def test_an_unknown_sessions_action_is_refused_by_name(quality_manager):
    client = signed_in("qm")
    signed_in("qm")
    client.post("/accounts/sessions/", {"action": "end_all"})
    assert UserSession.objects.count() == 2


def test_a_new_password_ends_the_other_sessions(quality_manager):
    mine = signed_in("qm", agent="A")
    other = signed_in("qm", agent="B")
    response = mine.post(
        "/accounts/password_change/",
        {
            "old_password": PASSWORD,
            "new_password1": "ferry-lantern-quartz-77",
            "new_password2": "ferry-lantern-quartz-77",
        },
    )
    assert response.status_code == 302
    assert other.get("/").status_code == 302
    assert mine.get("/").status_code == 200
    row = UserSession.objects.get()
    assert row.session_key == mine.session.session_key
    assert row.user_agent == "A"


def test_an_administrator_setting_a_password_ends_all_sessions(quality_manager):
    client = signed_in("qm")
    quality_manager.set_password("ferry-lantern-quartz-77")
    quality_manager.save()
    assert client.get("/").status_code == 302
    assert not UserSession.objects.exists()


def test_the_sessions_page_is_only_for_the_signed_in(client):
    assert client.get("/accounts/sessions/")["Location"].startswith("/accounts/login/")


def test_tick_forgets_timed_out_session_records(quality_manager):
    signed_in("qm")
    UserSession.objects.update(last_seen_at=timezone.now() - dt.timedelta(hours=1))
    summary = sessions.purge_stale(timezone.now())
    assert summary.startswith("1 timed-out session records")
    assert not UserSession.objects.exists()
