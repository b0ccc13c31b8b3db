"""Feedback pages: the source register (today and as of a date), feedback items, triage,
imports and the taxonomy, each with the persona who may and the one who must be refused."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from tests.conftest import client_for
from tests.factories import CustomerFactory, ProductLineFactory, RegionFactory
from tests.feedback.factories import (
    CategoryFactory,
    ClassificationRuleFactory,
    FeedbackItemFactory,
    ImportBatchFactory,
    PerceptionSourceFactory,
)

from harken.core.files import store_file
from harken.core.models import AuditEvent
from harken.feedback.choices import BatchStatus, ItemKind, ItemStatus, SourceKind
from harken.feedback.models import Category, FeedbackItem, ImpactLevel, ImportBatch
from harken.feedback.register import replay

pytestmark = pytest.mark.django_db

SAMPLES = "tests/feedback/samples"


def listed_pks(response) -> set[int]:
    """The feedback items linked from a list page's table."""
    return {
        int(pk) for pk in re.findall(r'href="/feedback/items/(\d+)/"', response.content.decode())
    }


def message_texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --------------------------------------------------------------------------------------
# The perception source register
# --------------------------------------------------------------------------------------


def test_register_lists_every_column_and_refuses_an_outsider(auditor, outsider, quality_manager):
    PerceptionSourceFactory(
        name="Annual NPS survey",
        kind=SourceKind.SURVEY,
        structured=True,
        owner=quality_manager,
        collection_method="E-mail survey each March",
        storage_location="SurveyMonkey, exported to Harken",
        retention="7 years",
        third_party="SurveyMonkey Inc.",
    )
    response = client_for(auditor).get("/feedback/sources/")
    assert response.status_code == 200
    content = response.content.decode()
    for text in (
        "Annual NPS survey",
        "Survey",
        "Structured",
        "Quality manager",
        "qm",
        "E-mail survey each March",
        "SurveyMonkey, exported to Harken",
        "7 years",
        "SurveyMonkey Inc.",
    ):
        assert text in content
    assert client_for(outsider).get("/feedback/sources/").status_code == 403


def test_register_warnings_appear_and_disappear_as_sources_change(qm_client):
    def warnings() -> list[str]:
        content = qm_client.get("/feedback/sources/").content.decode()
        box = re.search(r'data-testid="register-warnings">(.*?)</div>', content, re.S)
        return re.findall(r"<li>(.*?)</li>", box.group(1)) if box else []

    assert warnings() == [
        "No active structured source (a survey, for example).",
        "No active unstructured source (complaints, e-mail or notes).",
    ]
    PerceptionSourceFactory(name="NPS survey", structured=True)
    assert warnings() == ["No active unstructured source (complaints, e-mail or notes)."]
    inbox = PerceptionSourceFactory(
        name="Complaints inbox", kind=SourceKind.COMPLAINTS_INBOX, structured=False, owner_role=""
    )
    assert warnings() == ["Complaints inbox has no owner."]
    inbox.owner_role = "quality_analyst"
    inbox.save()
    assert warnings() == []
    inbox.active = False
    inbox.save()
    assert warnings() == ["No active unstructured source (complaints, e-mail or notes)."]


def test_register_exports_csv_for_the_auditor_but_not_for_staff(auditor, staff):
    PerceptionSourceFactory(name="Dealer reports", kind=SourceKind.DEALER_REPORTS)
    response = client_for(auditor).get("/feedback/sources/?export=csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:4] == ["Name", "Kind", "Structured?", "Owner role"]
    assert rows[1][:3] == ["Dealer reports", "Dealer reports", "Structured"]
    assert AuditEvent.objects.filter(action="perceptionsource.exported").count() == 1
    response = client_for(auditor).get("/feedback/sources/?export=xlsx")
    assert response.status_code == 200
    # Read it to the end: the test client then closes it without closing the connection.
    b"".join(response.streaming_content)
    assert client_for(staff).get("/feedback/sources/?export=csv").status_code == 403


def test_a_source_is_added_and_edited_but_never_deleted(analyst, staff, auditor):
    data = {
        "name": "Renewal calls",
        "kind": SourceKind.ACCOUNT_NOTES,
        "owner_role": "customer_facing",
        "collection_method": "Notes from every renewal call",
        "in_scope": "on",
        "active": "on",
        "acknowledge_days": 2,
        "resolve_days": 20,
    }
    assert client_for(auditor).get("/feedback/sources/add/").status_code == 403
    # The register belongs to the quality roles; customer-facing staff read it.
    assert client_for(staff).get("/feedback/sources/add/").status_code == 403
    client = client_for(analyst)
    assert client.get("/feedback/sources/add/").status_code == 200
    response = client.post("/feedback/sources/add/", data)
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="perceptionsource.created")
    assert event.changes["name"] == [None, "Renewal calls"]
    source_id = int(event.object_id)
    response = client.post(f"/feedback/sources/{source_id}/edit/", {**data, "active": ""})
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="perceptionsource.updated")
    assert event.changes == {"active": [True, False]}
    assert client.post(f"/feedback/sources/{source_id}/delete/").status_code == 404


