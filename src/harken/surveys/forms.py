"""Forms of the survey pages: the builder, sending, bounces, opt-outs and loop rules."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import slugify

from harken.core.forms import BootstrapMixin
from harken.customers.choices import Segment
from harken.customers.models import ProductLine, Region
from harken.documents.choices import DocumentKind
from harken.documents.models import Document
from harken.feedback.models import PerceptionSource

from . import texts as wording
from .choices import OPTION_KINDS, QuestionKind, QuestionScale, SurveyKind, SurveyStatus, Trigger
from .models import LoopRule, Question, Survey

LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")


def field_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form's fields (or the form when unknown)."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def parse_languages(value: str) -> list[str]:
    codes = [c.strip().lower() for c in re.split(r"[,\s]+", value or "") if c.strip()]
    bad = [c for c in codes if not LANGUAGE_CODE.match(c)]
    if bad:
        raise ValidationError(f"Not language codes: {', '.join(bad)} (use en, de, fr…).")
    return codes


class SurveyAddForm(BootstrapMixin, forms.Form):
    title = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=SurveyKind.choices, initial=SurveyKind.NPS)
    trigger = forms.ChoiceField(choices=Trigger.choices, initial=Trigger.CAMPAIGN)
    source = forms.ModelChoiceField(
        queryset=PerceptionSource.objects.filter(active=True),
        label="Perception source",
        help_text="Where its answers count in the source register.",
    )
    default_language = forms.CharField(max_length=8, initial="en")
    languages = forms.CharField(
        required=False,
        initial="en",
        help_text="Further language codes, separated by commas (de, fr).",
    )
    reminder_after_days = forms.IntegerField(min_value=0, max_value=60, initial=5)
    valid_days = forms.IntegerField(
        min_value=1, max_value=365, initial=30, label="Links valid for (days)"
    )
    open_link = forms.BooleanField(required=False, label="Also an anonymous open link")
    repeat_months = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=24,
        initial=0,
        label="New round every (months)",
        help_text="Relationship surveys: e.g. 3 for a quarterly round; 0 for none.",
    )
    invite_after_days = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=90,
        initial=3,
        label="Invite after delivery (days)",
        help_text="After-delivery surveys: days between completing an order and the invitation.",
    )

    def clean_default_language(self) -> str:
        codes = parse_languages(self.cleaned_data["default_language"])
        if len(codes) != 1:
            raise ValidationError("Give one language code.")
        return codes[0]

    def clean_languages(self) -> list[str]:
        return parse_languages(self.cleaned_data["languages"])


class SurveySettingsForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Survey
        fields = [
            "title",
            "trigger",
            "source",
            "reminder_after_days",
            "valid_days",
            "open_link",
            "repeat_months",
            "invite_after_days",
            "nonresponse_note",
        ]
        widgets = {"nonresponse_note": forms.Textarea(attrs={"rows": 3})}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        from .services import schedule_errors

        for name, message in schedule_errors(
            data.get("trigger", ""),
            data.get("repeat_months") or 0,
            data.get("invite_after_days") or 0,
        ).items():
            if name in self.fields and name not in self.errors:
                self.add_error(name, message)
        return data

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = PerceptionSource.objects.filter(active=True)  # type: ignore[attr-defined]
        if self.instance.pk and self.instance.status != SurveyStatus.DRAFT:
            # Answers already count for this source; moving them would rewrite the register.
            self.fields["source"].disabled = True


class SurveyTextsForm(BootstrapMixin, forms.Form):
    title = forms.CharField(max_length=200)
    intro = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    thanks = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    invitation_subject = forms.CharField(max_length=200)
    invitation_body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text="Placeholders: " + ", ".join(wording.MAIL_PLACEHOLDERS) + ", $unsubscribe.",
    )
    reminder_subject = forms.CharField(max_length=200, required=False)
    reminder_body = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 8}))

    def clean_invitation_body(self) -> str:
        body = self.cleaned_data["invitation_body"]
        if "$link" not in body:
            raise ValidationError("The invitation must contain $link (the personal link).")
        return body


class QuestionForm(BootstrapMixin, forms.Form):
    """A question: kind and scale, and its wording in each of the survey's languages."""

    kind = forms.ChoiceField(choices=QuestionKind.choices)
    scale = forms.ChoiceField(choices=[("", "—"), *QuestionScale.choices], required=False)
    required = forms.BooleanField(required=False)
    options = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Choice questions: one option per line, as code = wording (the code is kept "
        "with the answers; the wording may differ per language).",
    )

    def __init__(self, *args: Any, survey: Survey, question: Question | None = None, **kwargs: Any):
        self.survey = survey
        self.question = question
        initial = kwargs.pop("initial", {}) or {}
        if question is not None:
            initial.update(kind=question.kind, scale=question.scale, required=question.required)
            default = question.texts.get(survey.default_language) or {}
            labels = default.get("options") or {}
            initial["options"] = "\n".join(f"{c} = {labels.get(c, c)}" for c in question.options)
        super().__init__(*args, initial=initial, **kwargs)
        for lang in survey.languages or [survey.default_language]:
            own = (question.texts.get(lang) or {}) if question else {}
            required = lang == survey.default_language
            self.fields[f"label_{lang}"] = forms.CharField(
                label=f"Question ({lang})",
                max_length=500,
                required=required,
                initial=own.get("label", ""),
            )
            self.fields[f"help_{lang}"] = forms.CharField(
                label=f"Help text ({lang})",
                max_length=500,
                required=False,
                initial=own.get("help", ""),
            )
            self.fields[f"low_{lang}"] = forms.CharField(
                label=f"Low end means ({lang})",
                max_length=100,
                required=False,
                initial=own.get("low", ""),
            )
            self.fields[f"high_{lang}"] = forms.CharField(
                label=f"High end means ({lang})",
                max_length=100,
                required=False,
                initial=own.get("high", ""),
            )
            if lang != survey.default_language:
                own_options = own.get("options") or {}
                self.fields[f"options_{lang}"] = forms.CharField(
                    label=f"Options ({lang})",
                    required=False,
                    widget=forms.Textarea(attrs={"rows": 3}),
                    help_text="code = wording, one per line; missing ones use the default language.",
                    initial="\n".join(f"{c} = {w}" for c, w in own_options.items()),
                )
        # BootstrapMixin styled the fields present when it ran; style the added ones too.
        for name, field in self.fields.items():
            if name.startswith(("label_", "help_", "low_", "high_", "options_")):
                field.widget.attrs.setdefault("class", "form-control")

    @staticmethod
    def parse_options(text: str) -> list[tuple[str, str]]:
        pairs = []
        for line in (text or "").splitlines():
            line = line.strip()
            if not line:
                continue
            code, sep, label = line.partition("=")
            if not sep:
                label = code
                code = slugify(code)[:40]
            pairs.append((code.strip() or slugify(label)[:40], label.strip()))
        return pairs

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        if kind in OPTION_KINDS:
            pairs = self.parse_options(data.get("options", ""))
            if any(not code for code, _ in pairs):
                self.add_error("options", "Each option needs a code (letters or digits).")
            data["option_pairs"] = pairs
        else:
            data["option_pairs"] = []
        return data

    def values(self) -> dict[str, Any]:
        """Keyword arguments for services.add_question/update_question."""
        data = self.cleaned_data
        pairs = data["option_pairs"]
        texts: dict[str, Any] = {}
        for lang in self.survey.languages or [self.survey.default_language]:
            entry = {
                key: data.get(f"{key}_{lang}", "").strip()
                for key in ("label", "help", "low", "high")
                if data.get(f"{key}_{lang}", "").strip()
            }
            if pairs:
                if lang == self.survey.default_language:
                    entry["options"] = dict(pairs)
                else:
                    entry["options"] = dict(self.parse_options(data.get(f"options_{lang}", "")))
            if entry:
                texts[lang] = entry
        return {
            "kind": data["kind"],
            "scale": data.get("scale", ""),
            "required": bool(data.get("required")),
            "options": [code for code, _ in pairs],
            "texts": texts,
        }


