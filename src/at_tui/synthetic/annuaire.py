"""Realistic synthetic Annuaire Santé extracts (PS_LibreAcces_Personne_activite), for tests and benchmarks.

No real extract is used here (it is personal data): this writes files in the
published format (see shared/reference/data-formats.md and
`at_tui.importers.annuaire`): the 52 real column names in one header line
(capitalisation drifting on request, as between releases), `|`-separated
fields, a trailing `|` on every line, one row per person × activity (so people
repeat, sometimes on exact duplicates), French names with accents, professions
and savoir-faire, structures, communes with real postcodes of Occitanie and of
other regions, phones and e-mails sometimes empty, rows without any structure
address, UTF-8 or Windows-1252, and optionally malformed lines. The same seed
always gives the same file; 2,000,000 rows take well under a minute.

    python -m at_tui.synthetic.annuaire --rows 200000 --encoding cp1252 annuaire.txt
"""

from __future__ import annotations

import random
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

ENCODINGS = ("utf-8", "cp1252", "utf-8-sig")
HEADER_CASES = ("real", "lower", "upper", "drift")
MALFORMED_KINDS = ("short", "bar_inside", "no_identifier", "no_name")

# The header of PS_LibreAcces_Personne_activite, as published (52 columns, then the trailing `|`).
COLUMNS: tuple[str, ...] = (
    "Type d'identifiant PP", "Identifiant PP", "Identification nationale PP", "Code civilité d'exercice",
    "Libellé civilité d'exercice", "Code civilité", "Libellé civilité", "Nom d'exercice", "Prénom d'exercice",
    "Code profession", "Libellé profession", "Code catégorie professionnelle", "Libellé catégorie professionnelle",
    "Code type savoir-faire", "Libellé type savoir-faire", "Code savoir-faire", "Libellé savoir-faire",
    "Code mode exercice", "Libellé mode exercice", "Numéro SIRET site", "Numéro SIREN site", "Numéro FINESS site",
    "Numéro FINESS établissement juridique", "Identifiant technique de la structure", "Raison sociale site",
    "Enseigne commerciale site", "Complément destinataire (coord. structure)",
    "Complément point géographique (coord. structure)", "Numéro Voie (coord. structure)",
    "Indice répétition voie (coord. structure)", "Code type de voie (coord. structure)",
    "Libellé type de voie (coord. structure)", "Libellé Voie (coord. structure)",
    "Mention distribution (coord. structure)", "Bureau cedex (coord. structure)", "Code postal (coord. structure)",
    "Code commune (coord. structure)", "Libellé commune (coord. structure)", "Code pays (coord. structure)",
    "Libellé pays (coord. structure)", "Téléphone (coord. structure)", "Téléphone 2 (coord. structure)",
    "Télécopie (coord. structure)", "Adresse e-mail (coord. structure)", "Code Département (structure)",
    "Libellé Département (structure)", "Ancien identifiant de la structure", "Autorité d'enregistrement",
    "Code secteur d'activité", "Libellé secteur d'activité", "Code section tableau pharmaciens",
    "Libellé section tableau pharmaciens",
)
WIDTH = len(COLUMNS)
C = {name: position for position, name in enumerate(COLUMNS)}

# How the capitalisation drifted between real releases (and typographic apostrophes, extra spaces).
DRIFT = {
    "Libellé civilité d'exercice": "Libellé civilité exercice",
    "Nom d'exercice": "Nom d’exercice",
    "Prénom d'exercice": "Prénom d’Exercice",
    "Libellé profession": "Libellé Profession",
    "Libellé savoir-faire": "Libellé savoir-faire ",
    "Indice répétition voie (coord. structure)": "Indice répétition voie (coord. Structure)",
    "Libellé commune (coord. structure)": "Libellé commune (coord.structure)",
    "Adresse e-mail (coord. structure)": "Adresse e-mail (coord. Structure)",
    "Code Département (structure)": "Code département (structure)",
    "Libellé Département (structure)": "Libellé département (structure)",
    "Raison sociale site": "Raison Sociale Site",
}

