"""A step's resources and deliverables, as read-only text."""

from __future__ import annotations

from collections.abc import Iterator

from rich.markup import escape
from textual.widgets import Static

from at_tui.domain.playbook import StepVariant


def step_info(variant: StepVariant) -> Iterator[Static]:
    if variant.resources:
        yield Static("Ressources", classes="section-title")
        lines = []
        for resource in variant.resources:
            line = f"• {escape(resource.name)}"
            if resource.url:
                line += f"\n  [dim][link='{resource.url}']{escape(_short(resource.url))}[/link][/dim]"
            lines.append(line)
        yield Static("\n".join(lines), classes="resources")
    if variant.deliverables:
        yield Static("Livrables", classes="section-title")
        yield Static("\n".join(f"• {escape(d.label)}" for d in variant.deliverables), classes="deliverables")


def _short(url: str, limit: int = 70) -> str:
    return url if len(url) <= limit else url[: limit - 1] + "…"
