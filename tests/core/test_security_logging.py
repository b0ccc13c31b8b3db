"""Security logging (ASVS V7): refusals reach the audit trail in UTC with the request id
and without secrets; error pages carry that id as the support id."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client, RequestFactory
from rest_framework.authtoken.models import Token
from tests.factories import CustomerFactory

from harken import urls as root_urls
from harken.core.models import AuditEvent
from harken.core.views.errors import server_error

pytestmark = pytest.mark.django_db


def test_a_refused_page_is_recorded_with_the_request_id(auditor):
    customer = CustomerFactory()
    client = Client()
    client.force_login(auditor)
    response = client.post(f"/customers/{customer.pk}/edit/", {"name": "X"})
    assert response.status_code == 403
    event = AuditEvent.objects.get(action="auth.access_denied")
    assert event.request_id == response["X-Request-ID"]
    assert event.actor_label == "auditor"
    assert event.object_label == "customers:customer_edit"
    assert event.changes["method"] == "POST"
    assert event.changes["route"] == "customers/<int:pk>/edit/"
    assert event.at.utcoffset() == dt.timedelta(0)


def test_a_refused_api_call_is_recorded_with_the_token_user(auditor):
    token = Token.objects.create(user=auditor)
    response = Client().post(
        "/api/customers/", {"name": "X"}, HTTP_AUTHORIZATION=f"Token {token.key}"
    )
    assert response.status_code == 403
    event = AuditEvent.objects.get(action="auth.access_denied")
    assert (event.actor_type, event.actor_label) == ("token", "auditor")
    assert token.key not in str(event.changes)


def test_the_refusal_names_the_route_not_the_address(auditor):
    client = Client()
    client.force_login(auditor)
    client.get("/customers/1/delete/?secret=abc\nforged line")
    event = AuditEvent.objects.get(action="auth.access_denied")
    assert "secret" not in str(event.changes) and "forged" not in str(event.changes)


def test_the_403_and_404_pages_show_the_support_id(auditor):
    client = Client()
    client.force_login(auditor)
    refused = client.post("/customers/add/", {"name": "X"})
    assert refused.status_code == 403
    assert f'data-testid="support-id">{refused["X-Request-ID"]}<' in refused.content.decode()
    missing = client.get("/customers/999999/")
    assert missing.status_code == 404
    assert f'data-testid="support-id">{missing["X-Request-ID"]}<' in missing.content.decode()


def test_the_500_page_shows_the_support_id_without_touching_the_database():
    assert root_urls.handler500 == "harken.core.views.errors.server_error"
    request = RequestFactory().get("/")
    request.request_id = "0123456789abcdef"
    response = server_error(request)
    assert response.status_code == 500
    assert 'data-testid="support-id">0123456789abcdef<' in response.content.decode()


def test_an_incoming_request_id_is_kept_only_when_well_formed(client):
    good = client.get("/accounts/login/", HTTP_X_REQUEST_ID="proxy-abc-12345678")
    assert good["X-Request-ID"] == "proxy-abc-12345678"
    forged = client.get("/accounts/login/", HTTP_X_REQUEST_ID="bad id\r\nX-Evil: 1")
    assert forged["X-Request-ID"] != "bad id\r\nX-Evil: 1"
    assert len(forged["X-Request-ID"]) == 32
