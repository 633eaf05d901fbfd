"""French labels for the few Textual built-in keys that show in the Footer."""

from __future__ import annotations

from textual.binding import Binding
from textual.command import CommandPalette
from textual.widgets._select import SelectOverlay


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
    _relabel(CommandPalette, {"escape": "Fermer la palette"})