# département → (name, [(postcode, commune, INSEE commune code)]) — real postcodes.
OCCITANIE: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    "09": ("Ariège", [("09000", "FOIX", "09122"), ("09100", "PAMIERS", "09225"), ("09200", "SAINT-GIRONS", "09261"),
                      ("09300", "LAVELANET", "09160"), ("09400", "TARASCON-SUR-ARIÈGE", "09306")]),
    "11": ("Aude", [("11000", "CARCASSONNE", "11069"), ("11100", "NARBONNE", "11262"), ("11300", "LIMOUX", "11206"),
                    ("11400", "CASTELNAUDARY", "11076"), ("11200", "LÉZIGNAN-CORBIÈRES", "11203")]),
    "12": ("Aveyron", [("12000", "RODEZ", "12202"), ("12100", "MILLAU", "12145"),
                       ("12200", "VILLEFRANCHE-DE-ROUERGUE", "12300"), ("12300", "DECAZEVILLE", "12089"),
                       ("12500", "ESPALION", "12096")]),
    "30": ("Gard", [("30000", "NÎMES", "30189"), ("30100", "ALÈS", "30007"), ("30200", "BAGNOLS-SUR-CÈZE", "30028"),
                    ("30400", "VILLENEUVE-LÈS-AVIGNON", "30351"), ("30240", "LE GRAU-DU-ROI", "30133")]),
    "31": ("Haute-Garonne", [("31000", "TOULOUSE", "31555"), ("31300", "TOULOUSE", "31555"),
                             ("31400", "TOULOUSE", "31555"), ("31500", "TOULOUSE", "31555"),
                             ("31800", "SAINT-GAUDENS", "31483"), ("31600", "MURET", "31395"),
                             ("31700", "BLAGNAC", "31069"), ("31770", "COLOMIERS", "31149"),
                             ("31240", "L'UNION", "31561")]),
    "32": ("Gers", [("32000", "AUCH", "32013"), ("32100", "CONDOM", "32107"), ("32300", "MIRANDE", "32256"),
                    ("32700", "LECTOURE", "32208"), ("32500", "FLEURANCE", "32132")]),
    "34": ("Hérault", [("34000", "MONTPELLIER", "34172"), ("34090", "MONTPELLIER", "34172"),
                       ("34500", "BÉZIERS", "34032"), ("34200", "SÈTE", "34301"), ("34400", "LUNEL", "34145"),
                       ("34700", "LODÈVE", "34142"), ("34300", "AGDE", "34003")]),
    "46": ("Lot", [("46000", "CAHORS", "46042"), ("46100", "FIGEAC", "46102"), ("46200", "SOUILLAC", "46309"),
                   ("46300", "GOURDON", "46127")]),
    "48": ("Lozère", [("48000", "MENDE", "48095"), ("48100", "MARVEJOLS", "48092"),
                      ("48200", "SAINT-CHÉLY-D'APCHER", "48140"), ("48400", "FLORAC TROIS RIVIÈRES", "48061")]),
    "65": ("Hautes-Pyrénées", [("65000", "TARBES", "65440"), ("65100", "LOURDES", "65286"),
                               ("65200", "BAGNÈRES-DE-BIGORRE", "65059"), ("65300", "LANNEMEZAN", "65258")]),
    "66": ("Pyrénées-Orientales", [("66000", "PERPIGNAN", "66136"), ("66100", "PERPIGNAN", "66136"),
                                   ("66500", "PRADES", "66149"), ("66400", "CÉRET", "66049"),
                                   ("66140", "CANET-EN-ROUSSILLON", "66037")]),
    "81": ("Tarn", [("81000", "ALBI", "81004"), ("81100", "CASTRES", "81065"), ("81200", "MAZAMET", "81163"),
                    ("81300", "GRAULHET", "81105"), ("81500", "LAVAUR", "81140")]),
    "82": ("Tarn-et-Garonne", [("82000", "MONTAUBAN", "82121"), ("82100", "CASTELSARRASIN", "82033"),
                               ("82200", "MOISSAC", "82112"), ("82300", "CAUSSADE", "82037")]),
}
ELSEWHERE: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    "75": ("Paris", [("75013", "PARIS", "75113"), ("75015", "PARIS", "75115"), ("75020", "PARIS", "75120")]),
    "13": ("Bouches-du-Rhône", [("13005", "MARSEILLE", "13205"), ("13100", "AIX-EN-PROVENCE", "13001")]),
    "33": ("Gironde", [("33000", "BORDEAUX", "33063"), ("33500", "LIBOURNE", "33243")]),
    "69": ("Rhône", [("69003", "LYON", "69383"), ("69100", "VILLEURBANNE", "69266")]),
    "64": ("Pyrénées-Atlantiques", [("64000", "PAU", "64445"), ("64100", "BAYONNE", "64102")]),
    "59": ("Nord", [("59000", "LILLE", "59350"), ("59100", "ROUBAIX", "59512")]),
    "67": ("Bas-Rhin", [("67000", "STRASBOURG", "67482")]),
    "44": ("Loire-Atlantique", [("44000", "NANTES", "44109"), ("44600", "SAINT-NAZAIRE", "44184")]),
    "06": ("Alpes-Maritimes", [("06000", "NICE", "06088"), ("06400", "CANNES", "06029")]),
    "2A": ("Corse-du-Sud", [("20000", "AJACCIO", "2A004")]),
    "974": ("La Réunion", [("97400", "SAINT-DENIS", "97411")]),
}
_PHONE_PREFIX = {"11": "04", "30": "04", "34": "04", "48": "04", "66": "04", "13": "04", "69": "04", "06": "04",
                 "2A": "04", "75": "01", "59": "03", "67": "03", "44": "02", "974": "02"}

