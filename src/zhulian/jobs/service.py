"""The job service: submit long work, follow its progress, read its result.

A job runs in a thread of the process that accepted it, so the request that submitted it answers at once and the
event loop never waits for it. CPU-heavy work (an import) is submitted with ``apart=True`` and runs in a child
process that the thread follows, at a lower priority than the requests: in the server's own process it held the
interpreter lock the request threads need, and under a full read load it could neither finish quickly nor step
aside (``bench/import_while_reading.py``). A child whose server dies ends too, so its transaction rolls back.

The store keeps each job's state, owner and result, so any worker of ``zhulian serve --workers N`` can answer
for it; live progress (rows done of rows known) is held by the running process and shown by it, and a job
whose process died is reported as interrupted, never as running forever.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import sqlalchemy as sa
from ulid import ULID

from zhulian.access import Principal
from zhulian.errors import Problem, ZhulianError
from zhulian.jobs.tables import jobs
from zhulian.store import Store
from zhulian.store.store import now

HOST = socket.gethostname()
BUSY_RETRY_S = 5  # Retry-After when no running job here can estimate its end
STATES = ("queued", "running", "succeeded", "failed")


@dataclass
class Progress:
    """What a running job reports: ``done`` of ``total`` units (0 when not yet known), and a short note."""

    done: int = 0
    total: int = 0
    note: str = ""
    updated: float = field(default_factory=time.time)
    started: float | None = None  # when the job began running, for ``remaining``

    def __call__(self, done: int, total: int = 0, note: str = "") -> None:
        self.done, self.total, self.updated = done, total, time.time()
        if note:
            self.note = note

    def remaining(self) -> float | None:
        """Seconds the job will likely still run, at its pace so far; None before it has a pace."""
        if not (self.started and self.done and self.total):
            return None
        return (self.updated - self.started) * max(self.total - self.done, 0) / self.done + (time.time() - self.updated)

    def as_dict(self) -> dict[str, Any]:
        percent = round(100 * self.done / self.total, 1) if self.total else None
        return {"done": self.done, "total": self.total or None, "percent": percent, "note": self.note or None}


Work = Callable[[Progress], dict[str, Any]]


class ChildFailed(Exception):
    """A job's child process failed outside the platform's own errors; the text says how."""


# A job runs at a lower priority than the requests: it takes the CPU the requests leave, all of it when none
# come, so a long import never slows the reads of the people using the portal meanwhile.
JOB_NICENESS = 10
# A child process starts afresh ("spawn"): forking a server that runs threads can copy a lock another thread held.
CHILDREN = multiprocessing.get_context("spawn")


@dataclass(frozen=True)
class Job:
    id: str
    kind: str
    owner: str
    state: str
    detail: dict[str, Any] | None
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    created: str
    started: str | None
    finished: str | None
    progress: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "owner": self.owner, "state": self.state,
                "detail": self.detail, "progress": self.progress, "result": self.result, "error": self.error,
                "created": self.created, "started": self.started, "finished": self.finished,
                "links": {"self": f"/api/v1/jobs/{self.id}"}}


class JobService:
    def __init__(self, store: Store, *, threads: int = 1) -> None:
        self.store = store
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="zhulian-job")
        self._running: dict[str, Progress] = {}
        self._children: set[multiprocessing.process.BaseProcess] = set()
        self._lock = threading.Lock()

    def submit(self, principal: Principal, kind: str, work: Work, *, detail: dict[str, Any] | None = None,
               on_end: Callable[[], None] | None = None, apart: bool = False) -> Job:
        """Queue ``work`` and answer at once. ``on_end`` runs when it has ended either way (to remove a
        temporary upload, for example). With ``apart`` the work runs in a child process: it must then be
        picklable (a module-level function, or a ``functools.partial`` of one)."""
        job_id = f"job_{ULID()}"
        row = {"id": job_id, "kind": kind, "owner": principal.id, "state": "queued", "detail": detail,
               "host": HOST, "pid": os.getpid(), "created": now()}
        self._write(sa.insert(jobs).values(**row))
        progress = Progress()
        with self._lock:
            self._running[job_id] = progress
        self._pool.submit(self._run, job_id, partial(self._in_child, work) if apart else work, progress, on_end)
        return self.get(principal, job_id)

    def get(self, principal: Principal, job_id: str) -> Job:
        """A job its owner or an administrator may read; anyone else is told it does not exist."""
        with self.store.engine.connect() as connection:
            row = connection.execute(sa.select(jobs).where(jobs.c.id == job_id[:40])).mappings().first()
        if row is None or not (principal.is_admin or row["owner"] == principal.id):
            raise ZhulianError("not_found", f"No job {job_id[:60]} of yours.", f"没有属于您的作业 {job_id[:60]}。", 404)
        return self._job(row)

    def list(self, principal: Principal, *, limit: int = 50) -> list[Job]:
        statement = sa.select(jobs).order_by(jobs.c.created.desc(), jobs.c.id.desc()).limit(limit)
        if not principal.is_admin:
            statement = statement.where(jobs.c.owner == principal.id)
        with self.store.engine.connect() as connection:
            return [self._job(row) for row in connection.execute(statement).mappings()]

    def wait(self, principal: Principal, job_id: str, *, timeout: float = 600.0, poll: float = 0.05) -> Job:
        """The job once it has ended (for the command line and tests; a web client polls instead)."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.get(principal, job_id)
            if job.state in ("succeeded", "failed") or time.monotonic() > deadline:
                return job
            time.sleep(poll)

    def retry_after(self) -> int:
        """Whole seconds after which a write that found the store busy should be sent again: when this
        process's running jobs will likely have ended (at least 1, at most 10 minutes), or a few seconds when
        no running job here knows its pace (the writer may be another process)."""
        with self._lock:
            estimates = [left for progress in self._running.values() if (left := progress.remaining()) is not None]
        return max(1, min(600, math.ceil(max(estimates)))) if estimates else BUSY_RETRY_S

    def close(self) -> None:
        """Stops at once: a job running in a child process is ended (its transaction rolls back) and reported
        failed, so a server asked to stop does not wait for an import to finish."""
        with self._lock:
            children = list(self._children)
        for child in children:
            child.terminate()
        self._pool.shutdown(wait=True, cancel_futures=True)

    # -- running ---------------------------------------------------------------------------------

    def _run(self, job_id: str, work: Work, progress: Progress, on_end: Callable[[], None] | None) -> None:
        self._update(job_id, state="running", started=now())
        progress.started = time.time()
        try:
            result = work(progress)
        except ZhulianError as error:
            self._update(job_id, state="failed", error=error.as_dict()["error"], finished=now())
        except Exception as error:  # noqa: BLE001 — a job's failure is its answer, never a dead thread
            reason = (str(error) if isinstance(error, ChildFailed) else f"{type(error).__name__}: {error}")[:500]
            self._update(job_id, state="failed", finished=now(), error={
                "code": "job_failed", "message": f"The job failed: {reason}",
                "message_zh": f"作业失败：{reason}", "details": []})
        else:
            self._update(job_id, state="succeeded", result=result, finished=now())
        finally:
            with self._lock:
                self._running.pop(job_id, None)
            if on_end is not None:
                on_end()

    def _in_child(self, work: Work, progress: Progress) -> dict[str, Any]:
        """``work`` run in a child process, its progress relayed here; its error raised here as it was there."""
        answers, answer_end = CHILDREN.Pipe(duplex=False)
        lifeline, lifeline_end = CHILDREN.Pipe(duplex=False)
        child = CHILDREN.Process(target=_child_main, args=(work, answer_end, lifeline), daemon=True,
                                 name="zhulian-job")
        with self._lock:
            self._children.add(child)
        try:
            child.start()
            answer_end.close()
            lifeline.close()
            while True:
                try:
                    kind, *body = answers.recv()
                except EOFError:
                    child.join()
                    raise ChildFailed(f"its process ended with exit code {child.exitcode} (stopped, or out of memory)"
                                      ) from None
                if kind == "progress":
                    progress(*body)
                elif kind == "result":
                    return body[0]
                elif kind == "crash":
                    raise ChildFailed(body[0])
                else:
                    code, message, message_zh, status, details = body
                    raise ZhulianError(code, message, message_zh, status, [Problem(**d) for d in details])
        finally:
            lifeline_end.close()  # the child sees its lifeline end and exits, if it has not already
            child.join()
            with self._lock:
                self._children.discard(child)
            answers.close()

    def _update(self, job_id: str, **values: Any) -> None:
        self._write(sa.update(jobs).where(jobs.c.id == job_id).values(**values))

    def _write(self, statement: sa.Executable) -> None:
        """A job's own state, written even while another job holds the store's write lock (SQLite has one):
        a job left "running" because its last write found the store busy would never end."""
        while True:
            try:
                with self.store.transaction() as writer:
                    writer.connection.execute(statement)
                return
            except ZhulianError as error:
                if error.code != "busy":
                    raise

    def _job(self, row: Any) -> Job:
        state = row["state"]
        with self._lock:
            progress = self._running.get(row["id"])
        if state in ("queued", "running") and progress is None and not _alive(row["host"], row["pid"]):
            state = "failed"  # its process ended without finishing it (a stop or a crash)
            error = {"code": "job_interrupted", "message": "The server stopped before the job ended; run it again.",
                     "message_zh": "作业结束前服务器已停止，请重新提交。", "details": []}
        else:
            error = row["error"]
        return Job(row["id"], row["kind"], row["owner"], state, row["detail"], row["result"], error,
                   row["created"], row["started"], row["finished"], progress.as_dict() if progress else None)


def _child_main(work: Work, answers: Any, lifeline: Any) -> None:
    """A child process's life: run ``work``, send its progress and its end. It exits at once when its parent
    is gone (the lifeline's other end closes), so an import never finishes after its server was killed."""
    threading.Thread(target=_exit_when_orphaned, args=(lifeline,), daemon=True).start()
    os.nice(JOB_NICENESS)

    def report(done: int, total: int = 0, note: str = "") -> None:
        answers.send(("progress", done, total, note))

    try:
        answers.send(("result", work(report)))
    except ZhulianError as error:
        answers.send(("error", error.code, error.message, error.message_zh, error.status,
                      [problem.as_dict() for problem in error.details]))
    except Exception as error:  # noqa: BLE001 — reported by the parent as the job's failure
        answers.send(("crash", f"{type(error).__name__}: {error}"))


def _exit_when_orphaned(lifeline: Any) -> None:
    try:
        lifeline.recv()
    except EOFError:
        pass
    os._exit(1)


def _alive(host: str, pid: int) -> bool:
    """Whether the process that runs a job still lives; another host's process is taken to live."""
    if host != HOST:
        return True
    if pid == os.getpid():
        return True  # ours, and not in _running: it ended between the read and this check, or is queued
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
