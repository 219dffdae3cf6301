"""GB/T 2260 administrative division codes.

The code list ships inside the ``cpca`` package (its ``resources/adcodes.csv``: provinces, cities and
counties, including 810000 香港 and 820000 澳门). We read that file directly rather than importing
``cpca`` itself, which would pull pandas into every start-up.
"""

from __future__ import annotations

import csv
import importlib.util
import re
from functools import cache
from pathlib import Path

ADCODE_PATTERN = re.compile(r"^[1-9]\d{5}$")


def _cpca_adcodes_file() -> Path:
    spec = importlib.util.find_spec("cpca")
    if spec is None or spec.origin is None:
        raise RuntimeError("The cpca package (GB/T 2260 code list) is not installed / 未安装 cpca 包")
    return Path(spec.origin).parent / "resources" / "adcodes.csv"


@cache
def adcode_names() -> dict[str, str]:
    """Every known six-digit code with its name."""
    with _cpca_adcodes_file().open(encoding="utf-8") as handle:
        return {row["adcode"][:6]: row["name"] for row in csv.DictReader(handle)}


def is_adcode(code: str) -> bool:
    return bool(ADCODE_PATTERN.match(code)) and code in adcode_names()


def adcode_name(code: str) -> str | None:
    """The name of a code; a municipality's city-level code (310100, listed as 市辖区) takes the
    municipality's own name."""
    name = adcode_names().get(code)
    if name == "市辖区":
        return adcode_names().get(code[:2] + "0000", name)
    return name