LAST_NAMES = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon",
    "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel",
    "Girard", "André", "Lefebvre", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Legrand",
    "Garnier", "Faure", "Rousseau", "Blanc", "Guérin", "Muller", "Henry", "Roussel", "Nicolas", "Perrin",
    "Morin", "Mathieu", "Clément", "Gauthier", "Dumont", "Lopez", "Fontaine", "Chevalier", "Robin", "Masson",
    "Sanchez", "Gérard", "Nguyen", "Boyer", "Denis", "Lemaire", "Duval", "Joly", "Gautier", "Roger", "Roche",
    "Roy", "Noël", "Meyer", "Lucas", "Meunier", "Jean", "Perez", "Marchand", "Dufour", "Blanchard", "Barbier",
    "Brun", "Dumas", "Brunet", "Schmitt", "Leroux", "Colin", "Fernandez", "Pierre", "Renard", "Arnaud",
    "Rolland", "Caron", "Aubert", "Giraud", "Leclerc", "Vidal", "Bourgeois", "Renaud", "Lemoine", "Picard",
    "Gaillard", "Philippe", "Leclercq", "Lacroix", "Fabre", "Dupuis", "Olivier", "Rodriguez", "Da Silva",
    "Hubert", "Louis", "Charles", "Guillot", "Rivière", "Le Gall", "Guillaume", "Adam", "Rey", "Moulin",
    "Gonzalez", "Berger", "Lecomte", "Ménard", "Fleury", "Deschamps", "Carpentier", "Julien", "Benoît",
    "Paris", "Maillard", "Marchal", "Aubry", "Vasseur", "Le Roux", "Renault", "Jacquet", "Collet", "Prévost",
    "Poirier", "Charpentier", "Royer", "Huet", "Baron", "Dupuy", "Pons", "Paul", "Laine", "Carré", "Breton",
    "Rémy", "Schneider", "Pérès", "N'Diaye", "Diallo", "Ben Ahmed", "Haddad", "Saint-Martin", "Saint-Jean",
    "D'Almeida", "Lebœuf", "Cœurdevey", "Castaño", "Mendès", "Estève", "Cazals", "Bousquet", "Delmas",
    "Rouquette", "Vergnes", "Maurel", "Sabatier", "Bonnafous", "Cabrol", "Bénézech", "Cazaubon", "Lafargue",
)
FEMALE_FIRST = (
    "Marie", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Françoise", "Sandrine", "Valérie", "Christine",
    "Hélène", "Céline", "Stéphanie", "Sophie", "Aurélie", "Émilie", "Julie", "Camille", "Léa", "Chloé", "Manon",
    "Inès", "Gwënola", "Maëlle", "Anaïs", "Noémie", "Clémence", "Agnès", "Bérénice", "Zoé", "Maïté", "Ségolène",
    "Anne-Laure", "Marie-Hélène", "Josiane", "Élodie", "Laëtitia", "Mélanie", "Fatima", "Aïcha", "Nadège",
)
MALE_FIRST = (
    "Jean", "Pierre", "Michel", "Philippe", "Alain", "Nicolas", "Christophe", "Patrick", "Frédéric", "Stéphane",
    "Laurent", "Benoît", "François", "Éric", "Jérôme", "Sébastien", "Thierry", "Julien", "Thomas", "Hugo",
    "Lucas", "Théo", "Noël", "Gaël", "Joël", "Loïc", "Anaël", "Jean-Marc", "Jean-François", "Hervé", "Rémi",
    "Grégoire", "Clément", "Raphaël", "Mathéo", "Yannick", "Mohamed", "Karim", "Gwénaël", "Cédric",
)

