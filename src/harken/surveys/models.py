"""Surveys, their questions, invitations, responses and opt-outs, and the rules and cases
that close the loop after a complaint is resolved."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from harken.communications.models import Communication
from harken.core.models import NumberedModel, TrackedModel
from harken.core.workflow import Transition
from harken.customers.models import Contact, Customer
from harken.documents.models import Document
from harken.feedback.models import FeedbackItem, PerceptionSource

from .choices import (
    KIND_SCALES,
    FollowUpStatus,
    InvitationStatus,
    OptOutVia,
    OutcomeStatus,
    QuestionKind,
    QuestionScale,
    ResponseStatus,
    SurveyKind,
    SurveyStatus,
    Trigger,
)


def new_open_key() -> str:
    return secrets.token_urlsafe(12)


def _openable(survey: Any) -> list[str]:
    from .services import open_blockers

    return open_blockers(survey)


class Survey(NumberedModel):
    """A questionnaire customers answer: its kind, questions, trigger, languages and source."""

    number_prefix = "SRV"

    title = models.CharField(
        verbose_name=_("title"),
        max_length=200,
    )
    kind = models.CharField(
        verbose_name=_("kind"),
        max_length=16,
        choices=SurveyKind.choices,
        default=SurveyKind.NPS,
    )
    trigger = models.CharField(
        verbose_name=_("trigger"),
        max_length=20,
        choices=Trigger.choices,
        default=Trigger.CAMPAIGN,
    )
    status = models.CharField(
        verbose_name=_("status"),
        max_length=8,
        choices=SurveyStatus.choices,
        default=SurveyStatus.DRAFT,
    )
    source = models.ForeignKey(
        PerceptionSource,
        verbose_name=_("perception source"),
        on_delete=models.PROTECT,
        related_name="surveys",
        help_text=_("Where its answers count in the register (9.1.2)."),
    )
    languages = models.JSONField(
        verbose_name=_("languages"),
        default=list,
        blank=True,
        help_text=_("Language codes (en, de…); a contact is asked in theirs when it is listed."),
    )
    default_language = models.CharField(
        verbose_name=_("default language"),
        max_length=8,
        default="en",
    )
    texts = models.JSONField(
        verbose_name=_("texts"),
        default=dict,
        blank=True,
    )
    reminder_after_days = models.PositiveSmallIntegerField(
        verbose_name=_("remind after (days)"),
        default=5,
        help_text=_("One reminder to those who have not answered; 0 sends none."),
    )
    valid_days = models.PositiveSmallIntegerField(
        verbose_name=_("links valid for (days)"),
        default=30,
    )
    open_link = models.BooleanField(
        verbose_name=_("anonymous open link"),
        default=False,
        help_text=_(
            "A link anyone may answer (a QR code on a delivery note), limited per address."
        ),
    )
    open_key = models.CharField(
        verbose_name=_("open-link key"),
        max_length=32,
        default=new_open_key,
        unique=True,
        editable=False,
    )
    audience = models.JSONField(
        verbose_name=_("audience"),
        default=dict,
        blank=True,
        editable=False,
    )
    repeat_months = models.PositiveSmallIntegerField(
        verbose_name=_("new round every (months)"),
        default=0,
        validators=[MaxValueValidator(24)],
        help_text=_(
            "Relationship surveys: every so many months `harken tick` opens the next round "
            "(a copy of this survey) and invites the same audience; 0 repeats nothing."
        ),
    )
    previous_round = models.OneToOneField(
        "self",
        verbose_name=_("previous round"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="next_round",
    )
    round = models.PositiveSmallIntegerField(
        verbose_name=_("round"),
        default=1,
        editable=False,
    )
    invite_after_days = models.PositiveSmallIntegerField(
        verbose_name=_("invite after delivery (days)"),
        default=3,
        validators=[MaxValueValidator(90)],
        help_text=_(
            "After-delivery surveys: the order's contact is invited this many days after "
            "the order is completed."
        ),
    )
    nonresponse_note = models.TextField(
        verbose_name=_("non-response note"),
        blank=True,
        help_text=_(
            "How a low response rate is understood (who did not answer and why it still "
            "informs the review): ISO 9001 accepts low response when it is documented."
        ),
    )
    opened_at = models.DateTimeField(
        verbose_name=_("opened at"),
        null=True,
        blank=True,
        editable=False,
    )
    closed_at = models.DateTimeField(
        verbose_name=_("closed at"),
        null=True,
        blank=True,
        editable=False,
    )

    transitions = (
        Transition(
            name="open",
            label="Open",
            sources=frozenset({SurveyStatus.DRAFT}),
            target=SurveyStatus.OPEN,
            guard=_openable,
            style="success",
        ),
        Transition(
            name="close",
            label="Close",
            sources=frozenset({SurveyStatus.OPEN}),
            target=SurveyStatus.CLOSED,
            style="outline-secondary",
        ),
        Transition(
            name="reopen",
            label="Reopen",
            sources=frozenset({SurveyStatus.CLOSED}),
            target=SurveyStatus.OPEN,
            style="outline-warning",
        ),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        indexes = [
            models.Index(fields=["status", "trigger"], name="survey_status_trigger_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def scale(self) -> str:
        """The scale of the score question (feedback's Scale code), "" without one."""
        question = next((q for q in self.questions.all() if q.kind == QuestionKind.SCORE), None)
        if question is not None:
            return question.scale
        return KIND_SCALES.get(self.kind, "")

    def language_for(self, wanted: str) -> str:
        """The language a contact who reads `wanted` is asked in."""
        langs = self.languages or [self.default_language]
        return wanted if wanted in langs else self.default_language

    def text(self, language: str, key: str) -> str:
        """One of the survey's texts in `language`, else in its default language."""
        for lang in (language, self.default_language):
            value = (self.texts.get(lang) or {}).get(key)
            if value:
                return str(value)
        return ""

    @property
    def is_open(self) -> bool:
        return self.status == SurveyStatus.OPEN

    def public_open_url(self) -> str:
        return reverse("surveys:open_link", args=[self.open_key])


class Question(TrackedModel):
    """One question of a survey; its wording per language in `texts`."""

    survey = models.ForeignKey(
        Survey,
        verbose_name=_("survey"),
        on_delete=models.CASCADE,
        related_name="questions",
    )
    position = models.PositiveSmallIntegerField(
        verbose_name=_("position"),
        default=0,
    )
    kind = models.CharField(
        verbose_name=_("kind"),
        max_length=16,
        choices=QuestionKind.choices,
    )
    scale = models.CharField(
        verbose_name=_("scale"),
        max_length=8,
        choices=QuestionScale.choices,
        blank=True,
        help_text=_("For a score or rating question."),
    )
    required = models.BooleanField(
        verbose_name=_("required"),
        default=False,
    )
    options = models.JSONField(
        verbose_name=_("options"),
        default=list,
        blank=True,
        help_text=_("Codes of the options of a choice question; their wording is per language."),
    )
    texts = models.JSONField(
        verbose_name=_("texts"),
        default=dict,
        blank=True,
    )

    class Meta:
        ordering = ["survey", "position", "pk"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "kind"],
                condition=Q(kind__in=["score", "why"]),
                name="question_one_score_and_why",
                violation_error_message=_("A survey has one score question and one 'why'."),
            ),
        ]

    def __str__(self) -> str:
        return self.label(self.survey.default_language) or self.get_kind_display()

    def get_absolute_url(self) -> str:
        return reverse("surveys:survey", args=[self.survey_id]) + f"#question-{self.pk}"

    def wording(self, language: str) -> dict[str, Any]:
        """The question's texts in `language`, falling back to the survey's default."""
        own = self.texts.get(language) or {}
        default = self.texts.get(self.survey.default_language) or {}
        merged = {**default, **{k: v for k, v in own.items() if v}}
        options = {**(default.get("options") or {}), **(own.get("options") or {})}
        merged["options"] = options
        return merged

    def label(self, language: str) -> str:
        return str(self.wording(language).get("label", ""))

    def option_label(self, language: str, code: str) -> str:
        return str(self.wording(language)["options"].get(code) or code)

    @property
    def bounds(self) -> tuple[int, int] | None:
        from .answers import SCALE_BOUNDS

        return SCALE_BOUNDS.get(self.scale) if self.scale else None


