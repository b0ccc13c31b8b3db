"""Order pages: intake, review, acceptance, changes, notices and the trace, each with the
persona who must be refused, and list pages whose cost does not grow with their rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from tests.conftest import client_for
from tests.documents.factories import DocumentFactory, approved
from tests.factories import ContactFactory, CustomerFactory, persona
from tests.orders.factories import (
    EnquiryAttachmentFactory,
    accepted_order,
    change_awaiting,
    enquiry,
    notice_template,
    offer,
    pending_order,
    review,
    seller,
    upload,
)

from harken.core.choices import Role
from harken.core.models import AuditEvent
from harken.documents.choices import DocumentKind
from harken.orders import services
from harken.orders.choices import (
    ChangeStatus,
    EnquiryStatus,
    NoticeStatus,
    OrderStatus,
    ReviewStatus,
    Severity,
)
from harken.orders.models import Enquiry, EscalationRule, Notice, Order

pytestmark = pytest.mark.django_db

LISTS = (
    "/orders/enquiries/",
    "/orders/reviews/",
    "/orders/offers/",
    "/orders/orders/",
    "/orders/changes/",
    "/orders/escalations/",
    "/orders/notices/",
    "/orders/matrix/",
    "/orders/intake/",
    "/orders/checklist/",
)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_every_list_answers_staff_and_the_auditor_and_refuses_the_outsider(
    staff, auditor, outsider
):
    accepted_order()
    for url in LISTS:
        assert client_for(staff).get(url).status_code == 200, url
        assert client_for(auditor).get(url).status_code == 200, url
        assert client_for(outsider).get(url).status_code == 403, url


def test_an_enquiry_is_recorded_from_the_customer_page(staff):
    customer = CustomerFactory(name="Granite Pumps")
    contact = ContactFactory(customer=customer, name="Ines Roth")
    client = client_for(staff)
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert f"/orders/enquiries/add/?customer={customer.pk}" in page
    form = client.get(f"/orders/enquiries/add/?customer={customer.pk}").content.decode()
    assert f'value="{customer.number}"' in form
    assert "Ines Roth" in form
    response = client.post(
        f"/orders/enquiries/add/?customer={customer.pk}",
        {
            "customer": customer.number,
            "contact": contact.pk,
            "received_at": "2026-03-27T16:30",
            "requested_scope": "80 enclosures",
            "requirements_stated": "IP54",
            "requested_delivery": "2026-06-01",
            "attachments": [SimpleUploadedFile("drawing.pdf", b"%PDF drawing")],
        },
    )
    found = Enquiry.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/orders/enquiries/{found.pk}/"
    assert (found.owner, found.contact, found.attachments.get().file.name) == (
        staff,
        contact,
        "drawing.pdf",
    )
    assert messages_of(response) == [
        f"{found.number} recorded; first response due 2026-03-30 16:30."
    ]
    assert AuditEvent.objects.filter(action="enquiry.created", object_id=str(found.pk)).count() == 1


def test_an_enquiry_form_names_the_bad_field(staff):
    other = ContactFactory()
    customer = CustomerFactory()
    response = client_for(staff).post(
        "/orders/enquiries/add/",
        {"customer": customer.number, "contact": other.pk},
    )
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    response = client_for(staff).post("/orders/enquiries/add/", {"customer": "CUS-1999-0001"})
    assert "No customer has the number CUS-1999-0001." in response.content.decode()
    assert not Enquiry.objects.exists()


def test_the_enquiry_page_holds_the_review_until_the_intake_is_complete(staff):
    found = enquiry(requested_delivery=None)
    client = client_for(staff)
    page = client.get(f"/orders/enquiries/{found.pk}/").content.decode()
    assert "Required before the review: requested delivery date." in page
    assert 'data-testid="blockers-start_review"' in page
    response = client.post(f"/orders/enquiries/{found.pk}/transition/start_review/")
    assert messages_of(response) == ["fill in the required intake: requested delivery date"]
    found.refresh_from_db()
    assert found.status == EnquiryStatus.RECEIVED
    client.post(
        f"/orders/enquiries/{found.pk}/edit/",
        {
            "contact": found.contact_id,
            "requested_scope": found.requested_scope,
            "requirements_stated": found.requirements_stated,
            "requested_delivery": "2026-12-01",
        },
    )
    response = client.post(f"/orders/enquiries/{found.pk}/transition/start_review/")
    found.refresh_from_db()
    review_ = found.reviews.get()
    assert response["Location"] == f"/orders/reviews/{review_.pk}/"
    assert found.status == EnquiryStatus.IN_REVIEW


def test_the_review_page_records_the_checklist_and_completes_the_review(analyst, outsider):
    found = enquiry()
    opened = services.start_review(found, actor=analyst)
    answers = list(opened.answers.all())
    client = client_for(analyst)
    form = client.get(f"/orders/reviews/{opened.pk}/").content.decode()
    assert form.count('data-testid="question"') == 5
    data = {f"answer_{a.pk}": "yes" for a in answers}
    data[f"note_{answers[1].pk}"] = "Capacity plan week 14"
    data["outcome"] = "accept"
    missing = dict(data)
    del missing[f"answer_{answers[0].pk}"]
    response = client.post(f"/orders/reviews/{opened.pk}/save/", {**missing, "complete": "1"})
    assert response.status_code == 422
    assert "answer every question (1 open)" in response.content.decode()
    evidence = SimpleUploadedFile("capacity.xlsx", b"plan")
    response = client.post(
        f"/orders/reviews/{opened.pk}/save/", {**data, "complete": "1", "evidence": evidence}
    )
    assert response["Location"] == f"/orders/enquiries/{found.pk}/"
    opened.refresh_from_db()
    assert (opened.status, opened.reviewer, opened.evidence.name) == (
        ReviewStatus.COMPLETED,
        analyst,
        "capacity.xlsx",
    )
    assert opened.answers.get(pk=answers[1].pk).note == "Capacity plan week 14"
    assert client_for(outsider).post(f"/orders/reviews/{opened.pk}/save/", data).status_code == 403


def test_an_order_cannot_be_accepted_through_the_page_without_a_completed_review(staff):
    found = enquiry()
    order = pending_order(found, with_offer=False)
    client = client_for(staff)
    page = client.get(f"/orders/orders/{order.pk}/").content.decode()
    assert f"{found.number} has no completed requirement review that accepts it" in page
    response = client.post(f"/orders/orders/{order.pk}/accept/", {})
    assert response.status_code == 422
    assert f"{found.number} has no completed requirement review that accepts it" in (
        response.content.decode()
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    review(found)
    response = client.post(f"/orders/orders/{order.pk}/accept/", {})
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.accepted_by, order.version) == (OrderStatus.ACCEPTED, staff, 1)


def test_the_auditor_reads_an_order_but_cannot_accept_it(auditor):
    found = enquiry()
    review(found)
    order = pending_order(found)
    client = client_for(auditor)
    assert client.get(f"/orders/orders/{order.pk}/").status_code == 200
    assert client.get(f"/orders/orders/{order.pk}/trace/").status_code == 200
    assert client.post(f"/orders/orders/{order.pk}/accept/", {}).status_code == 403
    assert client.post(f"/orders/orders/{order.pk}/transition/cancel/").status_code == 403
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_an_offer_page_issues_the_offer_with_its_documents(staff):
    found = enquiry()
    review(found)
    terms = approved(DocumentFactory(kind=DocumentKind.CONTRACT_TERMS, title="Terms"), "2026")
    response = client_for(staff).post(
        f"/orders/enquiries/{found.pk}/offer/",
        {"scope": "200 housings", "currency": "EUR", "price": "1200.00", "documents": [terms.pk]},
    )
    issued = found.offers.get()
    assert response["Location"] == f"/orders/offers/{issued.pk}/"
    page = client_for(staff).get(f"/orders/offers/{issued.pk}/").content.decode()
    assert f"{terms.document.number} Terms v2026" in page


def test_recording_the_acceptance_with_a_different_price_asks_for_a_review(staff):
    found = enquiry()
    review(found)
    issued = offer(found)
    response = client_for(staff).post(
        f"/orders/enquiries/{found.pk}/acceptance/",
        {
            "offer": issued.pk,
            "acceptance_kind": "purchase_order",
            "customer_reference": "PO-9",
            "price": "999.00",
            "file": upload(),
        },
    )
    order = Order.objects.get()
    assert response["Location"] == f"/orders/orders/{order.pk}/"
    page = client_for(staff).get(f"/orders/orders/{order.pk}/").content.decode()
    assert "the accepted terms differ from the offer: review the differences first" in page
    assert "price: offered 1200.00, accepted 999.00" in page


def test_a_change_takes_effect_only_with_the_confirmation_file(staff):
    change = change_awaiting()
    order = change.order
    client = client_for(staff)
    page = client.get(f"/orders/changes/{change.pk}/").content.decode()
    assert "Not effective: the order stays as it is until the customer confirms" in page
    response = client.post(f"/orders/changes/{change.pk}/confirm/", {"reference": "mail"})
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
    change.refresh_from_db()
    assert change.status == ChangeStatus.AWAITING
    response = client.post(
        f"/orders/changes/{change.pk}/confirm/", {"file": upload("yes.pdf"), "reference": "mail"}
    )
    assert response["Location"] == f"/orders/orders/{order.pk}/"
    order.refresh_from_db()
    assert order.version == 2
    page = client.get(f"/orders/orders/{order.pk}/").content.decode()
    assert "Version 2</strong>, effective" in page
    assert change.number in page


def test_the_change_steps_go_through_their_pages(staff):
    order = accepted_order()
    client = client_for(staff)
    response = client.post(
        f"/orders/changes/add/?order={order.pk}",
        {
            "origin": "customer",
            "aspects": ["price"],
            "description": "Bigger lot, lower price",
            "new_price": "1000.00",
        },
    )
    change = order.changes.get()
    assert response["Location"] == f"/orders/changes/{change.pk}/"
    client.post(f"/orders/changes/{change.pk}/impact/", {"feasible": "yes", "impact": "Fine."})
    change.refresh_from_db()
    assert (change.status, change.impact_reviewed_by) == (ChangeStatus.ASSESSED, staff)
    client.post(
        f"/orders/changes/{change.pk}/communicate/",
        {"channel": "email", "subject": "Your change", "body": "Confirm please"},
    )
    change.refresh_from_db()
    assert change.status == ChangeStatus.AWAITING
    assert change.communicated_via.links.count() == 2


def high_notice() -> Notice:
    rule = EscalationRule.objects.get(event_type="delay", severity=Severity.HIGH)
    rule.notice_template = notice_template()
    rule.save()
    raised = services.raise_escalation(
        actor=seller(),
        customer=CustomerFactory(),
        event_type="delay",
        severity=Severity.HIGH,
        title="Late",
        description="A week late.",
    )
    ContactFactory(customer=raised.customer, email="ops@cust.example")
    return services.draft_notice(raised, actor=seller())


def test_staff_may_not_approve_a_notice_the_matrix_gives_to_the_quality_manager(staff):
    drafted = high_notice()
    client = client_for(staff)
    page = client.get(f"/orders/notices/{drafted.pk}/").content.decode()
    assert "A quality manager must approve this notice before it is sent." in page
    assert ">Approve</button>" not in page
    assert client.post(f"/orders/notices/{drafted.pk}/transition/approve/").status_code == 403
    response = client.post(f"/orders/notices/{drafted.pk}/transition/send/")
    assert messages_of(response) == ["Cannot send: the record is Draft."]
    drafted.refresh_from_db()
    assert drafted.status == NoticeStatus.DRAFT
    boss = persona(Role.QUALITY_MANAGER, "boss")
    client_for(boss).post(f"/orders/notices/{drafted.pk}/transition/approve/")
    client.post(f"/orders/notices/{drafted.pk}/transition/send/")
    drafted.refresh_from_db()
    assert (drafted.status, drafted.approved_by) == (NoticeStatus.SENT, boss)


def test_an_escalation_is_raised_from_an_order_page(staff):
    order = accepted_order()
    client = client_for(staff)
    page = client.get(f"/orders/orders/{order.pk}/").content.decode()
    assert f"/orders/escalations/add/?order={order.pk}" in page
    form = client.get(f"/orders/escalations/add/?order={order.pk}").content.decode()
    assert f'value="{order.number}"' in form
    response = client.post(
        f"/orders/escalations/add/?order={order.pk}",
        {
            "order": order.number,
            "customer": "",
            "event_type": "delay",
            "severity": "medium",
            "title": "Supplier late",
            "description": "Castings arrive a week late.",
        },
    )
    raised = order.escalations.get()
    assert response["Location"] == f"/orders/escalations/{raised.pk}/"
    page = client.get(f"/orders/escalations/{raised.pk}/").content.decode()
    assert "The customer must be told by" in page
    assert "What happened" in page


def test_the_order_trace_shows_each_step_with_its_documents_and_evidence(auditor):
    found = enquiry()
    services.log_exchange(
        found, actor=seller(), direction="outbound", channel="email", subject="Thanks, we review"
    )
    review(found)
    spec = approved(DocumentFactory(title="Valve spec"), "B")
    issued = offer(found, versions=[spec])
    order = services.accept_order(pending_order_for(found, issued), actor=seller())
    version = services.confirm_change(change_awaiting(order), actor=seller(), file=upload("ok.pdf"))
    page = client_for(auditor).get(f"/orders/orders/{order.pk}/trace/").content.decode()
    for step in ("enquiry", "review", "offer", "acceptance", "changes", "delivery", "feedback"):
        assert f'data-testid="step-{step}"' in page
    assert "Thanks, we review" in page
    assert f"{spec.document.number} Valve spec vB" in page
    assert issued.number in page and order.number in page
    assert f"Order version {version.number}: delivery date" in page
    assert "po.pdf" in page and "ok.pdf" in page
    assert "No feedback about it." in page


def pending_order_for(found, issued):
    return services.record_acceptance(
        found,
        actor=seller(),
        offer=issued,
        record=services.AcceptanceRecord(kind="purchase_order", file=upload()),
    )


def test_evidence_files_are_served_to_those_who_may_view_them(auditor, outsider):
    attachment = EnquiryAttachmentFactory()
    url = f"/orders/files/attachment/{attachment.pk}/"
    response = client_for(auditor).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"drawing"
    assert client_for(outsider).get(url).status_code == 403
    assert client_for(auditor).get(f"/orders/files/nothing/{attachment.pk}/").status_code == 404


def test_the_orders_export_is_for_those_who_may_export(auditor, staff):
    order = accepted_order()
    response = client_for(auditor).get("/orders/orders/?export=csv")
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    assert order.number in content and order.acceptance_file.sha256 in content
    assert client_for(staff).get("/orders/orders/?export=csv").status_code == 403


def test_the_enquiry_list_flags_late_first_responses(staff):
    late = enquiry(received_at=timezone.now() - dt.timedelta(days=8))
    enquiry()
    content = client_for(staff).get("/orders/enquiries/?overdue=true").content.decode()
    assert late.number in content
    assert content.count('title="Late"') == 1


def test_the_customer_page_snippet_lists_orders_and_escalations(staff, outsider):
    order = accepted_order()
    template = Template("{% load orders %}{% customer_orders customer %}")
    request = RequestFactory().get("/")
    request.user = staff
    html = template.render(Context({"customer": order.customer, "request": request}))
    assert order.number in html and "trace" in html
    request.user = outsider
    assert template.render(Context({"customer": order.customer, "request": request})).strip() == ""


def one_more_row() -> None:
    order = accepted_order()
    change_awaiting(order)
    services.raise_escalation(
        actor=seller(),
        customer=order.customer,
        order=order,
        event_type="delay",
        severity="low",
        title="Late",
        description="Late.",
    )


def queries_of(client, urls) -> dict[str, int]:
    counts = {}
    for url in urls:
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200, url
        counts[url] = len(queries)
    return counts


def test_list_pages_and_endpoints_cost_the_same_for_1_and_3_rows(quality_manager):
    from tests.orders.test_api import ENDPOINTS, api_for

    page, api = client_for(quality_manager), api_for(quality_manager)
    one_more_row()
    pages_1, api_1 = queries_of(page, LISTS), queries_of(api, ENDPOINTS)
    one_more_row()
    one_more_row()
    assert queries_of(page, LISTS) == pages_1
    assert queries_of(api, ENDPOINTS) == api_1
    assert max(pages_1.values()) <= 9, pages_1
    assert max(api_1.values()) <= 9, api_1


def test_the_record_pages_have_a_bounded_number_of_queries(qm_client):
    order = accepted_order()
    change_awaiting(order)
    urls = (
        f"/orders/orders/{order.pk}/",
        f"/orders/orders/{order.pk}/trace/",
        f"/orders/enquiries/{order.enquiry_id}/",
        f"/orders/offers/{order.offer_id}/",
    )
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            assert qm_client.get(url).status_code == 200
        assert len(queries) <= 20, (url, len(queries))


def test_an_unknown_move_is_not_found_and_a_guarded_one_explains_itself(staff):
    found = enquiry()
    client = client_for(staff)
    assert client.post(f"/orders/enquiries/{found.pk}/transition/fly/").status_code == 404
    response = client.post(f"/orders/enquiries/{found.pk}/transition/lose/", {"reason": ""})
    assert messages_of(response) == ["say why it was lost or withdrawn"]
    client.post(f"/orders/enquiries/{found.pk}/transition/lose/", {"reason": "Went elsewhere"})
    found.refresh_from_db()
    assert (found.status, found.lost_reason) == (EnquiryStatus.LOST, "Went elsewhere")


def test_a_communication_becomes_an_enquiry_prefilled_from_it(staff):
    from tests.communications.factories import CommunicationFactory

    call = CommunicationFactory(subject="Quote 40 valves", body="DN50, PN40, stainless.")
    page = client_for(staff).get(f"/communications/{call.pk}/").content.decode()
    assert f"/orders/enquiries/add/?communication={call.pk}" in page
    form = client_for(staff).get(f"/orders/enquiries/add/?communication={call.pk}").content.decode()
    assert f'value="{call.number}"' in form
    assert f'value="{call.customer.number}"' in form
    assert "DN50, PN40, stainless." in form


def test_the_home_page_counts_what_waits_and_its_links_filter(staff):
    late = enquiry(received_at=timezone.now() - dt.timedelta(days=8))
    services.raise_escalation(
        actor=seller(),
        customer=CustomerFactory(),
        event_type="delay",
        severity="high",
        title="Overdue notice",
        description="Not told.",
        raised_at=timezone.now() - dt.timedelta(days=6),
    )
    client = client_for(staff)
    home = client.get("/").content.decode()
    panel = home[home.index('data-testid="orders-panel"') :]
    assert '?overdue=true" class="text-danger fw-bold">1</a>' in panel
    assert '?breached=true" class="text-danger fw-bold">1</a>' in panel
    assert late.number in client.get("/orders/enquiries/?overdue=true").content.decode()
    listed = client.get("/orders/escalations/?breached=true").content.decode()
    assert "Overdue notice" in listed
    assert (
        "Overdue notice" not in client.get("/orders/escalations/?breached=false").content.decode()
    )
