"""REST API routers under /api/v1 (DESIGN §10)."""
