"""Re-authentication (ASVS V3.7.1): deleting records, exporting evidence and
changing people or roles in the admin need a password entered within REAUTH_MINUTES;
the confirm page returns only to addresses on this site."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from tests.factories import PASSWORD, CustomerFactory, persona

from harken.core import reauth
from harken.core.choices import Role
from harken.core.models import AuditEvent
from harken.customers.models import Customer

pytestmark = pytest.mark.django_db


def stale(client):
    """The password was last entered 11 minutes ago."""
    session = client.session
    session[reauth.SESSION_KEY] = int(time.time()) - 11 * 60
    session.save()
    return client


@pytest.fixture
def qm(quality_manager):
    client = Client()
    client.force_login(quality_manager)
    return client


def confirm_url(next_url):
    from urllib.parse import urlencode

    return "/accounts/confirm/?" + urlencode({"next": next_url})


def test_deleting_within_ten_minutes_of_the_password_needs_nothing_more(qm):
    customer = CustomerFactory()
    response = qm.post(f"/customers/{customer.pk}/delete/")
    assert response.status_code == 302
    assert not Customer.objects.filter(pk=customer.pk).exists()


def test_deleting_later_asks_for_the_password_first(qm):
    customer = CustomerFactory()
    delete_url = f"/customers/{customer.pk}/delete/"
    stale(qm)
    response = qm.get(delete_url)
    assert response["Location"] == confirm_url(delete_url)
    response = qm.post(delete_url)
    assert response["Location"] == confirm_url(delete_url)
    assert Customer.objects.filter(pk=customer.pk).exists()

    page = qm.get(confirm_url(delete_url))
    assert "Confirm your password" in page.content.decode()
    response = qm.post("/accounts/confirm/", {"password": PASSWORD, "next": delete_url})
    assert response["Location"] == delete_url
    assert AuditEvent.objects.filter(action="auth.reauthenticated", actor_label="qm").exists()
    assert qm.post(delete_url).status_code == 302
    assert not Customer.objects.filter(pk=customer.pk).exists()


def test_a_post_is_sent_back_to_the_page_it_came_from(qm):
    customer = CustomerFactory()
    stale(qm)
    response = qm.post(
        f"/customers/{customer.pk}/delete/",
        HTTP_REFERER=f"http://testserver/customers/{customer.pk}/",
    )
    assert response["Location"] == confirm_url(f"http://testserver/customers/{customer.pk}/")
    response = qm.post(
        f"/customers/{customer.pk}/delete/", HTTP_REFERER="https://elsewhere.example/x"
    )
    assert response["Location"] == confirm_url(f"/customers/{customer.pk}/delete/")


def test_the_permission_is_checked_before_the_password(auditor):
    customer = CustomerFactory()
    client = Client()
    client.force_login(auditor)
    stale(client)
    assert client.get(f"/customers/{customer.pk}/delete/").status_code == 403


def test_a_wrong_password_is_refused_and_counted(qm):
    stale(qm)
    response = qm.post("/accounts/confirm/", {"password": "not-my-password-1", "next": "/"})
    assert response.status_code == 422
    assert "That is not your password." in response.content.decode()
    assert AuditEvent.objects.filter(action="auth.login_failed", object_label="qm").exists()
    customer = CustomerFactory()
    assert qm.get(f"/customers/{customer.pk}/delete/")["Location"].startswith("/accounts/confirm/")


def test_five_wrong_passwords_lock_the_account_and_sign_out(qm):
    stale(qm)
    for _ in range(4):
        qm.post("/accounts/confirm/", {"password": "not-my-password-1", "next": "/"})
    response = qm.post("/accounts/confirm/", {"password": "not-my-password-1", "next": "/"})
    assert response["Location"] == "/accounts/login/"
    assert qm.get("/")["Location"].startswith("/accounts/login/")
    assert AuditEvent.objects.filter(action="auth.locked_out", object_label="qm").exists()


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/steal",
        "//evil.example/steal",
        "javascript:alert(1)",
        "http://testserver.evil.example/",
    ],
)
def test_the_confirm_page_never_sends_people_off_the_site(qm, target):
    stale(qm)
    response = qm.post("/accounts/confirm/", {"password": PASSWORD, "next": target})
    assert response["Location"] == "/"


def test_htmx_requests_are_sent_to_confirm_with_a_full_page_load(qm):
    customer = CustomerFactory()
    stale(qm)
    response = qm.post(f"/customers/{customer.pk}/delete/", HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/accounts/confirm/?next=")


def test_the_time_limit_comes_from_settings(settings, qm):
    settings.REAUTH_MINUTES = 30
    customer = CustomerFactory()
    stale(qm)
    assert qm.post(f"/customers/{customer.pk}/delete/").status_code == 302
    assert not Customer.objects.filter(pk=customer.pk).exists()


def test_exporting_evidence_asks_for_the_password(auditor):
    client = Client()
    client.force_login(auditor)
    stale(client)
    response = client.post(
        "/assurance/evidence/export/",
        {"period_start": "2026-01-01", "period_end": "2026-03-31"},
        HTTP_REFERER="http://testserver/assurance/evidence/",
    )
    assert response["Location"] == confirm_url("http://testserver/assurance/evidence/")
    response = client.get("/assurance/evidence/999/download/")
    assert response["Location"] == confirm_url("/assurance/evidence/999/download/")
    client.post("/accounts/confirm/", {"password": PASSWORD, "next": "/"})
    assert client.get("/assurance/evidence/999/download/").status_code == 404


@pytest.fixture
def admin_client(db):
    admin = persona(Role.ADMINISTRATOR, "root")
    admin.is_staff = True
    admin.save()
    client = Client()
    client.force_login(admin)
    return client


def test_changing_people_and_roles_in_the_admin_asks_for_the_password(admin_client, auditor):
    from django.contrib.auth.models import Group

    stale(admin_client)
    group = Group.objects.get(name=Role.AUDITOR)
    for url in (
        f"/admin/core/user/{auditor.pk}/change/",
        "/admin/core/user/add/",
        f"/admin/core/user/{auditor.pk}/password/",
        f"/admin/core/user/{auditor.pk}/delete/",
        f"/admin/auth/group/{group.pk}/change/",
    ):
        response = admin_client.get(url)
        assert response["Location"] == confirm_url(url), url
    response = admin_client.post(
        "/admin/core/user/", {"action": "delete_selected", "_selected_action": [auditor.pk]}
    )
    assert response["Location"] == confirm_url("/admin/core/user/")
    # Reading the list needs no confirmation.
    assert admin_client.get("/admin/core/user/").status_code == 200
    admin_client.post("/accounts/confirm/", {"password": PASSWORD, "next": "/"})
    assert admin_client.get(f"/admin/core/user/{auditor.pk}/change/").status_code == 200


def test_the_admin_sign_in_is_harkens_own(client, administrator):
    response = client.get("/admin/login/?next=/admin/core/user/")
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2Fcore%2Fuser%2F"
    response = client.post("/admin/login/", {"username": "administrator", "password": PASSWORD})
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
