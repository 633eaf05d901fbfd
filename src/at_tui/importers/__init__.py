"""Importers of public reference extracts (FINESS establishments) into the local store.

Nothing here is imported at start-up: the CLI and the screens import these modules lazily.
"""
