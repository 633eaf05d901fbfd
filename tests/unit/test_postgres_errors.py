"""PostgreSQL's error texts said in French (central/postgres_errors.py)."""

from __future__ import annotations

import pytest

from at_tui.central.postgres_errors import french_cause


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('connection failed: connection to server at "127.0.0.1", port 55432 failed: FATAL:  database "nope" does not exist',
         "la base « nope » n'existe pas sur ce serveur (créez-la : createdb)"),
        ('connection failed: FATAL:  password authentication failed for user "attui"',
         "mot de passe refusé pour l'utilisateur « attui » (PGPASSWORD ou ~/.pgpass)"),
        ("connection failed: fe_sendauth: no password supplied",
         "le serveur demande un mot de passe : donnez-le par PGPASSWORD ou ~/.pgpass"),
        ('connection failed: connection to server at "127.0.0.1", port 1 failed: Connection refused\n\tIs the server running',
         "le serveur ne répond pas à cette adresse (arrêté, ou mauvais hôte ou port)"),
        ('FATAL:  role "bob" does not exist', "l'utilisateur « bob » n'existe pas sur ce serveur (CREATE ROLE)"),
        ("FATAL:  sorry, too many clients already", "trop de connexions ouvertes sur le serveur (max_connections)"),
        ("permission denied for schema public",
         "droits insuffisants : l'utilisateur du service doit posséder la base (CREATE DATABASE … OWNER …)"),
    ],
)
def test_known_causes_are_said_in_french(text: str, expected: str) -> None:
    assert french_cause(text) == expected


def test_an_unknown_cause_keeps_the_server_s_first_line_after_a_french_lead_in() -> None:
    assert french_cause("XX000: something odd\nDETAIL: more") == "réponse du serveur : XX000: something odd"
    assert french_cause("") == "réponse du serveur : aucun détail"
