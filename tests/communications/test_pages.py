"""Communication pages: the quick log, a customer's timeline, triage, links, HTML mail,
revision notices, the lifecycle map, and what the auditor and the outsider are refused."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import pytest
from django.core import mail as outbox
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from tests.communications.factories import CommunicationFactory, mail
from tests.conftest import client_for
from tests.documents.factories import DocumentFactory, DocumentVersionFactory, approved
from tests.factories import ContactFactory, CustomerFactory, persona
from tests.feedback.factories import FeedbackItemFactory

from harken.communications import services
from harken.communications.choices import CommunicationStatus, Phase
from harken.communications.models import Communication, LifecycleStage
from harken.core.choices import Role
from harken.core.models import AuditEvent
from harken.core.registry import registry
from harken.documents import services as documents
from harken.documents.choices import Occasion
from harken.documents.models import Distribution, Document

pytestmark = pytest.mark.django_db


def local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_a_call_is_logged_with_contacts_links_and_an_attachment(staff):
    contact = ContactFactory(name="Maria Novak")
    customer = contact.customer
    complaint = FeedbackItemFactory(kind="complaint", customer=customer)
    client = client_for(staff)
    form = client.get(f"/communications/log/?customer={customer.pk}")
    assert form.status_code == 200
    assert "Maria Novak" in form.content.decode()
    when = timezone.now() - dt.timedelta(minutes=30)
    response = client.post(
        "/communications/log/",
        {
            "customer": customer.pk,
            "channel": "phone",
            "direction": "inbound",
            "occurred_at": local(when),
            "contacts": [contact.pk],
            "subject": "Delivery date",
            "body": "Asked when the valves ship; promised Friday.",
            "phase": Phase.DELIVERY,
            "concerns": complaint.complaint_number,
            "attachments": [
                SimpleUploadedFile("notes.txt", b"call notes", content_type="text/plain")
            ],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == f"/communications/customers/{customer.pk}/timeline/"
    c = Communication.objects.get()
    assert (c.customer, c.channel, c.direction, c.staff) == (customer, "phone", "inbound", staff)
    assert list(c.contacts.all()) == [contact]
    assert [link.target for link in c.links.all()] == [complaint]
    assert c.attachments.get().file.name == "notes.txt"
    timeline = client.get(response["Location"]).content.decode()
    assert "Delivery date" in timeline
    assert "Asked when the valves ship" in timeline


def test_the_log_form_names_each_bad_field(staff):
    customer = CustomerFactory()
    other = ContactFactory()
    response = client_for(staff).post(
        "/communications/log/",
        {
            "customer": customer.pk,
            "channel": "phone",
            "direction": "inbound",
            "occurred_at": local(timezone.now() + dt.timedelta(days=2)),
            "contacts": [other.pk],
            "concerns": "CMP-1999-9999",
        },
    )
    assert response.status_code == 422
    content = response.content.decode()
    assert 'data-field="contacts"' in content
    assert "No record has the number CMP-1999-9999." in content
    assert Communication.objects.count() == 0


def test_an_unapproved_document_cannot_be_sent_with_a_communication(staff):
    draft = DocumentVersionFactory()
    customer = CustomerFactory()
    response = client_for(staff).post(
        "/communications/log/",
        {
            "customer": customer.pk,
            "channel": "email",
            "direction": "outbound",
            "occurred_at": local(timezone.now()),
            "subject": "Here is the spec",
            "documents": [draft.pk],
        },
    )
    assert response.status_code == 422
    assert f"{draft} is draft" in response.content.decode()
    assert (Communication.objects.count(), Distribution.objects.count()) == (0, 0)


def test_an_approved_document_sent_with_a_communication_is_a_distribution(staff):
    version = approved(at=timezone.now() - dt.timedelta(days=1))
    contact = ContactFactory()
    response = client_for(staff).post(
        "/communications/log/",
        {
            "customer": contact.customer.pk,
            "channel": "meeting",
            "direction": "outbound",
            "occurred_at": local(timezone.now()),
            "contacts": [contact.pk],
            "subject": "Supplier review",
            "documents": [version.pk],
        },
    )
    assert response.status_code == 302
    c = Communication.objects.get()
    d = Distribution.objects.get()
    assert (d.version, d.customer, d.contact, d.occasion, d.via) == (
        version,
        contact.customer,
        contact,
        Occasion.COMMUNICATION,
        c,
    )
    assert d.reason == f"Provided with {c.number}: Supplier review"
    page = client_for(staff).get(f"/communications/{c.pk}/").content.decode()
    assert 'data-testid="documents-provided"' in page


def test_the_customer_page_offers_to_log_a_call(staff, auditor):
    customer = CustomerFactory()
    assert "Log a call" in client_for(staff).get(f"/customers/{customer.pk}/").content.decode()
    assert (
        "Log a call" not in client_for(auditor).get(f"/customers/{customer.pk}/").content.decode()
    )


def test_the_timeline_merges_communications_documents_and_feedback(staff, outsider):
    customer = CustomerFactory()
    now = timezone.now()
    CommunicationFactory(
        customer=customer, subject="Old call", occurred_at=now - dt.timedelta(days=3)
    )
    FeedbackItemFactory(customer=customer, title="Loved it", received_at=now - dt.timedelta(days=2))
    documents.record_distribution(
        documents.Provision(
            version=approved(
                DocumentFactory(title="Pump datasheet"), at=now - dt.timedelta(days=5)
            ),
            customer=customer,
            reason="Asked",
            at=now - dt.timedelta(days=1),
        ),
        actor=None,
    )
    CommunicationFactory(customer=customer, subject="New call", occurred_at=now)
    content = client_for(staff).get(f"/communications/customers/{customer.pk}/timeline/").content
    text = content.decode()
    order = [text.index(s) for s in ("New call", "Pump datasheet", "Loved it", "Old call")]
    assert order == sorted(order)
    assert (
        client_for(outsider).get(f"/communications/customers/{customer.pk}/timeline/").status_code
        == 403
    )


def test_the_timeline_include_renders_for_the_customer_page(rf, staff):
    from django.template import Context, Template

    customer = CustomerFactory()
    CommunicationFactory(customer=customer, subject="Included call")
    request = rf.get("/")
    request.user = staff
    html = Template('{% include "communications/_customer_timeline.html" %}').render(
        Context({"object": customer, "request": request})
    )
    assert 'data-testid="customer-timeline"' in html
    assert "Included call" in html
    # "Log a call" is the page header's object link; the card leads to the whole timeline.
    assert f"/communications/log/?customer={customer.pk}" not in html


def test_html_mail_is_shown_sanitised_inside_a_sandbox(staff):
    customer = CustomerFactory(email_domain="acme.example")
    c = services.ingest_message(
        mail(
            sender="x@acme.example",
            html='<p>Hi<script>alert("pwned")</script><a href="javascript:steal()">x</a></p>',
        )
    ).communication
    assert c.customer == customer
    page = client_for(staff).get(f"/communications/{c.pk}/").content.decode()
    iframe = re.search(r"<iframe[^>]*data-testid=\"html-body\"[^>]*>", page).group(0)
    assert " sandbox " in iframe
    assert "pwned" not in page
    assert "javascript:" not in page
    assert "<script>alert" not in page


def test_triage_lists_waiting_mail_and_files_it(staff, auditor):
    c = services.ingest_message(mail(sender="who@unknown.example")).communication
    listing = client_for(auditor).get("/communications/triage/").content.decode()
    assert c.number in listing
    assert "No customer matches who@unknown.example or its domain." in listing
    assert (
        client_for(auditor).post(f"/communications/{c.pk}/file/", {"customer": 1}).status_code
        == 403
    )
    page = client_for(staff).get(f"/communications/{c.pk}/").content.decode()
    assert "No customer matches who@unknown.example or its domain." in page
    assert "File under this customer" in page
    customer = CustomerFactory()
    response = client_for(staff).post(
        f"/communications/{c.pk}/file/", {"customer": customer.pk, "note": "New buyer"}
    )
    assert response.status_code == 302
    c.refresh_from_db()
    assert (c.status, c.customer) == (CommunicationStatus.FILED, customer)
    assert c.number not in client_for(staff).get("/communications/triage/").content.decode()


def test_mail_matched_but_damaged_is_filed_with_the_header_button(staff):
    customer = CustomerFactory(email_domain="acme.example")
    c = services.ingest_message(mail(sender="", to="x@acme.example")).communication
    assert (c.status, c.customer) == (CommunicationStatus.TRIAGE, None)
    c.customer = customer
    c.save()
    client = client_for(staff)
    assert "File under the customer" in client.get(f"/communications/{c.pk}/").content.decode()
    client.post(f"/communications/{c.pk}/transition/file/")
    c.refresh_from_db()
    assert c.status == CommunicationStatus.FILED


def test_links_are_added_and_removed_by_record_number(staff):
    c = CommunicationFactory()
    item = FeedbackItemFactory()
    client = client_for(staff)
    client.post(f"/communications/{c.pk}/links/", {"reference": item.number})
    link = c.links.get()
    assert link.label == f"Feedback {item.number}"
    response = client.post(f"/communications/{c.pk}/links/", {"reference": "NOPE-1"})
    assert response.status_code == 302
    client.post(f"/communications/links/{link.pk}/delete/")
    assert c.links.count() == 0


def test_received_mail_is_never_edited_but_a_logged_call_is(staff):
    customer = CustomerFactory(email_domain="acme.example")
    received = services.ingest_message(mail(sender="a@acme.example")).communication
    client = client_for(staff)
    assert client.get(f"/communications/{received.pk}/edit/").status_code == 404
    call = CommunicationFactory(customer=customer, subject="Typo")
    response = client.post(
        f"/communications/{call.pk}/edit/",
        {
            "channel": "phone",
            "direction": "inbound",
            "occurred_at": local(call.occurred_at),
            "subject": "Fixed",
            "body": call.body,
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.filter(action="communication.updated").get()
    assert event.changes["subject"] == ["Typo", "Fixed"]


def test_a_revision_notice_goes_to_every_holder_of_the_old_version(staff, quality_manager):
    notice = Document.objects.get(template_key="notice-revision")
    approved_notice = notice.versions.get()
    for step in ("submit",):
        getattr(documents, step)(approved_notice, actor=quality_manager)
    documents.record_review(approved_notice, actor=quality_manager)
    documents.approve(approved_notice, actor=quality_manager)
    spec = DocumentFactory(title="Valve spec")
    old = approved(spec, "A", at=timezone.now() - dt.timedelta(days=20))
    maria = ContactFactory(name="Maria", email="maria@a.example")
    nobody = CustomerFactory(name="No Address Ltd")
    for customer, contact in ((maria.customer, maria), (nobody, None)):
        documents.record_distribution(
            documents.Provision(
                version=old,
                customer=customer,
                contact=contact,
                reason="Quote",
                at=timezone.now() - dt.timedelta(days=10),
            ),
            actor=None,
        )
    new = approved(spec, "B", change_summary="Rated to PN63.")
    client = client_for(staff)
    page = client.get(f"/communications/notice/?version={old.pk}").content.decode()
    assert "Dear Maria," in page
    assert "Rated to PN63." in page
    assert "no contact with an e-mail address" in page
    response = client.post("/communications/notice/", {"version": old.pk})
    assert response.status_code == 302
    assert len(outbox.outbox) == 1
    sent = outbox.outbox[0]
    assert sent.to == ["maria@a.example"]
    assert sent.subject == "Revised: Valve spec, version B"
    assert sent.attachments[0][0] == f"{spec.number} Valve spec vB.txt"
    c = Communication.objects.get()
    assert (c.customer, c.direction, c.channel) == (maria.customer, "outbound", "email")
    assert c.message_key == sent.extra_headers["Message-ID"]
    d = Distribution.objects.get(occasion=Occasion.NOTICE)
    assert (d.version, d.customer, d.via) == (new, maria.customer, c)
    assert [h.customer for h in documents.holders(old)] == [nobody]
    # The customer's reply joins the notice's thread.
    reply = services.ingest_message(
        mail(sender="maria@a.example", message_id="<r@a.example>", in_reply_to=c.message_key)
    ).communication
    assert reply.thread == c.thread


def test_a_notice_needs_an_approved_template(staff):
    spec = DocumentFactory()
    old = approved(spec, "A")
    documents.record_distribution(
        documents.Provision(version=old, customer=CustomerFactory(), reason="x"), actor=None
    )
    approved(spec, "B")
    page = client_for(staff).get(f"/communications/notice/?version={old.pk}").content.decode()
    assert "No approved customer notice template: approve one first." in page
    client_for(staff).post("/communications/notice/", {"version": old.pk})
    assert outbox.outbox == []


def test_the_lifecycle_map_shows_every_phase_and_exports(staff, auditor):
    CommunicationFactory(phase=Phase.FEEDBACK)
    content = client_for(staff).get("/communications/lifecycle/").content.decode()
    for phase in Phase:
        assert str(phase.label) in content
    response = client_for(auditor).get("/communications/lifecycle/?export=csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == [
        "Phase",
        "Primary channel",
        "Other channels",
        "Owner role",
        "Record kept",
        "Response target",
        "Governing document",
        "Logged in the last 12 months",
    ]
    assert len(rows) == 7
    feedback = next(r for r in rows if r[0] == "Feedback and complaints")
    assert feedback[1:4] == ["E-mail", "Phone, surveys, meetings", "Quality manager"]
    assert feedback[6].endswith("Customer communication")
    assert feedback[7] == "1"
    assert LifecycleStage.objects.count() == 6


def test_the_mail_import_page_files_an_uploaded_message(staff):
    customer = CustomerFactory(email_domain="acme.example")
    upload = SimpleUploadedFile("saved.eml", mail(sender="z@acme.example"), "message/rfc822")
    response = client_for(staff).post("/communications/import/", {"file": upload})
    assert response.status_code == 302
    assert Communication.objects.get().customer == customer


@pytest.mark.parametrize("rows", [1, 3])
def test_list_pages_cost_the_same_for_1_and_3_rows(qm_client, rows):
    customer = CustomerFactory(email_domain="acme.example")
    for i in range(rows):
        services.ingest_message(mail(sender="a@acme.example", message_id=f"<{i}@acme.example>"))
        services.ingest_message(mail(sender="a@nowhere.example", message_id=f"<{i}@nowhere>"))
        CommunicationFactory(customer=customer)
    urls = (
        "/communications/",
        "/communications/triage/",
        "/communications/threads/",
        "/communications/lifecycle/",
        "/communications/runs/",
        f"/communications/customers/{customer.pk}/timeline/",
    )
    for url in urls:
        qm_client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert qm_client.get(url).status_code == 200
        assert len(queries) <= 12, (url, len(queries))


def test_the_detail_page_has_a_bounded_number_of_queries(qm_client):
    customer = CustomerFactory(email_domain="acme.example")
    first = services.ingest_message(
        mail(sender="a@acme.example", attachments=(("a.txt", b"a", "text/plain"),) * 3)
    ).communication
    for i in range(3):
        services.ingest_message(
            mail(sender="a@acme.example", message_id=f"<r{i}@x>", in_reply_to=first.message_key)
        )
        services.add_link(first, FeedbackItemFactory(customer=customer), actor=None)
    with CaptureQueriesContext(connection) as queries:
        assert qm_client.get(f"/communications/{first.pk}/").status_code == 200
    assert len(queries) <= 20


# --------------------------------------------------------------------------------------
# Who may do what
# --------------------------------------------------------------------------------------


def walk(patterns: list[Any], prefix: str = "") -> list[str]:
    found = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            found += walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            found.append(prefix + str(pattern.pattern))
    return found


def test_the_auditor_changes_nothing_through_these_pages(auditor):
    c = CommunicationFactory()
    version = approved(DocumentFactory(acknowledge_roles=["auditor", "customer_facing"]))
    routes = [
        r
        for r in walk(get_resolver().url_patterns)
        if r.startswith(("communications/", "documents/"))
    ]
    assert len(routes) > 30
    client = Client()
    client.force_login(auditor)
    before = AuditEvent.objects.exclude(action="auth.access_denied").count()
    for route in routes:
        for pk in (c.pk, version.pk):
            url = "/" + re.sub(r"<(slug|str):\w+>", "approve", re.sub(r"<int:\w+>", str(pk), route))
            for method in ("post", "put", "patch", "delete"):
                response = getattr(client, method)(url, data={"name": "Changed"})
                assert response.status_code in {400, 403, 404, 405}, (method, url)
    assert AuditEvent.objects.exclude(action="auth.access_denied").count() == before


@pytest.mark.parametrize(
    "role",
    [Role.QUALITY_MANAGER, Role.QUALITY_ANALYST, Role.CUSTOMER_FACING, Role.AUDITOR, None],
)
def test_every_menu_page_of_these_apps_answers_as_the_matrix_says(role):
    CustomerFactory()
    user = persona(role, f"menu-{role or 'none'}")
    client = client_for(user)
    items = [i for i in registry.menu if i.url_name.startswith(("communications:", "documents:"))]
    assert len(items) == 9
    for item in items:
        response = client.get(reverse(item.url_name))
        expected = 200 if user.has_perm(item.permission) else 403
        assert response.status_code == expected, (item.url_name, role)
