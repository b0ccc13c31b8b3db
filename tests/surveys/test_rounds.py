"""Surveys that run themselves: a relationship survey's next round opens on its day and
goes to the same audience; an after-delivery survey invites the contact of each completed
order on its day — both through `harken tick`, with opt-outs and "never twice" kept."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from tests.conftest import client_for
from tests.factories import ContactFactory, CustomerFactory
from tests.orders.factories import OrderFactory
from tests.surveys.factories import survey

from harken.core.models import AuditEvent
from harken.orders import services as orders
from harken.orders.choices import OrderStatus
from harken.surveys import rounds, services, ticks
from harken.surveys.choices import SurveyStatus, Trigger
from harken.surveys.models import Invitation, OptOut, Survey

pytestmark = pytest.mark.django_db


def at(year: int, month: int, day: int, hour: int = 9) -> dt.datetime:
    return timezone.make_aware(dt.datetime(year, month, day, hour))


@pytest.fixture
def customers():
    retail = CustomerFactory(name="Ashby Retail", segment="distributor")
    oem = CustomerFactory(name="Brant OEM", segment="oem")
    return {
        "retail": ContactFactory(customer=retail, name="Ann", email="ann@ashby.example"),
        "oem": ContactFactory(customer=oem, name="Ben", email="ben@brant.example"),
    }


def quarterly(quality_manager, customers, **kwargs):
    made = survey(
        title="Relationship NPS 2026 Q3",
        trigger=Trigger.RELATIONSHIP,
        repeat_months=3,
        actor=quality_manager,
        **kwargs,
    )
    audience = services.Audience(segments=["distributor"])
    services.invite(made, services.contacts_for(audience), actor=quality_manager, audience=audience)
    Survey.objects.filter(pk=made.pk).update(opened_at=at(2026, 7, 1))
    # Sent back then: the throttle per contact does not hold the next round back.
    made.invitations.update(status="sent", sent_at=at(2026, 7, 1), created_at=at(2026, 7, 1))
    made.refresh_from_db()
    return made


def test_add_months_keeps_the_day_or_takes_the_last_of_a_short_month():
    assert rounds.add_months(at(2026, 7, 1), 3) == at(2026, 10, 1)
    assert rounds.add_months(at(2026, 11, 30), 3) == at(2027, 2, 28)
    assert rounds.add_months(at(2027, 11, 30), 3) == at(2028, 2, 29)
    assert rounds.add_months(at(2026, 1, 31), 1) == at(2026, 2, 28)


def test_round_titles_follow_the_quarter_or_count_rounds():
    assert rounds.round_title("Relationship NPS 2026 Q3", 2, at(2026, 10, 1)) == (
        "Relationship NPS 2026 Q4"
    )
    assert rounds.round_title("How are we doing?", 2, at(2026, 10, 1)) == (
        "How are we doing? (round 2)"
    )
    assert rounds.round_title("How are we doing? (round 2)", 3, at(2027, 1, 1)) == (
        "How are we doing? (round 3)"
    )


def test_the_next_round_opens_on_its_day_for_the_same_audience(quality_manager, customers):
    first = quarterly(quality_manager, customers)
    assert [i.contact for i in first.invitations.all()] == [customers["retail"]]

    assert rounds.start_due_rounds(at(2026, 9, 30, 23)).started == []
    summary = ticks.relationship_rounds(at(2026, 10, 1, 10))
    assert summary.startswith("1 relationship rounds started, 1 contacts invited")

    first.refresh_from_db()
    second = Survey.objects.get(previous_round=first)
    assert first.status == SurveyStatus.CLOSED
    assert (second.status, second.round, second.title) == (
        SurveyStatus.OPEN,
        2,
        "Relationship NPS 2026 Q4",
    )
    assert second.texts["en"]["title"] == "Relationship NPS 2026 Q4"
    assert second.opened_at == at(2026, 10, 1, 10)
    assert [(q.kind, q.scale) for q in second.questions.order_by("position")] == [
        (q.kind, q.scale) for q in first.questions.order_by("position")
    ]
    assert (second.source, second.kind, second.repeat_months) == (first.source, "nps", 3)
    assert [i.contact for i in second.invitations.all()] == [customers["retail"]]
    # Done by the tick, on the record.
    opened = AuditEvent.objects.get(action="survey.open", object_id=str(second.pk))
    assert opened.actor_label == "tick:relationship rounds"

    # A second tick the same day starts nothing more; the next is due three months on.
    assert ticks.relationship_rounds(at(2026, 10, 1, 11)).startswith("0 relationship rounds")
    assert rounds.next_round_at(second) == at(2027, 1, 1, 10)


def test_rounds_keep_opt_outs_and_stop_when_the_repeat_is_removed(quality_manager, customers):
    first = quarterly(quality_manager, customers)
    OptOut.objects.create(
        email="ann@ashby.example", contact=customers["retail"], opted_out_at=timezone.now()
    )
    rounds.start_due_rounds(at(2026, 10, 1, 10))
    second = Survey.objects.get(previous_round=first)
    assert second.invitations.count() == 0

    Survey.objects.filter(pk=second.pk).update(repeat_months=0)
    assert rounds.start_due_rounds(at(2027, 6, 1)).started == []


def test_a_round_sent_to_a_list_of_addresses_opens_the_next_but_invites_nobody(
    quality_manager, customers
):
    made = survey(
        title="Partner pulse",
        trigger=Trigger.RELATIONSHIP,
        repeat_months=1,
        actor=quality_manager,
    )
    audience = services.Audience(emails=["ben@brant.example"])
    services.invite(made, services.contacts_for(audience), actor=quality_manager, audience=audience)
    Survey.objects.filter(pk=made.pk).update(opened_at=at(2026, 7, 1))
    report = rounds.start_due_rounds(at(2026, 8, 1, 10))
    new = Survey.objects.get(previous_round=made)
    assert new.title == "Partner pulse (round 2)"
    assert new.invitations.count() == 0
    assert "invite from its page" in str(report)


def test_only_relationship_surveys_repeat(quality_manager, customers):
    with pytest.raises(Exception) as caught:
        survey(trigger=Trigger.CAMPAIGN, repeat_months=3, actor=quality_manager)
    assert "Only periodic relationship surveys" in str(caught.value)
    response = client_for(quality_manager).post(
        "/api/surveys/",
        {
            "title": "Once",
            "source": survey(open_it=False).source_id,
            "kind": "nps",
            "trigger": "campaign",
            "repeat_months": 3,
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "repeat_months" in response.json()["errors"]


def test_the_survey_page_shows_the_schedule(quality_manager, customers):
    first = quarterly(quality_manager, customers)
    page = client_for(quality_manager).get(first.get_absolute_url()).content.decode()
    assert 'data-testid="schedule"' in page
    assert "A new round every 3 months." in page
    assert "The next round opens on 2026-10-01" in page
    rounds.start_due_rounds(at(2026, 10, 1, 10))
    page = client_for(quality_manager).get(first.get_absolute_url()).content.decode()
    assert (
        f'Next round: <a href="{Survey.objects.get(previous_round=first).get_absolute_url()}'
        in page
    )


def completed_order(contact, when):
    order = OrderFactory(customer=contact.customer, contact=contact, status=OrderStatus.ACCEPTED)
    orders.close_order(order, actor=None, name="complete")
    order.refresh_from_db()
    type(order).objects.filter(pk=order.pk).update(completed_at=when)
    order.refresh_from_db()
    return order


def test_the_contact_of_a_completed_order_is_invited_on_its_day(quality_manager, customers):
    delivery = survey(
        kind="csat",
        title="How was this delivery?",
        trigger=Trigger.AFTER_DELIVERY,
        invite_after_days=3,
        actor=quality_manager,
    )
    Survey.objects.filter(pk=delivery.pk).update(opened_at=at(2026, 10, 1))
    done = completed_order(customers["retail"], at(2026, 10, 10))
    before = completed_order(customers["oem"], at(2026, 9, 20))  # before the survey opened

    assert str(rounds.invite_after_delivery(at(2026, 10, 12))).startswith("0 after-delivery")
    assert ticks.after_delivery(at(2026, 10, 13, 10)).startswith(
        "1 after-delivery invitations queued"
    )
    invitation = Invitation.objects.get()
    assert (invitation.contact, invitation.trigger_ref) == (customers["retail"], done.number)
    # Never twice: another order of the same contact does not invite again.
    completed_order(customers["retail"], at(2026, 10, 11))
    assert rounds.invite_after_delivery(at(2026, 10, 15)).invited == 0
    assert Invitation.objects.count() == 1
    assert before.number not in set(Invitation.objects.values_list("trigger_ref", flat=True))


def test_a_missed_after_delivery_invitation_is_not_sent_weeks_late(quality_manager, customers):
    delivery = survey(
        kind="csat", trigger=Trigger.AFTER_DELIVERY, invite_after_days=3, actor=quality_manager
    )
    Survey.objects.filter(pk=delivery.pk).update(opened_at=at(2026, 9, 1))
    completed_order(customers["oem"], at(2026, 9, 10))
    assert rounds.invite_after_delivery(at(2026, 10, 20)).invited == 0


def test_completing_an_order_records_when(quality_manager, customers):
    order = OrderFactory(
        customer=customers["oem"].customer, contact=customers["oem"], status=OrderStatus.ACCEPTED
    )
    orders.close_order(order, actor=None, name="complete")
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert abs(order.completed_at - timezone.now()) < dt.timedelta(minutes=1)
