"""The web layer: the JSON API under /api/v1 and the portal pages, thin over the store."""
