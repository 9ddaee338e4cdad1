"""A city's reference data: org tree (units), departments, category catalogue, settings."""