# (code, label, weight, practises as « Docteur », savoir-faire: [(type code, type label, code, label)])
_SPECIALTIES_MEDECIN = [
    ("S", "Spécialité ordinale", "SM54", "Médecine Générale"),
    ("S", "Spécialité ordinale", "SM54", "Médecine Générale"),
    ("S", "Spécialité ordinale", "SM54", "Médecine Générale"),
    ("S", "Spécialité ordinale", "SM04", "Cardiologie et maladies vasculaires"),
    ("S", "Spécialité ordinale", "SM40", "Pédiatrie"),
    ("S", "Spécialité ordinale", "SM42", "Psychiatrie"),
    ("S", "Spécialité ordinale", "SM44", "Radio-diagnostic"),
    ("S", "Spécialité ordinale", "SM20", "Gynécologie-obstétrique"),
    ("S", "Spécialité ordinale", "SM02", "Anesthésie-réanimation"),
    ("S", "Spécialité ordinale", "SM38", "Ophtalmologie"),
    ("S", "Spécialité ordinale", "SM15", "Dermatologie et vénéréologie"),
    ("S", "Spécialité ordinale", "SM53", "Gériatrie"),
    ("S", "Spécialité ordinale", "SM49", "Santé publique et médecine sociale"),
    ("S", "Spécialité ordinale", "SM57", "Médecine d'urgence"),
    ("C", "Compétence", "CEX01", "Médecine du sport"),
]
PROFESSIONS: list[tuple[str, str, float, bool, list[tuple[str, str, str, str]]]] = [
    ("10", "Médecin", 30, True, _SPECIALTIES_MEDECIN),
    ("60", "Infirmier", 33, False, [("", "", "", "")]),
    ("70", "Masseur-kinésithérapeute", 10, False, [("", "", "", "")]),
    ("21", "Pharmacien", 9, True, [("", "", "", ""), ("", "", "", ""),
                                   ("S", "Spécialité ordinale", "SP01", "Biologie médicale")]),
    ("40", "Chirurgien-dentiste", 6, True, [("", "", "", ""), ("", "", "", ""),
                                            ("S", "Spécialité ordinale", "SCD01", "Orthopédie dento-faciale")]),
    ("50", "Sage-femme", 3, False, [("", "", "", "")]),
    ("91", "Orthophoniste", 3, False, [("", "", "", "")]),
    ("80", "Pédicure-podologue", 2, False, [("", "", "", "")]),
    ("92", "Orthoptiste", 0.6, False, [("", "", "", "")]),
    ("94", "Ergothérapeute", 1, False, [("", "", "", "")]),
    ("96", "Psychomotricien", 1, False, [("", "", "", "")]),
    ("86", "Diététicien", 0.8, False, [("", "", "", "")]),
    ("26", "Audioprothésiste", 0.4, False, [("", "", "", "")]),
    ("28", "Opticien-Lunetier", 0.8, False, [("", "", "", "")]),
]
MODES = (("L", "Libéral"), ("S", "Salarié"), ("B", "Bénévole"))
PLACES = ("DES TILLEULS", "DU CENTRE", "DE LA GARE", "DES CÈDRES", "SAINT-JACQUES", "DU PARC", "DES ARCADES",
          "DE LA CATHÉDRALE", "DU MARCHÉ", "DES PYRÉNÉES", "DE L'ÉGLISE", "DU CANAL", "DES OLIVIERS", "PASTEUR",
          "DU MIDI", "CŒUR DE VILLE", "LES GLYCINES", "DE LA PLAINE", "DU VIGNOBLE", "DES CAUSSES")
SALARIED = ("CENTRE HOSPITALIER DE {commune}", "CLINIQUE {place}", "EHPAD {place}", "CENTRE DE SANTÉ {place}",
            "MAISON DE SANTÉ PLURIPROFESSIONNELLE DE {commune}", "SSIAD DE {commune}", "CENTRE HOSPITALIER DE {commune}",
            "POLYCLINIQUE {place}", "LABORATOIRE {place}", "CMP DE {commune}")
SECTORS = (("SA07", "Cabinet individuel"), ("SA08", "Cabinet de groupe"), ("SA01", "Etablissement public de santé"),
           ("SA05", "Etablissement privé PSPH"), ("SA16", "Officine"), ("SA25", "Centre de santé"),
           ("SA29", "Etablissement pour personnes âgées"))
STREETS = (("R", "Rue", "DES LILAS"), ("AV", "Avenue", "DE LA GARE"), ("BD", "Boulevard", "JEAN JAURÈS"),
           ("CHE", "Chemin", "DU MOULIN"), ("PL", "Place", "DE LA RÉPUBLIQUE"), ("RTE", "Route", "DE NARBONNE"),
           ("R", "Rue", "DU 8 MAI 1945"), ("ALL", "Allée", "DES PLATANES"), ("AV", "Avenue", "DU GÉNÉRAL DE GAULLE"),
           ("R", "Rue", "SAINT-ROCH"), ("R", "Rue", "D'ALSACE-LORRAINE"), ("QU", "Quai", "DE LA DAURADE"))
MAIL_DOMAINS = ("orange.fr", "wanadoo.fr", "gmail.com", "medecin.mssante.fr", "sfr.fr", "free.fr", "laposte.net")


def _mail_part(name: str) -> str:
    """« Lebœuf » → « leboeuf », « N'Diaye » → « ndiaye »: what an e-mail address holds."""
    plain = unicodedata.normalize("NFKD", name.lower().replace("œ", "oe").replace("æ", "ae"))
    return "".join(c for c in plain if c.isascii() and (c.isalnum() or c in ".-"))


_MAIL = {name: _mail_part(name) for name in (*LAST_NAMES, *FEMALE_FIRST, *MALE_FIRST)}


@dataclass
class GenerationSummary:
    """What was written, counted the way the importer counts (for exact assertions)."""

    path: Path
    encoding: str
    rows: int  # activity rows written, malformed lines not included
    people: int = 0
    occitanie: int = 0  # rows with an Occitanie département (duplicates included)
    kept: int = 0  # Occitanie rows, exact duplicates of (identifier, structure, commune) dropped
    kept_people: int = 0  # distinct identifiers among them
    duplicates: int = 0
    other_region: int = 0
    no_departement: int = 0
    departement_from_postcode: int = 0  # Occitanie rows whose département column is empty
    malformed_lines: list[tuple[int, str]] = field(default_factory=list)  # (line number, kind)
    lines: int = 0


