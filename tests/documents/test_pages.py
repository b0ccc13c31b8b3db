"""Document pages: the register, versions through approval, distributions (never of an
unapproved version), acknowledgements, each with the persona who must be refused."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from tests.conftest import client_for
from tests.documents.factories import DocumentFactory, DocumentVersionFactory, approved
from tests.factories import ContactFactory, CustomerFactory

from harken.core.models import AuditEvent
from harken.documents import services
from harken.documents.choices import VersionStatus
from harken.documents.models import Acknowledgement, Distribution, Document, DocumentVersion

pytestmark = pytest.mark.django_db


def message_texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_register_lists_documents_with_their_current_version(staff, outsider):
    document = DocumentFactory(title="Valve spec", clauses="8.2.1, 7.5")
    approved(document, "B")
    response = client_for(staff).get("/documents/")
    assert response.status_code == 200
    pattern = r"<tr>\s*<td><a[^>]*>" + re.escape(document.number) + r"</a>(.*?)</tr>"
    row = re.search(pattern, response.content.decode(), re.S)
    assert row is not None
    cells = re.findall(r"<td>(.*?)</td>", row.group(1), re.S)
    assert "Valve spec" in cells[0]
    assert cells[2] == "B"
    assert client_for(outsider).get("/documents/").status_code == 403


def test_the_register_filters_by_clause_without_partial_matches(qm_client):
    DocumentFactory(title="Serves 8.2.1", clauses="8.2.1, 9.1.2")
    DocumentFactory(title="Serves 8.2", clauses="8.2")
    content = qm_client.get("/documents/?clause=8.2").content.decode()
    assert "Serves 8.2<" in content
    assert "Serves 8.2.1" not in content
    assert "Serves 8.2.1" in qm_client.get("/documents/?clause=9.1.2").content.decode()


def test_staff_read_documents_but_may_not_add_them(staff, analyst):
    assert client_for(staff).get("/documents/add/").status_code == 403
    client = client_for(analyst)
    response = client.post(
        "/documents/add/",
        {
            "title": "Terms of sale",
            "kind": "contract_terms",
            "owner_role": "quality_manager",
            "clauses": "8.2.1 8.2.3",
            "acknowledge_roles": ["customer_facing"],
        },
    )
    assert response.status_code == 302
    document = Document.objects.get(title="Terms of sale")
    assert document.clauses == "8.2.1, 8.2.3"
    assert document.acknowledge_roles == ["customer_facing"]


def test_a_bad_clause_is_named(qm_client):
    response = qm_client.post(
        "/documents/add/",
        {"title": "X", "kind": "procedure", "owner_role": "quality_manager", "clauses": "8.2.x"},
    )
    assert response.status_code == 422
    assert "&#x27;8.2.x&#x27; is not a clause number such as 8.2.1." in response.content.decode()


def test_a_version_goes_from_draft_to_current_through_the_pages(analyst, quality_manager, staff):
    document = DocumentFactory()
    writer = client_for(analyst)
    upload = SimpleUploadedFile("spec.pdf", b"%PDF-1.4 spec", content_type="application/pdf")
    response = writer.post(
        f"/documents/versions/add/?document={document.pk}",
        {
            "document": document.pk,
            "label": "A",
            "body": "",
            "change_summary": "First",
            "upload": upload,
        },
    )
    assert response.status_code == 302, response.content[:500]
    version = document.versions.get()
    assert version.file.name == "spec.pdf"
    assert writer.post(f"/documents/versions/{version.pk}/transition/submit/").status_code == 302
    writer.post(f"/documents/versions/{version.pk}/transition/review/", {"comment": "Good"})
    # The analyst may review but not approve.
    today = timezone.localdate().isoformat()
    refused = writer.post(
        f"/documents/versions/{version.pk}/transition/approve/", {"effective_from": today}
    )
    assert refused.status_code == 403
    approver = client_for(quality_manager)
    response = approver.post(
        f"/documents/versions/{version.pk}/transition/approve/", {"effective_from": today}
    )
    assert message_texts(response) == [f"{version} is approved and current."]
    version.refresh_from_db()
    assert (version.status, version.is_current, version.reviewed_by) == (
        VersionStatus.APPROVED,
        True,
        analyst,
    )
    page = client_for(staff).get(f"/documents/versions/{version.pk}/")
    assert page.status_code == 200
    download = client_for(staff).get(f"/documents/versions/{version.pk}/file/")
    assert b"".join(download.streaming_content) == b"%PDF-1.4 spec"


def test_only_a_draft_is_edited_or_deleted(qm_client):
    version = approved()
    assert qm_client.get(f"/documents/versions/{version.pk}/edit/").status_code == 404
    assert qm_client.post(f"/documents/versions/{version.pk}/delete/").status_code == 404
    draft = DocumentVersionFactory(document=version.document, label="next")
    response = qm_client.post(
        f"/documents/versions/{draft.pk}/edit/",
        {"label": "next", "body": "Changed text", "change_summary": "x"},
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.body == "Changed text"
    assert qm_client.post(f"/documents/versions/{draft.pk}/delete/").status_code == 302
    assert not DocumentVersion.objects.filter(pk=draft.pk).exists()


def test_an_unapproved_version_cannot_be_distributed_through_the_page(analyst):
    draft = DocumentVersionFactory(label="draft-1")
    customer = CustomerFactory()
    client = client_for(analyst)
    page = client.get("/documents/distributions/add/").content.decode()
    assert f'value="{draft.pk}"' not in page  # not even offered
    response = client.post(
        "/documents/distributions/add/",
        {
            "version": draft.pk,
            "customer": customer.pk,
            "distributed_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "occasion": "by_hand",
            "reason": "Asked for it",
        },
    )
    assert response.status_code == 422
    assert (
        f"{draft} is draft: only an approved version may be provided to a customer."
        in response.content.decode()
    )
    assert Distribution.objects.count() == 0


def test_a_copy_given_by_hand_is_recorded_and_exported(analyst, auditor, staff):
    version = approved(at=timezone.now() - dt.timedelta(days=1))
    contact = ContactFactory()
    client = client_for(analyst)
    assert client_for(staff).get("/documents/distributions/add/").status_code == 403
    response = client.post(
        "/documents/distributions/add/",
        {
            "version": version.pk,
            "customer": contact.customer.pk,
            "contact": contact.pk,
            "distributed_at": (timezone.localtime() - dt.timedelta(hours=1)).strftime(
                "%Y-%m-%dT%H:%M"
            ),
            "occasion": "quote",
            "reason": "Sent with the quotation",
            "reference": "Q-77",
        },
    )
    assert response.status_code == 302
    distribution = Distribution.objects.get()
    assert (distribution.contact, distribution.reference) == (contact, "Q-77")
    export = client_for(auditor).get("/documents/distributions/?export=csv")
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:5] == ["Number", "Provided at", "Document", "Title", "Version"]
    assert rows[1][2] == version.document.number
    assert rows[1][7] == contact.customer.name


def test_a_superseded_version_page_lists_its_holders(qm_client):
    document = DocumentFactory()
    old = approved(document, "A", at=timezone.now() - dt.timedelta(days=10))
    holder = CustomerFactory(name="Still Has A")
    moved_on = CustomerFactory(name="Has B Now")
    for customer in (holder, moved_on):
        services.record_distribution(
            services.Provision(
                version=old,
                customer=customer,
                reason="Quote",
                at=timezone.now() - dt.timedelta(days=5),
            ),
            actor=None,
        )
    new = approved(document, "B")
    services.record_distribution(
        services.Provision(version=new, customer=moved_on, reason="Update"), actor=None
    )
    content = qm_client.get(f"/documents/versions/{old.pk}/").content.decode()
    holders = re.search(r'data-testid="holders">(.*?)</div>\s*</div>', content, re.S).group(1)
    assert "Still Has A" in holders
    assert "Has B Now" not in holders
    assert "Customers holding this version (1)" in holders
    assert "Notify holders" in content


def test_a_required_reader_acknowledges_on_the_document_page(staff, auditor, quality_manager):
    document = DocumentFactory(acknowledge_roles=["customer_facing"], kind="procedure")
    version = approved(document, "1")
    page = client_for(staff).get(f"/documents/{document.pk}/").content.decode()
    assert 'data-testid="readers-missing">1<' in page
    assert "I have read and understood v1" in page
    response = client_for(staff).post(f"/documents/versions/{version.pk}/acknowledge/")
    assert response.status_code == 302
    assert Acknowledgement.objects.get().user == staff
    page = client_for(staff).get(f"/documents/{document.pk}/").content.decode()
    assert 'data-testid="readers-missing">0<' in page
    assert "I have read and understood" not in page
    # Nobody acknowledges for a role they do not hold; the auditor changes nothing.
    assert (
        client_for(auditor).post(f"/documents/versions/{version.pk}/acknowledge/").status_code
        == 403
    )
    assert (
        client_for(quality_manager)
        .post(f"/documents/versions/{version.pk}/acknowledge/")
        .status_code
        == 403
    )
    assert Acknowledgement.objects.count() == 1


def test_the_home_page_asks_people_to_read_the_new_procedure(staff):
    document = DocumentFactory(acknowledge_roles=["customer_facing"], title="Talking to customers")
    approved(document, "2")
    content = client_for(staff).get("/").content.decode()
    assert 'data-testid="documents-panel"' in content
    assert "Talking to customers v2" in content


@pytest.mark.parametrize("rows", [1, 3])
def test_list_pages_cost_the_same_for_1_and_3_rows(qm_client, rows):
    for _ in range(rows):
        version = approved()
        services.record_distribution(
            services.Provision(version=version, customer=CustomerFactory(), reason="r"),
            actor=None,
        )
    for url in ("/documents/", "/documents/distributions/", "/documents/versions/"):
        qm_client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert qm_client.get(url).status_code == 200
        assert len(queries) <= 12, (url, len(queries))


def test_detail_pages_have_a_bounded_number_of_queries(qm_client):
    document = DocumentFactory(acknowledge_roles=["customer_facing"])
    for label in ("1", "2", "3"):
        version = approved(document, label)
        services.record_distribution(
            services.Provision(version=version, customer=CustomerFactory(), reason="r"),
            actor=None,
        )
    with CaptureQueriesContext(connection) as queries:
        assert qm_client.get(f"/documents/{document.pk}/").status_code == 200
    assert len(queries) <= 16
    with CaptureQueriesContext(connection) as queries:
        assert qm_client.get(f"/documents/versions/{version.pk}/").status_code == 200
    assert len(queries) <= 18


def test_every_step_is_one_audit_event(qm_client):
    version = DocumentVersionFactory()
    before = AuditEvent.objects.count()
    qm_client.post(f"/documents/versions/{version.pk}/transition/submit/")
    assert AuditEvent.objects.count() == before + 1
    assert AuditEvent.objects.order_by("-seq").first().changes == {"status": ["draft", "in_review"]}
