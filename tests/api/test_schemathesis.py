"""Every operation of the OpenAPI schema (/api/schema/), generated requests, every role.

Schemathesis reads the schema the application serves and sends requests generated from it,
in-process through Django's WSGI handler, as each persona (one per role, an outsider with no
role, and nobody). For each response: never a server error; a documented status answers
with a body that matches its schema; someone not signed in gets 401; a signed-in user whose
role lacks the verb the method needs on the endpoint's model (the matrix in
core/permissions.py) gets 403, and one whose role has it never gets 403 for reading.

The examples per operation are few (a handful for the roles that may write, fewer for the
others), so the whole run takes a few minutes on two cores.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import Client
from django.urls import Resolver404, resolve
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)
from tests.factories import (
    ROLE_PERSONAS,
    CategoryFactory,
    ContactFactory,
    CustomerFactory,
    FeedbackItemFactory,
    persona,
)

from harken.api.permissions import METHOD_VERBS
from harken.core.permissions import perm_name

pytestmark = pytest.mark.django_db

APP = WSGIHandler()
# Endpoints whose own token in the path is the credential (a webhook for other tools).
PUBLIC = {"/api/feedback/webhook/{token}/"}


@pytest.fixture
def in_process(db: Any) -> Iterator[None]:
    """Requests through the WSGI handler keep the test's database connection: Django closes
    old connections at each request's start and end, which would end the test transaction
    (its own test client stands them down the same way)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def seeded(in_process: None) -> None:
    """A few records for the operations on one record to find (ids 1, 2, … in use)."""
    customer = CustomerFactory()
    ContactFactory(customer=customer)
    CategoryFactory()
    FeedbackItemFactory(customer=customer)


_SCHEMA: list[Any] = []


def api_schema() -> Any:
    """The schema as the application serves it, read once (it does not depend on the data)."""
    if not _SCHEMA:
        reader = persona("quality_manager", "schema-reader")
        token, _ = Token.objects.get_or_create(user=reader)
        _SCHEMA.append(
            schemathesis.openapi.from_wsgi(
                "/api/schema/?format=json", APP, headers={"Authorization": f"Token {token.key}"}
            )
        )
    return _SCHEMA[0]


def existing_record(operation: Any) -> dict[str, str] | None:
    """Path parameters naming a record that exists, for an operation on one record."""
    names = [p.name for p in operation.path_parameters]
    if len(names) != 1:
        return None
    try:
        match = resolve(operation.path.replace("{" + names[0] + "}", "1"))
    except Resolver404:
        return None
    view = getattr(match.func, "cls", None)
    queryset = getattr(view, "queryset", None)
    if queryset is None:
        return None
    lookup = getattr(view, "lookup_field", "pk")
    value = queryset.model._default_manager.values_list(lookup, flat=True).first()
    return None if value is None else {names[0]: str(value)}


