"""Files the web layer hands out: exports and templates as downloads."""

from __future__ import annotations

from fastapi.responses import Response

EXPORT_FORMATS = ("csv", "xlsx", "json", "jsonl")
_MEDIA = {"csv": "text/csv; charset=utf-8", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
          "json": "application/json", "jsonl": "application/x-ndjson"}


def download(content: bytes, file_name: str, fmt: str) -> Response:
    return Response(content, media_type=_MEDIA[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{file_name}"'})
