"""Mixed load on the production server: page views, API reads, feedback intake through the
API and survey submissions from 50 concurrent users, then a count of what was stored.

    .venv/bin/python bench/load_bench.py --duration 60

It FLUSHES the database it is given (default postgres://postgres@127.0.0.1:5432/test), sets
it up with bench/survey_load.py's pieces (an open NPS survey with sent invitations whose
tokens it keeps) plus a quality manager with an API token and a perception source, starts
`harken serve` (gunicorn, 2 workers) on a free loopback port, and runs `--users` threads,
each its own httpx client, for `--duration` seconds. Each user signs in once, then picks
at random: a page (dashboard, feedback list, a feedback item), an API read, a feedback item
posted to the API (a new external id each time) or a survey answered (a fresh token each
time). At the end it prints per kind the requests, errors and p50/p95/p99 latency, and
compares what was accepted with what is stored: "lost: 0, duplicated: 0" is the target.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from survey_load import (
    ROOT,
    SETUP,
    environment,
    free_port,
    harken,
    reset_database,
    wait_for,
)

PASSWORD = secrets.token_urlsafe(16)  # the simulated users sign in with it
KINDS = ("page", "api_read", "intake", "survey")

EXTRA_SETUP = r"""
import json, sys
import django
django.setup()
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token
from harken.core.models import User
from harken.feedback.models import PerceptionSource
users = int(sys.argv[1])
group, _ = Group.objects.get_or_create(name="quality_manager")
names = []
for n in range(users):
    user = User.objects.create_user(f"load{n}", f"load{n}@bench.example", sys.argv[2])
    user.groups.add(group)
    names.append(user.username)
token = Token.objects.create(user=User.objects.get(username="load0"))
PerceptionSource.objects.create(
    name="Bench portal", kind="complaints_inbox", structured=False, owner_role="quality_manager",
)
print(json.dumps({"token": token.key, "users": names}))
"""

COUNT = r"""
import json, sys
import django
django.setup()
from django.db.models import Count
from harken.feedback.models import FeedbackItem
from harken.surveys.models import SurveyResponse
print(json.dumps({
    "intake": FeedbackItem.objects.filter(source__name="Bench portal").count(),
    "intake_doubled": FeedbackItem.objects.filter(source__name="Bench portal")
        .values("external_id").annotate(n=Count("id")).filter(n__gt=1).count(),
    "survey": SurveyResponse.objects.filter(status="submitted").count(),
    "survey_doubled": SurveyResponse.objects.values("invitation")
        .annotate(n=Count("id")).filter(n__gt=1).count(),
}))
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database", default="postgres://postgres@127.0.0.1:5432/test", help="FLUSHED."
    )
    parser.add_argument("--duration", type=int, default=300, help="Seconds of load.")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--invitations", type=int, default=20000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker.")
    parser.add_argument("--seed", type=int, default=2026)
    return parser.parse_args()


