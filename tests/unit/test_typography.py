"""French typography of the text at-tui writes (domain.typography): no-break spaces before « ; : ! ? »
and inside guillemets, straight quotes made guillemets, and what is not prose left alone."""

from __future__ import annotations

import pytest

from at_tui.domain.typography import NBSP, NNBSP, french

N = NBSP
NN = NNBSP


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A normal space before the mark is replaced…
        ("Bonjour : vous", f"Bonjour{N}: vous"),
        ("Vraiment ?", f"Vraiment{NN}?"),
        ("Bravo !", f"Bravo{NN}!"),
        ("un ; deux", f"un{NN}; deux"),
        ("trop d'espaces   : ici", f"trop d'espaces{N}: ici"),
        # … and a missing one is inserted.
        ("Note: à lire", f"Note{N}: à lire"),
        ("Note:", f"Note{N}:"),
        ("Quoi?", f"Quoi{NN}?"),
        ("Quoi?!", f"Quoi{NN}?!"),
        ("Quoi ?!", f"Quoi{NN}?!"),
        ("un; deux", f"un{NN}; deux"),
        ("Super!\nSuite", f"Super{NN}!\nSuite"),
        ("(voir p. 3)?", f"(voir p. 3){NN}?"),
        ("15 %?", f"15 %{NN}?"),
        ("score 2:0!", f"score 2:0{NN}!"),
        ("**Libellé**: valeur", f"**Libellé**{N}: valeur"),
        ("**Question?** Oui", f"**Question{NN}?** Oui"),
        # Guillemets get their no-break spaces, with or without a space typed.
        ("« oui »", f"«{N}oui{N}»"),
        ("«oui»", f"«{N}oui{N}»"),
        ("«  oui  »", f"«{N}oui{N}»"),
        # Straight double quotes become guillemets.
        ('Il a dit "oui".', f"Il a dit «{N}oui{N}»."),
        ('Il a dit " oui " !', f"Il a dit «{N}oui{N}»{NN}!"),
        ('"un" et "deux"', f"«{N}un{N}» et «{N}deux{N}»"),
        ('l\'équipe "plaies"', f"l'équipe «{N}plaies{N}»"),
    ],
)
def test_french_punctuation(text: str, expected: str) -> None:
    assert french(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # Addresses: the colon of the scheme, a query string, a fragment.
        "https://www.esante-occitanie.fr/spico/",
        "https://crm.example.fr/page?id=3&x=1",
        "http://exemple.fr:8080/a;b?c!d",
        "mailto:contact@exemple.fr",
        "tel:+33561000000",
        "www.esante-occitanie.fr/?q=1",
        # Times, ratios, identifiers, scores: no prose punctuation.
        "Rendez-vous à 10:30.",
        "ratio 3:1",
        "clé q:opportunite",
        "page?id=3",
        "a!=b",
        # HTML entities keep their semicolon.
        "R&amp;D",
        "&#233;t&#xE9;",
        # Already correct text is left as it is.
        f"Déjà{N}: bon{NN}; très{NN}! vrai{NN}?",
        f"«{N}cité{N}»",
        # Nothing to do.
        "",
        "Texte sans ponctuation double",
        'Une seule " guillemet droite',
        '""',
        # Marks at a line's start are not glued to the previous line.
        "? en tête",
        "- ; liste",
        "- : liste",
        "voir:https://exemple.fr",
    ],
)
def test_left_alone(text: str) -> None:
    assert french(text) == text


def test_an_address_inside_a_sentence_is_kept_and_the_sentence_dressed() -> None:
    text = 'Voir https://www.esante-occitanie.fr/spico/?a=1 : la page "SPICO" !'
    assert french(text) == f"Voir https://www.esante-occitanie.fr/spico/?a=1{N}: la page «{N}SPICO{N}»{NN}!"


def test_only_normal_spaces_are_replaced() -> None:
    """A no-break space typed before « : » (or a narrow one) is the writer's choice: kept."""
    assert french(f"a{NN}: b") == f"a{NN}: b"
    assert french(f"a{N}? b") == f"a{N}? b"


@pytest.mark.parametrize(
    "text",
    ["Bonjour : vous? oui!", 'Il a dit "oui" : « bien »', "Voir https://x.fr/?a=1 ; merci", "10:30 ; 3:1 !"],
)
def test_idempotent(text: str) -> None:
    once = french(text)
    assert once != text
    assert french(once) == once


def test_a_mark_never_starts_a_line_once_wrapped() -> None:
    """What the no-break spaces are for: no line of the text begins with « : ; ! ? » or « »»."""
    text = french('Question importante ? Réponse : "oui" ; vraiment !')
    assert " ?" not in text and " :" not in text and " ;" not in text and " !" not in text
    for word in text.split(" "):
        assert word[:1] not in {":", ";", "!", "?", "»"}, word
