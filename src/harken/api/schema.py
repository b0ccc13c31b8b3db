"""The OpenAPI schema's generator: drf-spectacular's, with one correction."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers


def _blank_in_model(field: serializers.Field) -> bool:
    """Whether the model field behind a serializer field may hold ""."""
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    source = field.source
    if model is None or not isinstance(source, str) or not source or "." in source:
        return False
    try:
        return bool(model._meta.get_field(source).blank)
    except FieldDoesNotExist:  # "*", a property or a method
        return False


class AutoSchema(SpectacularAutoSchema):
    """Read-only choice fields whose model field may be blank also answer "".

    DRF drops `allow_blank` from read-only fields (nothing is validated on them), so the
    schema's enum would leave out the "" that a record without a scale or an impact holds.
    """

    def _map_serializer_field(
        self, field: Any, direction: Any, bypass_extensions: bool = False
    ) -> Any:
        if (
            isinstance(field, serializers.ChoiceField)
            and field.read_only
            and not field.allow_blank
            and _blank_in_model(field)
        ):
            field.allow_blank = True  # read-only: changes nothing but the schema
        return super()._map_serializer_field(field, direction, bypass_extensions)