class Tally:
    """Latencies, errors and what was accepted, per kind, shared by the user threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)
        self.accepted: dict[str, set[str]] = defaultdict(set)

    def add(self, kind: str, seconds: float, error: str = "", key: str = "") -> None:
        with self.lock:
            self.latency[kind].append(seconds * 1000)
            if error:
                self.errors[kind].append(error)
            elif key:
                self.accepted[kind].add(key)


def sign_in(client: httpx.Client, username: str) -> None:
    page = client.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token is not None, f"no login form ({page.status_code})"
    answer = client.post(
        "/accounts/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token[1]},
    )
    if answer.status_code != 302:
        raise SystemExit(f"{username} could not sign in: {answer.status_code}")


def user(
    number: int,
    base: str,
    setup: dict[str, Any],
    tokens: Any,
    intake_ids: Any,
    stop: float,
    tally: Tally,
    seed: int,
) -> None:
    """One simulated person until the deadline."""
    rng = random.Random(seed + number)
    headers = {"Authorization": f"Token {setup['token']}"}
    with (
        httpx.Client(base_url=base, timeout=60) as browser,
        httpx.Client(base_url=base, timeout=60, headers=headers) as api,
        httpx.Client(base_url=base, timeout=60) as respondent,
    ):
        sign_in(browser, setup["users"][number % len(setup["users"])])
        while time.monotonic() < stop:
            kind = rng.choices(KINDS, weights=(3, 3, 2, 2))[0]
            started = time.monotonic()
            error = key = ""
            try:
                if kind == "page":
                    path = rng.choice(["/", "/feedback/items/", "/surveys/", "/customers/"])
                    answer = browser.get(path)
                    ok = answer.status_code == 200
                elif kind == "api_read":
                    path = rng.choice(
                        ["/api/feedback/?page_size=20", "/api/customers/", "/api/me/"]
                    )
                    answer = api.get(path)
                    ok = answer.status_code == 200
                elif kind == "intake":
                    key = f"LOAD-{next(intake_ids)}"
                    answer = api.post(
                        "/api/feedback/",
                        json={
                            "source": "Bench portal",
                            "kind": "complaint",
                            "text": f"Load note {key}",
                            "external_id": key,
                        },
                    )
                    ok = answer.status_code == 201
                else:
                    token = next(tokens)
                    page = respondent.get(f"/surveys/r/{token}/")
                    form = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
                    if page.status_code != 200 or form is None:
                        raise RuntimeError(f"survey page answered {page.status_code}")
                    answer = respondent.post(
                        f"/surveys/r/{token}/",
                        data={
                            "csrfmiddlewaretoken": form[1],
                            "action": "submit",
                            f"q{setup['score']}": str(rng.randint(0, 10)),
                            f"q{setup['why']}": "Reliable parts, quick answers.",
                        },
                    )
                    ok = answer.status_code == 303
                    key = token
                if not ok:
                    error = f"{kind} {answer.request.url.path}: {answer.status_code} {answer.text[:200]}"
            except (httpx.HTTPError, RuntimeError) as exc:
                error = f"{kind}: {type(exc).__name__}: {exc}"
            tally.add(kind, time.monotonic() - started, error, key)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def count(env: dict[str, str]) -> dict[str, int]:
    out = subprocess.run(
        [sys.executable, "-c", COUNT],
        env={**env, "DJANGO_SETTINGS_MODULE": "harken.settings"},
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    args = parse_args()
    work = tempfile.mkdtemp(prefix="harken-load-bench-")
    env = environment(args, work)
    django_env = {**env, "DJANGO_SETTINGS_MODULE": "harken.settings"}
    print(f"resetting {args.database} and migrating …", flush=True)
    reset_database(args.database)
    harken(env, "migrate", "--noinput", "-v", "0")
    setup_file = Path(work) / "setup.json"
    subprocess.run(
        [sys.executable, "-c", SETUP, str(args.invitations), str(setup_file)],
        env=django_env,
        check=True,
        cwd=ROOT,
    )
    setup = json.loads(setup_file.read_text())
    extra = subprocess.run(
        [sys.executable, "-c", EXTRA_SETUP, str(args.users), PASSWORD],
        env=django_env,
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout
    setup.update(json.loads(extra.strip().splitlines()[-1]))

    port = free_port()
    log = open(Path(work) / "serve.log", "w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harken",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    tally = Tally()
    try:
        wait_for(port)
        base = f"http://127.0.0.1:{port}"
        tokens = iter(setup["tokens"])
        lock = threading.Lock()

        def next_token() -> str:
            with lock:
                return next(tokens)

        class Tokens:
            def __next__(self) -> str:
                return next_token()

        intake_ids = itertools.count(1)  # next() on a count is atomic under the GIL
        print(
            f"load: {args.users} users for {args.duration}s against {args.workers} workers "
            f"x {args.threads} threads …",
            flush=True,
        )
        stop = time.monotonic() + args.duration
        threads = [
            threading.Thread(
                target=user,
                args=(n, base, setup, Tokens(), intake_ids, stop, tally, args.seed),
                daemon=True,
            )
            for n in range(args.users)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        time.sleep(2)
        stored = count(env)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()

    print()
    print(f"{'kind':10} {'requests':>9} {'errors':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for kind in KINDS:
        values = tally.latency[kind]
        print(
            f"{kind:10} {len(values):9,} {len(tally.errors[kind]):7} "
            f"{percentile(values, 0.50):8.1f} {percentile(values, 0.95):8.1f} "
            f"{percentile(values, 0.99):8.1f}"
        )
    total = sum(len(v) for v in tally.latency.values())
    everything = list(itertools.chain.from_iterable(tally.latency.values()))
    print(
        f"{'all':10} {total:9,} {sum(len(e) for e in tally.errors.values()):7} "
        f"{percentile(everything, 0.5):8.1f} {percentile(everything, 0.95):8.1f} "
        f"{percentile(everything, 0.99):8.1f}   ({total / args.duration:,.0f} requests/s, "
        f"mean {statistics.fmean(everything) if everything else 0:.1f} ms)"
    )
    for kind in KINDS:
        for error in tally.errors[kind][:3]:
            print(f"  error: {error}")
    sent_intake, sent_survey = len(tally.accepted["intake"]), len(tally.accepted["survey"])
    lost = max(0, sent_intake - stored["intake"]) + max(0, sent_survey - stored["survey"])
    duplicated = stored["intake_doubled"] + stored["survey_doubled"]
    print(
        f"intake accepted {sent_intake:,}, stored {stored['intake']:,}; "
        f"survey answers accepted {sent_survey:,}, stored {stored['survey']:,}"
    )
    print(f"lost: {lost}, duplicated: {duplicated}")
    errors = sum(len(e) for e in tally.errors.values())
    if lost or duplicated or errors:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