def header(case: str = "real", columns: Sequence[str] = COLUMNS) -> str:
    """The header line (without its line end), trailing `|` included, capitalised as asked."""
    if case not in HEADER_CASES:
        raise ValueError(f"casse d'en-tête « {case} » inconnue ({', '.join(HEADER_CASES)})")
    names = list(columns)
    if case == "lower":
        names = [name.lower() for name in names]
    elif case == "upper":
        names = [name.upper() for name in names]
    elif case == "drift":
        names = [DRIFT.get(name, name) for name in names]
    return "|".join(names) + "|"


def activity_row(**values: str) -> list[str]:
    """One row of the 52 columns, by column name (« Identifiant PP »: …) or by short field name.

    Short names: identifier, last_name, first_name, profession, specialty, structure,
    commune, postcode, phone, email, departement, departement_name, cedex, mode.
    """
    short = {
        "identifier": "Identifiant PP", "last_name": "Nom d'exercice", "first_name": "Prénom d'exercice",
        "profession": "Libellé profession", "specialty": "Libellé savoir-faire", "structure": "Raison sociale site",
        "commune": "Libellé commune (coord. structure)", "postcode": "Code postal (coord. structure)",
        "phone": "Téléphone (coord. structure)", "email": "Adresse e-mail (coord. structure)",
        "departement": "Code Département (structure)", "departement_name": "Libellé Département (structure)",
        "cedex": "Bureau cedex (coord. structure)", "mode": "Libellé mode exercice",
    }
    row = [""] * WIDTH
    row[C["Type d'identifiant PP"]] = "8"
    for name, value in values.items():
        row[C[short.get(name, name)]] = value
    if row[C["Identifiant PP"]]:
        row[C["Identification nationale PP"]] = "8" + row[C["Identifiant PP"]]
    return row


def write_rows(
    path: Path,
    rows: Sequence[Sequence[str] | str],
    *,
    encoding: str = "utf-8",
    header_line: str | None = None,
    columns: Sequence[str] | None = None,
    newline: str = "\n",
) -> Path:
    """Write a header then `rows` (field lists, by default in COLUMNS order; or raw text lines).

    `columns`: another column order (the rows are given in COLUMNS order and rearranged).
    """
    order = [C[name] for name in columns] if columns is not None else None
    text = [header_line if header_line is not None else header("real", columns or COLUMNS)]
    for row in rows:
        if isinstance(row, str):
            text.append(row)
        else:
            fields = [row[i] for i in order] if order is not None else list(row)
            text.append("|".join(fields) + "|")
    with path.open("w", encoding=encoding, newline="") as handle:
        handle.write(newline.join(text) + newline)
    return path


class _Site(NamedTuple):
    """A structure address, rendered once: rows at the same site share it (as colleagues of a hospital do).

    A row is `{person}|{savoir-faire}|{mode}|{head}|{structure}{t1}{e-mail}{t2}`, where
    head holds « Numéro SIRET site » … « Identifiant technique de la structure »,
    t1 the fields from « Enseigne commerciale site » to « Télécopie », t2 those
    from « Code Département (structure) » to the end (trailing `|` included).
    """

    departement: str  # what the importer will find: "" for a row without any address
    commune: str  # the commune the importer will find (from the CEDEX office when the commune is empty)
    structure: str  # salaried sites; "" for private practices (named after the person)
    email: str
    head: str
    t1: str
    t2: str
    from_postcode: bool = False  # the département column empty: the importer takes the postcode's


def _site(departement: str, name: str, postcode: str, insee: str, commune: str, *, siret: str, tech: str,
          structure: str, number: str, street: tuple[str, str, str], phone: str, email: str,
          sector: tuple[str, str], variant: str = "normal") -> _Site:
    """Render a site; variant: normal, no_departement (the column empty, the postcode kept), cedex
    (only « Bureau cedex » holds the commune), blank (no address at all)."""
    cedex = ""
    if variant == "no_departement":
        departement_field = name_field = ""
    else:
        departement_field, name_field = departement, name
    if variant == "cedex":
        cedex = f"{postcode[:2]}{(int(insee[-3:]) % 9) + 1}{postcode[3:]} {commune} CEDEX {int(postcode) % 9 + 1}"
        postcode_field = insee_field = commune_field = ""
    else:
        postcode_field, insee_field, commune_field = postcode, insee, commune
    head = f"{siret}|{siret[:9]}|||{'C' + tech if tech else ''}"
    t1 = (f"||||{number}||{street[0]}|{street[1]}|{street[2]}||{cedex}|{postcode_field}|{insee_field}|"
          f"{commune_field}|||{phone}|||")
    registered = f"0{tech}|ARS/CPAM/CPAM" if tech else "|"
    t2 = f"|{departement_field}|{name_field}|{registered}|{sector[0]}|{sector[1]}|||"
    return _Site(departement, commune, structure, email, head, t1, t2, variant == "no_departement")


_BLANK_SITE = _site("", "", "", "", "", siret="", tech="", structure="", number="", street=("", "", ""), phone="",
                    email="", sector=("", ""))._replace(departement="")


