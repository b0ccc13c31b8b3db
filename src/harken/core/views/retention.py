"""Retention pages: the rules, what each has due, and what it disposed of."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from ..forms import BootstrapMixin
from ..models import RetentionRule
from ..retention import cutoff, due, get_type, record_label, record_types
from ..tables import Column
from .generic import ObjectDetailView, ObjectEditView, ObjectPermissionMixin

DUE_SHOWN = 50


class RetentionRuleForm(BootstrapMixin, forms.ModelForm):
    record_type = forms.ChoiceField(label="Record type")

    class Meta:
        model = RetentionRule
        fields = ["record_type", "period_months", "action", "basis", "active"]
        widgets = {"basis": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["record_type"].choices = [("", "---------")] + [  # type: ignore[attr-defined]
            (t.key, t.label) for t in record_types()
        ]


class RetentionRuleListView(ObjectPermissionMixin, View):
    """Every record type Harken can dispose of, its rule (if any) and how many are due."""

    model = RetentionRule

    def get(self, request: HttpRequest) -> HttpResponse:
        now = timezone.now()
        rules = {rule.record_type: rule for rule in RetentionRule.objects.all()}
        rows = []
        for record_type in record_types():
            rule = rules.get(record_type.key)
            rows.append(
                {
                    "type": record_type,
                    "rule": rule,
                    "cutoff": cutoff(rule, now) if rule else None,
                    "due": due(rule, now).count() if rule and rule.active else None,
                    "effect": record_type.effects.get(rule.action, "") if rule else "",
                }
            )
        return render(request, "core/retention.html", self.base_context(rows=rows))


class RetentionRuleDetailView(ObjectDetailView):
    model = RetentionRule
    template_name = "core/retentionrule_detail.html"
    fields = (
        Column("record_type", "Record type"),
        Column("period_months", "Period (months)"),
        Column("action", "Action"),
        Column("basis", "Basis"),
        Column("active", "Active"),
    )

    def get_extra_context(self, obj: Any) -> dict[str, Any]:
        now = timezone.now()
        record_type = get_type(obj.record_type)
        queryset = due(obj, now) if record_type else None
        shown = []
        if queryset is not None and record_type is not None:
            for record in queryset[:DUE_SHOWN]:
                shown.append(
                    {
                        "label": record_label(record),
                        "date": getattr(record, record_type.date_field),
                        "url": record.get_absolute_url()
                        if hasattr(record, "get_absolute_url")
                        else "",
                    }
                )
        return {
            "record_type": record_type,
            "effect": record_type.effects.get(obj.action, "") if record_type else "",
            "cutoff": cutoff(obj, now),
            "due_count": queryset.count() if queryset is not None else 0,
            "due_records": shown,
            "dispositions": obj.dispositions.order_by("-at", "-id")[:DUE_SHOWN],
            "audit_url": reverse("core:auditevent_list"),
        }


class RetentionRuleEditView(ObjectEditView):
    model = RetentionRule
    form_class = RetentionRuleForm
