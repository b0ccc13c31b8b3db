"""Recording feedback: validation, de-duplication, classification, deadlines, workflow."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from tests.factories import CustomerFactory, PerceptionSourceFactory

from harken.core.models import AuditEvent
from harken.core.workflow import TransitionError, apply_transition
from harken.feedback import services
from harken.feedback.models import Category, FeedbackItem
from harken.feedback.services import Intake, record_feedback
from harken.feedback.ticks import flag_overdue_complaints

pytestmark = pytest.mark.django_db


@pytest.fixture
def source():
    return PerceptionSourceFactory(name="Complaints", default_kind="complaint")


def test_the_taxonomy_is_seeded_with_rules():
    assert set(Category.objects.values_list("code", flat=True)) >= {
        "delivery",
        "quality_defect",
        "documentation",
        "billing",
        "responsiveness",
        "security_privacy",
        "usability",
        "product_performance",
        "other",
    }
    assert Category.objects.get(code="delivery").rules.filter(pattern="late").exists()


def test_a_complaint_gets_numbers_deadlines_and_a_suggested_category(source):
    received = timezone.make_aware(dt.datetime(2026, 11, 20, 10, 0))  # a Friday in Berlin
    item, created = record_feedback(
        Intake(source=source, received_at=received, text="The delivery was late again.")
    )
    assert created
    assert item.number.startswith("FB-")
    assert item.complaint_number.startswith("CMP-")
    assert item.suggested_category.code == "delivery"
    assert item.category == item.suggested_category
    assert item.suggestion_rule.pattern in {"late", "delivery"}
    assert not item.classification_confirmed
    assert item.sentiment_source == "lexicon"
    assert item.sentiment_label == "neutral" or item.sentiment_score < 0.05
    # Two working days after Friday 10:00 is Tuesday 10:00, company time.
    assert timezone.localtime(item.acknowledge_due).isoformat() == "2026-11-24T10:00:00+01:00"
    event = AuditEvent.objects.get(action="feedbackitem.created", object_id=str(item.pk))
    assert event.changes["complaint_number"] == [None, item.complaint_number]


def test_scored_items_take_their_sentiment_from_the_score(source):
    item, _ = record_feedback(
        Intake(source=source, kind="survey_response", score=3, scale="nps", text="Great!")
    )
    assert item.sentiment_label == "negative"
    assert item.sentiment_source == "score"
    assert item.sentiment_score == pytest.approx(-0.4)


def test_the_same_external_id_is_recorded_once(source):
    first, created = record_feedback(Intake(source=source, external_id="T-1", text="A"))
    again, created_again = record_feedback(Intake(source=source, external_id="T-1", text="B"))
    assert created and not created_again
    assert again.pk == first.pk
    assert FeedbackItem.objects.count() == 1


def test_the_same_content_without_an_id_is_recorded_once(source):
    when = timezone.now() - dt.timedelta(hours=1)
    record_feedback(Intake(source=source, received_at=when, text="Same words"))
    _, created = record_feedback(Intake(source=source, received_at=when, text="Same words"))
    assert not created


def test_bad_input_names_each_field(source):
    customer = CustomerFactory()
    other = CustomerFactory()
    from tests.factories import ContactFactory

    with pytest.raises(ValidationError) as info:
        record_feedback(
            Intake(
                source=source,
                kind="gossip",
                score=11,
                scale="nps",
                received_at=timezone.now() + dt.timedelta(days=5),
                customer=customer,
                contact=ContactFactory(customer=other),
                impact="huge",
            )
        )
    errors = info.value.message_dict
    assert errors["kind"] == ["Choose the kind of feedback."]
    assert errors["score"] == ["11 is outside the NPS 0–10 scale (0–10)."]
    assert errors["received_at"] == ["The date is in the future."]
    assert errors["contact"] == ["The contact works for another customer."]
    assert errors["impact"] == ["Choose minor, major or critical."]
    assert FeedbackItem.objects.count() == 0


def test_nothing_to_record_is_refused(source):
    with pytest.raises(ValidationError) as info:
        record_feedback(Intake(source=source))
    assert "text" in info.value.message_dict


def test_classification_by_a_person_is_recorded_with_before_and_after(source, analyst):
    item, _ = record_feedback(Intake(source=source, text="We were overcharged on the invoice"))
    assert item.suggested_category.code == "billing"
    quality = Category.objects.get(code="quality_defect")
    services.classify(item, actor=analyst, category=quality, impact="major")
    item.refresh_from_db()
    assert item.classification_confirmed
    assert item.classified_by == analyst
    assert item.suggested_category.code == "billing"  # the suggestion stays on record
    event = AuditEvent.objects.filter(action="feedbackitem.classified").get()
    assert event.changes["category"] == [Category.objects.get(code="billing").pk, quality.pk]
    assert event.changes["impact"] == ["", "major"]


def test_staff_may_not_classify(source, staff):
    item, _ = record_feedback(Intake(source=source, text="Late"))
    with pytest.raises(PermissionDenied):
        services.classify(item, actor=staff, category=item.category, impact="minor")


def test_complaint_needs_impact_to_be_classified(source, analyst):
    item, _ = record_feedback(Intake(source=source, text="Late"))
    with pytest.raises(ValidationError) as info:
        services.classify(item, actor=analyst, category=item.category)
    assert info.value.message_dict == {"impact": ["Rate the complaint's impact."]}


def test_transitions_are_guarded(source, analyst):
    item, _ = record_feedback(Intake(source=source, text="Something unclassifiable happened"))
    assert item.category is None
    with pytest.raises(TransitionError) as info:
        apply_transition(item, "triage", actor=analyst)
    assert info.value.messages == ["Choose a category.", "Rate the complaint's impact."]
    services.classify(
        item, actor=analyst, category=Category.objects.get(code="other"), impact="minor"
    )
    apply_transition(item, "triage", actor=analyst)
    apply_transition(item, "review", actor=analyst)
    with pytest.raises(TransitionError) as info:
        apply_transition(item, "close", actor=analyst)
    assert "Acknowledge the complaint first." in info.value.messages
    services.acknowledge(item, actor=analyst)
    services.resolve(item, actor=analyst, resolution="Replaced the parts.")
    apply_transition(item, "close", actor=analyst)
    item.refresh_from_db()
    assert item.status == "closed"
    actions = list(
        AuditEvent.objects.filter(object_id=str(item.pk), object_type="feedback.feedbackitem")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == [
        "feedbackitem.created",
        "feedbackitem.classified",
        "feedbackitem.triage",
        "feedbackitem.review",
        "feedbackitem.acknowledged",
        "feedbackitem.resolved",
        "feedbackitem.resolution",
        "feedbackitem.close",
    ]


def test_remapping_a_category_is_one_audited_decision(source, analyst):
    billing = Category.objects.get(code="billing")
    other = Category.objects.get(code="other")
    for text in ("invoice wrong", "billing issue"):
        record_feedback(Intake(source=source, text=text))
    moved = services.remap_category(billing, other, actor=analyst, reason="Merged into other")
    assert moved == 2
    assert FeedbackItem.objects.filter(category=billing).count() == 0
    event = AuditEvent.objects.get(action="category.remapped")
    assert event.changes == {"to": "Other", "items": 2, "reason": "Merged into other"}


def test_overdue_complaints_are_flagged_once_per_deadline(source):
    received = timezone.now() - dt.timedelta(days=40)
    item, _ = record_feedback(Intake(source=source, received_at=received, text="Late"))
    assert "2 newly overdue" in flag_overdue_complaints(timezone.now())
    assert "0 newly overdue" in flag_overdue_complaints(timezone.now())
    deadlines = sorted(
        AuditEvent.objects.filter(
            action="feedbackitem.overdue", object_id=str(item.pk)
        ).values_list("changes__deadline", flat=True)
    )
    assert deadlines == ["acknowledge", "resolve"]


def test_register_warnings_follow_the_sources():
    assert services.register_warnings([]) == [
        "No active structured source (a survey, for example).",
        "No active unstructured source (complaints, e-mail or notes).",
    ]
    survey = PerceptionSourceFactory(name="Survey", structured=True, owner_role="")
    inbox = PerceptionSourceFactory(name="Inbox", structured=False)
    assert services.register_warnings([survey, inbox]) == ["Survey has no owner."]
