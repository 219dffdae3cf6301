"""Background jobs: long work (imports, rebuilds, evaluations) runs off the request, with progress a client can
follow at ``GET /api/v1/jobs/{id}`` and ``zhulian jobs show ID``."""

from zhulian.jobs.service import Job, JobService, Progress

__all__ = ["Job", "JobService", "Progress"]
