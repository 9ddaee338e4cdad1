"""People and systems that act on cases: users, roles, API tokens, principals."""
