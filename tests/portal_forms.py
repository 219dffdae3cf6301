"""What the portal tests share: the CSRF token of a form, and the report of an upload, which the portal runs as a
background job and shows on the job's page."""

from __future__ import annotations

import re
import time


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page)[1]


def finished_job_page(client, answer, seconds: float = 60) -> str:
    """The job page an upload was sent to, once the job has ended (the page stops refreshing itself)."""
    assert answer.history and answer.history[0].status_code == 303, answer.text
    assert answer.url.path.startswith("/jobs/job_"), answer.url
    deadline = time.monotonic() + seconds
    page = answer.text
    while 'http-equiv="refresh"' in page:
        assert time.monotonic() < deadline, "the import job did not end / 导入作业未结束"
        time.sleep(0.1)
        page = client.get(answer.url.path).text
    return page
