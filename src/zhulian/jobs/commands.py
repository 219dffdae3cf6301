"""``zhulian jobs list|show``: the background jobs the server ran (imports sent through the API or the portal)."""

from __future__ import annotations

from typing import Annotated

import typer

from zhulian.access import CLI_ADMIN
from zhulian.console import JsonFlag, bilingual_errors, new_table, open_store, out, print_json
from zhulian.jobs.service import JobService


def register(app: typer.Typer) -> None:
    jobs_app = typer.Typer(help="后台作业 / Background jobs (imports sent to the server)")
    app.add_typer(jobs_app, name="jobs")

    @jobs_app.command("list")
    @bilingual_errors
    def list_jobs(limit: Annotated[int, typer.Option(help="最多条数 / at most N")] = 50,
                  as_json: JsonFlag = False) -> None:
        """最近的作业 / The latest jobs, newest first."""
        jobs = JobService(open_store()).list(CLI_ADMIN, limit=limit)
        if as_json:
            print_json([job.as_dict() for job in jobs])
            return
        table = new_table("编号 id", "类型 kind", "状态 state", "提交者 owner", "提交 created", "结束 finished")
        for job in jobs:
            table.add_row(job.id, job.kind, job.state, job.owner, job.created, job.finished or "")
        out.print(table)

    @jobs_app.command("show")
    @bilingual_errors
    def show_job(job_id: Annotated[str, typer.Argument(help="作业编号 / job id")]) -> None:
        """一个作业的状态、进度与结果 / One job's state, progress and result."""
        print_json(JobService(open_store()).get(CLI_ADMIN, job_id).as_dict())
