"""Collaboration networks between organisations and cities, derived from the store's relations."""
