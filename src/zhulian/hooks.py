"""Where two modules meet, the core names the meeting point (after Datasette's plugin hooks), so that either
side can be removed: the importer does not import the registry, the harvester does not either; each calls a
hook, and whichever modules implement it answer.

A module implements a hook by defining a function of the hook's name in its ``<module>/hooks.py``; the core
finds those files by name, like ``commands.py`` and ``api.py`` (``zhulian.plugins``). The hooks:

``resolve_incoming(batch, records) -> resolution``
    Called by the importer before each batch of records is written, inside the batch's transaction. Answers an
    object with ``records`` (the same list, where a record may be replaced, e.g. by the existing organisation
    it names) and ``after_write(batch, results)``, called once the batch is written. Implementations are
    applied one after another.
``harvested(store, records)``
    Called by the federation harvester after a page of harvested records is stored (each a record dict).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from zhulian.plugins import modules_with

HOOKS = ("resolve_incoming", "harvested")


@cache
def implementations(name: str) -> tuple[Callable[..., Any], ...]:
    """Every module's implementation of the hook ``name``, in module order."""
    if name not in HOOKS:
        raise ValueError(f"no hook {name!r}; the hooks are {', '.join(HOOKS)}")
    return tuple(getattr(module, name) for module in modules_with("hooks") if hasattr(module, name))


class Unchanged:
    """The answer of ``resolve_incoming`` when no module implements it: the records as they came."""

    def __init__(self, records: list[Any]) -> None:
        self.records = records

    def after_write(self, batch: Any, results: list[Any]) -> None:
        pass


def resolve_incoming(batch: Any, records: list[Any]) -> list[Any]:
    """The records as every implementation resolved them, and the resolutions to tell after the write."""
    resolutions = []
    for implementation in implementations("resolve_incoming"):
        resolution = implementation(batch, records)
        records = resolution.records
        resolutions.append(resolution)
    return resolutions or [Unchanged(records)]


def harvested(store: Any, records: list[dict[str, Any]]) -> None:
    for implementation in implementations("harvested"):
        implementation(store, records)
