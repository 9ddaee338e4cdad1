"""gridflow engine: the domain core (cases, workflow, org tree, time) and its persistence.

Imports nothing from ``web`` or ``adapters`` (checked by import-linter in ``make test``).
"""
