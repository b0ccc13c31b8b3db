"""A person's own account: sign-in (with the second-factor step), password, sessions,
confirming the password before sensitive actions, and the authenticator app.

Every page here belongs to the signed-in person themselves, so any signed-in person
may open it; none shows or changes anyone else's data.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from harken.core import audit, reauth

from . import sessions, throttle, twofactor
from .forms import CodeForm, ConfirmPasswordForm, LoginForm, StyledPasswordChangeForm

PENDING_KEY = "harken_pending_login"
SECOND_FACTOR_KEY = "harken_second_factor"
PENDING_SECONDS = 300


def safe_next(request: HttpRequest, candidate: str | None, default: str) -> str:
    """`candidate` when it points into this site, else `default` (no open redirects)."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


class LoginView(auth_views.LoginView):
    """Password first; a person with an authenticator app then gives a code."""

    form_class = LoginForm
    template_name = "registration/login.html"

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        if not twofactor.is_enrolled(user):
            return super().form_valid(form)
        self.request.session[PENDING_KEY] = {
            "user": user.pk,
            "backend": user.backend,  # type: ignore[attr-defined]
            "at": int(time.time()),
            "next": self.get_success_url(),
        }
        return HttpResponseRedirect(reverse("accounts:login_code"))

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        # Wrong passwords and lock-outs have their own events; a form that did not
        # even reach the password check is recorded here, naming fields, not values.
        codes = {
            name: [error.code or "invalid" for error in errors.as_data()]
            for name, errors in form.errors.items()
            if name != "__all__"
        }
        if codes:
            audit.record(
                "auth.login_invalid",
                actor=audit.Actor.system("anonymous"),
                object_type="core.user",
                object_label=str(form.data.get("username", ""))[:150],
                changes={"errors": codes, "address": throttle.client_address(self.request)},
            )
        return super().form_invalid(form)


@never_cache
@sensitive_post_parameters("code")
@csrf_protect
@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: a code from the app or a recovery code."""
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        messages.warning(request, "Please sign in again: the code was not given in time.")
        return HttpResponseRedirect(reverse(settings.LOGIN_URL))
    user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    if user is None:
        request.session.pop(PENDING_KEY, None)
        return HttpResponseRedirect(reverse(settings.LOGIN_URL))
    address = throttle.client_address(request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        lock = throttle.active_lock(user.get_username(), address)
        if lock is None:
            method = twofactor.verify(user, form.cleaned_data["code"])
            if method is not None:
                del request.session[PENDING_KEY]
                login(request, user, backend=pending["backend"])
                request.session[SECOND_FACTOR_KEY] = method
                return HttpResponseRedirect(
                    safe_next(request, pending.get("next"), reverse(settings.LOGIN_REDIRECT_URL))
                )
            audit.record(
                "auth.second_factor_failed",
                user,
                actor=audit.Actor.system("anonymous"),
                changes={"address": address},
            )
            lock = throttle.record_failure(user.get_username(), address)
        if lock is not None:
            del request.session[PENDING_KEY]
            messages.error(request, lock.message)
            return HttpResponseRedirect(reverse(settings.LOGIN_URL))
        form.add_error(
            "code",
            "That code is not right. Check the time on your phone and use the newest code; "
            "a recovery code works once.",
        )
    return render(
        request, "accounts/login_code.html", {"form": form}, status=422 if form.errors else 200
    )


class LogoutView(auth_views.LogoutView):
    """Signs out on POST only (a link or an image cannot sign anyone out)."""

    http_method_names = ["post", "options"]


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change one's own password; every other session of the person ends."""

    form_class = StyledPasswordChangeForm
    # Named apart from registration/password_change_form.html, which the admin's own
    # template would otherwise shadow.
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("password_change_done")

    def form_valid(self, form: StyledPasswordChangeForm) -> HttpResponse:
        response = super().form_valid(form)  # saves; other sessions end (signals.py)
        sessions.follow_key(self.request)
        reauth.mark_password_entered(self.request)
        messages.success(
            self.request, "Your password is changed. Your other sessions were signed out."
        )
        return response


