"""Imports the web layer takes in: the report as it is answered, and an import run as a background job in its
own process, which the API (``Prefer: respond-async``) and the portal's upload form both use."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable
from functools import partial
from typing import Any

from fastapi import UploadFile

from zhulian.access import Principal
from zhulian.exchange.service import ExchangeService
from zhulian.jobs import Job, JobService
from zhulian.records import RecordService
from zhulian.store import Store
from zhulian.web.files import keep_upload


def import_answer(report: Any, filename: str | None) -> dict[str, Any]:
    """An import report as it is answered: the summary, the outcome in both languages, and at most a
    thousand problems and changed rows."""
    outcome_zh, outcome = report.outcome_text()
    try:
        return {"ok": not report.refused, "summary": {**report.summary(), "path": filename},
                "outcome": outcome, "outcome_zh": outcome_zh,
                "problems": list(itertools.islice(report.errors, 1000)),
                "changes": list(itertools.islice(report.changes, 1000))}
    finally:
        report.close()


def submit_import(jobs: JobService, records: RecordService, principal: Principal, file: UploadFile,
                  options: dict[str, Any]) -> Job:
    """The upload kept until the job ends, and imported in a child process below the requests' priority
    (``JobService.submit(..., apart=True)``); the job's result is ``import_answer``'s."""
    upload = keep_upload(file)
    work = partial(_import_job_work, records.store.url, records.store.node, principal, upload, options)
    return jobs.submit(principal, "import", work, on_end=lambda: shutil.rmtree(upload.parent, ignore_errors=True),
                       detail={"file": file.filename, "type": options["type_name"], "dry_run": options["dry_run"]},
                       apart=True)


def _import_job_work(store_url: str, node: str | None, principal: Principal, upload: Any, options: dict[str, Any],
                     progress: Callable[[int, int, str], None]) -> dict[str, Any]:
    """An import job, as its child process runs it, on its own connection to the same store."""
    store = Store(store_url, node=node)
    try:
        report = ExchangeService(RecordService(store)).import_file(
            principal, upload, progress=lambda rows, position, total: progress(position, total, f"{rows} 行 rows"),
            **options)
    finally:
        store.close()
    return import_answer(report, options["name"])
