"""Who may do what (DESIGN §5): API keys with roles, the rules for reading and writing records by
their access level and node, and the audit log of every write."""

from zhulian.access.keys import create_key, list_keys, revoke_key
from zhulian.access.principal import (ANONYMOUS, CLI_ADMIN, CLI_ORIGIN, ROLES, SYSTEM, Principal, check_write, node_scope,
                                      search_levels, visibility)

__all__ = ["ANONYMOUS", "CLI_ADMIN", "CLI_ORIGIN", "ROLES", "SYSTEM", "Principal", "check_write", "create_key", "node_scope", "list_keys", "revoke_key",
           "search_levels", "visibility"]
