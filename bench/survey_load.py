"""Load on the public survey submit endpoint: `harken serve` on PostgreSQL, driven from a
second process on loopback, then a count of what was stored.

    .venv/bin/python bench/survey_load.py --invitations 30000 --duration 30

It FLUSHES the database it is given (default postgres://postgres@127.0.0.1:5432/test):
drops and recreates its public schema, migrates, and makes one open NPS survey with
`--invitations` sent invitations whose tokens it keeps. Then:

1. starts `harken serve` (gunicorn, `--workers` 2, `--threads`) on a free loopback port,
   with its task worker beside it unless `--no-worker`;
2. opens one survey page to take the CSRF cookie and form token a browser would get, and
   views it for `--warm-up` seconds once every server worker has started;
3. drives POST submissions from a second process for `--duration` seconds: `wrk`
   (LuaJIT, `--connections`) when it is installed, else Python threads with
   http.client; every request answers a different invitation, and `--repeat` of them
   (5% by default) post an already used token again, which must change nothing;
4. waits for the server to finish what was in flight and for the worker to turn the
   answers into feedback items (up to `--drain` seconds), then stops everything.

It prints submissions per second, p50/p90/p99 latency, the status codes, and the
check the target names: stored responses = distinct tokens submitted (nothing lost,
nothing doubled), and each has its feedback item; then the CPU time per accepted
submission of the server's workers, the task worker and the database's backends
(read from /proc), which shows where the time goes. The target: at least 300
submissions/s with p99 under 150 ms on the 2-core machine.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATE = 300
TARGET_P99_MS = 150

LUA = r"""
-- One token per request, read from the file the benchmark wrote; thread i takes every
-- n-th token. A few requests post a token this thread used before (must change nothing).
local tokens = {}
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local n = tonumber(os.getenv("BENCH_THREADS"))
  local repeat_every = tonumber(os.getenv("BENCH_REPEAT_EVERY"))
  local i = 0
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    if i % n == id then table.insert(tokens, line) end
    i = i + 1
  end
  body_head = os.getenv("BENCH_BODY")
  cookie = os.getenv("BENCH_COOKIE")
  next_index = 1
  issued = 0
  repeats = 0
  used = {}
  statuses = {}
  every = repeat_every
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Cookie"] = cookie
end

function request()
  local token
  if every > 0 and issued > 0 and issued % every == 0 and #used > 0 then
    token = used[math.random(#used)]
    repeats = repeats + 1
  else
    token = tokens[next_index]
    if token == nil then
      wrk.thread:stop()
      token = tokens[#tokens]
    else
      next_index = next_index + 1
      table.insert(used, token)
    end
  end
  issued = issued + 1
  return wrk.format(nil, "/surveys/r/" .. token .. "/", nil, body_head)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local out = io.open(os.getenv("BENCH_RESULT"), "w")
  local fresh = 0
  local again = 0
  local codes = {}
  for _, thread in ipairs(threads) do
    fresh = fresh + thread:get("next_index") - 1
    again = again + thread:get("repeats")
    local st = thread:get("statuses")
    for code, n in pairs(st) do codes[tostring(code)] = (codes[tostring(code)] or 0) + n end
  end
  local parts = {}
  for code, n in pairs(codes) do table.insert(parts, string.format('"%s": %d', code, n)) end
  out:write(string.format(
    '{"completed": %d, "seconds": %.3f, "fresh_tokens": %d, "repeats": %d, '
    .. '"p50": %.3f, "p90": %.3f, "p99": %.3f, "max": %.3f, "errors": %d, "timeouts": %d, '
    .. '"statuses": {%s}}',
    summary.requests, summary.duration / 1e6, fresh, again,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status,
    summary.errors.timeout, table.concat(parts, ", ")))
  out:close()
end
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database", default="postgres://postgres@127.0.0.1:5432/test", help="FLUSHED."
    )
    parser.add_argument("--invitations", type=int, default=30000)
    parser.add_argument("--duration", type=int, default=30, help="Seconds of load.")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--client-threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker.")
    parser.add_argument("--repeat", type=float, default=0.05, help="Share of repeated tokens.")
    parser.add_argument("--drain", type=int, default=300, help="Seconds to wait for feedback.")
    parser.add_argument("--no-worker", action="store_true", help="Serve without the worker.")
    parser.add_argument(
        "--warm-up", type=float, default=3, help="Seconds of page views before the load."
    )
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    return parser.parse_args()


def environment(args: argparse.Namespace, data_dir: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("HARKEN_") and k != "DJANGO_SETTINGS_MODULE"
    }
    env.update(
        HARKEN_DATABASE_URL=args.database,
        HARKEN_SECRET_KEY="bench-" + secrets.token_urlsafe(24),
        HARKEN_HTTPS="0",
        HARKEN_DATA_DIR=data_dir,
        HARKEN_EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        HARKEN_LOG_LEVEL="WARNING",
        HARKEN_PUBLIC_URL="http://127.0.0.1",
    )
    return env


def harken(env: dict[str, str], *argv: str, **kwargs: Any) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "harken", *argv], env=env, check=True, cwd=ROOT, **kwargs
    )