class AudienceForm(BootstrapMixin, forms.Form):
    segments = forms.MultipleChoiceField(
        choices=Segment.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    regions = forms.ModelMultipleChoiceField(queryset=Region.objects.all(), required=False)
    product_lines = forms.ModelMultipleChoiceField(
        queryset=ProductLine.objects.filter(active=True), required=False
    )
    primary_only = forms.BooleanField(required=False, label="Primary contacts only")
    csv_file = forms.FileField(
        required=False,
        label="Or a CSV list of e-mail addresses",
        help_text="A column named e-mail (or the first column); each address must belong to a contact.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["segments"].widget.attrs["class"] = "form-check-input"


class BounceForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(max_length=500, label="What the bounce said")


class OptOutForm(BootstrapMixin, forms.Form):
    email = forms.EmailField(label="E-mail")
    note = forms.CharField(max_length=300, required=False, help_text="How the person asked.")


class LoopRuleForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = LoopRule
        fields = [
            "source",
            "active",
            "send_outcome",
            "outcome_template",
            "follow_up_survey",
            "follow_up_delay_days",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["outcome_template"].queryset = Document.objects.filter(  # type: ignore[attr-defined]
            kind=DocumentKind.NOTICE_TEMPLATE
        )
        self.fields["follow_up_survey"].queryset = Survey.objects.exclude(  # type: ignore[attr-defined]
            status=SurveyStatus.CLOSED
        ).filter(trigger=Trigger.AFTER_RESOLUTION)
        self.fields["source"].queryset = PerceptionSource.objects.filter(active=True)  # type: ignore[attr-defined]
        if self.instance.pk:
            self.fields["source"].disabled = True
