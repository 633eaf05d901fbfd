"""Textual screens: thin, they call `Workspace` for every rule and every write."""
