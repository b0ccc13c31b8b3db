"""Errors as JSON that name the field: {"errors": {"field": ["reason"]}, "detail": "..."}."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, RestrictedError
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ProtectedError | RestrictedError):
        # Records others refer to stay (they are evidence); say so instead of failing.
        count = len(
            exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
        )
        refused = Response(
            {
                "detail": f"This record cannot be deleted: {count} other "
                f"record{'s refer' if count != 1 else ' refers'} to it.",
                "errors": {},
            },
            status=409,
        )
        request = context.get("request")
        if request is not None:
            refused["X-Request-ID"] = getattr(request._request, "request_id", "")
        return refused
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(exc, ValidationError):
        errors = data if isinstance(data, dict) else {"non_field_errors": data}
        response.data = {"detail": "The request has invalid fields.", "errors": errors}
    elif isinstance(data, dict) and "detail" in data:
        response.data = {"detail": str(data["detail"]), "errors": {}}
    request = context.get("request")
    if request is not None:
        response["X-Request-ID"] = getattr(request._request, "request_id", "")
    return response