def reset_database(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


SETUP = r"""
import json, sys, datetime as dt
import django
django.setup()
from django.db import transaction
from django.utils import timezone
from harken.core.audit import Actor, audit_context
from harken.customers.models import Contact, Customer, Region
from harken.feedback.models import PerceptionSource
from harken.surveys import services, tokens
from harken.surveys.models import Invitation

n = int(sys.argv[1])
out = sys.argv[2]
with audit_context(actor=Actor.system("bench")), transaction.atomic():
    region = Region.objects.create(code="B", name="Bench")
    source = PerceptionSource.objects.create(
        name="Bench NPS", kind="survey", structured=True, default_kind="survey_response",
        default_scale="nps", owner_role="quality_manager",
    )
    survey = services.create_survey(actor=None, title="Bench NPS", source=source)
    services.open_survey(survey, actor=None)
    # Setup, not the measured path: rows in bulk, with the tokens kept in clear.
    customers = Customer.objects.bulk_create(
        [Customer(number=f"CUS-B-{i:06d}", name=f"Bench {i}", region=region) for i in range(n)],
        batch_size=5000,
    )
    contacts = Contact.objects.bulk_create(
        [Contact(customer=c, name=f"Contact {i}", email=f"c{i}@bench.example")
         for i, c in enumerate(customers)],
        batch_size=5000,
    )
    now = timezone.now()
    clear = [tokens.new_token() for _ in contacts]
    Invitation.objects.bulk_create(
        [Invitation(survey=survey, contact=c, customer_id=c.customer_id, email=c.email,
                    status="sent", token_hash=tokens.token_hash(t), sent_at=now,
                    expires_at=now + dt.timedelta(days=30), attempts=1)
         for c, t in zip(contacts, clear)],
        batch_size=5000,
    )
form = services.form_of(survey)
with open(out, "w") as f:
    json.dump({"survey": survey.pk, "score": form.score_id, "why": form.why_id, "tokens": clear}, f)
"""

COUNT = r"""
import json, sys
import django
django.setup()
from harken.feedback.models import FeedbackItem
from harken.surveys.models import Invitation, SurveyResponse
tokens = set(json.load(open(sys.argv[1])))
from harken.surveys.tokens import token_hash
print(json.dumps({
    "responses": SurveyResponse.objects.filter(status="submitted").count(),
    "responded_invitations": Invitation.objects.filter(status="responded").count(),
    "with_feedback": SurveyResponse.objects.filter(feedback_item__isnull=False).count(),
    "feedback_items": FeedbackItem.objects.filter(kind="survey_response").count(),
    "doubled": SurveyResponse.objects.values("invitation").order_by().annotate(
        n=__import__("django.db.models", fromlist=["Count"]).Count("id")).filter(n__gt=1).count(),
}))
"""


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            tree.setdefault(parent, []).append(int(entry))
    return tree


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_sample(server_pid: int, database: str) -> dict[str, dict[int, float]]:
    """CPU seconds so far of each process of the run, by part: the web server's workers,
    the task worker, and the PostgreSQL backends serving this database."""
    import psycopg

    tree = _children()
    parts: dict[str, dict[int, float]] = {"web": {}, "worker": {}, "postgres": {}}
    stack = list(tree.get(server_pid, []))
    while stack:
        pid = stack.pop()
        stack.extend(tree.get(pid, []))
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "gunicorn" in cmdline:
            parts["web"][pid] = _cpu_seconds(pid)
        elif " worker" in cmdline:
            parts["worker"][pid] = _cpu_seconds(pid)
    with psycopg.connect(database, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        ).fetchall()
    parts["postgres"] = {pid: _cpu_seconds(pid) for (pid,) in rows}
    return parts


def cpu_spent(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict:
    """CPU seconds each part spent between two samples (processes started since count
    from zero; backends that ended in between are missed)."""
    return {
        part: sum(max(0.0, t - before[part].get(pid, 0.0)) for pid, t in pids.items())
        for part, pids in after.items()
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server did not start on port {port}")


def warm_up(server_pid: int, workers: int, port: int, token: str, seconds: float) -> None:
    """Wait until every gunicorn worker has started, then open the survey page from a few
    connections for `seconds`, so that no worker is still importing Django when the load
    (and its CPU count) begins. Page views record nothing but the first opening."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        tree = _children()
        masters = [
            pid
            for pid in tree.get(server_pid, [])
            if b"gunicorn" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]
        if masters and len(tree.get(masters[0], [])) >= workers:
            break
        time.sleep(0.2)
    stop = time.monotonic() + seconds

    def views() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while time.monotonic() < stop:
            conn.request("GET", f"/surveys/r/{token}/")
            conn.getresponse().read()

    threads = [threading.Thread(target=views) for _ in range(2 * workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def csrf_pair(port: int, token: str) -> tuple[str, str]:
    """Open one survey page as a browser would: its CSRF cookie and form token."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("GET", f"/surveys/r/{token}/")
    response = conn.getresponse()
    page = response.read().decode()
    if response.status != 200:
        raise SystemExit(f"GET of a survey page answered {response.status}")
    cookie = next(
        v.split(";")[0]
        for k, v in response.getheaders()
        if k.lower() == "set-cookie" and "csrftoken" in v
    )
    form_token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    return cookie, form_token


def run_wrk(
    args: argparse.Namespace, port: int, tokens_file: str, body: str, cookie: str, work: str
) -> dict:
    script = Path(work) / "submit.lua"
    script.write_text(LUA)
    result = Path(work) / "result.json"
    every = round(1 / args.repeat) if args.repeat > 0 else 0
    env = dict(
        os.environ,
        BENCH_TOKENS=tokens_file,
        BENCH_THREADS=str(args.client_threads),
        BENCH_REPEAT_EVERY=str(every),
        BENCH_BODY=body,
        BENCH_COOKIE=cookie,
        BENCH_RESULT=str(result),
    )
    subprocess.run(
        [
            "wrk",
            f"-t{args.client_threads}",
            f"-c{args.connections}",
            f"-d{args.duration}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return json.loads(result.read_text())


def python_client(
    args: argparse.Namespace, port: int, tokens: list[str], body: str, cookie: str
) -> dict:
    """Threads with keep-alive connections; each posts its own tokens until the time is up."""
    import random

    latencies: list[float] = []
    statuses: dict[str, int] = {}
    fresh = [0]
    repeats = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + args.duration
    every = round(1 / args.repeat) if args.repeat > 0 else 0

    def run(index: int) -> None:
        mine = tokens[index :: args.connections]
        used: list[str] = []
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        issued = 0
        local: list[float] = []
        position = 0
        while time.monotonic() < deadline:
            if every and issued and issued % every == 0 and used:
                token = random.choice(used)
                with lock:
                    repeats[0] += 1
            else:
                if position >= len(mine):
                    break
                token = mine[position]
                position += 1
                used.append(token)
                with lock:
                    fresh[0] += 1
            issued += 1
            start = time.perf_counter()
            conn.request(
                "POST",
                f"/surveys/r/{token}/",
                body=body,
                headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
            )
            response = conn.getresponse()
            response.read()
            local.append((time.perf_counter() - start) * 1000)
            with lock:
                statuses[str(response.status)] = statuses.get(str(response.status), 0) + 1
        with lock:
            latencies.extend(local)

    started = time.monotonic()
    workers = [threading.Thread(target=run, args=(i,)) for i in range(args.connections)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    seconds = time.monotonic() - started
    latencies.sort()

    def pct(p: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] if latencies else 0.0
        )

    return {
        "completed": len(latencies),
        "seconds": seconds,
        "fresh_tokens": fresh[0],
        "repeats": repeats[0],
        "p50": pct(50),
        "p90": pct(90),
        "p99": pct(99),
        "max": latencies[-1] if latencies else 0.0,
        "errors": 0,
        "timeouts": 0,
        "statuses": statuses,
    }


def main() -> None:
    args = parse_args()
    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    work = tempfile.mkdtemp(prefix="harken-survey-bench-")
    env = environment(args, work)
    print(f"resetting {args.database} and migrating …", flush=True)
    reset_database(args.database)
    harken(env, "migrate", "--noinput", "--run-syncdb", "-v", "0")
    print(f"creating {args.invitations:,} sent invitations …", flush=True)
    setup_file = Path(work) / "setup.json"
    subprocess.run(
        [sys.executable, "-c", SETUP, str(args.invitations), str(setup_file)],
        env={**env, "DJANGO_SETTINGS_MODULE": "harken.settings"},
        check=True,
        cwd=ROOT,
    )
    setup = json.loads(setup_file.read_text())
    tokens: list[str] = setup["tokens"]
    tokens_file = Path(work) / "tokens.txt"
    # The first token opens the page for the CSRF pair; the load uses the others.
    tokens_file.write_text("\n".join(tokens[1:]) + "\n")

    port = free_port()
    serve = [
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
    ]
    if args.no_worker:
        serve.append("--no-worker")
    log = open(Path(work) / "serve.log", "w")
    server = subprocess.Popen(
        serve, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        wait_for(port)
        cookie, form_token = csrf_pair(port, tokens[0])
        warm_up(server.pid, args.workers, port, tokens[0], args.warm_up)
        body = (
            f"csrfmiddlewaretoken={form_token}&action=submit&q{setup['score']}=9"
            f"&q{setup['why']}=Quick+and+reliable+deliveries."
        )
        print(
            f"load: {client}, {args.connections} connections for {args.duration}s against "
            f"{args.workers} workers x {args.threads} threads …",
            flush=True,
        )
        started = cpu_sample(server.pid, args.database)
        load_started = time.monotonic()
        if client == "wrk":
            result = run_wrk(args, port, str(tokens_file), body, cookie, work)
        else:
            result = python_client(args, port, tokens[1:], body, cookie)
        loaded = cpu_sample(server.pid, args.database)
        load_seconds = time.monotonic() - load_started
        time.sleep(2)  # what was in flight when the client stopped
        counts = count(env, work, tokens)
        drain_started = time.monotonic()
        drain_until = drain_started + (0 if args.no_worker else args.drain)
        while counts["with_feedback"] < counts["responses"] and time.monotonic() < drain_until:
            time.sleep(1)
            counts = count(env, work, tokens)
        drained = cpu_sample(server.pid, args.database)
        result["cpu_load"] = cpu_spent(started, loaded)
        result["cpu_drain"] = cpu_spent(loaded, drained)
        result["load_seconds"] = load_seconds
        result["drain_seconds"] = time.monotonic() - drain_started
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()
    report(args, client, result, counts)
    shutil.rmtree(work, ignore_errors=True)


def count(env: dict[str, str], work: str, tokens: list[str]) -> dict[str, int]:
    path = Path(work) / "all-tokens.json"
    if not path.exists():
        path.write_text(json.dumps(tokens))
    out = subprocess.run(
        [sys.executable, "-c", COUNT, str(path)],
        env={**env, "DJANGO_SETTINGS_MODULE": "harken.settings"},
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def report(args: argparse.Namespace, client: str, result: dict, counts: dict) -> None:
    statuses = result["statuses"]
    accepted = int(statuses.get("303", 0))
    rate = accepted / result["seconds"] if result["seconds"] else 0.0
    print()
    print(
        f"client                 {client}, {args.connections} connections, {result['seconds']:.1f} s"
    )
    print(
        f"requests completed     {result['completed']:,}  statuses {dict(sorted(statuses.items()))}"
    )
    print(f"submissions accepted   {accepted:,}  = {rate:,.0f}/s   (target ≥ {TARGET_RATE}/s)")
    print(
        f"latency                p50 {result['p50']:.1f} ms  p90 {result['p90']:.1f} ms  "
        f"p99 {result['p99']:.1f} ms  max {result['max']:.1f} ms   (target p99 < {TARGET_P99_MS} ms)"
    )
    print(f"client errors          {result['errors']} (timeouts {result['timeouts']})")
    print(
        f"distinct tokens sent   {result['fresh_tokens']:,}  (+ {result['repeats']:,} repeats of used tokens)"
    )
    print(
        f"stored responses       {counts['responses']:,}  invitations responded "
        f"{counts['responded_invitations']:,}  doubled {counts['doubled']}"
    )
    print(
        f"feedback items         {counts['feedback_items']:,}  responses linked to one "
        f"{counts['with_feedback']:,}"
    )
    # wrk stops with one request in flight per connection: the server still records those,
    # so stored answers lie between the accepted ones and the distinct tokens sent.
    in_flight = result["fresh_tokens"] - accepted
    stored = counts["responses"]
    whole = (
        accepted <= stored <= result["fresh_tokens"]
        and stored == counts["responded_invitations"]
        and not counts["doubled"]
    )
    print(
        f"in flight at the stop   {in_flight} (sent, no answer read before the client stopped; "
        f"{stored - accepted} of them recorded)"
    )
    print(f"nothing lost, nothing doubled: {'yes' if whole else 'NO'}")
    per = 1000 / accepted if accepted else 0.0
    load, drain = result["cpu_load"], result["cpu_drain"]
    print(
        f"CPU during the load     web {load['web']:.1f} s, worker {load['worker']:.1f} s, "
        f"postgres {load['postgres']:.1f} s over {result['load_seconds']:.1f} s = "
        + ", ".join(f"{part} {load[part] * per:.2f}" for part in ("web", "worker", "postgres"))
        + " ms per accepted submission"
    )
    print(
        f"after the load          {result['drain_seconds']:.1f} s until every answer had its item: "
        f"worker {drain['worker']:.1f} s, postgres {drain['postgres']:.1f} s CPU "
        f"({(load['worker'] + drain['worker']) * 1000 / max(1, stored):.2f} ms of worker CPU "
        "per recorded answer in all)"
    )
    met = rate >= TARGET_RATE and result["p99"] < TARGET_P99_MS and whole
    print(f"target met: {'yes' if met else 'NO'}")


if __name__ == "__main__":
    main()