@never_cache
@sensitive_post_parameters("password")
@login_required
@require_http_methods(["GET", "POST"])
def confirm_password(request: HttpRequest) -> HttpResponse:
    """ "Confirm your password" before a sensitive action, then back to it."""
    home = reverse(settings.LOGIN_REDIRECT_URL)
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"), home)
    form = ConfirmPasswordForm(request.POST or None, request=request)
    if request.method == "POST":
        if form.is_valid():
            reauth.mark_password_entered(request)
            audit.record("auth.reauthenticated", request.user)  # type: ignore[arg-type]
            return HttpResponseRedirect(next_url)
        lock = throttle.active_lock(request.user.get_username(), throttle.client_address(request))
        if lock is not None:
            logout(request)
            messages.error(request, lock.message)
            return HttpResponseRedirect(reverse(settings.LOGIN_URL))
    context = {"form": form, "next": next_url, "minutes": settings.REAUTH_MINUTES}
    return render(
        request, "accounts/confirm_password.html", context, status=422 if form.errors else 200
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def my_sessions(request: HttpRequest) -> HttpResponse:
    """The person's active sessions, with "sign out the others"."""
    user = request.user
    if request.method == "POST":
        if request.POST.get("action") == "end_others":
            ended = sessions.end_sessions(user, keep=request, reason="signed out by the person")
            messages.success(request, f"Signed out of {ended} other session(s).")
        else:
            messages.error(request, "Unknown action: choose “Sign out the other sessions”.")
        return HttpResponseRedirect(reverse("accounts:sessions"))
    current = request.session.get(sessions.ROW_KEY)
    rows = list(sessions.active_for(user))
    context = {
        "rows": [(row, row.pk == current) for row in rows],
        "others": sum(1 for row in rows if row.pk != current),
        "idle_minutes": settings.SESSION_IDLE_MINUTES,
        "max_hours": settings.SESSION_MAX_HOURS,
    }
    return render(request, "accounts/sessions.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """The authenticator app: its state, set it up, renew recovery codes, remove it.

    Each change asks for a recent password first (a borrowed session must not be able
    to lock the person out or drop their second factor).
    """
    user = request.user
    if request.method == "POST":
        if reauth.needs_password(request):
            return reauth.ask_for_password(request, reverse("accounts:two_factor"))
        action = request.POST.get("action")
        if action == "begin":
            twofactor.begin(user)
            return HttpResponseRedirect(reverse("accounts:two_factor_setup"))
        if action == "renew" and twofactor.is_enrolled(user):
            codes = twofactor.new_recovery_codes(user)
            return render(request, "accounts/recovery_codes.html", {"codes": codes})
        if action == "remove" and twofactor.is_enrolled(user):
            if twofactor.is_required(user):
                messages.error(
                    request, "Your role requires a second factor: set up a new app instead."
                )
            else:
                twofactor.remove(user, reason="removed by the person")
                messages.success(request, "Your authenticator app is removed.")
            return HttpResponseRedirect(reverse("accounts:two_factor"))
        messages.error(request, "Unknown action.")
        return HttpResponseRedirect(reverse("accounts:two_factor"))
    context = {
        "device": twofactor.app_device(user),
        "required": twofactor.is_required(user),
        "codes_left": twofactor.recovery_codes_left(user),
    }
    return render(request, "accounts/two_factor.html", context)


@never_cache
@sensitive_post_parameters("code")
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Scan the QR code (or type the secret), then prove it with a code."""
    user = request.user
    device = twofactor.pending(user)
    if device is None:
        return HttpResponseRedirect(reverse("accounts:two_factor"))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = twofactor.confirm(user, device, form.cleaned_data["code"])
        if codes is not None:
            request.session[SECOND_FACTOR_KEY] = "app"
            return render(request, "accounts/recovery_codes.html", {"codes": codes, "new": True})
        form.add_error(
            "code",
            "That code is not right. Check that the phone's clock is correct and enter the "
            "newest code.",
        )
    context = {
        "form": form,
        "qr_svg": twofactor.qr_svg(device),
        "uri": device.config_url,
        "secret": twofactor.secret_of(device),
    }
    return render(
        request, "accounts/two_factor_setup.html", context, status=422 if form.errors else 200
    )


def admin_login(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
    """The admin site signs in through Harken's own sign-in (throttling, second factor)."""
    from django.core.exceptions import PermissionDenied

    next_url = safe_next(request, request.GET.get("next"), reverse("admin:index"))
    if request.user.is_authenticated:
        if request.user.is_staff:
            return HttpResponseRedirect(next_url)
        raise PermissionDenied
    return HttpResponseRedirect(f"{reverse(settings.LOGIN_URL)}?{urlencode({'next': next_url})}")