def test_the_webhook_token_shows_only_to_those_who_may_change_the_source(staff, auditor, qm_client):
    source = PerceptionSourceFactory(name="Web form")
    token = source.webhook_token
    page = qm_client.get(f"/feedback/sources/{source.pk}/").content.decode()
    assert f"/api/feedback/webhook/{token}/" in page
    page = client_for(staff).get(f"/feedback/sources/{source.pk}/").content.decode()
    assert token not in page
    page = client_for(auditor).get(f"/feedback/sources/{source.pk}/").content.decode()
    assert token not in page
    assert "Webhook" not in page
    assert token not in qm_client.get("/feedback/sources/").content.decode()
    csv_body = b"".join(qm_client.get("/feedback/sources/?export=csv").streaming_content)
    assert token.encode() not in csv_body


def test_the_register_as_of_a_date_shows_the_values_of_that_day(qm_client, monkeypatch):
    today = timezone.localdate()
    long_ago = timezone.now() - dt.timedelta(days=10)
    with monkeypatch.context() as patch:
        patch.setattr(timezone, "now", lambda: long_ago)
        survey = PerceptionSourceFactory(name="NPS survey", collection_method="Paper forms")
        retired = PerceptionSourceFactory(name="Fax line", structured=False)
    version_then = (
        AuditEvent.objects.filter(object_type="feedback.perceptionsource").latest("seq").seq
    )
    survey.collection_method = "Online survey"
    survey.save()
    retired.delete()
    PerceptionSourceFactory(name="Complaints inbox", structured=False)

    earlier = (today - dt.timedelta(days=5)).isoformat()
    response = qm_client.get(f"/feedback/sources/as-of/?date={earlier}")
    assert response.status_code == 200
    content = response.content.decode()
    assert "Paper forms" in content
    assert "Online survey" not in content
    assert "Fax line" in content
    assert "Complaints inbox" not in content
    assert re.search(r'data-testid="version">(\d+) ', content).group(1) == str(version_then)
    assert "Fax line has no owner." not in content  # the factory gives every source a role

    content = qm_client.get("/feedback/sources/as-of/").content.decode()
    assert "Online survey" in content
    assert "Paper forms" not in content
    assert "Fax line" not in content
    assert "Complaints inbox" in content
    head = AuditEvent.objects.filter(object_type="feedback.perceptionsource").latest("seq").seq
    assert re.search(r'data-testid="version">(\d+) ', content).group(1) == str(head)


def test_the_register_as_of_a_date_shows_the_warnings_of_that_day(qm_client, monkeypatch):
    long_ago = timezone.now() - dt.timedelta(days=10)
    with monkeypatch.context() as patch:
        patch.setattr(timezone, "now", lambda: long_ago)
        PerceptionSourceFactory(name="NPS survey", structured=True)
    PerceptionSourceFactory(name="Complaints inbox", structured=False)
    earlier = (timezone.localdate() - dt.timedelta(days=5)).isoformat()
    content = qm_client.get(f"/feedback/sources/as-of/?date={earlier}").content.decode()
    assert "No active unstructured source (complaints, e-mail or notes)." in content
    content = qm_client.get("/feedback/sources/as-of/").content.decode()
    assert 'data-testid="register-warnings"' not in content


def test_the_register_as_of_a_date_exports_csv_and_records_it(auditor, outsider):
    PerceptionSourceFactory(name="NPS survey", collection_method="Online survey")
    client = client_for(auditor)
    day = timezone.localdate().isoformat()
    response = client.get(f"/feedback/sources/as-of/?date={day}&export=csv")
    assert response.status_code == 200
    head = (
        AuditEvent.objects.filter(object_type="feedback.perceptionsource")
        .exclude(object_id="")
        .latest("seq")
    )
    assert f"perception-source-register-{day}-v{head.seq}.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[1][0] == "NPS survey"
    assert rows[1][5] == "Online survey"
    event = AuditEvent.objects.get(action="perceptionsource.exported")
    assert event.changes == {"format": "csv", "as_of": day, "version": head.seq, "rows": 1}
    assert client_for(outsider).get("/feedback/sources/as-of/").status_code == 403


def test_the_register_as_of_a_bad_or_future_date_says_so(qm_client):
    content = qm_client.get("/feedback/sources/as-of/?date=31-12-2020").content.decode()
    assert "is not a date (YYYY-MM-DD); showing today." in content
    future = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    content = qm_client.get(f"/feedback/sources/as-of/?date={future}").content.decode()
    assert "That date is in the future; showing today." in content


def test_replay_folds_creates_updates_and_deletes_in_order():
    events = [
        (1, "perceptionsource.created", "1", {"name": [None, "Survey"], "active": [None, True]}),
        (2, "perceptionsource.created", "2", {"name": [None, "Inbox"]}),
        (3, "perceptionsource.updated", "1", {"name": ["Survey", "NPS survey"]}),
        (4, "perceptionsource.retired", "1", {"active": [True, False], "note": "details only"}),
        (5, "perceptionsource.deleted", "2", {"name": ["Inbox", None]}),
    ]
    version, state = replay(events)
    assert version == 5
    assert state == {"1": {"name": "NPS survey", "active": False}}
    assert replay([]) == (None, {})


