"""One rebuild of an index folder at a time, across every process that serves or builds it.

A lock file beside the index (``.index.rebuild.lock``, held with ``flock`` for as long as a build runs) says
whether a build is under way; the kernel lets go of it when its process dies, however it died, so a build
interrupted by a kill is never mistaken for one still running. Beside it, ``.index.rebuild.json`` says how far the
running build has got, for ``zhulian index status`` in any process.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
import time
from pathlib import Path
from typing import IO, Any

from zhulian.errors import ZhulianError

REPORT_INTERVAL = 0.5  # seconds between progress writes: writing it for every chunk cost a build more than its reads


class BuildStopped(Exception):
    """The build was asked to stop (the server is shutting down); its half-built folder is gone."""


class RebuildLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_file = path.parent / f".{path.name}.rebuild.lock"
        self.progress_file = path.parent / f".{path.name}.rebuild.json"
        self._held: IO[str] | None = None
        self._started = ""
        self._reported_at = -REPORT_INTERVAL

    def acquire(self) -> bool:
        """Take the lock if no build holds it, and clear what interrupted builds left behind."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self._lock(fcntl.LOCK_EX)
        if handle is None:
            return False
        self._held = handle
        self._started = _now()
        for leftover in [*self.path.parent.glob(f".{self.path.name}.building-*"),
                         *self.path.parent.glob(f".{self.path.name}.old-*")]:
            shutil.rmtree(leftover, ignore_errors=True)  # no build can be writing there: we hold the lock
        return True

    def release(self) -> None:
        if self._held is not None:
            self.progress_file.unlink(missing_ok=True)
            self._held.close()  # closing the file lets go of the lock
            self._held = None

    def report(self, done: int, total: int) -> None:
        """Write how far the build has got: at its start, its end, and every ``REPORT_INTERVAL`` between."""
        if 0 < done < total and time.monotonic() < self._reported_at + REPORT_INTERVAL:
            return
        self._reported_at = time.monotonic()
        tmp = self.progress_file.with_name(self.progress_file.name + ".tmp")
        tmp.write_text(json.dumps({"pid": os.getpid(), "started_at": self._started, "records_done": done,
                                   "records_total": total, "updated_at": _now()}), encoding="utf-8")
        os.replace(tmp, self.progress_file)

    def running(self) -> dict[str, Any] | None:
        """How far the build under way (in this process or another) has got, or None when none runs."""
        if self._held is None:
            probe = self._lock(fcntl.LOCK_SH)
            if probe is not None:
                probe.close()
                return None
        try:
            return json.loads(self.progress_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {"records_done": 0, "records_total": None}  # just started: no progress written yet

    def _lock(self, mode: int) -> IO[str] | None:
        handle = open(self.lock_file, "a")  # noqa: SIM115 - held open for as long as the lock is
        try:
            fcntl.flock(handle, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return None
        return handle


def building_error(progress: dict[str, Any] | None) -> ZhulianError:
    """What a search gets while there is no index to answer from yet."""
    done, total = (progress or {}).get("records_done", 0), (progress or {}).get("records_total")
    of = f"{done:,} of {total:,}" if total else f"{done:,}"
    return ZhulianError("index_building",
                        f"The search index is being built ({of} records so far); try again in a moment.",
                        f"正在建立检索索引（已处理 {done:,}{f' / {total:,}' if total else ''} 条记录），请稍后再试。",
                        503)


def running_error(progress: dict[str, Any] | None) -> ZhulianError:
    """What ``zhulian index rebuild`` gets while another process rebuilds the same index."""
    pid = (progress or {}).get("pid", "?")
    return ZhulianError("index_rebuilding",
                        f"Another process (pid {pid}) is rebuilding this index; `zhulian index status` shows how far "
                        "it has got.",
                        f"另一个进程（pid {pid}）正在重建此索引；可用 `zhulian index status` 查看进度。", 409)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
