"""REST API routers under /api/v1 (docs/ARCHITECTURE.md#contracts)."""
