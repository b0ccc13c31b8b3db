"""Request ids and the audit context of each request."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .audit import audit_context

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Gives each request an id (a trusted proxy's X-Request-ID when well-formed)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request.request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex  # type: ignore[attr-defined]
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id  # type: ignore[attr-defined]
        return response


class AuditContextMiddleware:
    """Makes the request's user (session or API token) the actor of every audit event,
    and records every refusal (403) in the trail (`auth.access_denied`, ASVS 7.2.2).

    A refusal names the route pattern, not the address, so tokens in paths (survey
    links) never reach the trail; the request id ties it to the server logs.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with audit_context(request=request, request_id=getattr(request, "request_id", None)):
            response = self.get_response(request)
            if response.status_code == 403:
                record_denial(request)
            return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A download of a file disposed of under a retention rule: 410 Gone, with when
        and why, rather than a server error."""
        from django.shortcuts import render

        from .models import FileDisposed

        if isinstance(exception, FileDisposed):
            return render(request, "410.html", {"reason": str(exception)}, status=410)
        return None


def record_denial(request: HttpRequest) -> None:
    from .audit import record

    match = getattr(request, "resolver_match", None)
    record(
        "auth.access_denied",
        object_type="",
        object_label=(match.view_name if match else "")[:255],
        changes={
            "method": request.method,
            "route": match.route if match else "",
            "address": request.META.get("REMOTE_ADDR", ""),
        },
    )


class SecurityHeadersMiddleware:
    """A Content-Security-Policy without inline scripts, and a Permissions-Policy.

    Pages load scripts only from Harken's own static files (data reaches them through
    `json_script`); styles may be inline because Bootstrap components and htmx set
    style attributes. The API docs page is served in its CSP-friendly split form.
    """

    POLICY = (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
        "frame-ancestors 'self'; form-action 'self'; base-uri 'self'; object-src 'none'"
    )

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", self.POLICY)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response
