"""Customer pages on the generic views: list, filter, sort, page, export, edit, delete."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from tests.conftest import client_for
from tests.factories import ContactFactory, CustomerFactory, RegionFactory

from harken.core.models import AuditEvent
from harken.customers.models import Customer

pytestmark = pytest.mark.django_db


def test_list_shows_customers_with_region(qm_client):
    CustomerFactory(name="Zeta Pumps Ltd", region=RegionFactory(name="Nordics"))
    response = qm_client.get("/customers/")
    assert response.status_code == 200
    assert b"Zeta Pumps Ltd" in response.content
    assert b"Nordics" in response.content


def test_list_filters_and_searches(qm_client):
    CustomerFactory(name="Alpha Valves", segment="key_account")
    CustomerFactory(name="Beta Valves", segment="standard")
    response = qm_client.get("/customers/?segment=key_account")
    assert b"Alpha Valves" in response.content
    assert b"Beta Valves" not in response.content
    response = qm_client.get("/customers/?q=beta")
    assert b"Beta Valves" in response.content
    assert b"Alpha Valves" not in response.content


def test_list_sorts_by_a_column(qm_client):
    CustomerFactory(name="Aardvark")
    CustomerFactory(name="Zebra")
    content = qm_client.get("/customers/?sort=-name").content
    assert content.index(b"Zebra") < content.index(b"Aardvark")


def test_keyset_pages_walk_every_row_once(qm_client):
    names = {CustomerFactory(name=f"Page {i:03d}").name for i in range(120)}
    seen: list[str] = []
    url = "/customers/?sort=name"
    import re

    while url:
        response = qm_client.get(url)
        seen += re.findall(r">(Page \d{3})<", response.content.decode())
        match = re.search(r'href="\?([^"]*cursor=[^"]+)"', response.content.decode())
        url = "/customers/?" + match.group(1).replace("&amp;", "&") if match else ""
    assert len(seen) == len(set(seen))
    assert set(seen) == names


def test_a_forged_cursor_falls_back_to_the_first_page(qm_client):
    CustomerFactory(name="Only One")
    response = qm_client.get("/customers/?cursor=not-a-cursor!!")
    assert response.status_code == 200
    assert b"Only One" in response.content
    assert b"not valid" in response.content


def test_list_answers_htmx_with_the_table_only(qm_client):
    CustomerFactory(name="Partial Ltd")
    response = qm_client.get("/customers/", headers={"HX-Request": "true"})
    assert b"Partial Ltd" in response.content
    assert b'<nav class="navbar' not in response.content


@pytest.mark.parametrize("rows", [1, 3])
def test_list_query_count_does_not_grow_with_rows(qm_client, rows):
    for _ in range(rows):
        CustomerFactory()
    qm_client.get("/customers/")  # warm the session and caches
    with CaptureQueriesContext(connection) as queries:
        assert qm_client.get("/customers/").status_code == 200
    assert len(queries) <= 12


def test_detail_query_count_does_not_grow_with_contacts(qm_client):
    """The customer page gathers contacts, timeline, documents, property and orders in a
    fixed number of queries, whether the customer has one contact or three."""

    def queries_for(contacts: int) -> int:
        customer = CustomerFactory()
        for _ in range(contacts):
            ContactFactory(customer=customer)
        qm_client.get(f"/customers/{customer.pk}/")
        with CaptureQueriesContext(connection) as queries:
            assert qm_client.get(f"/customers/{customer.pk}/").status_code == 200
        return len(queries)

    one, three = queries_for(1), queries_for(3)
    assert one == three
    assert one <= 24


def test_csv_export_neutralises_formulas_and_is_recorded(qm_client):
    CustomerFactory(name='=HYPERLINK("http://evil")')
    response = qm_client.get("/customers/?export=csv")
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:2] == ["Number", "Name"]
    assert rows[1][1] == '\'=HYPERLINK("http://evil")'
    event = AuditEvent.objects.get(action="customer.exported")
    assert event.changes["format"] == "csv"
    assert event.changes["rows"] == 1


def test_xlsx_export_opens_with_the_rows(qm_client):
    from openpyxl import load_workbook

    CustomerFactory(name="Sheet Ltd")
    response = qm_client.get("/customers/?export=xlsx")
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = workbook.active
    assert [c.value for c in sheet[1]][:2] == ["Number", "Name"]
    assert sheet.cell(row=2, column=2).value == "Sheet Ltd"


def test_staff_may_not_export_what_their_role_does_not_allow(staff):
    client = client_for(staff)
    assert client.get("/customers/?export=csv").status_code == 200
    assert client.get("/audit/?export=csv").status_code == 403


def test_create_with_missing_fields_names_them(qm_client):
    response = qm_client.post("/customers/add/", {"name": "", "segment": "standard"})
    assert response.status_code == 422
    content = response.content.decode()
    assert 'data-field="name"' in content
    assert 'data-field="region"' in content
    assert Customer.objects.count() == 0


def test_create_rejects_a_malformed_domain(qm_client):
    region = RegionFactory()
    response = qm_client.post(
        "/customers/add/",
        {
            "name": "Domain Ltd",
            "segment": "standard",
            "region": region.pk,
            "email_domain": "not a domain",
        },
    )
    assert response.status_code == 422
    assert b"Enter a domain such as example.com." in response.content


def test_edit_saves_and_records_the_change(qm_client):
    customer = CustomerFactory(name="Old Name")
    response = qm_client.post(
        f"/customers/{customer.pk}/edit/",
        {"name": "New Name", "segment": customer.segment, "region": customer.region_id},
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.name == "New Name"
    event = AuditEvent.objects.filter(action="customer.updated").first()
    assert event.changes["name"] == ["Old Name", "New Name"]


def test_htmx_edit_answers_with_hx_location(qm_client):
    customer = CustomerFactory()
    response = qm_client.post(
        f"/customers/{customer.pk}/edit/",
        {"name": "Htmx", "segment": customer.segment, "region": customer.region_id},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 204
    assert response["HX-Location"] == f"/customers/{customer.pk}/"


def test_delete_needs_the_delete_permission(analyst, quality_manager):
    customer = CustomerFactory()
    assert client_for(analyst).post(f"/customers/{customer.pk}/delete/").status_code == 403
    response = client_for(quality_manager).post(f"/customers/{customer.pk}/delete/")
    assert response.status_code == 302
    assert not Customer.objects.filter(pk=customer.pk).exists()


def test_deleting_a_region_in_use_is_refused_with_the_reason(qm_client):
    customer = CustomerFactory()
    response = qm_client.post(f"/customers/regions/{customer.region_id}/delete/", follow=True)
    assert b"cannot be deleted" in response.content


def test_transition_is_guarded_and_recorded(qm_client):
    customer = CustomerFactory(status="active")
    response = qm_client.post(f"/customers/{customer.pk}/transition/deactivate/")
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.status == "inactive"
    event = AuditEvent.objects.filter(action="customer.deactivate").get()
    assert event.changes == {"status": ["active", "inactive"]}
    response = qm_client.post(f"/customers/{customer.pk}/transition/deactivate/", follow=True)
    assert b"Cannot deactivate: the record is Inactive." in response.content


def test_history_page_lists_the_records_events(qm_client):
    customer = CustomerFactory(name="Historic Ltd")
    customer.name = "Historic Group"
    customer.save()
    response = qm_client.get(f"/customers/{customer.pk}/history/")
    assert b"customer.created" in response.content
    assert b"customer.updated" in response.content
    assert b"Historic Group" in response.content


def test_contact_add_prefills_the_customer(qm_client):
    customer = CustomerFactory()
    response = qm_client.get(f"/customers/contacts/add/?customer={customer.pk}")
    assert f'<option value="{customer.pk}" selected>'.encode() in response.content


def test_duplicate_contact_email_for_one_customer_is_refused(qm_client):
    contact = ContactFactory(email="dup@example.com")
    response = qm_client.post(
        "/customers/contacts/add/",
        {
            "customer": contact.customer_id,
            "name": "Again",
            "email": "dup@example.com",
            "language": "en",
        },
    )
    assert response.status_code == 422
    assert b"This customer already has a contact with this e-mail." in response.content
