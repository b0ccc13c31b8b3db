"""Asking for the password again before sensitive actions.

A sign-in, and every later "confirm your password", stores the time in the session
(`mark_password_entered`). Views that change roles or users, export evidence or delete
records wrap themselves in `recent_password_required` (or the mixin): when the
password is older than `settings.REAUTH_MINUTES`, the person is sent to
`settings.REAUTH_URL` (the accounts app's confirm page) with the way back in `next`.

Core owns only the rule and the session key, so the generic views can use it without
knowing the accounts app; the page that asks lives there. API calls authenticated by
token have no session and are not affected (the token is its own credential).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

SESSION_KEY = "harken_password_at"


def mark_password_entered(request: HttpRequest) -> None:
    """The person has just proved their password (sign-in or confirmation)."""
    session = getattr(request, "session", None)
    if session is not None:
        session[SESSION_KEY] = int(time.time())


def password_is_recent(request: HttpRequest) -> bool:
    session = getattr(request, "session", None)
    if session is None:
        return False
    entered = session.get(SESSION_KEY)
    if not isinstance(entered, int):
        return False
    return time.time() - entered <= settings.REAUTH_MINUTES * 60


def confirm_url(request: HttpRequest, next_url: str | None = None) -> str:
    """The confirm page, returning to `next_url` (this request's page by default)."""
    target = next_url if next_url is not None else request.get_full_path()
    return f"{reverse(settings.REAUTH_URL)}?{urlencode({'next': target})}"


def ask_for_password(request: HttpRequest, next_url: str | None = None) -> HttpResponse:
    """Send the person to confirm their password; htmx follows with a full page load."""
    url = confirm_url(request, next_url)
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


def needs_password(request: HttpRequest) -> bool:
    """A signed-in session whose password is too old (token and anonymous calls: no)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    return not password_is_recent(request)


def recent_password_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a view so that it runs only within REAUTH_MINUTES of the password.

    A POST that is sent to confirm comes back as a GET of the same address, so the
    view's GET must show what the POST would do (a confirmation form, a list with the
    export button) rather than act.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if needs_password(request):
            return ask_for_password(request, _way_back(request))
        return view(request, *args, **kwargs)

    return wrapped


class RecentPasswordRequiredMixin:
    """The class-based form of `recent_password_required`; `password_needed` narrows it."""

    reauth_back_url: str | None = None

    def password_needed(self, request: HttpRequest) -> bool:
        return True

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if self.password_needed(request) and needs_password(request):
            return ask_for_password(request, self.reauth_back_url or _way_back(request))
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


def _way_back(request: HttpRequest) -> str:
    """Where to return after confirming: this page for a GET; for a POST the page it
    came from when that is on this site, else this address (shown by GET)."""
    if request.method in {"GET", "HEAD"}:
        return request.get_full_path()
    from django.utils.http import url_has_allowed_host_and_scheme

    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return request.path
