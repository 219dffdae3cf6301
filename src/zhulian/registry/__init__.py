"""Entity resolution (DESIGN §1 registry): one organisation or expert however its name is written.

For other modules: ``resolve_incoming(writer, records)`` (the importer's hook, before each batch is
written) and ``queue_harvested(store, records)`` (the federation harvester's, after harvested records are
stored); ``RegistryService`` for the CLI, the API and pages.
"""

from zhulian.registry.service import RegistryService, Resolution, queue_harvested, resolve_incoming

__all__ = ["RegistryService", "Resolution", "queue_harvested", "resolve_incoming"]
