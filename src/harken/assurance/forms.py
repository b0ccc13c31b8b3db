import datetime as dt

from django import forms
from django.utils import timezone

from harken.core.forms import BootstrapMixin

from .choices import SampleKind
from .services import MAX_SAMPLE


def last_quarter() -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    start_this = dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    end = start_this - dt.timedelta(days=1)
    return dt.date(end.year, (end.month - 1) // 3 * 3 + 1, 1), end


class PeriodForm(BootstrapMixin, forms.Form):
    period_start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict:
        data = super().clean() or {}
        if (
            data.get("period_start")
            and data.get("period_end")
            and data["period_start"] > data["period_end"]
        ):
            self.add_error("period_end", "The period ends before it starts.")
        return data


class SampleAuditForm(PeriodForm):
    kind = forms.ChoiceField(choices=SampleKind.choices, label="Records to sample")
    size = forms.IntegerField(min_value=1, max_value=MAX_SAMPLE, initial=10)
    seed = forms.IntegerField(
        required=False, min_value=0, help_text="Give a seed to draw the same sample again."
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    field_order = ["kind", "period_start", "period_end", "size", "seed", "notes"]
