"""Modules plug into the command line and the web app the same way (after Datasette: the core's own features
use the hooks a new module would use).

- ``zhulian.<module>.commands.register(app: typer.Typer)`` adds the module's commands;
- ``zhulian.<module>.api.router(context: zhulian.web.context.WebContext) -> APIRouter`` adds its API routes and
  pages (pages with ``include_in_schema=False``, rendered with ``zhulian.web.portal.render``). A router's
  ``lifespan`` starts and stops the module's background work (followers, schedulers) with the app;
- ``<module>/migrations/*.py`` is the module's Alembic branch (see ``zhulian.store.migrate``);
- ``<module>/templates/*.html`` extend ``base.html``; ``<module>/static/`` is served at ``/static/<module>/``.

Modules are found by those files, so adding one needs no edit here or in the core (``web`` is the host, not a
module).
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from types import ModuleType

import zhulian


def modules_with(part: str) -> list[ModuleType]:
    names = sorted(info.name for info in pkgutil.iter_modules(zhulian.__path__) if info.ispkg and info.name != "web")
    return [importlib.import_module(f"zhulian.{name}.{part}") for name in names
            if importlib.util.find_spec(f"zhulian.{name}.{part}") is not None]