def _weighted(items: Sequence, weights: Sequence[float], size: int = 1000) -> tuple:
    """`items` repeated in proportion to `weights`: a uniform pick in it is a weighted pick."""
    total = sum(weights)
    table: list = []
    for item, weight in zip(items, weights):
        table.extend([item] * max(1, round(size * weight / total)))
    return tuple(table)


_PROFESSION_TABLE = _weighted(PROFESSIONS, [p[2] for p in PROFESSIONS])
_LAST_UPPER = tuple(name.upper() for name in LAST_NAMES)
_LAST_MAIL = tuple(_MAIL[name] for name in LAST_NAMES)
_FIRSTS = {
    female: (names, tuple(name.upper() for name in names), tuple(_MAIL[name] for name in names))
    for female, names in ((True, FEMALE_FIRST), (False, MALE_FIRST))
}
_STRUCTURE_LIBERAL = {
    "Médecin": "CABINET DU DR {last}", "Infirmier": "CABINET INFIRMIER {place}", "Pharmacien": "PHARMACIE {place}",
    "Chirurgien-dentiste": "CABINET DENTAIRE {place}", "Masseur-kinésithérapeute": "CABINET DE KINÉSITHÉRAPIE {place}",
}
# (savoir-faire fields, rendered) per profession; the modes, rendered.
_SPECIALTY_TEXT = {p[1]: tuple("|".join(s) for s in p[4]) for p in PROFESSIONS}
_LIBERAL, _SALARIED, _VOLUNTEER = ("|".join(mode) for mode in MODES)
SITES_PER_COMMUNE = 24


class _Identity(NamedTuple):
    last_name: str
    first_name: str
    part: str  # the person's fields after the identifiers
    specialties: tuple[str, ...]  # the savoir-faire fields, rendered
    email: str
    practice: str  # the name of the person's private practice (a template when `by_place`)
    by_place: bool


IDENTITIES = 50_000


class _Generator:
    """Draws people (an identifier and one of many pre-drawn identities) and their activities at pre-rendered sites."""

    def __init__(self, seed: int, occitanie_share: float) -> None:
        self.random = random.Random(seed)
        self.occitanie_share = occitanie_share
        self.serial = 10_000_000
        self.occitanie = tuple(OCCITANIE)
        self.elsewhere = tuple(ELSEWHERE)
        # département → variant → ([private practice sites], [salaried sites]), same index: same place.
        self.sites: dict[str, dict[str, tuple[list[_Site], list[_Site]]]] = {}
        for table in (OCCITANIE, ELSEWHERE):
            for code, (name, communes) in table.items():
                self.sites[code] = self._sites(code, name, communes)
        self.identities = tuple(self._identity() for _ in range(IDENTITIES))

    def _sites(self, code: str, name: str, communes) -> dict[str, tuple[list[_Site], list[_Site]]]:
        rnd = self.random
        variants: dict[str, tuple[list[_Site], list[_Site]]] = {
            v: ([], []) for v in ("normal", "no_departement", "cedex")
        }
        for postcode, commune, insee in communes:
            salaried = sorted({t.format(commune=commune, place=p) for t in SALARIED for p in PLACES})
            for _ in range(SITES_PER_COMMUNE):
                for kind in (0, 1):
                    siret = f"{rnd.randrange(10**13, 10**14)}" if rnd.random() < 0.8 else ""
                    tech = siret or f"{rnd.randrange(10**10, 10**11)}"
                    phone = ""
                    if rnd.random() < 0.7:
                        phone = f"{_PHONE_PREFIX.get(code, '05')}{rnd.randrange(10**8):08d}"
                        if rnd.random() < 0.1:
                            phone = " ".join(phone[i:i + 2] for i in range(0, 10, 2))
                    structure = rnd.choice(salaried) if kind else ""
                    email = ""
                    if kind and rnd.random() < 0.3:
                        email = f"secretariat.{_mail_part(structure.split()[-1])}@{rnd.choice(MAIL_DOMAINS)}"
                    sector = rnd.choice(SECTORS[2:]) if kind else rnd.choice(SECTORS[:2])
                    fields = dict(siret=siret, tech=tech, structure=structure, number=str(rnd.randrange(1, 121)),
                                  street=rnd.choice(STREETS), phone=phone, email=email, sector=sector)
                    for variant, (private, employing) in variants.items():
                        site = _site(code, name, postcode, insee, commune, variant=variant, **fields)
                        (employing if kind else private).append(site)
        return variants

    def _identity(self) -> _Identity:
        """A name, a profession and what the rows say of them (all but the identifier)."""
        rnd = self.random.random
        female = rnd() < 0.6
        names, upper, mails = _FIRSTS[female]
        i = int(rnd() * len(names))
        first = upper[i] if rnd() < 0.4 else names[i]
        j = int(rnd() * len(LAST_NAMES))
        last = _LAST_UPPER[j]
        if rnd() < 0.05:  # a compound name
            last = f"{last}-{_LAST_UPPER[int(rnd() * len(LAST_NAMES))]}"
        email = f"{mails[i]}.{_LAST_MAIL[j]}@{MAIL_DOMAINS[j % len(MAIL_DOMAINS)]}" if rnd() < 0.25 else ""
        profession = _PROFESSION_TABLE[int(rnd() * len(_PROFESSION_TABLE))]
        code, label, _, doctor, _ = profession
        civility = "MME|Madame" if female else "M|Monsieur"
        exercise = "DR|Docteur" if doctor and rnd() < 0.9 else "|"
        template = _STRUCTURE_LIBERAL.get(label)
        return _Identity(
            last, first, f"{exercise}|{civility}|{last}|{first}|{code}|{label}|C|Civil", _SPECIALTY_TEXT[label],
            email, template or f"CABINET {last} {first.upper()}", template is not None,
        )

    def person(self) -> tuple[str, str, _Identity, bool]:
        """(identifier, the person's part of a row, identity, Occitanie?) of the next person."""
        rnd = self.random.random
        self.serial += 1 + int(rnd() * 40)
        identity = self.identities[int(rnd() * len(self.identities))]
        identifier = f"10{self.serial:09d}"
        return identifier, f"8|{identifier}|8{identifier}|{identity.part}", identity, rnd() < self.occitanie_share


