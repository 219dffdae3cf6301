"""Federation: every city runs a node that serves its change feed; a hub harvests nodes' feeds (and can itself
be harvested), an OAI-PMH endpoint serves the same feed to repository harvesters, and ``validate-node`` checks
that a node keeps the protocol (``docs/federation.md``)."""
