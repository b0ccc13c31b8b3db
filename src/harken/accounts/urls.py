"""Sign-in and the person's own account pages, under /accounts/.

Django's names for the sign-in pages (`login`, `logout`, `password_change`, the
password reset steps) stay as they were, un-namespaced; Harken's own account pages
are `accounts:…`.
"""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

account_patterns = [
    path("login/code/", views.login_code, name="login_code"),
    path("confirm/", views.confirm_password, name="reauth"),
    path("sessions/", views.my_sessions, name="sessions"),
    path("two-factor/", views.two_factor, name="two_factor"),
    path("two-factor/setup/", views.two_factor_setup, name="two_factor_setup"),
]

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password_change/", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="accounts/password_change_done.html"
        ),
        name="password_change_done",
    ),
    path("password_reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("", include((account_patterns, "accounts"))),
]
