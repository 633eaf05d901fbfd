"""A standalone, print-friendly HTML page from Markdown (issue 12: visit report, CM–AT pack).

Why one helper: every HTML file at-tui writes must open offline in any browser (no external
CSS, font or script), print on A4, and never let text typed by someone (a structure name, a
note) become markup. markdown-it-py (a Textual dependency) renders with raw HTML *off*: a
`<script>` in a note is shown as text, and its link validation refuses `javascript:` URLs.
"""

from __future__ import annotations

from html import escape

from markdown_it import MarkdownIt

_CSS = """
:root { color-scheme: light; }
html { font-size: 11pt; }
body {
  font-family: "Noto Sans", "DejaVu Sans", "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  line-height: 1.5; color: #1a1a1a; background: #fff;
  max-width: 46rem; margin: 2rem auto; padding: 0 1.5rem;
  hyphens: auto; overflow-wrap: break-word;
}
h1 { font-size: 1.6rem; line-height: 1.25; margin: 0 0 .4rem; color: #12355b; }
h2 { font-size: 1.2rem; margin: 1.6rem 0 .5rem; padding-bottom: .15rem;
     border-bottom: 1px solid #c9d3df; color: #12355b; }
h3 { font-size: 1.05rem; margin: 1.1rem 0 .4rem; }
p, ul, ol { margin: .4rem 0 .7rem; }
li { margin: .15rem 0; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: .95rem; }
th, td { border: 1px solid #c9d3df; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #eef2f7; }
blockquote { margin: .5rem 0; padding: .2rem .9rem; border-left: 3px solid #c9d3df; color: #333; }
code { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: .92em; }
a { color: #12355b; }
hr { border: 0; border-top: 1px solid #c9d3df; margin: 1.5rem 0; }
svg, img { max-width: 100%; height: auto; }
figure { margin: .8rem 0; }
@page { size: A4; margin: 18mm 16mm 20mm; }
@media print {
  html { font-size: 10.5pt; }
  body { max-width: none; margin: 0; padding: 0; }
  h1, h2, h3 { break-after: avoid; page-break-after: avoid; }
  li, tr, blockquote, figure { break-inside: avoid; page-break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""


def _renderer() -> MarkdownIt:
    """CommonMark with tables; raw HTML stays text (`html: False`), no typographer rewriting."""
    return MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table")


def render(markdown: str) -> str:
    """The HTML body of `markdown`, every piece of raw HTML in it escaped."""
    return _renderer().render(markdown)


def page(title: str, markdown: str, extra_html: str = "") -> str:
    """A whole HTML document: `markdown` rendered, then `extra_html` (trusted markup the
    caller built itself, e.g. an SVG chart) appended as is. The title is escaped."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="fr">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<main>\n{render(markdown)}{extra_html}</main>\n</body>\n</html>\n"
    )
