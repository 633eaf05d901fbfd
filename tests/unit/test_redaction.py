"""One redaction for every output: tokens masked, terminal sequences removed, length bounded."""

from __future__ import annotations

import secrets

import pytest

from at_tui.domain.redaction import MASK, printable, redact, remember_secret, safe

TOKEN = "att_" + "k3Y-9_zQ" * 5


@pytest.mark.parametrize(
    "text",
    [
        f"jeton {TOKEN} refusé",
        f"Authorization: Bearer {TOKEN}",
        f'{{"detail": "bad token {TOKEN}=="}}',
        f"{TOKEN}{TOKEN}",
    ],
)
def test_att_tokens_are_masked_wherever_they_are(text):
    masked = redact(text)
    assert "k3Y-9_zQ" not in masked
    assert MASK in masked


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.signature", "eyJhbGciOiJIUzI1NiJ9"),
        ("le serveur a reçu authorization=abcdefghijklmnopqrstuv", "abcdefghijklmnopqrstuv"),
        ("bearer   ZmFrZS10b2tlbi12YWx1ZQ==", "ZmFrZS10b2tlbi12YWx1ZQ"),
        ("Token: 0123456789abcdef0123", "0123456789abcdef0123"),
    ],
)
def test_values_after_an_authorization_scheme_are_masked(text, secret):
    masked = redact(text)
    assert secret not in masked
    assert "(masqué)" in masked


def test_short_words_after_bearer_are_kept():
    """« bearer » in a sentence is not a header: only a token-like value (12+ chars) is masked."""
    assert redact("le porteur (bearer) du projet") == "le porteur (bearer) du projet"


def test_a_remembered_secret_of_any_shape_is_masked():
    secret = "zz-" + secrets.token_hex(8) + "!%"  # not att_…, not after a scheme
    assert redact(f"échec avec {secret} en clair") == f"échec avec {secret} en clair"
    remember_secret(secret)
    assert secret not in redact(f"échec avec {secret} en clair")
    assert secret not in safe(f"échec avec {secret} en clair")


def test_too_short_secrets_are_not_remembered():
    """Masking « abc » everywhere would garble every message."""
    remember_secret("abc")
    assert redact("abc def") == "abc def"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nom\x1b]52;c;aGVsbG8=\x07fin", "nomfin"),  # OSC 52 (write the clipboard), ended by BEL
        ("nom\x1b]52;c;aGVsbG8=\x1b\\fin", "nomfin"),  # … ended by ST
        ("\x1b]0;titre\x07EHPAD", "EHPAD"),  # retitle the terminal
        ("\x1b[2J\x1b[1;31mrouge\x1b[0m", "rouge"),  # CSI: clear, colours
        ("a\x9b2Jb", "a2Jb"),  # 8-bit CSI: the C1 control goes
        ("\x1bPq#0;2;0;0;0\x1b\\DAC", "DAC"),  # DCS (sixel)
        ("\u202eCPTS\u202c", "CPTS"),  # bidi override
        ("a\u2066b\u2069c", "abc"),  # bidi isolates
        ("bip\x07 nul\x00 del\x7f", "bip  nul  del"),
    ],
)
def test_printable_strips_escape_sequences_and_controls(text, expected):
    assert printable(text) == expected


def test_printable_keeps_accents_and_emoji():
    assert printable("Cœur d'Hérault 🙂 — « santé »") == "Cœur d'Hérault 🙂 — « santé »"


def test_newlines_become_spaces_on_one_line_and_stay_when_multiline():
    text = "ligne 1\r\nligne 2\rligne 3\nligne\t4"
    assert printable(text) == "ligne 1 ligne 2 ligne 3 ligne 4"
    assert printable(text, multiline=True) == "ligne 1\nligne 2\nligne 3\nligne\t4"


def test_multiline_still_strips_controls():
    assert printable("a\x1b[2Kb\nc\x00d", multiline=True) == "ab\ncd"


def test_safe_bounds_the_length():
    text = "x" * 5000
    bounded = safe(text)
    assert bounded.startswith("x" * 2000) and bounded.endswith(" […]")
    assert len(bounded) == 2000 + len(" […]")
    assert safe(text, limit=10) == "x" * 10 + " […]"
    assert safe(text, limit=None) == text


def test_safe_redacts_before_bounding():
    """A token cut by the limit must not leave its first characters visible."""
    text = "y" * 1990 + " " + TOKEN
    assert "k3Y" not in safe(text)


def test_safe_accepts_any_object():
    assert safe(ValueError(f"refus {TOKEN}")) == f"refus {MASK}"


def test_a_token_split_by_an_escape_sequence_is_masked_whole():
    """The sequence is stripped first: it cannot hide the token's end from the redaction."""
    text = f"{TOKEN[:10]}\x1b[0m{TOKEN[10:]}"
    assert safe(text) == MASK
