"""GB/T 2260 administrative division codes, read from the table shipped with the package (``data/adcodes.csv``:
3,511 provinces, prefecture-level cities and counties, 810000 香港 and 820000 澳门 among them).

The rows are the code and name columns of the ``cpca`` 0.5.5 table (MIT licence, ``data/adcodes-LICENSE.txt``);
counties stay in because records and imports name places by county-level cities and districts (昆山市, 天河区).
"""

from __future__ import annotations

import csv
import re
from functools import cache
from pathlib import Path

ADCODE_PATTERN = re.compile(r"^[1-9]\d{5}$")
TABLE = Path(__file__).parent / "data" / "adcodes.csv"


@cache
def adcode_names() -> dict[str, str]:
    """Every known six-digit code with its name."""
    with TABLE.open(encoding="utf-8", newline="") as handle:
        return {row["adcode"]: row["name"] for row in csv.DictReader(handle)}


def is_adcode(code: str) -> bool:
    return bool(ADCODE_PATTERN.match(code)) and code in adcode_names()


def adcode_name(code: str) -> str | None:
    """The name of a code; a municipality's city-level code (310100, listed as 市辖区) takes the
    municipality's own name."""
    name = adcode_names().get(code)
    if name == "市辖区":
        return adcode_names().get(code[:2] + "0000", name)
    return name
