"""Harken's settings for the test suite: the real settings, with the test switches on.

SQLite by default; `HARKEN_TEST_ENGINE=postgres` runs the same suite on the
database named by HARKEN_TEST_DATABASE_URL (`make test` does both when it is set).
"""

import os
import tempfile

os.environ["HARKEN_TESTING"] = "1"
# Always a fresh data directory: never the instance's own (`make` exports var/), and never
# one shared by the SQLite and PostgreSQL runs, whose stored files would meet there.
os.environ["HARKEN_DATA_DIR"] = tempfile.mkdtemp(prefix="harken-test-")
os.environ.setdefault("HARKEN_HTTPS", "0")
os.environ.pop("HARKEN_DATABASE_URL", None)
if os.environ.get("HARKEN_TEST_ENGINE") == "postgres":
    os.environ["HARKEN_DATABASE_URL"] = os.environ.get(
        "HARKEN_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test"
    )

from harken import settings as harken_settings
from harken.settings import *  # noqa: F403

EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
TIME_ZONE = "Europe/Berlin"
COMPANY_NAME = "Test Company"

# WhiteNoise looks for the collected files at start; the tests serve from the finders.
harken_settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)