@pytest.mark.parametrize("url", ["/feedback/sources/", "/feedback/sources/as-of/"])
def test_register_query_count_does_not_grow_with_sources(qm_client, quality_manager, url):
    PerceptionSourceFactory(owner=quality_manager)
    qm_client.get(url)
    with CaptureQueriesContext(connection) as one:
        assert qm_client.get(url).status_code == 200
    PerceptionSourceFactory(owner=quality_manager)
    PerceptionSourceFactory(owner=quality_manager)
    with CaptureQueriesContext(connection) as three:
        assert qm_client.get(url).status_code == 200
    assert len(three) == len(one)


# --------------------------------------------------------------------------------------
# Feedback items: list and filters
# --------------------------------------------------------------------------------------


def test_item_list_shows_markers_and_refuses_an_outsider(auditor, outsider):
    delivery = Category.objects.get(code="delivery")
    customer = CustomerFactory(name="Kessler Pumps GmbH")
    late = FeedbackItemFactory(
        kind=ItemKind.COMPLAINT,
        customer=customer,
        category=delivery,
        suggested_category=delivery,
        impact="major",
        sentiment_label="negative",
        acknowledge_due=timezone.now() - dt.timedelta(hours=1),
        resolve_due=timezone.now() + dt.timedelta(days=10),
    )
    response = client_for(auditor).get("/feedback/items/")
    assert response.status_code == 200
    content = response.content.decode()
    assert late.number in content
    assert late.complaint_number in content
    assert "Kessler Pumps GmbH" in content
    assert "Delivery <span" in content and ">suggested</span>" in content
    assert '<span class="badge text-bg-warning">Major</span>' in content
    assert '<span class="badge text-bg-primary">New</span>' in content
    assert (
        '<span class="badge text-bg-danger" title="Past its target to acknowledge">overdue'
        in content
    )
    assert client_for(outsider).get("/feedback/items/").status_code == 403


def test_item_list_filters_by_period_kind_overdue_confirmed_and_search(auditor):
    now = timezone.now()
    recent_complaint = FeedbackItemFactory(
        kind=ItemKind.COMPLAINT,
        received_at=now - dt.timedelta(days=3),
        acknowledge_due=now - dt.timedelta(hours=2),
        text="The gasket leaked on day one",
    )
    old_complaint = FeedbackItemFactory(
        kind=ItemKind.COMPLAINT,
        received_at=now - dt.timedelta(days=45),
        acknowledge_due=now - dt.timedelta(days=43),
        acknowledged_at=now - dt.timedelta(days=44),
        resolve_due=now + dt.timedelta(days=1),
    )
    closed_late = FeedbackItemFactory(
        kind=ItemKind.COMPLAINT,
        received_at=now - dt.timedelta(days=60),
        resolve_due=now - dt.timedelta(days=30),
        status=ItemStatus.CLOSED,
    )
    recent_praise = FeedbackItemFactory(
        kind=ItemKind.COMPLIMENT,
        received_at=now - dt.timedelta(days=1),
        title="Great on-site service",
        classification_confirmed=True,
    )
    client = client_for(auditor)

    def pks(query: str) -> set[int]:
        response = client.get(f"/feedback/items/?{query}")
        assert response.status_code == 200
        return listed_pks(response)

    assert pks("") == {recent_complaint.pk, old_complaint.pk, closed_late.pk, recent_praise.pk}
    assert pks("period=30") == {recent_complaint.pk, recent_praise.pk}
    assert pks("period=30&kind=complaint") == {recent_complaint.pk}
    assert pks("kind=complaint") == {recent_complaint.pk, old_complaint.pk, closed_late.pk}
    assert pks("overdue=1") == {recent_complaint.pk}
    assert pks("confirmed=yes") == {recent_praise.pk}
    assert pks("confirmed=no") == {recent_complaint.pk, old_complaint.pk, closed_late.pk}
    assert pks("q=gasket") == {recent_complaint.pk}
    assert pks("q=on-site") == {recent_praise.pk}
    assert pks(f"q={old_complaint.number}") == {old_complaint.pk}
    assert pks(f"q={closed_late.complaint_number.lower()}") == {closed_late.pk}
    assert pks("status=closed") == {closed_late.pk}


def test_item_list_filters_by_the_other_dimensions(auditor):
    now = timezone.now()
    survey = PerceptionSourceFactory(name="Survey")
    inbox = PerceptionSourceFactory(name="Inbox", structured=False)
    billing = Category.objects.get(code="billing")
    customer = CustomerFactory(name="Rhein Valves AG")
    line = ProductLineFactory(name="Gate valves")
    north = RegionFactory(name="North")
    batch = ImportBatchFactory(source=inbox)
    first = FeedbackItemFactory(
        source=survey,
        received_at=now - dt.timedelta(days=20),
        category=billing,
        impact="critical",
        sentiment_label="negative",
        customer=customer,
        product_line=line,
        region=north,
    )
    second = FeedbackItemFactory(
        source=inbox, received_at=now - dt.timedelta(days=2), import_batch=batch
    )
    client = client_for(auditor)

    def pks(query: str) -> set[int]:
        return listed_pks(client.get(f"/feedback/items/?{query}"))

    day = timezone.localtime(first.received_at).date()
    assert pks(f"source={survey.pk}") == {first.pk}
    assert pks(f"category={billing.pk}") == {first.pk}
    assert pks("impact=critical") == {first.pk}
    assert pks("sentiment_label=negative") == {first.pk}
    assert pks(f"customer={customer.pk}") == {first.pk}
    assert pks(f"customer={customer.number}") == {first.pk}
    assert pks("customer=rhein") == {first.pk}
    assert pks(f"product_line={line.pk}") == {first.pk}
    assert pks(f"region={north.pk}") == {first.pk}
    assert pks(f"import_batch={batch.number}") == {second.pk}
    assert pks(f"received_from={day}&received_to={day}") == {first.pk}
    assert pks(f"received_from={day + dt.timedelta(days=1)}") == {second.pk}
    assert pks(f"received_to={day - dt.timedelta(days=1)}") == set()


