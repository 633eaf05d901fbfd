"""The store's JSON encoding matches json.dumps exactly, fast paths included."""

from __future__ import annotations

import json
import random

import pytest

from at_tui.store.visits import decode, encode

CHARS = 'ab "\\\n\t\r\x00\x1f\x7fé🙂\u2028\ud800«»’'


def reference(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def test_random_strings_encode_like_json_dumps() -> None:
    rng = random.Random(20261122)
    for _ in range(20_000):
        text = "".join(rng.choice(CHARS) for _ in range(rng.randint(0, 12)))
        assert encode(text) == reference(text), repr(text)
        assert decode(encode(text)) == text


@pytest.mark.parametrize(
    "value", [True, False, 0, -7, 1_000_000, None, ["echanges_messages", "autre"], {"offer": "dossiers"}, 2.5]
)
def test_other_values_encode_like_json_dumps(value) -> None:
    assert encode(value) == reference(value)
    assert decode(encode(value)) == value


def test_a_long_note_round_trips() -> None:
    note = "Parcours « personne âgée » :\n\t- sortie d'hôpital\n" * 300 + 'guillemets " et \\ barre'
    assert encode(note) == reference(note)
    assert decode(encode(note)) == note
