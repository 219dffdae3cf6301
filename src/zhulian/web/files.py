"""Files the web layer takes in and hands out: uploads for import, exports and templates as downloads."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import UploadFile
from fastapi.responses import Response

EXPORT_FORMATS = ("csv", "xlsx", "json", "jsonl")
_MEDIA = {"csv": "text/csv; charset=utf-8", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
          "json": "application/json", "jsonl": "application/x-ndjson"}


def file_responses(*formats: str) -> dict[int | str, dict]:
    """For the OpenAPI document: a route's 200 answer comes as one of these formats, not only as JSON."""
    return {200: {"description": "文件 / a file: " + ", ".join(formats),
                  "content": {_MEDIA[fmt].split(";")[0]: {} for fmt in formats}}}


def download(content: bytes, file_name: str, fmt: str) -> Response:
    return Response(content, media_type=_MEDIA[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{file_name}"'})


@contextmanager
def saved_upload(file: UploadFile) -> Iterator[Path]:
    """An upload saved to a private temporary file, removed afterwards (see ``keep_upload``)."""
    path = keep_upload(file)
    try:
        yield path
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)


def keep_upload(file: UploadFile) -> Path:
    """An upload saved to a private temporary folder of its own, named only by its (ASCII) suffix so that the
    format can be told and no client-chosen name ever reaches the file system. The caller removes the folder
    (a background job does when it ends)."""
    suffix = Path(file.filename or "upload").suffix.lower()[:8]
    path = Path(tempfile.mkdtemp(prefix="zhulian-upload-")) / ("upload" + (suffix if suffix.isascii() else ""))
    try:
        with path.open("wb") as handle:
            shutil.copyfileobj(file.file, handle)
    except BaseException:
        shutil.rmtree(path.parent, ignore_errors=True)
        raise
    return path
