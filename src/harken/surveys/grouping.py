"""Committing concurrent survey submissions together (group commit).

Every answer is recorded with its audit event in the same transaction, and the audit
chain lets one transaction append at a time until it commits (core/audit.py). A commit
waits for the disk (an fsync, several milliseconds), so one transaction per answer
caps the whole site at a few hundred answers a second however many servers it has.

So the threads of one server process that submit at the same moment share one
transaction: the first to arrive leads, taking every job queued so far; the others
wait until the leader's commit (or failure) settles theirs; whoever finds no leader
when their job is still pending leads the next group. With one request at a time a
group is that one job, so nothing changes for a quiet site. No thread of our own and
no queue outside the request: an answer is acknowledged only after its commit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

# A group larger than this waits for the next one: it bounds the time one group holds
# the audit chain, and so the latency of the others.
MAX_GROUP = 64


@dataclass(eq=False)
class Job:
    """One piece of work a group carries out, and how it ended."""

    payload: Any
    result: Any = None
    error: BaseException | None = None
    done: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    # Held while the job waits; released to wake it, settled or made the next leader.
    _wake: Any = field(default_factory=threading.Lock, repr=False)


class GroupCommit:
    """Runs `apply(jobs)` for the jobs of concurrent callers, one group at a time.

    `apply` must set each job's `result` (or raise: every job of the group then carries
    the error, and `apply` is tried again for each job alone so that one bad job does
    not sink the others).

    Only the threads that have something to do are woken: the members of a settled
    group, and the first job still queued, which leads the next group. (Waking every
    waiting thread after each group cost each request several needless switches of the
    interpreter lock under load.)
    """

    def __init__(self, apply: Callable[[Sequence[Job]], None]) -> None:
        self.apply = apply
        self._lock = threading.Lock()
        self._queue: list[Job] = []
        self._leading = False

    def run(self, payload: Any) -> Job:
        """Queue `payload` and return its job once a group (perhaps led here) settled it."""
        job = Job(payload)
        job._wake.acquire()
        with self._lock:
            self._queue.append(job)
            leads = not self._leading
            self._leading = True
        if not leads:
            job._wake.acquire()  # until its group settled it, or it leads the next one
            if job.done:
                return job
        with self._lock:
            group = self._queue[:MAX_GROUP]  # this job first: it was the oldest waiting
            self._queue = self._queue[MAX_GROUP:]
        try:
            self._carry_out(group)
        finally:
            with self._lock:
                for member in group:
                    member.done = True
                successor = self._queue[0] if self._queue else None
                if successor is None:
                    self._leading = False
            for member in group:
                if member is not job:
                    member._wake.release()
            if successor is not None:
                successor._wake.release()
        return job

    def _carry_out(self, group: list[Job]) -> None:
        try:
            self.apply(group)
        except Exception as exc:
            if len(group) == 1:
                group[0].error = exc
                return
            for member in group:
                member.result = None
                try:
                    self.apply([member])
                except Exception as single:
                    member.error = single
