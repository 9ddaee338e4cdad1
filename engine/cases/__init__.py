"""Cases: the models, the workflow machine, and the one write path (``service``)."""
