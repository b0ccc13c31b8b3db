"""Harken's one settings file: every value comes from a HARKEN_* environment variable.

Defaults are the safe production ones. The few settings that have no safe default
(the secret key) raise ImproperlyConfigured unless HARKEN_DEBUG is on; secrets may
come from a file named by the variable with `_FILE` appended (Docker and systemd
credentials). `docs/configuration.md` lists every variable.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent


def env(name: str, default: str | None = None) -> str | None:
    """Return HARKEN_<name>, or the content of the file HARKEN_<name>_FILE names."""
    key = f"HARKEN_{name}"
    if key in os.environ:
        return os.environ[key]
    file_name = os.environ.get(f"{key}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{key}_FILE={file_name} cannot be read: {exc}") from exc
    return default


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"HARKEN_{name}={value!r} is not a boolean (use 1/0, true/false)")


def env_int(name: str, default: int) -> int:
    value = env(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"HARKEN_{name}={value!r} is not a whole number") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    value = env(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
TESTING = env_bool("TESTING", False)

DATA_DIR = Path(env("DATA_DIR") or PROJECT_DIR / "var").resolve()

SECRET_KEY = env("SECRET_KEY") or ""
if not SECRET_KEY:
    if DEBUG or TESTING:
        SECRET_KEY = "insecure-development-key-never-use-in-production"  # noqa: S105 - debug only
    else:
        raise ImproperlyConfigured(
            "HARKEN_SECRET_KEY (or HARKEN_SECRET_KEY_FILE) must be set when HARKEN_DEBUG is off. "
            "`make run` creates one under var/ for you."
        )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# HTTPS is assumed in production: secure cookies and HSTS. `make run` serves plain
# HTTP on the loopback interface and turns it off.
HTTPS = env_bool("HTTPS", not DEBUG)
# Customer-facing staff see only the customers they are account owner of (core/scoping.py).
STAFF_OWN_CUSTOMERS_ONLY = env_bool("STAFF_OWN_CUSTOMERS_ONLY", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
# Over HTTPS the cookies carry the __Host- prefix: a browser then takes them only when
# they are Secure, for path / and without a Domain, so no sibling host can set them.
SESSION_COOKIE_NAME = "__Host-sessionid" if HTTPS else "sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if HTTPS else "csrftoken"
SECURE_SSL_REDIRECT = HTTPS and env_bool("SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 31536000) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS and env_bool("HSTS_PRELOAD", False)
# Preloading HSTS is a per-domain commitment the operator opts into (HARKEN_HSTS_PRELOAD),
# so the deploy check's reminder about it is not a failure.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
# Behind a reverse proxy the scheme comes from X-Forwarded-Proto and the client's
# address from the last X-Forwarded-For entry (the one the proxy itself appended);
# login throttling counts per address (harken/accounts/throttle.py).
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
# Sessions end after HARKEN_SESSION_IDLE_MINUTES without a request and, whatever the
# activity, HARKEN_SESSION_MAX_HOURS after sign-in (accounts/middleware.py enforces both;
# the cookie's own age is the absolute limit as a second guard).
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30)
SESSION_MAX_HOURS = env_int("SESSION_MAX_HOURS", 12)
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Sensitive actions (roles and users in the admin, evidence exports, deletes) ask for
# the password again when it was last entered longer ago than this (core/reauth.py).
REAUTH_MINUTES = env_int("REAUTH_MINUTES", 10)
REAUTH_URL = "accounts:reauth"
# Login throttling (accounts/throttle.py): this many failures within the window lock
# the account (or the client address) for the lock-out time.
LOGIN_FAILURES_PER_ACCOUNT = env_int("LOGIN_FAILURES_PER_ACCOUNT", 5)
LOGIN_FAILURES_PER_ADDRESS = env_int("LOGIN_FAILURES_PER_ADDRESS", 20)
LOGIN_WINDOW_MINUTES = env_int("LOGIN_WINDOW_MINUTES", 15)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15)
# Roles whose holders must set up a second factor (TOTP) before they can work.
OTP_REQUIRED_ROLES = env_list("OTP_REQUIRED_ROLES", [])
OTP_TOTP_ISSUER = env("OTP_ISSUER", "Harken") or "Harken"
# The admin never shows a TOTP secret once the device exists.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "harken.core",
    "harken.accounts",
    "harken.customers",
    "harken.documents",
    "harken.communications",
    "harken.feedback",
    "harken.surveys",
    "harken.orders",
    "harken.property",
    "harken.insights",
    "harken.actions",
    "harken.reviews",
    "harken.assurance",
    "harken.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "harken.core.middleware.RequestIdMiddleware",
    "harken.core.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "harken.core.middleware.AuditContextMiddleware",
    "harken.accounts.middleware.SessionPolicyMiddleware",
]

ROOT_URLCONF = "harken.urls"
WSGI_APPLICATION = "harken.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "harken.core.context_processors.harken",
            ],
        },
    },
]


def _database(url: str | None) -> dict[str, Any]:
    """The database from a URL; SQLite in WAL mode under the data directory by default."""
    if not url:
        url = f"sqlite:///{DATA_DIR / 'harken.sqlite3'}"
    config: dict[str, Any] = dict(
        dj_database_url.parse(url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
    )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            # WAL lets readers work while one writer writes; IMMEDIATE takes the write
            # lock at BEGIN so two writers queue instead of deadlocking mid-transaction,
            # which also keeps the audit chain linear (core/audit.py relies on it).
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                "PRAGMA foreign_keys=ON;"
                "PRAGMA busy_timeout=10000;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    elif config["ENGINE"] == "django.db.backends.postgresql":
        options = config.setdefault("OPTIONS", {})
        # Parallel workers speed up one large query by taking cores from every other
        # request; Harken serves many short ones with a few processes per core, so its
        # sessions ask for none unless told otherwise (docs/deploy.md).
        workers = env_int("DB_PARALLEL_WORKERS", 0)
        options["options"] = " ".join(
            part
            for part in (
                options.get("options", ""),
                f"-c max_parallel_workers_per_gather={workers}",
            )
            if part
        )
    return config


DATABASES = {"default": _database(env("DATABASE_URL"))}
# The few statements run for every survey answer are prepared once per PostgreSQL
# connection (core/rows.py `Trip`); off behind a pooler in transaction mode that cannot
# keep prepared statements (PgBouncer before 1.21).
DB_PREPARE = env_bool("DB_PREPARE", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = ["harken.core.permissions.RoleBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env_int("PASSWORD_MIN_LENGTH", 12)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "harken.accounts.validators.MaximumLengthValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = env("LANGUAGE_CODE", "en") or "en"
TIME_ZONE = env("TIME_ZONE", "UTC") or "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# Front-end packages come from the npm registry at setup time (package.json); the
# built files are served from node_modules and never committed.
NODE_MODULES = PROJECT_DIR / "node_modules"
STATICFILES_DIRS = [
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", NODE_MODULES / "bootstrap-icons" / "font"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/chart.js", NODE_MODULES / "chart.js" / "dist"),
    ("vendor/swagger-ui", NODE_MODULES / "swagger-ui-dist"),
]
STATICFILES_DIRS = [(prefix, path) for prefix, path in STATICFILES_DIRS if path.exists()]
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(DATA_DIR / "files")},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "harken.core.storage.StaticStorage"
        ),
    },
}
MEDIA_ROOT = DATA_DIR / "files"

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend") or ""
EMAIL_HOST = env("EMAIL_HOST", "localhost") or "localhost"
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_USER", "") or ""
EMAIL_HOST_PASSWORD = env("EMAIL_PASSWORD", "") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env("EMAIL_FROM", "harken@localhost") or "harken@localhost"
# For the file-based backend (`make run` uses it: mail lands in var/mail as files).
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", str(DATA_DIR / "mail")) or str(DATA_DIR / "mail")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so an unauthenticated call is told 401 with WWW-Authenticate.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["harken.api.permissions.RolePermission"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "harken.core.scoping.CustomerScopeFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "harken.api.pagination.KeysetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "harken.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "harken.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Harken API",
    "DESCRIPTION": (
        "Customer communication (ISO 9001 8.2.1) and customer satisfaction (9.1.2) records. "
        "Authenticate with a session or with `Authorization: Token KEY` "
        "(`harken token USERNAME` prints a key)."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "/static/vendor/swagger-ui",
    "SWAGGER_UI_FAVICON_HREF": "/static/vendor/swagger-ui/favicon-32x32.png",
    "COMPONENT_SPLIT_REQUEST": True,
    # One schema name per choice set that several fields share.
    "ENUM_NAME_OVERRIDES": {
        "FeedbackKindEnum": "harken.feedback.choices.ItemKind",
        "ScaleEnum": "harken.feedback.choices.Scale",
        "SourceKindEnum": "harken.feedback.choices.SourceKind",
        "ExposureKindEnum": "harken.insights.choices.ExposureKind",
        "SignalKindEnum": "harken.insights.choices.SignalKind",
        "MetricEnum": "harken.insights.choices.Metric",
        "RoleEnum": "harken.core.choices.Role",
        "ChannelEnum": "harken.communications.choices.Channel",
        "ActionKindEnum": "harken.actions.choices.ActionKind",
        "VerdictEnum": "harken.actions.choices.Verdict",
        "DocumentKindEnum": "harken.documents.choices.DocumentKind",
        "PackKindEnum": "harken.reviews.choices.PackKind",
        "DecisionKindEnum": "harken.reviews.choices.DecisionKind",
    },
}

# Background work goes through the tasks framework API (the django-tasks backport;
# Django 6 has it built in). The database worker runs as `harken worker`.
TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks.backends.immediate.ImmediateBackend"
            if TESTING or env_bool("TASKS_IMMEDIATE", False)
            else "django_tasks_db.DatabaseBackend"
        ),
        "QUEUES": ["default"],
    }
}

# The company running Harken: its name and working week feed documents and deadlines.
COMPANY_NAME = env("COMPANY_NAME", "Harken") or "Harken"
WORKING_DAYS = [int(d) for d in env_list("WORKING_DAYS", ["0", "1", "2", "3", "4"])]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO") or "INFO"},
    "loggers": {"django.server": {"level": "WARNING"}},
}
