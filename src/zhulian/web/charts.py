"""Charts as files: every chart the portal draws is SVG; this turns it into PNG (CairoSVG, local) and into a
download, and says plainly what the server lacks when it cannot, instead of failing with a 500."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from functools import cache
from typing import Any

from fastapi.responses import Response

from zhulian.errors import ZhulianError

CHART_FORMATS = ("svg", "png")
TABLE_FORMATS = ("csv", "xlsx")
# Fonts Chinese desktops and phones have (Windows, macOS/iOS, Android, Linux), then any sans-serif; the PNG
# renderer finds Noto Sans CJK or Source Han Sans when the server has them installed.
FONT_STACK = ("Noto Sans CJK SC, Source Han Sans SC, PingFang SC, Hiragino Sans GB, Microsoft YaHei, "
              "WenQuanYi Micro Hei, sans-serif")
_MEDIA = {"svg": "image/svg+xml", "png": "image/png"}
_CJK = re.compile(r"[\u3400-\u9fff]")
FONT_HINT = "apt-get install fonts-noto-cjk"  # Debian/Ubuntu; on other systems any Noto Sans CJK or Source Han Sans


@cache
def has_cjk_font() -> bool:
    """Whether fontconfig, which cairo draws text with, knows a font that covers Chinese."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    found = subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True, timeout=10, check=False)
    return bool(found.stdout.strip())


def png(svg: str, scale: float = 2.0) -> bytes:
    """The SVG rendered to PNG. Without the cairo library, or with Chinese labels and no Chinese font, the
    answer is a 503 that says what to install (or to ask for ``lang=en`` or the SVG), never boxes or a 500."""
    try:
        import cairosvg
    except (ImportError, OSError) as error:  # cairocffi raises OSError when libcairo2 is missing
        raise ZhulianError("png_unavailable",
                           "PNG charts need the cairo library on the server (apt-get install libcairo2); "
                           "download the SVG instead.",
                           "服务器缺少 cairo 图形库，无法生成 PNG（请安装 libcairo2）；请改为下载 SVG。", 503) from error
    if _CJK.search(svg) and not has_cjk_font():
        raise ZhulianError("font_missing",
                           f"The server has no Chinese font to draw this chart as PNG ({FONT_HINT}); "
                           "download the SVG, or add lang=en for English labels.",
                           f"服务器未安装中文字体，无法将此图表生成 PNG（请安装：{FONT_HINT}）；"
                           "请下载 SVG，或加参数 lang=en 生成英文标注。", 503)
    return cairosvg.svg2png(bytestring=svg.encode("utf-8"), scale=scale)


def chart_response(svg: str, fmt: str, name: str) -> Response:
    """A chart as an SVG or PNG file, shown inline and saved under ``name``."""
    if fmt not in CHART_FORMATS:
        raise ZhulianError("not_found", "Charts are served as .svg or .png.", "图表提供 .svg 或 .png 两种格式。", 404)
    content = svg.encode("utf-8") if fmt == "svg" else png(svg)
    return Response(content, media_type=_MEDIA[fmt],
                    headers={"Content-Disposition": f'inline; filename="{name}.{fmt}"'})


def table_file(headers: list[str], rows: list[list[Any]], fmt: str, sheet: str) -> bytes:
    """One table as CSV (UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese) or XLSX, through
    the one writer that neutralises formulas: a cell never becomes live in the reader's spreadsheet."""
    from zhulian.exchange.formats import TableWriter

    buffer = io.BytesIO()
    writer = TableWriter(buffer, fmt, sheet=sheet)
    writer.header(headers)
    for row in rows:
        writer.row(row)
    writer.close()
    return buffer.getvalue()
