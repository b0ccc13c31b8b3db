"""Deny by default: every routed page refuses a signed-in user without a role; pages
carry a Content-Security-Policy that forbids inline scripts."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import get_resolver
from tests.core.test_permissions import concrete, walk
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

# Pages any signed-in person may open: the shell, their own account, the API's index.
OPEN_TO_ANY_USER = {
    "home",
    "logout",
    "password_change",
    "password_change_done",
    "api-root",
    "me",
    "schema",
    "docs",
    "swagger-ui",  # drf-spectacular's split view's script (static-like)
}


def test_every_page_refuses_a_user_without_a_role(outsider):
    CustomerFactory()
    client = Client()
    client.force_login(outsider)
    checked = 0
    for route, name in walk(get_resolver().url_patterns):
        if (
            route.startswith(("accounts/", "admin/"))
            or name in OPEN_TO_ANY_USER
            or "webhook" in route
        ):
            continue
        if name in {
            "login",
            "password_reset",
            "password_reset_done",
            "password_reset_confirm",
            "password_reset_complete",
        }:
            continue
        url = concrete(route, 1)
        response = client.get(url)
        assert response.status_code in {403, 404, 405}, (name, url, response.status_code)
        checked += 1
    assert checked > 60


def test_pages_send_a_csp_without_inline_scripts(qm_client):
    response = qm_client.get("/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert response["X-Frame-Options"] == "DENY"


def test_the_api_docs_page_has_no_inline_script(qm_client):
    html = qm_client.get("/api/docs/").content.decode()
    inline = [
        s
        for s in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
        if "src=" not in s[0] and s[1].strip()
    ]
    assert inline == []
