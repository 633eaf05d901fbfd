"""The argumentaire as Markdown text: a typology sheet's sections, a general page."""

from __future__ import annotations

from at_tui.domain.argumentaire import Page, Sheet


def sections_markdown(sheet: Sheet) -> str:
    """The sheet's sections, each under its French title (guardrails are shown apart)."""
    return "\n\n".join(f"### {title}\n\n{text.strip()}" for title, text in sheet.sections())


def sheet_markdown(sheet: Sheet) -> str:
    """A whole sheet to read outside a visit: title, guardrails, then the sections."""
    parts = [f"# {sheet.title}"]
    if sheet.guardrails:
        warnings = "\n".join(f"- ⚠ {g.text}" for g in sheet.guardrails)
        parts.append(f"### Garde-fous\n\n{warnings}")
    parts.append(sections_markdown(sheet))
    return "\n\n".join(parts)


def page_markdown(page: Page) -> str:
    return f"# {page.title}\n\n{page.body.strip()}"