class Invitation(TrackedModel):
    """One contact invited to one survey, with its single-use link (stored as a hash).

    Never more than one per contact and survey. The link's token exists in clear only in
    the e-mail; the reminder carries a second token so that both mails' links work.
    """

    survey = models.ForeignKey(
        Survey,
        verbose_name=_("survey"),
        on_delete=models.PROTECT,
        related_name="invitations",
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        on_delete=models.PROTECT,
        related_name="survey_invitations",
    )
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="survey_invitations",
    )
    email = models.EmailField(
        verbose_name=_("e-mail"),
    )
    language = models.CharField(
        verbose_name=_("language"),
        max_length=8,
        default="en",
    )
    status = models.CharField(
        verbose_name=_("status"),
        max_length=12,
        choices=InvitationStatus.choices,
        default=InvitationStatus.QUEUED,
    )
    token_hash = models.CharField(
        verbose_name=_("link token (SHA-256)"),
        max_length=64,
        null=True,
        blank=True,
        unique=True,
        editable=False,
    )
    reminder_token_hash = models.CharField(
        verbose_name=_("reminder link token (SHA-256)"),
        max_length=64,
        null=True,
        blank=True,
        unique=True,
        editable=False,
    )
    attempts = models.PositiveSmallIntegerField(
        verbose_name=_("sending attempts"),
        default=0,
    )
    next_attempt_at = models.DateTimeField(
        verbose_name=_("next attempt at"),
        null=True,
        blank=True,
    )
    last_error = models.TextField(
        verbose_name=_("last error"),
        blank=True,
    )
    message_id = models.CharField(
        verbose_name=_("Message-ID"),
        max_length=255,
        blank=True,
    )
    sent_at = models.DateTimeField(
        verbose_name=_("sent at"),
        null=True,
        blank=True,
    )
    expires_at = models.DateTimeField(
        verbose_name=_("link valid until"),
        null=True,
        blank=True,
    )
    reminded_at = models.DateTimeField(
        verbose_name=_("reminded at"),
        null=True,
        blank=True,
    )
    opened_at = models.DateTimeField(
        verbose_name=_("opened at"),
        null=True,
        blank=True,
    )
    responded_at = models.DateTimeField(
        verbose_name=_("responded at"),
        null=True,
        blank=True,
    )
    bounced_at = models.DateTimeField(
        verbose_name=_("bounced at"),
        null=True,
        blank=True,
    )
    opted_out_at = models.DateTimeField(
        verbose_name=_("opted out at"),
        null=True,
        blank=True,
    )
    trigger_item = models.ForeignKey(
        FeedbackItem,
        verbose_name=_("triggered by (feedback)"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="survey_invitations",
    )
    trigger_ref = models.CharField(
        verbose_name=_("triggered by (reference)"),
        max_length=100,
        blank=True,
        help_text=_("The delivery, order or other record the invitation follows."),
    )

    audit_masked = frozenset({"token_hash", "reminder_token_hash"})

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "contact"],
                name="invitation_once_per_contact",
                violation_error_message=_("This contact is invited to this survey already."),
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="invitation_due_idx"),
            models.Index(fields=["contact", "sent_at"], name="invitation_contact_idx"),
            models.Index(fields=["survey", "status"], name="invitation_survey_idx"),
            models.Index(fields=["sent_at"], name="invitation_sent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.survey.number} → {self.email}"


class SurveyResponse(TrackedModel):
    """What a respondent answered: partly while they work, then once, submitted.

    A submitted response becomes a feedback item of the survey's source (`feedback_item`).
    """

    survey = models.ForeignKey(
        Survey,
        verbose_name=_("survey"),
        on_delete=models.PROTECT,
        related_name="responses",
    )
    invitation = models.OneToOneField(
        Invitation,
        verbose_name=_("invitation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="response",
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="survey_responses",
    )
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="survey_responses",
    )
    language = models.CharField(
        verbose_name=_("language"),
        max_length=8,
        default="en",
    )
    status = models.CharField(
        verbose_name=_("status"),
        max_length=12,
        choices=ResponseStatus.choices,
        default=ResponseStatus.PARTIAL,
    )
    answers = models.JSONField(
        verbose_name=_("answers"),
        default=dict,
        blank=True,
    )
    score = models.FloatField(
        verbose_name=_("score"),
        null=True,
        blank=True,
    )
    comment = models.TextField(
        verbose_name=_("comment"),
        blank=True,
    )
    submitted_at = models.DateTimeField(
        verbose_name=_("submitted at"),
        null=True,
        blank=True,
    )
    # For open-link answers: a keyed hash of the address they came from, so that the
    # rate limit can count them without storing anyone's address.
    client_key = models.CharField(
        verbose_name=_("address key"),
        max_length=64,
        blank=True,
        editable=False,
    )
    feedback_item = models.OneToOneField(
        FeedbackItem,
        verbose_name=_("feedback item"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="survey_response",
    )

    audit_exclude = frozenset({"client_key"})

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        indexes = [
            models.Index(fields=["survey", "status"], name="response_survey_idx"),
            models.Index(fields=["survey", "client_key", "created_at"], name="response_client_idx"),
            models.Index(
                fields=["status", "submitted_at"],
                condition=Q(feedback_item__isnull=True),
                name="response_pending_feedback_idx",
            ),
        ]

    def __str__(self) -> str:
        who = self.contact.name if self.contact_id and self.contact else "anonymous"
        return f"{self.survey.number} response of {who}"

    def get_absolute_url(self) -> str:
        return reverse("surveys:surveyresponse", args=[self.pk])


class OptOut(TrackedModel):
    """An address that asked for no more survey invitations."""

    email = models.EmailField(
        verbose_name=_("e-mail"),
        unique=True,
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="survey_opt_outs",
    )
    invitation = models.ForeignKey(
        Invitation,
        verbose_name=_("from the invitation"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="opt_outs",
    )
    via = models.CharField(
        verbose_name=_("how"),
        max_length=12,
        choices=OptOutVia.choices,
        default=OptOutVia.LINK,
    )
    opted_out_at = models.DateTimeField(
        verbose_name=_("opted out at"),
    )
    note = models.CharField(
        verbose_name=_("note"),
        max_length=300,
        blank=True,
    )

    class Meta:
        ordering = ["-opted_out_at"]
        verbose_name = _("opt-out")
        verbose_name_plural = _("opt-outs")

    def __str__(self) -> str:
        return self.email


class LoopRule(TrackedModel):
    """For complaints of one source: tell the customer the outcome, then ask again later."""

    source = models.OneToOneField(
        PerceptionSource,
        verbose_name=_("complaints of"),
        on_delete=models.PROTECT,
        related_name="loop_rule",
    )
    active = models.BooleanField(
        verbose_name=_("active"),
        default=True,
    )
    send_outcome = models.BooleanField(
        verbose_name=_("send the outcome message"),
        default=True,
    )
    outcome_template = models.ForeignKey(
        Document,
        verbose_name=_("outcome message template"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="loop_rules",
        help_text=_(
            "A customer-facing notice template; its current approved version is used. "
            "Placeholders: $contact, $customer, $complaint, $received, $resolution, $sender, "
            "$company."
        ),
    )
    follow_up_survey = models.ForeignKey(
        Survey,
        verbose_name=_("follow-up survey"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="loop_rules",
    )
    follow_up_delay_days = models.PositiveSmallIntegerField(
        verbose_name=_("follow-up after (days)"),
        default=14,
    )
    applies_from = models.DateTimeField(
        verbose_name=_("for complaints resolved from"),
        help_text=_("Complaints resolved earlier are left alone."),
    )

    class Meta:
        ordering = ["source__name"]
        verbose_name = _("loop rule")
        verbose_name_plural = _("loop rules")

    def __str__(self) -> str:
        return f"Closing the loop: {self.source}"


class LoopCase(TrackedModel):
    """One resolved complaint under a loop rule: the outcome message and the follow-up."""

    complaint = models.OneToOneField(
        FeedbackItem,
        verbose_name=_("complaint"),
        on_delete=models.PROTECT,
        related_name="loop_case",
    )
    rule = models.ForeignKey(
        LoopRule,
        verbose_name=_("rule"),
        on_delete=models.PROTECT,
        related_name="cases",
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="loop_cases",
    )
    resolved_at = models.DateTimeField(
        verbose_name=_("resolved at"),
    )
    outcome_status = models.CharField(
        verbose_name=_("outcome message"),
        max_length=12,
        choices=OutcomeStatus.choices,
        default=OutcomeStatus.PENDING,
    )
    outcome_sent_at = models.DateTimeField(
        verbose_name=_("customer informed at"),
        null=True,
        blank=True,
    )
    outcome_attempts = models.PositiveSmallIntegerField(
        verbose_name=_("sending attempts"),
        default=0,
    )
    communication = models.ForeignKey(
        Communication,
        verbose_name=_("outcome message (communication)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="loop_cases",
    )
    follow_up_status = models.CharField(
        verbose_name=_("follow-up survey"),
        max_length=12,
        choices=FollowUpStatus.choices,
        default=FollowUpStatus.WAITING,
    )
    follow_up_due_at = models.DateTimeField(
        verbose_name=_("follow-up due at"),
        null=True,
        blank=True,
    )
    invitation = models.OneToOneField(
        Invitation,
        verbose_name=_("follow-up invitation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="loop_case",
    )
    note = models.TextField(
        verbose_name=_("note"),
        blank=True,
    )

    class Meta:
        ordering = ["-resolved_at"]
        verbose_name = _("loop case")
        verbose_name_plural = _("loop cases")
        indexes = [
            models.Index(fields=["outcome_status"], name="loopcase_outcome_idx"),
            models.Index(fields=["follow_up_status", "follow_up_due_at"], name="loopcase_due_idx"),
        ]

    def __str__(self) -> str:
        return f"Loop of {self.complaint.complaint_number or self.complaint.number}"

    @property
    def customer_informed(self) -> bool:
        return self.outcome_status == OutcomeStatus.SENT

    @property
    def follow_up_response(self) -> SurveyResponse | None:
        if self.invitation_id is None or self.invitation is None:
            return None
        try:
            response = self.invitation.response
        except SurveyResponse.DoesNotExist:
            return None
        return response if response.status == ResponseStatus.SUBMITTED else None


__all__ = [
    "Invitation",
    "LoopCase",
    "LoopRule",
    "OptOut",
    "Question",
    "Survey",
    "SurveyResponse",
]
