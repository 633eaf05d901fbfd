"""A step's resources and deliverables, as read-only text."""

from __future__ import annotations

import re
from collections.abc import Iterator

from textual.widgets import Static

from at_tui.domain.playbook import StepVariant
from at_tui.widgets.safe_text import markup

# A link's address sits inside the markup: only a plain web address goes there.
_LINKABLE = re.compile(r"https?://[^\s'\"\[\]\\\x00-\x1f\x7f-\x9f]+")


def step_info(variant: StepVariant) -> Iterator[Static]:
    if variant.resources:
        yield Static("Ressources", classes="section-title")
        lines = []
        for resource in variant.resources:
            line = f"• {markup(resource.name)}"
            if resource.url and _LINKABLE.fullmatch(resource.url):
                line += f"\n  [dim][link='{resource.url}']{markup(_short(resource.url))}[/link][/dim]"
            elif resource.url:  # not a plain web address: shown, never made a link
                line += f"\n  [dim]{markup(_short(resource.url))}[/dim]"
            lines.append(line)
        yield Static("\n".join(lines), classes="resources")
    if variant.deliverables:
        yield Static("Livrables", classes="section-title")
        yield Static("\n".join(f"• {markup(d.label)}" for d in variant.deliverables), classes="deliverables")


def _short(url: str, limit: int = 70) -> str:
    return url if len(url) <= limit else url[: limit - 1] + "…"
