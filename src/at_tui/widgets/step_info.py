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
            # The whole address, folded over as many lines as it takes: the AT may have to
            # read it out or type it elsewhere (screens.tcss, .resources).
            if resource.url and _LINKABLE.fullmatch(resource.url):
                line += f"\n  [dim][link='{resource.url}']{markup(resource.url)}[/link][/dim]"
            elif resource.url:  # not a plain web address: shown, never made a link
                line += f"\n  [dim]{markup(resource.url)}[/dim]"
            lines.append(line)
        yield Static("\n".join(lines), classes="resources")
    if variant.deliverables:
        yield Static("Livrables", classes="section-title")
        yield Static("\n".join(f"• {markup(d.label)}" for d in variant.deliverables), classes="deliverables")