def test_item_list_query_count_does_not_grow_with_rows(qm_client):
    FeedbackItemFactory(customer=CustomerFactory(), category=Category.objects.get(code="other"))
    qm_client.get("/feedback/items/")
    with CaptureQueriesContext(connection) as one:
        assert qm_client.get("/feedback/items/").status_code == 200
    for _ in range(2):
        FeedbackItemFactory(
            kind=ItemKind.COMPLAINT,
            customer=CustomerFactory(),
            category=Category.objects.get(code="delivery"),
        )
    with CaptureQueriesContext(connection) as three:
        assert qm_client.get("/feedback/items/").status_code == 200
    assert len(three) == len(one)


def test_item_list_exports_for_the_auditor(auditor):
    item = FeedbackItemFactory(text="=cmd|' /C calc'!A0")
    response = client_for(auditor).get("/feedback/items/?export=csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][0] == "Number"
    assert rows[1][0] == item.number
    assert rows[1][-1] == "'=cmd|' /C calc'!A0"


def test_item_list_answers_htmx_with_the_table_only(auditor):
    item = FeedbackItemFactory()
    response = client_for(auditor).get("/feedback/items/?kind=suggestion", HTTP_HX_REQUEST="true")
    assert item.number in response.content.decode()
    assert b'<nav class="navbar' not in response.content


@pytest.mark.parametrize(
    "query",
    [
        "customer=%C2%B2",
        "customer=99999999999999999999999",
        "received_to=9999-12-31",
        "received_from=0001-01-01",
        "period=0",
        "period=abc",
    ],
)
def test_item_list_survives_odd_filter_values(auditor, query):
    assert client_for(auditor).get(f"/feedback/items/?{query}").status_code == 200


# --------------------------------------------------------------------------------------
# Feedback items: detail, recording, classifying, complaint handling
# --------------------------------------------------------------------------------------


def test_item_detail_shows_the_record_end_to_end(auditor, staff, outsider):
    delivery = Category.objects.get(code="delivery")
    rule = ClassificationRuleFactory(category=delivery, pattern="arrived late")
    batch = ImportBatchFactory()
    item = FeedbackItemFactory(
        kind=ItemKind.COMPLAINT,
        title="Valves arrived late",
        text="Line one\n  indented line two",
        score=3,
        scale="nps",
        category=delivery,
        suggested_category=delivery,
        suggestion_rule=rule,
        raw={"Ticket": "4711", "Body": "Line one"},
        import_batch=batch,
        acknowledge_due=timezone.now() - dt.timedelta(days=1),
        resolve_due=timezone.now() + dt.timedelta(days=5),
    )
    response = client_for(auditor).get(f"/feedback/items/{item.pk}/")
    assert response.status_code == 200
    content = response.content.decode()
    assert (
        '<pre class="pre-wrap mb-0" data-testid="verbatim">Line one\n  indented line two</pre>'
        in content
    )
    assert "<strong>Score:</strong> 3 on the NPS 0–10 scale" in content
    assert "<code>arrived late</code>" in content
    assert (
        '<th scope="row" class="fw-normal text-muted">Ticket</th><td class="text-break">4711</td>'
        in content
    )
    assert f'href="/feedback/imports/{batch.pk}/"' in content
    assert 'text-danger fw-bold" data-testid="acknowledge-due"' in content
    assert "— overdue" in content
    assert "not yet" in content
    assert "The customer was told we received it" not in content  # auditors only read
    content = client_for(staff).get(f"/feedback/items/{item.pk}/").content.decode()
    assert "The customer was told we received it" in content
    assert "Record the resolution" in content
    assert client_for(outsider).get(f"/feedback/items/{item.pk}/").status_code == 403


def test_item_detail_query_count_is_bounded(auditor):
    delivery = Category.objects.get(code="delivery")
    item = FeedbackItemFactory(
        kind=ItemKind.COMPLAINT,
        customer=CustomerFactory(),
        category=delivery,
        suggested_category=delivery,
        suggestion_rule=delivery.rules.first(),
        import_batch=ImportBatchFactory(),
    )
    client = client_for(auditor)
    client.get(f"/feedback/items/{item.pk}/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/feedback/items/{item.pk}/").status_code == 200
    assert len(queries) <= 8


def test_staff_record_feedback_by_hand_through_the_intake_service(staff, auditor):
    source = PerceptionSourceFactory(name="Phone", structured=False, acknowledge_days=1)
    customer = CustomerFactory()
    assert client_for(auditor).get("/feedback/items/add/").status_code == 403
    client = client_for(staff)
    assert client.get("/feedback/items/add/").status_code == 200
    response = client.post(
        "/feedback/items/add/",
        {
            "source": source.pk,
            "kind": ItemKind.COMPLAINT,
            "received_at": "2026-01-05T10:30",
            "customer": customer.number,
            "title": "Invoice wrong",
            "text": "We were invoiced twice for order 4711.",
            "impact": "minor",
        },
    )
    item = FeedbackItem.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/feedback/items/{item.pk}/"
    assert item.complaint_number.startswith("CMP-")
    assert item.customer == customer
    assert item.suggested_category.code == "billing"
    assert timezone.localtime(item.received_at).isoformat().startswith("2026-01-05T10:30")
    assert item.acknowledge_due is not None
    assert (
        AuditEvent.objects.filter(action="feedbackitem.created", object_id=str(item.pk)).count()
        == 1
    )


def test_recording_feedback_by_hand_names_the_bad_fields(staff):
    source = PerceptionSourceFactory()
    client = client_for(staff)
    response = client.post(
        "/feedback/items/add/",
        {"source": source.pk, "kind": ItemKind.SUGGESTION, "customer": "CUS-1999-0001"},
    )
    assert response.status_code == 422
    content = response.content.decode()
    assert '<div class="invalid-feedback d-block" data-field="customer">' in content
    response = client.post(
        "/feedback/items/add/",
        {"source": source.pk, "kind": ItemKind.SURVEY_RESPONSE, "score": 12, "scale": "nps"},
    )
    assert response.status_code == 422
    assert "12 is outside the NPS 0–10 scale (0–10)." in response.content.decode()
    response = client.post("/feedback/items/add/", {"source": source.pk, "kind": "suggestion"})
    assert "Nothing to record: give a text, a title or a score." in response.content.decode()
    assert FeedbackItem.objects.count() == 0


def test_the_same_feedback_recorded_twice_is_kept_once(staff):
    source = PerceptionSourceFactory()
    data = {
        "source": source.pk,
        "kind": "suggestion",
        "received_at": "2026-01-05T10:30",
        "text": "Please add a QR code to the label.",
    }
    client = client_for(staff)
    client.post("/feedback/items/add/", data)
    response = client.post("/feedback/items/add/", data, follow=True)
    assert FeedbackItem.objects.count() == 1
    assert "This feedback was recorded before as" in response.content.decode()


def test_an_analyst_classifies_an_item_and_staff_may_not(analyst, staff):
    billing = Category.objects.get(code="billing")
    item = FeedbackItemFactory(kind=ItemKind.COMPLAINT)
    assert client_for(staff).get(f"/feedback/items/{item.pk}/classify/").status_code == 403
    client = client_for(analyst)
    assert client.get(f"/feedback/items/{item.pk}/classify/").status_code == 200
    response = client.post(
        f"/feedback/items/{item.pk}/classify/", {"category": billing.pk, "triage": "on"}
    )
    assert response.status_code == 422
    assert "Rate the complaint&#x27;s impact." in response.content.decode()
    response = client.post(
        f"/feedback/items/{item.pk}/classify/",
        {"category": billing.pk, "impact": "major", "expectation_type": "explicit", "triage": "on"},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.category, item.impact, item.expectation_type) == (billing, "major", "explicit")
    assert item.classification_confirmed
    assert item.classified_by == analyst
    assert item.status == ItemStatus.TRIAGED
    actions = list(
        AuditEvent.objects.filter(object_id=str(item.pk), object_type="feedback.feedbackitem")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions[-2:] == ["feedbackitem.classified", "feedbackitem.triage"]


def test_complaint_handling_goes_through_the_services(staff, auditor):
    item = FeedbackItemFactory(kind=ItemKind.COMPLAINT)
    assert client_for(auditor).post(f"/feedback/items/{item.pk}/acknowledge/").status_code == 403
    client = client_for(staff)
    assert client.get(f"/feedback/items/{item.pk}/acknowledge/").status_code == 405
    client.post(f"/feedback/items/{item.pk}/acknowledge/")
    item.refresh_from_db()
    assert item.acknowledged_at is not None
    response = client.post(f"/feedback/items/{item.pk}/acknowledge/", follow=True)
    assert "The complaint is acknowledged already." in response.content.decode()
    response = client.post(f"/feedback/items/{item.pk}/resolve/", {"resolution": " "}, follow=True)
    assert "Say how it was resolved." in response.content.decode()
    client.post(f"/feedback/items/{item.pk}/resolve/", {"resolution": "Credit note sent."})
    item.refresh_from_db()
    assert item.resolved_at is not None
    event = AuditEvent.objects.get(action="feedbackitem.resolution")
    assert event.changes == {"resolution": "Credit note sent."}


def test_an_item_moves_through_its_transitions_from_the_detail_page(analyst):
    item = FeedbackItemFactory(category=Category.objects.get(code="other"))
    client = client_for(analyst)
    content = client.get(f"/feedback/items/{item.pk}/").content.decode()
    assert f'action="/feedback/items/{item.pk}/transition/triage/"' in content
    client.post(f"/feedback/items/{item.pk}/transition/triage/")
    item.refresh_from_db()
    assert item.status == ItemStatus.TRIAGED
    assert client.get(f"/feedback/items/{item.pk}/edit/").status_code == 404


# --------------------------------------------------------------------------------------
# Triage
# --------------------------------------------------------------------------------------


def test_triage_confirms_the_oldest_item_and_moves_to_the_next(analyst, staff):
    delivery = Category.objects.get(code="delivery")
    now = timezone.now()
    oldest = FeedbackItemFactory(
        received_at=now - dt.timedelta(days=3),
        category=delivery,
        suggested_category=delivery,
        text="Late again",
    )
    newer = FeedbackItemFactory(received_at=now - dt.timedelta(days=1), text="Second in line")
    FeedbackItemFactory(received_at=now - dt.timedelta(days=9), classification_confirmed=True)
    assert client_for(staff).get("/feedback/triage/").status_code == 403
    client = client_for(analyst)
    content = client.get("/feedback/triage/").content.decode()
    assert "Late again" in content
    assert 'data-testid="waiting">2 waiting' in content
    assert f'value="{delivery.pk}" data-category-key="' in content
    checked = re.search(r'value="(\d+)" data-category-key="\d+" checked', content)
    assert int(checked.group(1)) == delivery.pk
    assert "feedback/triage.js" in content
    response = client.post(
        "/feedback/triage/", {"item": oldest.pk, "category": delivery.pk, "cursor": ""}, follow=True
    )
    assert response.redirect_chain == [("/feedback/triage/", 302)]
    assert "Second in line" in response.content.decode()
    oldest.refresh_from_db()
    assert oldest.classification_confirmed
    assert oldest.status == ItemStatus.TRIAGED
    assert newer.pk == int(
        re.search(r'name="item" value="(\d+)"', response.content.decode()).group(1)
    )


def test_triage_skip_moves_past_an_item_and_corrections_are_kept(analyst):
    billing = Category.objects.get(code="billing")
    now = timezone.now()
    first = FeedbackItemFactory(received_at=now - dt.timedelta(days=3), text="Skip me")
    second = FeedbackItemFactory(
        kind=ItemKind.COMPLAINT, received_at=now - dt.timedelta(days=2), text="Correct me"
    )
    client = client_for(analyst)
    content = client.get("/feedback/triage/").content.decode()
    skip = re.search(r'href="([^"]+)" data-testid="skip"', content).group(1).replace("&amp;", "&")
    content = client.get(skip).content.decode()
    assert "Correct me" in content
    cursor = re.search(r'name="cursor" value="([^"]*)"', content).group(1)
    response = client.post(
        "/feedback/triage/", {"item": second.pk, "category": billing.pk, "cursor": cursor}
    )
    assert response.status_code == 422
    assert "Rate the complaint&#x27;s impact." in response.content.decode()
    response = client.post(
        "/feedback/triage/",
        {"item": second.pk, "category": billing.pk, "impact": "critical", "cursor": cursor},
        follow=True,
    )
    content = response.content.decode()
    assert "skipped item still waits" in content
    second.refresh_from_db()
    assert (second.category, second.impact, second.status) == (billing, "critical", "triaged")
    first.refresh_from_db()
    assert not first.classification_confirmed


def test_bulk_confirm_refuses_items_without_a_suggestion(analyst, staff):
    delivery = Category.objects.get(code="delivery")
    good = FeedbackItemFactory(category=delivery, suggested_category=delivery)
    unsuggested = FeedbackItemFactory()
    unrated = FeedbackItemFactory(
        kind=ItemKind.COMPLAINT, category=delivery, suggested_category=delivery
    )
    assert client_for(staff).get("/feedback/triage/bulk/").status_code == 403
    client = client_for(analyst)
    content = client.get("/feedback/triage/bulk/").content.decode()
    assert "There is no suggested category; classify it on its own." in content
    response = client.post(
        "/feedback/triage/bulk/", {"items": [good.pk, unsuggested.pk, unrated.pk]}, follow=True
    )
    texts = message_texts(response)
    alone = "classify it on its own."
    assert f"{unsuggested.number} not confirmed: there is no suggested category; {alone}" in texts
    assert f"{unrated.number} not confirmed: a complaint needs its impact rated; {alone}" in texts
    assert f"Confirmed 1 suggestions: {good.number}." in texts
    good.refresh_from_db()
    unsuggested.refresh_from_db()
    assert (good.classification_confirmed, good.status) == (True, ItemStatus.TRIAGED)
    assert (unsuggested.classification_confirmed, unsuggested.status) == (False, ItemStatus.NEW)


# --------------------------------------------------------------------------------------
# Imports
# --------------------------------------------------------------------------------------

SMALL_CSV = (
    b"When,Customer said,Ref\n"
    b"2026-01-05,The valve arrived late and scratched,A-1\n"
    b"2026-01-06,Very happy with the support,A-2\n"
    b"not a date,Something else,A-3\n"
)


def test_import_end_to_end_upload_map_import_and_review(analyst, staff):
    source = PerceptionSourceFactory(name="Old CRM", structured=False)
    assert client_for(staff).get("/feedback/imports/add/").status_code == 403
    client = client_for(analyst)
    assert client.get("/feedback/imports/add/").status_code == 200
    upload = SimpleUploadedFile("crm-export.csv", SMALL_CSV, content_type="text/csv")
    response = client.post(
        "/feedback/imports/add/", {"source": source.pk, "file": upload, "preset": "generic"}
    )
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/feedback/imports/{batch.pk}/map/"
    assert batch.status == BatchStatus.PENDING

    content = client.get(f"/feedback/imports/{batch.pk}/map/").content.decode()
    assert '<dd class="col-6">CSV</dd>' in content
    assert '<dd class="col-6">utf-8</dd>' in content
    assert 'data-testid="detected-preset">Other (map the columns)<' in content
    assert "The valve arrived late and scratched" in content
    assert '<option value="Customer said">Customer said</option>' in content

    mapping = {
        "preset": "generic",
        "mapped_for": "generic",
        "map_received_at": "When",
        "map_text": "Customer said",
        "map_external_id": "Ref",
        "kind": "complaint",
        "time_zone": "Europe/Berlin",
    }
    response = client.post(f"/feedback/imports/{batch.pk}/map/", {**mapping, "preview": "1"})
    content = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="mapped-preview"' in content
    assert "line 4: column &#x27;When&#x27;: &#x27;not a date&#x27; is not a date" in content
    assert FeedbackItem.objects.count() == 0

    response = client.post(f"/feedback/imports/{batch.pk}/map/", {**mapping, "import": "1"})
    assert response.status_code == 302
    assert response["Location"] == f"/feedback/imports/{batch.pk}/"
    batch.refresh_from_db()
    assert batch.status == BatchStatus.COMPLETED
    assert batch.options["mapping"] == {
        "received_at": "When",
        "text": "Customer said",
        "external_id": "Ref",
    }
    assert (
        AuditEvent.objects.filter(action="importbatch.queued", object_id=str(batch.pk)).count() == 1
    )
    assert FeedbackItem.objects.filter(import_batch=batch, kind="complaint").count() == 2

    assert client_for(staff).get(f"/feedback/imports/{batch.pk}/map/").status_code == 403
    content = client.get(f"/feedback/imports/{batch.pk}/").content.decode()
    assert "3 rows read: 2 created, 0 duplicates, 1 rejected." in content
    assert 'data-testid="created-count">2<' in content
    assert 'data-testid="rejected-count">1<' in content
    assert re.search(r"<tr><td>4</td><td>When</td><td>[^<]*not a date[^<]*</td></tr>", content)
    assert hashlib.sha256(SMALL_CSV).hexdigest() in content
    assert "crm-export.csv" in content
    assert "hx-trigger" not in content  # finished: the card stops polling
    assert f'href="/feedback/imports/{batch.pk}/rejects/"' in content
    # Once imported, the mapping page only points back to the batch.
    response = client.get(f"/feedback/imports/{batch.pk}/map/")
    assert response.status_code == 302


def test_choosing_another_preset_starts_from_its_own_mapping(analyst):
    with open(f"{SAMPLES}/zendesk.csv", "rb") as handle:
        upload = SimpleUploadedFile("zendesk.csv", handle.read())
    batch = ImportBatchFactory(file=store_file(upload, name="zendesk.csv"), preset="")
    client = client_for(analyst)
    content = client.get(f"/feedback/imports/{batch.pk}/map/").content.decode()
    assert 'data-testid="detected-preset">Zendesk<' in content
    assert '<option value="Created at" selected>Created at</option>' in content
    response = client.post(
        f"/feedback/imports/{batch.pk}/map/",
        {
            "preset": "generic",
            "mapped_for": "zendesk",
            "map_received_at": "Created at",
            "preview": "1",
        },
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert '<option value="Created at" selected>' not in content
    assert 'name="mapped_for" value="generic"' in content
    assert "no column is mapped to received_at" in content


def test_the_original_file_and_the_rejects_download_for_those_who_may_view(auditor, outsider):
    batch = ImportBatchFactory(status=BatchStatus.COMPLETED)
    response = client_for(auditor).get(f"/feedback/imports/{batch.pk}/file/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"Date,Text\n2026-01-05,Fine\n"
    assert 'filename="upload.csv"' in response["Content-Disposition"]
    assert client_for(outsider).get(f"/feedback/imports/{batch.pk}/file/").status_code == 403
    assert client_for(auditor).get(f"/feedback/imports/{batch.pk}/rejects/").status_code == 404


def test_uploading_an_empty_file_says_so(analyst):
    source = PerceptionSourceFactory()
    with open(f"{SAMPLES}/empty.csv", "rb") as handle:
        response = client_for(analyst).post(
            "/feedback/imports/add/", {"source": source.pk, "file": handle}
        )
    assert response.status_code == 422
    assert "The submitted file is empty." in response.content.decode()
    assert ImportBatch.objects.count() == 0


@pytest.mark.parametrize("sample", ["not_a_workbook.xlsx", "corrupt.xlsx"])
def test_uploading_an_unreadable_file_says_why_and_keeps_no_batch(analyst, sample):
    source = PerceptionSourceFactory()
    with open(f"{SAMPLES}/{sample}", "rb") as handle:
        response = client_for(analyst).post(
            "/feedback/imports/add/", {"source": source.pk, "file": handle}
        )
    assert response.status_code == 422
    content = response.content.decode()
    assert f"{sample} cannot be imported: " in content
    assert ImportBatch.objects.count() == 0


def test_a_mapping_that_imports_nothing_is_refused_with_the_reason(analyst):
    batch = ImportBatchFactory()
    response = client_for(analyst).post(
        f"/feedback/imports/{batch.pk}/map/",
        {"preset": "generic", "mapped_for": "generic", "map_text": "Text", "import": "1"},
    )
    assert response.status_code == 422
    content = response.content.decode()
    assert "None of the first 1 rows would import; fix the mapping" in content
    batch.refresh_from_db()
    assert batch.status == BatchStatus.PENDING


def test_import_list_shows_file_hash_and_status_and_refuses_an_outsider(auditor, outsider):
    batch = ImportBatchFactory(status=BatchStatus.FAILED, created_count=7)
    content = client_for(auditor).get("/feedback/imports/").content.decode()
    assert batch.number in content
    assert f"upload.csv ({batch.file.sha256[:12]})" in content
    assert '<span class="badge text-bg-danger">Failed</span>' in content
    assert "Import a file" not in content  # auditors do not import
    assert client_for(outsider).get("/feedback/imports/").status_code == 403


def test_the_progress_card_polls_only_while_the_batch_runs(auditor):
    batch = ImportBatchFactory(status=BatchStatus.RUNNING, created_count=10, sentiment_done=4)
    client = client_for(auditor)
    content = client.get(f"/feedback/imports/{batch.pk}/progress/").content.decode()
    assert f'hx-get="/feedback/imports/{batch.pk}/progress/" hx-trigger="every 2s"' in content
    assert 'value="40"' in content
    assert "4 of 10 items scored" in content
    ImportBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.COMPLETED)
    content = client.get(f"/feedback/imports/{batch.pk}/progress/").content.decode()
    assert "hx-trigger" not in content


# --------------------------------------------------------------------------------------
# Taxonomy
# --------------------------------------------------------------------------------------


def test_categories_are_added_and_edited_but_never_deleted(analyst, auditor):
    assert client_for(auditor).get("/feedback/categories/add/").status_code == 403
    client = client_for(analyst)
    response = client.post(
        "/feedback/categories/add/", {"code": "packaging", "name": "Packaging", "active": "on"}
    )
    category = Category.objects.get(code="packaging")
    assert response.status_code == 302
    content = client.get(f"/feedback/categories/{category.pk}/").content.decode()
    assert "0 feedback items" in content
    assert "Re-map to another category" in content
    response = client.post(
        f"/feedback/categories/{category.pk}/edit/", {"code": "packaging", "name": "Packaging"}
    )
    category.refresh_from_db()
    assert category.active is False
    assert client.post(f"/feedback/categories/{category.pk}/delete/").status_code == 404
    assert "Packaging" in client_for(auditor).get("/feedback/categories/").content.decode()


def test_remapping_a_category_moves_its_items_with_a_reason(analyst, staff):
    old = CategoryFactory(code="shipping", name="Shipping")
    new = Category.objects.get(code="delivery")
    items = [FeedbackItemFactory(category=old, suggested_category=old) for _ in range(2)]
    assert client_for(staff).get(f"/feedback/categories/{old.pk}/remap/").status_code == 403
    client = client_for(analyst)
    response = client.post(f"/feedback/categories/{old.pk}/remap/", {"new": new.pk, "reason": ""})
    assert response.status_code == 422
    assert '<div class="invalid-feedback d-block" data-field="reason">' in response.content.decode()
    response = client.post(
        f"/feedback/categories/{old.pk}/remap/", {"new": new.pk, "reason": "Merged taxonomy"}
    )
    assert response.status_code == 302
    for item in items:
        item.refresh_from_db()
        assert (item.category, item.suggested_category) == (new, new)
    event = AuditEvent.objects.get(action="category.remapped")
    assert event.changes == {"to": "Delivery", "items": 2, "reason": "Merged taxonomy"}


def test_classification_rules_check_their_pattern_and_only_the_manager_deletes(
    analyst, quality_manager, auditor
):
    category = Category.objects.get(code="delivery")
    client = client_for(analyst)
    assert client_for(auditor).get("/feedback/rules/add/").status_code == 403
    response = client.post(
        "/feedback/rules/add/",
        {"category": category.pk, "kind": "regex", "pattern": "late(", "weight": 1, "active": "on"},
    )
    assert response.status_code == 422
    assert "is not a valid regular expression" in response.content.decode()
    response = client.post(
        "/feedback/rules/add/",
        {
            "category": category.pk,
            "kind": "phrase",
            "pattern": "too late",
            "weight": 2,
            "active": "on",
        },
    )
    assert response.status_code == 302
    rule = category.rules.get(pattern="too late")
    assert "too late" in client.get("/feedback/rules/?q=too+late").content.decode()
    assert client.post(f"/feedback/rules/{rule.pk}/delete/").status_code == 403
    assert client_for(quality_manager).post(f"/feedback/rules/{rule.pk}/delete/").status_code == 302
    assert not category.rules.filter(pattern="too late").exists()


def test_impact_criteria_are_edited_but_levels_never_added(quality_manager, auditor):
    level = ImpactLevel.objects.get(code="critical")
    content = client_for(auditor).get("/feedback/impact-levels/").content.decode()
    assert "Safety, legal or regulatory consequence" in content
    assert client_for(auditor).get(f"/feedback/impact-levels/{level.pk}/edit/").status_code == 403
    client = client_for(quality_manager)
    response = client.post(
        f"/feedback/impact-levels/{level.pk}/edit/", {"criteria": "Injury or a line stop."}
    )
    assert response.status_code == 302
    level.refresh_from_db()
    assert level.criteria == "Injury or a line stop."
    assert client.get("/feedback/impact-levels/add/").status_code == 404
