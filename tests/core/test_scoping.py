"""Object-level access (ASVS 4.2.1): with HARKEN_STAFF_OWN_CUSTOMERS_ONLY, customer-facing
staff reach the records of the customers they own and nobody else's — by changing the id
in any record page or API route — while the quality roles see everything."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from tests.communications.factories import CommunicationFactory
from tests.conftest import client_for
from tests.core.test_permissions import concrete
from tests.factories import ContactFactory, CustomerFactory, FeedbackItemFactory
from tests.orders.factories import EnquiryFactory, EscalationFactory, OrderFactory
from tests.property.factories import PropertyItemFactory

from harken.core import scoping

pytestmark = pytest.mark.django_db


def records_of(customer: Any) -> dict[str, Any]:
    """One record of each kind that belongs to `customer`, by model label."""
    enquiry = EnquiryFactory(customer=customer)
    made = [
        customer,
        ContactFactory(customer=customer),
        FeedbackItemFactory(customer=customer, kind="complaint"),
        CommunicationFactory(customer=customer),
        enquiry,
        OrderFactory(customer=customer, enquiry=enquiry),
        EscalationFactory(customer=customer),
        PropertyItemFactory(customer=customer),
    ]
    return {obj._meta.label_lower: obj for obj in made}


@pytest.fixture
def accounts(settings, staff):
    settings.STAFF_OWN_CUSTOMERS_ONLY = True
    mine = CustomerFactory(name="Mine Ltd", account_owner=staff)
    theirs = CustomerFactory(name="Theirs Ltd")
    return {"mine": records_of(mine), "theirs": records_of(theirs)}


def record_routes() -> list[tuple[str, str]]:
    """(route, model label) of every routed page and API route that takes one record's
    id, for models tied to customers."""
    found = []

    def visit(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                visit(pattern.url_patterns, prefix + str(pattern.pattern))
                continue
            if not isinstance(pattern, URLPattern):
                continue
            route = (prefix + str(pattern.pattern)).replace("^", "").replace("$", "")
            if ("<int:pk>" not in route and "(?P<pk>" not in route) or "(?P<format>" in route:
                continue
            callback = pattern.callback
            view = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
            model = getattr(view, "model", None)
            if model is None and getattr(view, "queryset", None) is not None:
                model = view.queryset.model
            if model is not None and model._meta.label_lower in scoping.CUSTOMER_PATHS:
                # A page under a customer's id (their timeline) takes the customer's
                # pk whatever model it shows; given another record's pk it could hit
                # one of the person's own customers by coincidence of numbers.
                label = model._meta.label_lower
                if "customers/<int:pk>/" in route and label != "customers.customer":
                    label = "customers.customer"
                found.append((route, label))

    visit(get_resolver().url_patterns, "")
    return found


def test_every_record_route_of_another_customer_is_not_found(accounts, staff):
    routes = record_routes()
    labels = {label for _, label in routes}
    # The walk reaches the pages and the API of every kind made here.
    assert set(accounts["theirs"]) <= labels
    assert any(route.startswith("api/") for route, _ in routes)
    # A sound walk: the same routes answer for the person's own records.
    own_detail = concrete(
        "api/customers/(?P<pk>[^/.]+)/", accounts["mine"]["customers.customer"].pk
    )
    assert client_for(staff).get(own_detail).status_code == 200
    client = client_for(staff)
    leaks = []
    for route, label in routes:
        theirs = accounts["theirs"].get(label)
        if theirs is None:
            continue
        url = concrete(route, theirs.pk)
        response = client.get(url)
        if response.status_code not in (404, 403, 405):
            leaks.append(f"{url} ({label}): {response.status_code}")
    assert leaks == [], "\n".join(leaks)


def test_own_records_stay_reachable(accounts, staff):
    client = client_for(staff)
    for label, obj in accounts["mine"].items():
        url = obj.get_absolute_url()
        assert client.get(url).status_code == 200, (label, url)


def test_lists_and_the_api_show_only_own_customers(accounts, staff, quality_manager):
    mine, theirs = accounts["mine"], accounts["theirs"]
    page = client_for(staff).get("/customers/").content.decode()
    assert "Mine Ltd" in page and "Theirs Ltd" not in page
    numbers = client_for(staff).get("/feedback/items/").content.decode()
    assert mine["feedback.feedbackitem"].number in numbers
    assert theirs["feedback.feedbackitem"].number not in numbers

    api = client_for(staff).get("/api/customers/").json()
    assert [row["name"] for row in api["results"]] == ["Mine Ltd"]
    items = client_for(staff).get("/api/feedback/").json()["results"]
    assert {row["id"] for row in items} == {mine["feedback.feedbackitem"].pk}
    history = client_for(staff).get(f"/api/customers/{theirs['customers.customer'].pk}/history/")
    assert history.status_code == 404

    # The quality roles see everything.
    everyone = client_for(quality_manager).get("/api/customers/").json()["results"]
    assert {row["name"] for row in everyone} >= {"Mine Ltd", "Theirs Ltd"}


def test_what_staff_recorded_themselves_stays_theirs(accounts, staff):
    logged = CommunicationFactory(customer=None, created_by=staff)
    assert client_for(staff).get(logged.get_absolute_url()).status_code == 200


def test_without_the_setting_staff_see_every_customer(accounts, staff, settings):
    settings.STAFF_OWN_CUSTOMERS_ONLY = False
    theirs = accounts["theirs"]["customers.customer"]
    assert client_for(staff).get(theirs.get_absolute_url()).status_code == 200
    names = {row["name"] for row in client_for(staff).get("/api/customers/").json()["results"]}
    assert {"Mine Ltd", "Theirs Ltd"} <= names
