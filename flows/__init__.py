"""Prefect flows: thin shells around the same library calls as the CLI."""
