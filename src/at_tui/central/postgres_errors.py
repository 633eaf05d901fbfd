"""PostgreSQL's and libpq's error texts, said in French for the agency's IT.

libpq and the server answer in English (or in the server's `lc_messages`): the operator
reading `at-tui central …` gets a French sentence for the causes met when setting a
central up — wrong database, password, user, host or port, server starting or stopping,
too many connections, missing rights. Anything else keeps the server's own words, after a
French lead-in, since they are what the operator will search for.
"""

from __future__ import annotations

import re

# (pattern on libpq's / the server's text, French cause); `{0}` is the pattern's first group.
_CAUSES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), cause)
    for pattern, cause in (
        (r'database "([^"]{1,80})" does not exist', "la base « {0} » n'existe pas sur ce serveur (créez-la : createdb)"),
        (r'password authentication failed for user "([^"]{1,80})"',
         "mot de passe refusé pour l'utilisateur « {0} » (PGPASSWORD ou ~/.pgpass)"),
        (r"no password supplied", "le serveur demande un mot de passe : donnez-le par PGPASSWORD ou ~/.pgpass"),
        (r'role "([^"]{1,80})" does not exist', "l'utilisateur « {0} » n'existe pas sur ce serveur (CREATE ROLE)"),
        (r"no pg_hba\.conf entry", "le serveur refuse cette connexion (règles de pg_hba.conf)"),
        (r"connection refused", "le serveur ne répond pas à cette adresse (arrêté, ou mauvais hôte ou port)"),
        (r"could not translate host name|name or service not known|nodename nor servname",
         "nom d'hôte inconnu (vérifiez l'adresse)"),
        (r"timeout expired|timed out", "pas de réponse du serveur dans le délai"),
        (r"the database system is (starting up|in recovery mode)", "le serveur démarre : réessayez dans un instant"),
        (r"the database system is shutting down|terminating connection due to administrator command",
         "le serveur s'arrête"),
        (r"server closed the connection unexpectedly|connection is lost|consuming input failed",
         "le serveur a coupé la connexion"),
        (r"too many (clients|connections)", "trop de connexions ouvertes sur le serveur (max_connections)"),
        (r"permission denied for (schema|database|table|relation)",
         "droits insuffisants : l'utilisateur du service doit posséder la base (CREATE DATABASE … OWNER …)"),
        (r"server does not support SSL", "le serveur n'accepte pas de connexion chiffrée (sslmode)"),
        (r"no space left on device|could not extend file", "le disque du serveur PostgreSQL est plein"),
    )
)


def french_cause(text: str) -> str:
    """The cause of a psycopg error, in French; the server's words after a French lead-in when unknown."""
    for pattern, cause in _CAUSES:
        found = pattern.search(text)
        if found:
            return cause.format(*found.groups())
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    detail = lines[0][:300] if lines else "aucun détail"
    return f"réponse du serveur : {detail}"
