"""Read models (docs/READ_SIDE.md#read-models-views): facts people watch, kept in the case
transaction (hooks.py), read by the board and the KPIs (views.py), rebuilt and checked from
the audit trail (service.py)."""