def required_verb(method: str, path: str) -> tuple[Any, str] | None:
    """(model, verb) that RolePermission asks for on this request, or None when the view
    decides itself (no queryset) or the path does not resolve."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    view = getattr(match.func, "cls", None) or getattr(match.func, "view_class", None)
    queryset = getattr(view, "queryset", None)
    if queryset is None:
        return None
    action = (getattr(match.func, "actions", None) or {}).get(method.lower())
    verb = getattr(getattr(view, action or "", None), "required_verb", None)
    return queryset.model, verb or METHOD_VERBS.get(method.upper(), "change")


def check_roles(user: Any, case: Any, response: Any) -> None:
    status = response.status_code
    if user is None:
        if case.operation.path not in PUBLIC:
            assert status == 401, f"{case.method} {case.formatted_path}: {status} for nobody"
        return
    assert status != 401, f"{case.method} {case.formatted_path}: 401 for {user.username}"
    needed = required_verb(case.method, case.formatted_path)
    if needed is None:
        return
    model, verb = needed
    allowed = user.has_perm(perm_name(model, verb))
    where = f"{case.method} {case.formatted_path} as {user.username} ({verb} {model.__name__})"
    if not allowed:
        assert status == 403, f"{where}: {status}, expected 403"
    elif case.method.upper() in ("GET", "HEAD"):
        assert status != 403, f"{where}: 403 although the role may"


def exercise(case: Any, role: str) -> None:
    """Send one generated request as `role` and check the response."""
    user = None
    headers: dict[str, str] = {}
    if role != "nobody":
        user = persona(ROLE_PERSONAS[role], f"api-{role}")
        token, _ = Token.objects.get_or_create(user=user)
        headers["Authorization"] = f"Token {token.key}"
    case.headers = {**(case.headers or {}), **headers}
    # A savepoint per request: on PostgreSQL a failed statement would otherwise abort the
    # test's transaction and every request after it.
    with transaction.atomic():
        response = case.call(app=APP)
        if response.status_code >= 500:
            transaction.set_rollback(True)
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} as {role}: {response.status_code}\n"
        f"{response.text[:2000]}"
    )
    case.validate_response(response, checks=[content_type_conformance, response_schema_conformance])
    check_roles(user, case, response)


def every_operation(role: str, examples: int) -> None:
    """Run `examples` generated requests per operation as `role`; report every failing one."""
    failures: list[str] = []
    operations = 0
    for result in api_schema().get_all_operations():
        operation = result.ok()
        operations += 1
        strategy = operation.as_strategy()
        found = existing_record(operation)
        if found is not None:
            strategy = strategy | operation.as_strategy(path_parameters=found)

        @given(case=strategy)
        @settings(
            max_examples=examples,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
        )
        def run(case: Any) -> None:
            exercise(case, role)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # gathered, reported together below
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:3000])
    assert operations > 300
    assert not failures, f"{len(failures)} of {operations} operations failed:\n\n" + (
        "\n\n".join(failures)
    )


@pytest.mark.parametrize(
    ("role", "examples"),
    [
        ("quality_manager", 4),
        ("administrator", 3),
        ("analyst", 2),
        ("staff", 2),
        ("owner", 2),
        ("auditor", 2),
        ("outsider", 1),
        ("nobody", 1),
    ],
)
def test_every_operation_as_every_role(seeded: None, role: str, examples: int) -> None:
    every_operation(role, examples)


# What the generated requests found, each pinned down on its own ------------------------------


@pytest.fixture
def qm_api(quality_manager: Any) -> Client:
    token = Token.objects.create(user=quality_manager)
    return Client(headers={"Authorization": f"Token {token.key}"})


def test_a_record_others_refer_to_is_not_deleted_and_the_answer_says_why(qm_api: Client) -> None:
    customer = CustomerFactory()
    FeedbackItemFactory(customer=customer)
    response = qm_api.delete(f"/api/customers/{customer.pk}/")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "This record cannot be deleted: 1 other record refers to it.",
        "errors": {},
    }


def test_a_negative_exposure_is_a_field_error_not_a_server_error(qm_api: Client) -> None:
    body = {"month": "2026-01-01", "kind": "deliveries", "value": -1}
    response = qm_api.post("/api/exposures/", body, content_type="application/json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["value"]


def test_a_time_offset_postgresql_cannot_hold_still_filters(qm_api: Client) -> None:
    # +16:46 is a valid offset for Python, beyond PostgreSQL's ±15:59.
    response = qm_api.get("/api/orders/", {"after": "2026-01-05T10:00:00+16:46"})
    assert response.status_code == 200
    response = qm_api.get("/api/audit-events/", {"at_after": "2026-01-05T10:00:00-17:00"})
    assert response.status_code == 200


def test_the_schema_describes_history_and_blank_choices_as_answered(qm_api: Client) -> None:
    document = qm_api.get("/api/schema/?format=json").json()
    history = document["paths"]["/api/customers/{id}/history/"]["get"]
    assert history["responses"]["200"]["content"]["application/json"]["schema"]["type"] == "array"
    assert not [p for p in history.get("parameters", []) if p["in"] == "query"]
    scale = document["components"]["schemas"]["FeedbackItem"]["properties"]["scale"]
    assert {"$ref": "#/components/schemas/BlankEnum"} in scale["oneOf"]
