"""Modules plug into the platform the same way (after Datasette: the core's own features use the hooks a new
module would use). docs/modules.md is the contract; in short:

- ``<module>/types.py`` declares ``RECORD_TYPES``, a tuple of ``zhulian.model.RecordType``: the module's record
  types, registered when ``zhulian.model`` is first imported;
- ``<module>/commands.py``: ``register(app: typer.Typer)`` adds the module's commands;
- ``<module>/api.py``: ``router(context: zhulian.web.context.WebContext) -> APIRouter`` adds its API routes and
  pages (pages with ``include_in_schema=False``, rendered with ``zhulian.web.portal.render``). A router's
  ``lifespan=zhulian.web.context.while_serving(...)`` starts the module's background work (followers,
  schedulers) when the app serves and stops it when the app stops;
- ``<module>/migrations/*.py`` is the module's Alembic branch (see ``zhulian.store.migrate``);
- ``<module>/templates/*.html`` extend ``base.html``; ``<module>/static/`` is served at ``/static/<module>/``.

Modules are the folders of the ``zhulian`` package (``web`` is the host and ``model`` the core, not modules) and
the importable packages named, comma-separated, in ``ZHULIAN_MODULES`` (e.g. ``ZHULIAN_MODULES=acme.labs``);
adding one needs no edit here or in the core. ``add_module`` loads one more at run time.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import pkgutil
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import zhulian

if TYPE_CHECKING:
    from zhulian.model import RecordType

_NOT_MODULES = ("web", "model")
_added: list[str] = []  # packages loaded with add_module, after those ZHULIAN_MODULES names


def module_names() -> list[str]:
    """Every module's package: the ``zhulian.*`` folders, then ZHULIAN_MODULES, then those add_module loaded."""
    own = sorted(f"zhulian.{info.name}" for info in pkgutil.iter_modules(zhulian.__path__)
                 if info.ispkg and info.name not in _NOT_MODULES)
    configured = [name.strip() for name in os.environ.get("ZHULIAN_MODULES", "").split(",") if name.strip()]
    return list(dict.fromkeys(own + configured + _added))


def modules_with(part: str) -> list[ModuleType]:
    return [importlib.import_module(f"{name}.{part}") for name in module_names() if _has(name, part)]


def _has(package: str, part: str) -> bool:
    if package.startswith("zhulian."):
        # Look at the folder rather than import the package: the core asks this while it is itself importing.
        folder = Path(zhulian.__path__[0]) / package.removeprefix("zhulian.")
        return (folder / f"{part}.py").is_file() or (folder / part / "__init__.py").is_file()
    try:
        return importlib.util.find_spec(f"{package}.{part}") is not None
    except ModuleNotFoundError as error:
        raise ImportError(f"module package {package!r} (ZHULIAN_MODULES) cannot be imported: {error} / "
                          f"无法导入模块包 {package!r}（ZHULIAN_MODULES）") from error


def register_types(packages: list[str] | None = None) -> None:
    """Register the record types each module's ``types.py`` declares (all modules unless ``packages`` is given)."""
    from zhulian.model import RECORD_TYPES, register

    for package in packages or module_names():
        if not _has(package, "types"):
            continue
        for record_type in _declared(package):
            if RECORD_TYPES.get(record_type.name) is not record_type:
                register(record_type)


def _declared(package: str) -> tuple[RecordType, ...]:
    types = importlib.import_module(f"{package}.types")
    if not hasattr(types, "RECORD_TYPES"):  # also when it is this import's caller, still half-imported
        raise ImportError(f"{package}.types declares no RECORD_TYPES, or was imported before zhulian: import "
                          f"zhulian first / {package}.types 未声明 RECORD_TYPES，或在 zhulian 之前被导入：请先导入 zhulian")
    return types.RECORD_TYPES


def add_module(package: str) -> None:
    """Load one more module package at run time (its types now; its commands and routes for apps built after)."""
    if package not in module_names():
        _added.append(package)
    register_types([package])


def remove_module(package: str) -> None:
    """Unload a module added with add_module: its types are no longer registered (stored records stay)."""
    from zhulian.model import unregister

    if _has(package, "types"):
        for record_type in _declared(package):
            unregister(record_type.name)
    if package in _added:
        _added.remove(package)
