"""Lookups and full-text search over cases (docs/SEARCH.md#lookups-search-and-pagination)."""