def _malformed_line(kind: str, generator: _Generator) -> str:
    _, person_part, identity, _ = generator.person()
    site = generator.sites["31"]["normal"][1][0]
    specialty = identity.specialties[0]
    if kind == "short":
        return f"{person_part}|{specialty}|{_SALARIED}|{site.head}|{site.structure}"
    part = person_part.split("|")
    structure = site.structure
    if kind == "bar_inside":
        structure = "CABINET MÉDICAL | ANNEXE"
    elif kind == "no_identifier":
        part[1] = part[2] = ""
    else:  # no_name
        part[7] = "  "
    return f"{'|'.join(part)}|{specialty}|{_SALARIED}|{site.head}|{structure}{site.t1}{site.email}{site.t2}"


def _reorder(row: str, order: Sequence[int] | None) -> str:
    """A row written in COLUMNS order, rearranged into the file's column order."""
    if order is None:
        return row
    cells = row.split("|")
    return "|".join(cells[i] for i in order) + "|"


def generate(  # noqa: C901 - one loop, kept flat for speed
    path: Path | str,
    rows: int,
    *,
    seed: int = 1,
    encoding: str = "utf-8",
    occitanie_share: float = 0.1,
    malformed: int = 0,
    header_case: str = "real",
    columns: Sequence[str] | None = None,
    no_departement_share: float = 0.02,
    newline: str = "\n",
) -> GenerationSummary:
    """Write a synthetic extract of `rows` activity rows (+ `malformed` bad lines) to `path`.

    `occitanie_share`: the share of people practising in Occitanie (the national
    file has about 9%); `columns`: another order of the 52 columns;
    `no_departement_share`: the share of rows without any structure address.
    """
    if encoding not in ENCODINGS:
        raise ValueError(f"encodage « {encoding} » non pris en charge ({', '.join(ENCODINGS)})")
    if header_case not in HEADER_CASES:
        raise ValueError(f"casse d'en-tête « {header_case} » inconnue ({', '.join(HEADER_CASES)})")
    path = Path(path)
    generator = _Generator(seed, occitanie_share)
    rnd = generator.random.random
    sites = generator.sites
    summary = GenerationSummary(path=path, encoding=encoding, rows=rows)
    order = [C[name] for name in columns] if columns is not None else None
    bad_after = sorted(generator.random.randrange(0, max(rows, 1)) for _ in range(malformed))
    bad_index = 0
    line = 1
    written = 0
    buffer: list[str] = [header(header_case, columns or COLUMNS)]
    no_address = no_departement_share
    no_departement_code = no_address + 0.03
    cedex_only = no_departement_code + 0.01
    occitanie_codes = OCCITANIE.keys()
    people = kept = kept_people = duplicates = other_region = no_departement = from_postcode = 0
    with path.open("w", encoding=encoding, newline="") as handle:
        write = handle.write
        while written < rows:
            _, part, identity, occitanie = generator.person()
            specialties = identity.specialties
            people += 1
            codes = generator.occitanie if occitanie else generator.elsewhere
            draw = rnd()
            home = codes[int(draw * len(codes))]
            activities = 1 if draw * 1000 % 1 < 0.7 else (2 if draw * 1000 % 1 < 0.9 else 3 + int(draw * 10**5) % 3)
            keys: set[tuple[str, str]] = set()
            previous = None
            for activity in range(activities):
                if written >= rows:
                    break
                specialty = specialties[0] if len(specialties) == 1 else specialties[int(rnd() * len(specialties))]
                if previous is not None and rnd() < 0.15:
                    mode, site, structure, email = previous  # the same place, another savoir-faire: a repeat
                else:
                    departement = home if not activity or rnd() < 0.7 else codes[int(rnd() * len(codes))]
                    draw = rnd()
                    variant = "normal"
                    if draw < no_departement_code:
                        variant = "blank" if draw < no_address else "no_departement"
                    elif draw < cedex_only:
                        variant = "cedex"
                    private, employing = sites[departement][variant] if variant != "blank" else ((), ())
                    draw = rnd()
                    index = int(draw * 10**6) % len(employing) if employing else 0
                    if draw < 0.55:
                        mode = _LIBERAL
                        if variant == "blank":
                            site = _BLANK_SITE
                            structure = email = ""
                        else:
                            site = private[index]
                            structure = identity.practice
                            if identity.by_place:
                                structure = structure.format(last=identity.last_name, place=PLACES[index % len(PLACES)])
                            email = identity.email
                    else:
                        mode = _SALARIED if draw < 0.98 else _VOLUNTEER
                        site = employing[index] if employing else _BLANK_SITE
                        structure, email = site.structure, site.email
                previous = mode, site, structure, email
                written += 1
                # Count as the importer will.
                code = site.departement
                if code in occitanie_codes:
                    from_postcode += site.from_postcode
                    key = (structure, site.commune)
                    if key in keys:
                        duplicates += 1
                    else:
                        keys.add(key)
                elif code:
                    other_region += 1
                else:
                    no_departement += 1
                row = f"{part}|{specialty}|{mode}|{site.head}|{structure}{site.t1}{email}{site.t2}"
                buffer.append(row if order is None else _reorder(row, order))
                line += 1
                while bad_index < len(bad_after) and bad_after[bad_index] == written - 1:
                    kind = MALFORMED_KINDS[bad_index % len(MALFORMED_KINDS)]
                    bad = _malformed_line(kind, generator)
                    buffer.append(_reorder(bad, order) if kind in ("no_identifier", "no_name") else bad)
                    line += 1
                    summary.malformed_lines.append((line, kind))
                    bad_index += 1
            if keys:
                kept_people += 1
                kept += len(keys)
            if len(buffer) >= 4096:
                write(newline.join(buffer) + newline)
                buffer.clear()
        if buffer:
            write(newline.join(buffer) + newline)
    summary.lines = line
    summary.people, summary.kept, summary.kept_people, summary.duplicates = people, kept, kept_people, duplicates
    summary.occitanie = kept + duplicates
    summary.other_region, summary.no_departement, summary.departement_from_postcode = (
        other_region, no_departement, from_postcode
    )
    return summary


