"""What makes a file an at-tui export: its format name and version.

Checked before the detailed validation of `format.py`, so that a foreign file
or one from a newer at-tui gets one clear sentence rather than a list of fields.
"""

from __future__ import annotations

from typing import Any

from at_tui.exchange.errors import ExchangeError

FORMAT = "at-tui.visites"
# v2: a visit may name its `owner`; v3: its opportunity, journal and ticked actions (docs/visit-format.md)
VERSION = 3


def check_header(raw: Any) -> None:
    """Raise ExchangeError unless `raw` is an export this version of at-tui can read."""
    if not isinstance(raw, dict):
        raise ExchangeError("Le fichier ne contient pas un export de visites at-tui (objet JSON attendu).")
    found = raw.get("format")
    if found != FORMAT:
        shown = f" (format « {str(found)[:60]} »)" if found is not None else ""
        raise ExchangeError(f"Ce fichier n'est pas un export de visites at-tui{shown} : rien n'a été importé.")
    version = raw.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ExchangeError(
            f"Version du format « {str(version)[:20]} » inconnue (nombre entier supérieur ou égal à 1 "
            "attendu) : rien n'a été importé."
        )
    if version > VERSION:
        raise ExchangeError(
            f"Ce fichier a été produit par une version plus récente d'at-tui (format v{version} ; "
            f"cette version lit jusqu'à la v{VERSION}). Mettez at-tui à jour : rien n'a été importé."
        )
