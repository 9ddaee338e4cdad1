"""Operations an administrator runs on a whole instance from the command line: loading a
year's holiday notice, backups and restores. Each works on the database (and instance
folder) directly, not through a running server."""