def main(argv: list[str] | None = None) -> int:
    from at_tui.cli.arguments import FrenchArgumentParser  # usage and errors in French, like at-tui's

    parser = FrenchArgumentParser(
        prog="python -m at_tui.synthetic.annuaire",
        description="Écrire un extrait de l'Annuaire Santé (PS_LibreAcces_Personne_activite) synthétique et réaliste.",
    )
    parser.add_argument("output", metavar="FICHIER", help="fichier à écrire")
    parser.add_argument("--rows", type=int, metavar="N", default=1000, help="nombre de lignes d'activité (défaut : 1000)")
    parser.add_argument("--encoding", choices=ENCODINGS, default="utf-8", help="encodage (défaut : utf-8)")
    parser.add_argument("--seed", type=int, metavar="N", default=1, help="graine : même graine, même fichier (défaut : 1)")
    parser.add_argument("--occitanie-share", type=float, metavar="PART", default=0.1,
                        help="part des professionnels exerçant en Occitanie, entre 0 et 1 (défaut : 0.1)")
    parser.add_argument("--malformed", type=int, metavar="N", default=0, help="lignes mal formées à glisser (défaut : 0)")
    parser.add_argument("--header-case", choices=HEADER_CASES, default="real",
                        help="casse des noms de colonnes : real (publiée), lower, upper, drift (variantes "
                             "d'une version à l'autre) (défaut : real)")
    parser.add_argument("--shuffle-columns", action="store_true", help="colonnes dans un autre ordre")
    parser.add_argument("--crlf", action="store_true", help="fins de ligne Windows (CRLF)")
    args = parser.parse_args(argv)
    if args.rows < 0 or not 0 <= args.occitanie_share <= 1 or args.malformed < 0:
        parser.error("--rows et --malformed doivent être positifs, --occitanie-share entre 0 et 1")
    columns = None
    if args.shuffle_columns:
        columns = list(COLUMNS)
        random.Random(args.seed).shuffle(columns)
    summary = generate(
        args.output, args.rows, seed=args.seed, encoding=args.encoding, occitanie_share=args.occitanie_share,
        malformed=args.malformed, header_case=args.header_case, columns=columns,
        newline="\r\n" if args.crlf else "\n",
    )
    print(
        f"{summary.path} : {summary.rows} lignes d'activité ({summary.people} professionnels), "
        f"{summary.occitanie} en Occitanie dont {summary.duplicates} doublons, {summary.other_region} hors région, "
        f"{summary.no_departement} sans département, {len(summary.malformed_lines)} lignes mal formées, "
        f"{summary.lines} lignes, {summary.encoding}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
