"""Roles: the matrix decides, pages and API obey it, and an auditor can change nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from tests.factories import ContactFactory, CustomerFactory, ProductLineFactory, persona

from harken.core.choices import Role
from harken.core.models import AuditEvent
from harken.core.permissions import user_allows
from harken.core.registry import registry

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "perm", "allowed"),
    [
        (Role.QUALITY_MANAGER, "customers.delete_customer", True),
        (Role.QUALITY_ANALYST, "customers.change_customer", True),
        (Role.QUALITY_ANALYST, "customers.delete_customer", False),
        (Role.QUALITY_ANALYST, "actions.close_action", False),
        (Role.QUALITY_MANAGER, "actions.close_action", True),
        (Role.CUSTOMER_FACING, "customers.add_contact", True),
        (Role.CUSTOMER_FACING, "feedback.add_feedbackitem", True),
        (Role.CUSTOMER_FACING, "feedback.classify_feedbackitem", False),
        (Role.CUSTOMER_FACING, "feedback.change_perceptionsource", False),
        (Role.CUSTOMER_FACING, "feedback.view_perceptionsource", True),
        (Role.CUSTOMER_FACING, "reviews.view_reviewpack", False),
        (Role.ACTION_OWNER, "actions.change_action", True),
        (Role.ACTION_OWNER, "customers.change_customer", False),
        (Role.AUDITOR, "customers.view_customer", True),
        (Role.AUDITOR, "customers.export_customer", True),
        (Role.AUDITOR, "customers.change_customer", False),
        (Role.AUDITOR, "core.view_auditevent", True),
        (Role.QUALITY_MANAGER, "core.change_auditevent", False),
        (Role.ADMINISTRATOR, "core.change_auditevent", False),
        (Role.ADMINISTRATOR, "core.change_user", True),
        (Role.QUALITY_MANAGER, "core.change_user", False),
    ],
)
def test_role_matrix(role, perm, allowed):
    user = persona(role, f"matrix-{role}")
    assert user.has_perm(perm) is allowed
    assert user_allows(user, perm) is allowed


def test_user_without_role_may_do_nothing(outsider):
    assert not outsider.has_perm("customers.view_customer")
    assert not outsider.has_perm("core.view_auditevent")


def test_inactive_user_may_do_nothing():
    user = persona(Role.QUALITY_MANAGER, "inactive-qm")
    user.is_active = False
    user.save()
    assert not user.has_perm("customers.view_customer")


def walk(patterns: list[Any], prefix: str = "") -> list[tuple[str, str]]:
    """Every routed URL pattern as (route, name)."""
    found = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            found += walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            found.append((prefix + str(pattern.pattern), pattern.name or ""))
    return found


def concrete(route: str, pk: int) -> str:
    route = route.lstrip("^").rstrip("$")
    route = re.sub(r"<int:\w+>", str(pk), route)
    route = re.sub(r"<(slug|str):\w+>", "activate", route)
    route = re.sub(r"\(\?P<format>[^)]*\)", ".json", route)
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", str(pk), route)
    route = route.replace("\\", "").replace("/?", "/")
    return "/" + route


@pytest.fixture
def some_records():
    customer = CustomerFactory()
    ContactFactory(customer=customer)
    ProductLineFactory()
    return customer


def changes_on_record() -> int:
    """Audit events other than signing in and exporting (auditors may export: the export
    itself, and the evidence file it keeps, are recorded)."""
    return (
        AuditEvent.objects.exclude(action__startswith="auth.")
        .exclude(action__endswith=".exported")
        .exclude(action__endswith=".downloaded")
        .exclude(object_type__in=["assurance.evidenceexport", "core.evidencefile"])
        .count()
    )


def test_auditor_can_change_nothing_through_any_page(auditor, some_records):
    client = Client()
    client.force_login(auditor)
    before = changes_on_record()
    # Signing in and out are not changes to records; they have their own tests.
    routes = [
        r
        for r in walk(get_resolver().url_patterns)
        if not r[0].startswith("accounts/")
        and r[1] not in {"login", "logout"}
        # Exporting is what an auditor may do besides reading (checked in assurance's tests).
        and r[1] not in {"evidence_export"}
    ]
    assert len(routes) > 20
    for route, name in routes:
        url = concrete(route, some_records.pk)
        for method in ("post", "put", "patch", "delete"):
            response = getattr(client, method)(url, data={"name": "Changed"})
            assert response.status_code in {302, 400, 403, 404, 405}, (method, url, name)
            if response.status_code == 302:
                assert "/login/" in response["Location"], (method, url)
    assert changes_on_record() == before
    some_records.refresh_from_db()
    assert some_records.name != "Changed"


def test_auditor_can_change_nothing_through_the_api(auditor, some_records):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    client = Client()
    client.force_login(auditor)
    # Each refusal is itself recorded (auth.access_denied); nothing else may be.
    before = AuditEvent.objects.exclude(action__startswith="auth.").count()
    writes = 0
    for path, operations in schema["paths"].items():
        url = re.sub(r"\{[^}]+\}", str(some_records.pk), path)
        for method in operations:
            if method in {"post", "put", "patch", "delete"}:
                writes += 1
                response = getattr(client, method)(
                    url, data={"name": "Changed"}, content_type="application/json"
                )
                # The webhook is authorised by its token, not a role: a made-up one is unknown.
                expected = 404 if "webhook" in path else 403
                assert response.status_code == expected, (method, url, response.content[:200])
                assert response.json()["detail"]
    assert writes >= 10
    assert AuditEvent.objects.exclude(action__startswith="auth.").count() == before


ROLES_FOR_PAGES = [
    Role.QUALITY_MANAGER,
    Role.QUALITY_ANALYST,
    Role.CUSTOMER_FACING,
    Role.ACTION_OWNER,
    Role.AUDITOR,
    None,
]


@pytest.mark.parametrize("role", ROLES_FOR_PAGES)
def test_every_menu_page_answers_each_role_as_the_matrix_says(role, some_records):
    user = persona(role, f"pages-{role or 'none'}")
    client = Client()
    client.force_login(user)
    from django.urls import reverse

    assert registry.menu
    for item in registry.menu:
        response = client.get(reverse(item.url_name))
        expected = 200 if user.has_perm(item.permission) else 403
        assert response.status_code == expected, (item.url_name, role)


def test_anonymous_visitors_are_sent_to_sign_in(client, some_records):
    for url in ("/", "/customers/", f"/customers/{some_records.pk}/", "/audit/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_anonymous_api_calls_are_refused(client):
    response = client.get("/api/customers/")
    assert response.status_code in {401, 403}
    assert response.json()["detail"]
