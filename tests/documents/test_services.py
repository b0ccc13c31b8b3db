"""Document versions through review and approval, supersession, distributions, acknowledgements."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from tests.documents.factories import (
    DocumentFactory,
    DocumentVersionFactory,
    approved,
    approver,
)
from tests.factories import ContactFactory, CustomerFactory

from harken.core.models import AuditEvent
from harken.core.workflow import TransitionError
from harken.documents import services
from harken.documents.choices import Occasion, VersionStatus
from harken.documents.models import Document, DocumentVersion
from harken.documents.seed import METHOD_DOCUMENTS

pytestmark = pytest.mark.django_db


def give(version, customer, *, at=None, contact=None):
    return services.record_distribution(
        services.Provision(
            version=version, customer=customer, contact=contact, at=at, reason="Asked for it"
        ),
        actor=None,
    )


def test_a_draft_is_submitted_reviewed_and_approved_with_who_and_when(quality_manager, analyst):
    version = DocumentVersionFactory(label="A")
    services.submit(version, actor=analyst)
    assert version.status == VersionStatus.IN_REVIEW
    services.record_review(version, actor=analyst, comment="Fits the product.")
    services.approve(version, actor=quality_manager)
    version.refresh_from_db()
    assert version.status == VersionStatus.APPROVED
    assert version.is_current
    assert version.reviewed_by == analyst
    assert version.review_comment == "Fits the product."
    assert version.approved_by == quality_manager
    assert version.effective_from == timezone.localdate()
    actions = list(
        AuditEvent.objects.filter(
            object_id=str(version.pk), object_type="documents.documentversion"
        )
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == [
        "documentversion.created",
        "documentversion.submit",
        "documentversion.reviewed",
        "documentversion.approve",
        "documentversion.effective",
    ]


def test_approval_needs_a_review_and_the_approve_role(quality_manager, analyst):
    version = DocumentVersionFactory()
    services.submit(version, actor=analyst)
    with pytest.raises(TransitionError, match="nobody has recorded a review"):
        services.approve(version, actor=quality_manager)
    services.record_review(version, actor=analyst)
    with pytest.raises(PermissionDenied):
        services.approve(version, actor=analyst)
    assert DocumentVersion.objects.get(pk=version.pk).status == VersionStatus.IN_REVIEW


def test_an_empty_draft_cannot_be_submitted(analyst):
    version = DocumentVersionFactory(body="")
    with pytest.raises(TransitionError, match="neither a text nor a file"):
        services.submit(version, actor=analyst)


def test_approving_a_new_version_supersedes_the_old_one():
    document = DocumentFactory()
    first = approved(document, "A", at=timezone.now() - dt.timedelta(days=30))
    second = approved(document, "B")
    first.refresh_from_db()
    assert first.status == VersionStatus.SUPERSEDED
    assert not first.is_current
    assert first.superseded_by == second
    assert second.is_current
    assert list(document.versions.filter(is_current=True)) == [second]


def test_the_database_refuses_two_current_versions():
    document = DocumentFactory()
    approved(document, "A")
    other = DocumentVersionFactory(document=document, label="B", status=VersionStatus.APPROVED)
    other.is_current = True
    with pytest.raises(IntegrityError), transaction.atomic():
        other.save()


def test_a_version_approved_for_a_later_date_takes_effect_on_that_day():
    document = DocumentFactory()
    first = approved(document, "A")
    later = timezone.localdate() + dt.timedelta(days=10)
    second = approved(document, "B", effective_from=later)
    first.refresh_from_db()
    assert first.is_current and first.status == VersionStatus.APPROVED
    assert second.status == VersionStatus.APPROVED and not second.is_current
    assert services.bring_into_effect(timezone.now()) == "0 versions took effect"
    summary = services.bring_into_effect(timezone.now() + dt.timedelta(days=11))
    assert summary == f"1 versions took effect: {second}"
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.is_current
    assert first.status == VersionStatus.SUPERSEDED


def test_an_effective_date_before_approval_is_refused(quality_manager):
    version = DocumentVersionFactory()
    services.submit(version, actor=quality_manager)
    services.record_review(version, actor=quality_manager)
    with pytest.raises(ValidationError) as caught:
        services.approve(
            version,
            actor=quality_manager,
            effective_from=timezone.localdate() - dt.timedelta(days=1),
        )
    assert caught.value.message_dict == {
        "effective_from": ["A version cannot take effect before it is approved."]
    }


def test_withdrawing_the_current_version_leaves_none_current(quality_manager):
    version = approved()
    with pytest.raises(TransitionError, match="say why"):
        services.withdraw(version, actor=quality_manager, reason=" ")
    services.withdraw(version, actor=quality_manager, reason="Product discontinued")
    version.refresh_from_db()
    assert version.status == VersionStatus.WITHDRAWN
    assert not version.is_current
    assert services.current_version(version.document) is None


@pytest.mark.parametrize(
    "status", [VersionStatus.DRAFT, VersionStatus.IN_REVIEW, VersionStatus.WITHDRAWN]
)
def test_a_version_that_is_not_approved_is_never_distributed(status):
    version = DocumentVersionFactory(status=status)
    with pytest.raises(ValidationError) as caught:
        give(version, CustomerFactory())
    message = caught.value.message_dict["version"][0]
    assert message.endswith("only an approved version may be provided to a customer.")
    assert version.distributions.count() == 0


def test_a_superseded_version_is_never_distributed_again():
    document = DocumentFactory()
    first = approved(document, "A")
    approved(document, "B")
    first.refresh_from_db()
    with pytest.raises(ValidationError, match="is superseded"):
        give(first, CustomerFactory())


def test_a_distribution_records_which_version_went_to_whom_when_and_why():
    version = approved(at=timezone.now() - dt.timedelta(days=5))
    contact = ContactFactory()
    at = timezone.now() - dt.timedelta(days=2)
    distribution = services.record_distribution(
        services.Provision(
            version=version,
            customer=contact.customer,
            contact=contact,
            at=at,
            occasion=Occasion.QUOTE,
            reason="Sent with the quotation",
            reference="Q-1001",
        ),
        actor=approver(),
    )
    assert distribution.number.startswith("DST-")
    assert (distribution.version, distribution.customer, distribution.contact) == (
        version,
        contact.customer,
        contact,
    )
    assert distribution.distributed_at == at
    assert distribution.reason == "Sent with the quotation"
    assert distribution.distributed_by == approver()
    event = AuditEvent.objects.get(action="distribution.created")
    assert event.changes["version"] == [None, version.pk]


def test_a_copy_cannot_predate_the_approval_of_its_version():
    version = approved(at=timezone.now() - dt.timedelta(days=1))
    with pytest.raises(ValidationError) as caught:
        give(version, CustomerFactory(), at=timezone.now() - dt.timedelta(days=2))
    assert caught.value.message_dict["distributed_at"][0].endswith(
        "it cannot have been provided before."
    )


def test_a_contact_of_another_customer_is_refused():
    with pytest.raises(ValidationError) as caught:
        services.record_distribution(
            services.Provision(
                version=approved(),
                customer=CustomerFactory(),
                contact=ContactFactory(),
                reason="Why not",
            ),
            actor=None,
        )
    assert caught.value.message_dict == {"contact": ["The contact works for another customer."]}


def test_superseding_lists_the_customers_who_still_hold_the_old_version():
    document = DocumentFactory()
    old = approved(document, "A", at=timezone.now() - dt.timedelta(days=60))
    keeps_old, updated, twice = (
        CustomerFactory(name="Keeps Old"),
        CustomerFactory(),
        CustomerFactory(name="Twice"),
    )
    give(old, keeps_old, at=timezone.now() - dt.timedelta(days=50))
    give(old, updated, at=timezone.now() - dt.timedelta(days=40))
    give(old, twice, at=timezone.now() - dt.timedelta(days=40))
    latest_twice = give(old, twice, at=timezone.now() - dt.timedelta(days=20))
    new = approved(document, "B")
    give(new, updated)
    old.refresh_from_db()
    holders = list(services.holders(old))
    assert [h.customer.name for h in holders] == ["Keeps Old", "Twice"]
    assert holders[1] == latest_twice
    assert [h.customer for h in services.holders(new)] == [updated]


def test_acknowledgements_are_asked_of_the_roles_and_again_for_each_new_version(
    staff, auditor, quality_manager
):
    document = DocumentFactory(acknowledge_roles=["customer_facing"])
    first = approved(document, "1")
    current, readers = services.reading_status(document)
    assert current == first
    assert [(r.user, r.acknowledged_at) for r in readers] == [(staff, None)]
    assert list(services.waiting_for(staff)) == [first]
    services.acknowledge(first, actor=staff)
    services.acknowledge(first, actor=staff)  # idempotent
    assert first.acknowledgements.count() == 1
    assert list(services.waiting_for(staff)) == []
    with pytest.raises(PermissionDenied):
        services.acknowledge(first, actor=auditor)
    with pytest.raises(PermissionDenied):
        services.acknowledge(first, actor=quality_manager)
    second = approved(document, "2")
    _current, readers = services.reading_status(document)
    assert [(r.user, r.acknowledged_at) for r in readers] == [(staff, None)]
    assert list(services.waiting_for(staff)) == [second]
    first.refresh_from_db()
    with pytest.raises(ValidationError, match="Only the current version"):
        services.acknowledge(first, actor=staff)


def test_the_method_documents_are_seeded_once_with_their_clauses():
    seeded = Document.objects.exclude(template_key="").order_by("template_key")
    assert [(d.template_key, d.clauses) for d in seeded] == [
        ("notice-revision", "8.2.1, 7.5.3"),
        ("procedure-8.2.1", "8.2.1"),
        ("procedure-9.1.2", "9.1.2"),
    ]
    assert len(METHOD_DOCUMENTS) == 3
    procedure = seeded.get(template_key="procedure-9.1.2")
    draft = procedure.versions.get()
    assert draft.status == VersionStatus.DRAFT
    for heading in ("## Purpose", "## Scope", "## Roles", "## Review cadence", "## Escalation"):
        assert heading in draft.body
    assert procedure.acknowledge_roles == ["customer_facing"]
    from harken.documents.seed import seed_method_documents

    seed_method_documents()
    assert Document.objects.exclude(template_key="").count() == 3
