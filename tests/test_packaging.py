"""`pip install .` ships every file the package reads: a data file left out of pyproject's package-data works from a
checkout (and in the editable install the tests use) but breaks `zhulian demo` on a fresh machine."""

from __future__ import annotations

import tomllib
from pathlib import Path

import zhulian

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(zhulian.__file__).parent


def test_every_file_of_the_package_is_in_its_package_data():
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))[
        "tool"]["setuptools"]["package-data"]["zhulian"]
    shipped = {path for pattern in patterns for path in PACKAGE.glob(pattern)}
    files = {path for path in PACKAGE.rglob("*") if path.is_file() and path.suffix not in (".py", ".pyc")
             and "__pycache__" not in path.parts}
    assert sorted(str(path.relative_to(PACKAGE)) for path in files - shipped) == []
