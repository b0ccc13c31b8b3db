"""The session policy, enforced on every request of a signed-in browser.

- Idle timeout (`SESSION_IDLE_MINUTES`) and absolute timeout (`SESSION_MAX_HOURS`):
  an outlived session is ended and recorded (`auth.session_expired`); the request goes
  on as an anonymous one, so a page asks to sign in again and the API answers 401/403.
- The session's row on the "my sessions" page is kept up to date.
- A person whose role must use a second factor and who has none set up can only
  reach their account pages until they set one up.

Requests authenticated by an API token carry no session user here and pass untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from harken.core import audit

from . import sessions, twofactor

EXPIRED_MESSAGES = {
    "idle": "You were signed out after {idle} minutes without activity. Please sign in again.",
    "absolute": "Your session reached its limit of {hours} hours. Please sign in again.",
}


class SessionPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            reason = sessions.expiry_reason(request)
            if reason:
                response = self.expire(request, reason)
                if response is not None:
                    return response
            else:
                sessions.touch(request)
                if self.must_set_up_second_factor(request):
                    messages.warning(
                        request,
                        "Your role requires a second factor: set up an authenticator app "
                        "to continue.",
                    )
                    return self.redirect(request, reverse("accounts:two_factor"))
        return self.get_response(request)

    def expire(self, request: HttpRequest, reason: str) -> HttpResponse | None:
        user = request.user
        audit.record(
            "auth.session_expired",
            user,  # type: ignore[arg-type]
            actor=audit.Actor.for_user(user),
            changes={
                "reason": reason,
                "idle_minutes": settings.SESSION_IDLE_MINUTES,
                "max_hours": settings.SESSION_MAX_HOURS,
            },
        )
        logout(request)
        messages.info(
            request,
            EXPIRED_MESSAGES[reason].format(
                idle=settings.SESSION_IDLE_MINUTES, hours=settings.SESSION_MAX_HOURS
            ),
        )
        if getattr(request, "htmx", False):
            login = f"{reverse(settings.LOGIN_URL)}?{urlencode({'next': request.path})}"
            return self.redirect(request, login)
        return None

    @staticmethod
    def must_set_up_second_factor(request: HttpRequest) -> bool:
        path = request.path
        if path.startswith(("/accounts/", "/" + settings.STATIC_URL.lstrip("/"))):
            return False
        user = request.user
        return twofactor.is_required(user) and not twofactor.is_enrolled(user)

    @staticmethod
    def redirect(request: HttpRequest, url: str) -> HttpResponse:
        if getattr(request, "htmx", False):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return HttpResponseRedirect(url)
