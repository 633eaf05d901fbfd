"""« Argumentaire SPICO »: the general pages, then the typology sheets, to read outside a visit.

The list is on the left, the text (Markdown) on the right; from a visit it opens on the
sheet of the visit's typology. Escape closes it.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Markdown, OptionList
from textual.widgets.option_list import Option

from at_tui.domain.argumentaire import Argumentaire
from at_tui.widgets.key_bar import KeyBar
from at_tui.widgets.sheet_view import page_markdown, sheet_markdown


class ArgumentaireScreen(Screen):
    CSS_PATH = "screens.tcss"
    SUB_TITLE = "Argumentaire SPICO"

    BINDINGS = [
        Binding("escape", "close", "Fermer", id="argumentaire.close"),
    ]

    def __init__(
        self, argumentaire: Argumentaire, typology: str | None = None, typology_order: Sequence[str] = ()
    ) -> None:
        """`typology`: open on its sheet (a legacy label too: its sheet lists it); `typology_order`:
        the territory's offered labels, to order the sheets and name them (legacy labels unnamed)."""
        super().__init__()
        pages = sorted(argumentaire.pages, key=lambda p: p.order)
        rank = {label: index for index, label in enumerate(typology_order)}
        sheets = sorted(argumentaire.sheets, key=lambda s: min(rank.get(t, len(rank)) for t in s.typologies))
        self.texts: dict[str, str] = {f"page:{p.id}": page_markdown(p) for p in pages}
        self.texts.update({f"sheet:{s.id}": sheet_markdown(s) for s in sheets})
        self.options: list[Option] = [Option("[b]Pages générales[/b]", id="heading:pages", disabled=True)]
        self.options += [Option(escape(p.title), id=f"page:{p.id}") for p in pages]
        self.options.append(Option("[b]Fiches par typologie[/b]", id="heading:sheets", disabled=True))
        self.options += [Option(escape(" · ".join(_named(s.typologies, rank))), id=f"sheet:{s.id}") for s in sheets]
        sheet = argumentaire.for_typology(typology) if typology else None
        self.initial = f"sheet:{sheet.id}" if sheet else (f"page:{pages[0].id}" if pages else None)

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="argumentaire-body"):
            yield OptionList(*self.options, id="argumentaire-list")
            with VerticalScroll(id="argumentaire-content"):
                yield Markdown(self.texts.get(self.initial, _EMPTY), id="argumentaire-text", open_links=False)
        yield KeyBar()

    def on_mount(self) -> None:
        listing = self.query_one(OptionList)
        if self.initial is not None:
            listing.highlighted = listing.get_option_index(self.initial)
        listing.focus()

    async def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        text = self.texts.get(event.option.id or "")
        if text is None:
            return
        await self.query_one("#argumentaire-text", Markdown).update(text)
        self.query_one("#argumentaire-content", VerticalScroll).scroll_home(animate=False)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.query_one("#argumentaire-content", VerticalScroll).focus()

    def action_close(self) -> None:
        self.dismiss()


def _named(labels: Sequence[str], rank: dict[str, int]) -> list[str]:
    """The labels a sheet is listed under: the offered ones in the territory's order (all when
    no order is known, or none of them is offered)."""
    offered = sorted((label for label in labels if label in rank), key=rank.__getitem__)
    return offered or list(labels)


_EMPTY = "Aucun argumentaire n'est installé sur ce poste."
