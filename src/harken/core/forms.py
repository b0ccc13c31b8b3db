"""Form helpers shared by every app."""

from django import forms


class BootstrapMixin:
    """Gives every widget Bootstrap's classes (and marks fields with errors)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():  # type: ignore[attr-defined]
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")
            if self.errors.get(name):  # type: ignore[attr-defined]
                widget.attrs["class"] += " is-invalid"
                widget.attrs["aria-invalid"] = "true"
