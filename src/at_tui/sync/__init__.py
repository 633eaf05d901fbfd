"""Syncing the laptop with the central store (docs/sync-protocol.md); never imports Textual."""
