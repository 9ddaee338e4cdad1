"""The FastAPI application, its pages, auth and the ``gridflow`` CLI (the composition root)."""
