"""What every ``zhulian`` command shares: the consoles, the bilingual error printer, JSON output and the
store the settings name. ``cli.py`` and the modules' ``commands.py`` all use these."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from zhulian.config import Settings
from zhulian.errors import ZhulianError
from zhulian.store import Store

# Output piped to a file or another program has no width to fit: tables print wide there rather than squeezed
# into 80 columns (a terminal's own width applies when there is one).
PIPED_WIDTH = 200
out = Console(width=None if sys.stdout.isatty() else PIPED_WIDTH)
err = Console(stderr=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="以 JSON 输出 / print JSON")]


ID_WIDTH = 30  # org_ + 26 ULID characters


def new_table(*headers: str, **options: Any) -> Table:
    """A Rich table that never cuts an id short: id columns keep their whole width on one line, so an id printed
    by one command can be pasted into the next however narrow the terminal; other cells fold onto a second line
    instead of ending in "…"."""
    made = Table(*headers, **options)
    for column in made.columns:
        if "编号" in str(column.header) or " id" in f" {column.header}".lower():
            column.no_wrap, column.min_width = True, ID_WIDTH
        else:
            column.overflow = "fold"
    return made


def bilingual_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Print a ZhulianError as a person reads it and exit 2 for bad input, 1 for anything else."""

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ZhulianError as error:
            err.print(Text.assemble(("错误 error ", "bold red"), f"[{error.code}] {error}"), highlight=False)
            raise typer.Exit(2 if error.status in (400, 409, 412, 422) else 1) from None

    return run


def open_store() -> Store:
    return Store.from_settings(Settings())


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def stream_json_array(items: Iterable[dict[str, Any]]) -> None:
    """A JSON array written item by item, so a list of any length never sits in memory."""
    sys.stdout.write("[")
    for index, item in enumerate(items):
        sys.stdout.write(("," if index else "") + "\n" + json.dumps(item, ensure_ascii=False))
    sys.stdout.write("\n]\n")
