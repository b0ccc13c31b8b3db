"""Factories for the survey models, and helpers that take a survey to where a test needs it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory
from django.utils import timezone
from tests.factories import ContactFactory, CustomerFactory
from tests.feedback.factories import PerceptionSourceFactory

from harken.feedback.choices import ItemKind, Scale, SourceKind
from harken.surveys import services, tokens
from harken.surveys.choices import InvitationStatus, SurveyStatus
from harken.surveys.models import Invitation, LoopRule, OptOut, Question, Survey, SurveyResponse


class SurveySourceFactory(PerceptionSourceFactory):
    name = factory.Sequence(lambda n: f"Survey source {n:03d}")
    kind = SourceKind.SURVEY
    structured = True
    default_kind = ItemKind.SURVEY_RESPONSE
    default_scale = Scale.NPS


class SurveyFactory(factory.django.DjangoModelFactory):
    """A draft survey with no questions (use `survey()` for a complete one)."""

    class Meta:
        model = Survey

    title = factory.Sequence(lambda n: f"Survey {n}")
    source = factory.SubFactory(SurveySourceFactory)
    languages = factory.LazyFunction(lambda: ["en"])
    texts = factory.LazyAttribute(
        lambda s: {
            "en": {
                "title": s.title,
                "invitation_subject": "Your view of us",
                "invitation_body": "Dear $contact, please answer: $link (until $expires)",
                "reminder_subject": "Reminder",
                "reminder_body": "Dear $contact, still time: $link",
            }
        }
    )


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question

    survey = factory.SubFactory(SurveyFactory)
    kind = "text"
    position = factory.Sequence(lambda n: n + 10)
    texts = factory.LazyFunction(lambda: {"en": {"label": "Anything else?"}})


class InvitationFactory(factory.django.DjangoModelFactory):
    """A queued invitation (`sent_invitation()` gives one with a working token)."""

    class Meta:
        model = Invitation

    survey = factory.SubFactory(SurveyFactory)
    contact = factory.SubFactory(ContactFactory)
    customer = factory.LazyAttribute(lambda i: i.contact.customer)
    email = factory.LazyAttribute(lambda i: i.contact.email)


class SurveyResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SurveyResponse

    survey = factory.SubFactory(SurveyFactory)


class OptOutFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OptOut

    email = factory.Sequence(lambda n: f"optout{n}@customer.example")
    opted_out_at = factory.LazyFunction(timezone.now)


class LoopRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LoopRule

    source = factory.SubFactory(
        PerceptionSourceFactory, kind=SourceKind.COMPLAINTS_INBOX, structured=False
    )
    applies_from = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))


def survey(*, kind: str = "nps", open_it: bool = True, actor: Any = None, **kwargs: Any) -> Survey:
    """A survey made by the service (score and why questions, default texts), opened."""
    made = services.create_survey(
        actor=actor,
        title=kwargs.pop("title", "Customer survey"),
        source=kwargs.pop("source", None) or SurveySourceFactory(),
        kind=kind,
        **kwargs,
    )
    if open_it:
        made.status = SurveyStatus.OPEN
        made.opened_at = timezone.now()
        made.save(update_fields=["status", "opened_at"])
    return made


def sent_invitation(
    survey_obj: Survey | None = None,
    *,
    contact: Any = None,
    sent_at: dt.datetime | None = None,
    valid_days: int = 30,
    **fields: Any,
) -> tuple[Invitation, str]:
    """An invitation as if its mail went out: returns it with its token in clear."""
    survey_obj = survey_obj or survey()
    token = tokens.new_token()
    sent_at = sent_at or timezone.now()
    invitation = InvitationFactory(
        survey=survey_obj,
        contact=contact or ContactFactory(customer=CustomerFactory()),
        status=InvitationStatus.SENT,
        token_hash=tokens.token_hash(token),
        sent_at=sent_at,
        expires_at=sent_at + dt.timedelta(days=valid_days),
        attempts=1,
        **fields,
    )
    return invitation, token


def answers_of(
    survey_obj: Survey, score: int | None = None, why: str = "", **extra: Any
) -> dict[str, Any]:
    """Form fields answering the survey's score and why questions."""
    data: dict[str, Any] = {}
    for q in survey_obj.questions.all():
        if q.kind == "score" and score is not None:
            data[f"q{q.pk}"] = str(score)
        if q.kind == "why" and why:
            data[f"q{q.pk}"] = why
    data.update(extra)
    return data
