"""French for the few Textual built-ins the AT sees: Footer keys, the command palette, the theme list.

Textual writes these in English (« No matches found », « Search for themes… », theme names
such as « solarized-dark »); an AT who reads no English must still understand every line.
"""

from __future__ import annotations

from functools import partial

from rich.align import Align
from rich.text import Text
from textual.binding import Binding
from textual.command import CommandList, CommandPalette, DiscoveryHit, Hit, Hits, Provider
from textual.widgets._select import SelectOverlay
from textual.widgets.option_list import Option

PALETTE_PLACEHOLDER = "Rechercher une commande…"
NO_MATCHES = "Aucune commande ne correspond"
THEME_PLACEHOLDER = "Rechercher un thème de couleurs…"

# Textual's built-in themes, under a French name; a theme not listed here is not offered
# (its English name would reach the AT). Proper names (Nord, Dracula…) stay as they are.
THEME_LABELS: dict[str, str] = {
    "textual-dark": "Sombre (par défaut)",
    "textual-light": "Clair",
    "ansi-dark": "Sombre, couleurs du terminal",
    "ansi-light": "Clair, couleurs du terminal",
    "solarized-dark": "Solarized sombre",
    "solarized-light": "Solarized clair",
    "atom-one-dark": "Atom One sombre",
    "atom-one-light": "Atom One clair",
    "catppuccin-latte": "Catppuccin Latte (clair)",
    "catppuccin-frappe": "Catppuccin Frappé (sombre)",
    "catppuccin-macchiato": "Catppuccin Macchiato (sombre)",
    "catppuccin-mocha": "Catppuccin Moka (sombre)",
    "dracula": "Dracula (sombre)",
    "flexoki": "Flexoki (sombre)",
    "gruvbox": "Gruvbox (sombre)",
    "monokai": "Monokai (sombre)",
    "nord": "Nord (sombre)",
    "rose-pine": "Rosé Pine (sombre)",
    "rose-pine-moon": "Rosé Pine lune (sombre)",
    "rose-pine-dawn": "Rosé Pine aube (clair)",
    "tokyo-night": "Nuit de Tokyo (sombre)",
}


def _relabel(cls: type, labels: dict[str, str]) -> None:
    bindings = []
    for binding in cls.BINDINGS:
        if isinstance(binding, tuple):
            binding = Binding(*binding)
        label = labels.get(binding.action)
        bindings.append(binding if label is None else Binding(
            binding.key, binding.action, label, show=binding.show, priority=binding.priority, id=binding.id))
    cls.BINDINGS = bindings
    cls._merged_bindings = cls._merge_bindings()


def install() -> None:
    _relabel(SelectOverlay, {"dismiss": "Fermer la liste"})
    _relabel(CommandPalette, {
        "escape": "Fermer la palette",
        "cursor_down": "Commande suivante",
        "command_list('page_down')": "Page suivante",
        "command_list('page_up')": "Page précédente",
        "command_list('cursor_up')": "Commande précédente",
        "command_list('last')": "Dernière commande",
        "command_list('first')": "Première commande",
    })
    # A subclass merged its bindings when it was defined, before the relabelling above.
    FrenchCommandPalette._merged_bindings = FrenchCommandPalette._merge_bindings()


class FrenchCommandPalette(CommandPalette):
    """The command palette, saying in French that nothing matches what was typed."""

    def __init__(self, providers=None, *, placeholder: str = PALETTE_PLACEHOLDER, **kwargs) -> None:
        super().__init__(providers, placeholder=placeholder, **kwargs)

    def _start_no_matches_countdown(self, search_value: str) -> None:
        # Textual's own builds its « No matches found » line inside this method: the same
        # countdown, with the French line.
        self._stop_no_matches_countdown()

        def show_no_matches() -> None:
            if search_value:
                self.query_one(CommandList).add_option(Option(
                    Align.center(Text(NO_MATCHES, style="not bold")), disabled=True, id=self._NO_MATCHES))
                self._list_visible = True
            else:
                self._list_visible = False

        self._no_matches_timer = self.set_timer(self._NO_MATCHES_COUNTDOWN, show_no_matches)


class FrenchThemeProvider(Provider):
    """The themes under their French names (see THEME_LABELS)."""

    def _themes(self) -> list[tuple[str, partial]]:
        available = self.app.available_themes

        def use(name: str) -> None:
            self.app.theme = name

        return [(label, partial(use, name)) for name, label in THEME_LABELS.items() if name in available]

    async def discover(self) -> Hits:
        for label, callback in self._themes():
            yield DiscoveryHit(label, callback)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for label, callback in self._themes():
            if (score := matcher.match(label)) > 0:
                yield Hit(score, matcher.highlight(label), callback)


def theme_palette() -> FrenchCommandPalette:
    """« Changer de thème »: the palette listing the themes in French."""
    return FrenchCommandPalette(providers=[FrenchThemeProvider], placeholder=THEME_PLACEHOLDER)
