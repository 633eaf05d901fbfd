"""Realistic synthetic FINESS establishments extracts, for tests and benchmarks.

No real extract can be downloaded here: this writes files in the exact etalab
format (see shared/reference/data-formats.md and `at_tui.importers.finess`): a
metadata first line, 32-column `structureet` rows with plausible FINESS numbers
(département + 6 digits + a Luhn key), names, addresses and categories, Occitanie
and other départements, `geolocalisation` rows, CSV quoting (names holding `"` or
`;`), Windows-1252 or UTF-8 (with or without BOM), and optionally malformed lines
and UTF-8 mojibake. The same seed always gives the same file.

    python -m at_tui.synthetic.finess --rows 100000 --encoding cp1252 finess.csv
"""

from __future__ import annotations

import csv
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path

ENCODINGS = ("cp1252", "utf-8", "utf-8-sig")
MALFORMED_KINDS = ("short", "bad_finess", "unknown_section", "unclosed_quote")

# département → (name in the extract, [(postcode, commune, INSEE commune code)])
OCCITANIE: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    "09": ("ARIEGE", [("09000", "FOIX", "122"), ("09100", "PAMIERS", "225"), ("09200", "SAINT-GIRONS", "261"),
                      ("09300", "LAVELANET", "160")]),
    "11": ("AUDE", [("11000", "CARCASSONNE", "069"), ("11100", "NARBONNE", "262"), ("11300", "LIMOUX", "206"),
                    ("11400", "CASTELNAUDARY", "076")]),
    "12": ("AVEYRON", [("12000", "RODEZ", "202"), ("12100", "MILLAU", "145"),
                       ("12200", "VILLEFRANCHE-DE-ROUERGUE", "300"), ("12300", "DECAZEVILLE", "089")]),
    "30": ("GARD", [("30000", "NIMES", "189"), ("30100", "ALES", "007"), ("30200", "BAGNOLS-SUR-CEZE", "028"),
                    ("30400", "VILLENEUVE-LES-AVIGNON", "351")]),
    "31": ("HAUTE-GARONNE", [("31000", "TOULOUSE", "555"), ("31300", "TOULOUSE", "555"),
                             ("31500", "TOULOUSE", "555"), ("31800", "SAINT-GAUDENS", "483"),
                             ("31600", "MURET", "395"), ("31700", "BLAGNAC", "069")]),
    "32": ("GERS", [("32000", "AUCH", "013"), ("32100", "CONDOM", "107"), ("32300", "MIRANDE", "256"),
                    ("32700", "LECTOURE", "208")]),
    "34": ("HERAULT", [("34000", "MONTPELLIER", "172"), ("34500", "BEZIERS", "032"), ("34200", "SETE", "301"),
                       ("34400", "LUNEL", "145"), ("34700", "LODEVE", "142")]),
    "46": ("LOT", [("46000", "CAHORS", "042"), ("46100", "FIGEAC", "102"), ("46200", "SOUILLAC", "309"),
                   ("46300", "GOURDON", "127")]),
    "48": ("LOZERE", [("48000", "MENDE", "095"), ("48100", "MARVEJOLS", "092"),
                      ("48200", "SAINT-CHELY-D'APCHER", "140"), ("48400", "FLORAC TROIS RIVIERES", "061")]),
    "65": ("HAUTES-PYRENEES", [("65000", "TARBES", "440"), ("65100", "LOURDES", "286"),
                               ("65200", "BAGNERES-DE-BIGORRE", "059"), ("65300", "LANNEMEZAN", "258")]),
    "66": ("PYRENEES-ORIENTALES", [("66000", "PERPIGNAN", "136"), ("66500", "PRADES", "149"),
                                   ("66400", "CERET", "049"), ("66100", "PERPIGNAN", "136")]),
    "81": ("TARN", [("81000", "ALBI", "004"), ("81100", "CASTRES", "065"), ("81200", "MAZAMET", "163"),
                    ("81300", "GRAULHET", "105")]),
    "82": ("TARN-ET-GARONNE", [("82000", "MONTAUBAN", "121"), ("82100", "CASTELSARRASIN", "033"),
                               ("82200", "MOISSAC", "112"), ("82300", "CAUSSADE", "037")]),
}
ELSEWHERE: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    "75": ("PARIS", [("75013", "PARIS", "113"), ("75020", "PARIS", "120")]),
    "13": ("BOUCHES-DU-RHONE", [("13005", "MARSEILLE", "055"), ("13100", "AIX-EN-PROVENCE", "001")]),
    "33": ("GIRONDE", [("33000", "BORDEAUX", "063"), ("33500", "LIBOURNE", "243")]),
    "69": ("RHONE", [("69003", "LYON", "383"), ("69100", "VILLEURBANNE", "266")]),
    "64": ("PYRENEES-ATLANTIQUES", [("64000", "PAU", "445"), ("64100", "BAYONNE", "102")]),
    "2A": ("CORSE-DU-SUD", [("20000", "AJACCIO", "004")]),
}

# Aggregated categories (categagretab) and their labels.
AGGREGATES = {
    "1101": "Centres Hospitaliers Régionaux", "1102": "Centres Hospitaliers",
    "1103": "Etablissements de Lutte contre les Maladies Mentales",
    "1106": "Etablissements de Soins de Courte Durée", "1202": "Centres de Santé",
    "1204": "Structures d'Exercice Coordonné", "1205": "Dispositifs d'Appui", "3101": "Pharmacies",
    "3201": "Laboratoires", "4101": "Etablissements d'Education Spéciale pour Enfants Handicapés",
    "4102": "Services à Domicile ou Ambulatoires pour Handicapés",
    "4103": "Etablissements et Services de Prévention et de Soins Ambulatoires",
    "4301": "Etablissements de Travail Protégé", "4302": "Etablissements d'Hébergement pour Adultes Handicapés",
    "4401": "Etablissements et Services pour Personnes Agées", "4403": "Services de Soins à Domicile",
    "4501": "Etablissements et Services Sociaux d'Accueil",
}
# code → (label in the extract, aggregated category, weight); codes of categories.toml and others.
CATEGORIES: dict[str, tuple[str, str, float]] = {
    "101": ("Centre Hospitalier Régional (C.H.R.)", "1101", 0.2),
    "355": ("Centre Hospitalier (C.H.)", "1102", 2),
    "106": ("Centre hospitalier, ex Hôpital local", "1102", 1),
    "292": ("Centre Hospitalier Spécialisé lutte Maladies Mentales", "1103", 0.6),
    "500": ("Etablissement d'hébergement pour personnes âgées dépendantes", "4401", 12),
    "354": ("Service de Soins Infirmiers A Domicile (S.S.I.A.D)", "4403", 6),
    "183": ("Institut Médico-Educatif (I.M.E.)", "4101", 3),
    "246": ("Etablissement et Service d'Aide par le Travail (E.S.A.T.)", "4301", 3),
    "189": ("Centre Médico-Psycho-Pédagogique (C.M.P.P.)", "4103", 1.5),
    "182": ("Service d'Éducation Spéciale et de Soins à Domicile", "4102", 3),
    "255": ("Maison d'Accueil Spécialisée (M.A.S.)", "4302", 1.5),
    "437": ("Foyer d'Accueil Médicalisé pour Adultes Handicapés (F.A.M.)", "4302", 1.5),
    "603": ("Maison de santé (L.6223-3)", "1204", 5),
    "604": ("Communauté Professionnelle Territoriale de Santé (CPTS)", "1204", 1.5),
    "606": ("Dispositif d'Appui à la Coordination (DAC)", "1205", 0.4),
    "124": ("Centre de Santé", "1202", 4),
    "620": ("Pharmacie d'Officine", "3101", 18),
    "611": ("Laboratoire de Biologie Médicale", "3201", 5),
    "128": ("Etablissement de Soins Chirurgicaux", "1106", 3),
    "156": ("Centre Médico-Psychologique (C.M.P.)", "1103", 5),
    "165": ("Appartement de Coordination Thérapeutique (A.C.T.)", "4501", 1),
    "382": ("Foyer de Vie pour Adultes Handicapés", "4302", 2),
}

PLACE_NAMES = (
    "LES TILLEULS", "LES CÈDRES", "LES GLYCINES", "L'OUSTAL", "SAINT-JACQUES", "LA PROVIDENCE",
    "LE CLOS DES VIGNES", "LES JARDINS D'ÉMILIE", "DU PARC", "LA BASTIDE", "LES MIMOSAS", "LES AMANDIERS",
    "LE VAL FLEURI", "LES OLIVIERS", "L'ÂGE D'OR", "NOTRE-DAME", "LES BRUYÈRES", "CŒUR DE VIE",
    "LES LAURIERS ROSES", "LE COLOMBIER", "LES CHÊNES", "BELLESAGNE", "LE PALEY", "LA SOURCE", "LES SAULES",
    "SAINTE-MARTHE", "LE BOSQUET", "LES CIGALES", "LES ÉTANGS", "LE MOULIN", "LES PINS", "LA GARRIGUE",
)
PEOPLE = ("JEAN ROUGIER", "GÉRARD MARCHANT", "PIERRE DELORE", "MARIE CURIE", "LÉON BÉRARD", "JEAN JAURÈS",
          "ANNE DE BEAUJEU", "FRANÇOIS ARAGO", "PAUL GACHET", "RENÉ LAËNNEC")
AREAS = ("SUD TOULOUSAIN", "CŒUR D'HÉRAULT", "PAYS D'OLMES", "VALLÉE DU LOT", "HAUT-LANGUEDOC", "COMMINGES",
         "CAUSSES ET VALLÉES", "PIÉMONT CÉVENOL", "ALBIGEOIS", "LAURAGAIS", "ARMAGNAC", "BIGORRE", "CONFLENT",
         "ROUSSILLON", "QUERCY BLANC", "AUBRAC", "MINERVOIS", "VIC-BILH")
STREETS = (("R", "DES LILAS"), ("AV", "DE LA GARE"), ("BD", "JEAN JAURES"), ("CHE", "DU MOULIN"),
           ("PL", "DE LA REPUBLIQUE"), ("RTE", "DE NARBONNE"), ("R", "DU 8 MAI 1945"), ("ALL", "DES PLATANES"),
           ("AV", "DU GENERAL DE GAULLE"), ("R", "SAINT-ROCH"))
_OCCITANIE_CODES = tuple(OCCITANIE)
_ELSEWHERE_CODES = tuple(ELSEWHERE)
_FUNDERS = ("ARS établissements Publics de santé dotation globale", "Assurance Maladie", "Conseil Départemental")
APE = {"355": "8610Z", "101": "8610Z", "106": "8610Z", "292": "8610Z", "500": "8710A", "620": "4773Z",
       "611": "8690B", "603": "8621Z", "604": "9499Z", "606": "8899B", "124": "8621Z"}


@dataclass
class GenerationSummary:
    path: Path
    encoding: str
    rows: int  # structureet rows written, malformed ones not included
    occitanie: int
    geolocalisation: int = 0
    malformed_lines: list[tuple[int, str]] = field(default_factory=list)  # (line number, kind)
    mojibake_finess: list[str] = field(default_factory=list)  # rows whose names were double-encoded
    lines: int = 0


_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def luhn_key(digits: str) -> str:
    """The Luhn check digit of `digits` (Corsican 2A/2B counted as 20)."""
    values = [int(c) for c in digits.replace("A", "0").replace("B", "0")]
    total = sum(_DOUBLED[v] for v in values[-1::-2]) + sum(values[-2::-2])
    return str((10 - total % 10) % 10)


def finess_number(departement: str, serial: int) -> str:
    stem = f"{departement}{serial:06d}"
    return stem + luhn_key(stem)


def structure_row(
    finess: str,
    name: str,
    *,
    departement: str = "31",
    routing: str = "31000 TOULOUSE",
    category: str = "500",
    category_label: str | None = None,
    long_name: str = "",
    finess_ej: str = "",
    phone: str = "",
    departement_name: str = "",
) -> list[str]:
    """One 32-column `structureet` row, for tests that need exact rows."""
    label = category_label if category_label is not None else CATEGORIES.get(category, ("",))[0]
    row = ["" for _ in range(32)]
    row[0], row[1], row[2], row[3], row[4] = "structureet", finess, finess_ej, name, long_name
    row[13], row[14], row[15], row[16] = departement, departement_name, routing, phone
    row[18], row[19] = category, label
    return row


def write_rows(path: Path, rows: Sequence[Sequence[str] | str], *, encoding: str = "cp1252",
               metadata: str | None = "finess;etalab;111;2026-05-12", newline: str = "\n") -> None:
    """Write `rows` (field lists, CSV-quoted as needed; or raw text lines) after the metadata line."""
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator=newline, quoting=csv.QUOTE_MINIMAL)
        if metadata is not None:
            handle.write(metadata + newline)
        for row in rows:
            if isinstance(row, str):
                handle.write(row + newline)
            else:
                writer.writerow(row)


class _Generator:
    def __init__(self, seed: int, occitanie_share: float) -> None:
        self.random = random.Random(seed)
        self.occitanie_share = occitanie_share
        self.serials: dict[str, int] = {}
        codes = list(CATEGORIES)
        self.codes = codes
        self.cumulative = list(accumulate(CATEGORIES[c][2] for c in codes))

    def below(self, n: int) -> int:
        """A uniform integer in [0, n): faster than randrange, which dominated the generation time."""
        return int(self.random.random() * n)

    def next_finess(self, departement: str) -> str:
        serial = self.serials.get(departement)
        if serial is None:
            serial = 1000 + self.below(4000)
        serial += 1 + self.below(39)
        self.serials[departement] = serial
        return finess_number(departement, serial)

    def structure(self) -> tuple[list[str], bool]:
        rnd, below = self.random, self.below
        chance = rnd.random
        occitanie = chance() < self.occitanie_share
        table, codes = (OCCITANIE, _OCCITANIE_CODES) if occitanie else (ELSEWHERE, _ELSEWHERE_CODES)
        departement = codes[below(len(codes))]
        departement_name, communes = table[departement]
        postcode, commune, insee = communes[below(len(communes))]
        code = rnd.choices(self.codes, cum_weights=self.cumulative)[0]
        label, aggregate, _ = CATEGORIES[code]
        name, long_name = self.names(code, commune, departement, departement_name)
        finess = self.next_finess(departement)
        finess_ej = self.next_finess(departement) if chance() < 0.9 else ""
        routing = f"{postcode} {commune}"
        if chance() < 0.05:
            routing = f"{postcode[:2]}{100 + below(900)} {commune} CEDEX {1 + below(9)}"
        street_type, street = STREETS[below(len(STREETS))]
        phone = f"0{4 + below(4)}{10**7 + below(9 * 10**7)}" if chance() < 0.9 else ""
        year, month = 1960 + below(65), 1 + below(12)
        row = [
            "structureet", finess, finess_ej, name, long_name,
            "" if chance() < 0.9 else "BATIMENT B", "" if chance() < 0.95 else "BP 12",
            str(1 + below(119)), street_type, street, "" if chance() < 0.9 else "B",
            "" if chance() < 0.9 else "LIEU-DIT LE PLO", insee, departement, departement_name, routing,
            phone, "" if chance() < 0.6 else f"0{4 + below(4)}{10**7 + below(9 * 10**7)}",
            code, label, aggregate, AGGREGATES[aggregate], str(10**13 + below(9 * 10**13)), APE.get(code, "8899B"),
            ("03", "45", "47", "34")[below(4)], _FUNDERS[below(len(_FUNDERS))], ("", "1", "6")[below(3)], "",
            f"{year}-{month:02d}-01", f"{year + below(2025 - year)}-{month:02d}-15", f"2025-{1 + below(12):02d}-20", "",
        ]
        return row, occitanie

    def names(self, code: str, commune: str, departement: str, departement_name: str) -> tuple[str, str]:
        rnd = self.random
        place = rnd.choice(PLACE_NAMES)
        town = commune.replace("-", " ") if rnd.random() < 0.3 else commune
        if code == "101":
            return f"CHU DE {town}", f"CENTRE HOSPITALIER UNIVERSITAIRE DE {commune}"
        if code in ("355", "106"):
            long_name = f"CENTRE HOSPITALIER {rnd.choice(PEOPLE)} DE {commune}" if rnd.random() < 0.4 else (
                f"HÔPITAL LOCAL DE {commune}" if code == "106" else f"CENTRE HOSPITALIER DE {commune}")
            return (f"CENTRE HOSPITALIER DE {town}" if rnd.random() < 0.6 else f"CH {town}"), long_name
        if code == "292":
            person = rnd.choice(PEOPLE)
            return f"CH SPÉCIALISÉ {person}", f"CENTRE HOSPITALIER SPÉCIALISÉ {person}"
        if code == "500":
            name = f"EHPAD {place}" if rnd.random() < 0.7 else f"RÉSIDENCE {place}"
            if rnd.random() < 0.02:
                name = f"{name}; SITE DE {commune}"  # a `;` inside the name: quoted by the writer
            return name, f"{name} {commune}" if rnd.random() < 0.5 else name
        if code == "603":
            if rnd.random() < 0.5:
                return f"MSP DE {town}", f"MAISON DE SANTÉ PLURIPROFESSIONNELLE DE {commune}"
            return f"MAISON DE SANTÉ {place}", f"MAISON DE SANTÉ PLURIPROFESSIONNELLE {place}"
        if code == "604":
            if rnd.random() < 0.5:
                return f"CPTS DU GRAND {town}", f"COMMUNAUTÉ PROFESSIONNELLE TERRITORIALE DE SANTÉ DU GRAND {commune}"
            area = rnd.choice(AREAS)
            if rnd.random() < 0.1:
                return f'CPTS "{area}"', f'CPTS "{area}"'  # quotes inside the name: doubled by the writer
            return f"CPTS {area}", f"CPTS {area}"
        if code == "606":
            return f"DAC {departement}", f"DISPOSITIF D'APPUI À LA COORDINATION {departement_name}"
        if code == "124":
            return (f"CENTRE DE SANTÉ {place}" if rnd.random() < 0.5 else f"CENTRE DE SANTÉ MUNICIPAL DE {town}"), ""
        if code == "382" and rnd.random() < 0.3:
            name = f'LIEU DE VIE "{place}"'
            return name, name
        prefix = {"354": "SSIAD", "183": "IME", "246": "ESAT", "189": "CMPP", "182": "SESSAD", "255": "MAS",
                  "437": "FAM", "620": "PHARMACIE", "611": "LABORATOIRE", "128": "CLINIQUE", "156": "CMP",
                  "165": "ACT", "382": "FOYER DE VIE"}[code]
        if code in ("354", "189") and rnd.random() < 0.5:
            return f"{prefix} DE {town}", ""
        return f"{prefix} {place}", (f"{prefix} {place} {commune}" if rnd.random() < 0.3 else "")


def _mojibake(text: str) -> str:
    try:
        return text.encode("utf-8").decode("cp1252")
    except UnicodeDecodeError:
        return text


def _malformed_line(kind: str, rnd: random.Random) -> str:
    if kind == "short":
        return "structureet;310000000;310000001;EHPAD TRONQUÉ;;;;12;R;DES LILAS"
    if kind == "bad_finess":
        fields = ["structureet", "31ABC12", "", "EHPAD MAL NUMÉROTÉ"] + [""] * 28
        fields[13], fields[15], fields[18] = "31", "31000 TOULOUSE", "500"
        return ";".join(fields)
    if kind == "unknown_section":
        return f"structurejur;31{rnd.randrange(10**6, 10**7)};ASSOCIATION GESTIONNAIRE;;;;"
    fields = ["structureet", "319999990", "", '"EHPAD SANS GUILLEMET FERMANT'] + [""] * 28
    fields[13] = "31"
    return ";".join(fields)


def generate(
    path: Path | str,
    rows: int,
    *,
    seed: int = 1,
    encoding: str = "cp1252",
    occitanie_share: float = 0.85,
    geolocalisation: bool = True,
    malformed: int = 0,
    mojibake: bool = False,
    extract_date: str = "2026-05-12",
    newline: str = "\n",
) -> GenerationSummary:
    """Write a synthetic extract of `rows` structureet rows (+ `malformed` bad lines) to `path`."""
    if encoding not in ENCODINGS:
        raise ValueError(f"encodage « {encoding} » non pris en charge ({', '.join(ENCODINGS)})")
    if mojibake and not encoding.startswith("utf-8"):
        raise ValueError("--mojibake n'a de sens qu'en UTF-8")
    path = Path(path)
    generator = _Generator(seed, occitanie_share)
    rnd = generator.random
    # A separate stream: with or without mojibake, the same seed draws the same structures.
    mojibake_random = random.Random(seed + 1)
    summary = GenerationSummary(path=path, encoding=encoding, rows=rows, occitanie=0)
    # Positions (among the structure rows) after which a malformed line goes.
    bad_after = sorted(rnd.randrange(0, max(rows, 1)) for _ in range(malformed))
    bad_index = 0
    line = 1
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator=newline, quoting=csv.QUOTE_MINIMAL)
        handle.write(f"finess;etalab;111;{extract_date}{newline}")
        pending_geo: list[str] = []
        for index in range(rows):
            row, occitanie = generator.structure()
            summary.occitanie += occitanie
            if mojibake and not row[3].isascii() and mojibake_random.random() < 0.1:
                row[3], row[4] = _mojibake(row[3]), _mojibake(row[4])
                summary.mojibake_finess.append(row[1])
            writer.writerow(row)
            line += 1
            if geolocalisation:
                x, y = rnd.uniform(450000, 800000), rnd.uniform(6150000, 6450000)
                pending_geo.append(
                    f"geolocalisation;{row[1]};{x:.1f};{y:.1f};1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,LAMBERT_93;2025-01-17"
                )
                if rnd.random() < 0.3:  # interleaved, in small bursts
                    for geo in pending_geo:
                        handle.write(geo + newline)
                        line += 1
                    summary.geolocalisation += len(pending_geo)
                    pending_geo.clear()
            while bad_index < len(bad_after) and bad_after[bad_index] == index:
                kind = MALFORMED_KINDS[bad_index % len(MALFORMED_KINDS)]
                handle.write(_malformed_line(kind, rnd) + newline)
                line += 1
                summary.malformed_lines.append((line, kind))
                bad_index += 1
        for geo in pending_geo:
            handle.write(geo + newline)
            line += 1
        summary.geolocalisation += len(pending_geo)
    summary.lines = line
    return summary


def main(argv: list[str] | None = None) -> int:
    from at_tui.cli.arguments import FrenchArgumentParser  # usage and errors in French, like at-tui's

    parser = FrenchArgumentParser(
        prog="python -m at_tui.synthetic.finess",
        description="Écrire un extrait FINESS (établissements, format etalab) synthétique et réaliste.",
    )
    parser.add_argument("output", metavar="FICHIER", help="fichier à écrire")
    parser.add_argument("--rows", type=int, metavar="N", default=1000, help="nombre de lignes structureet (défaut : 1000)")
    parser.add_argument("--encoding", choices=ENCODINGS, default="cp1252", help="encodage (défaut : cp1252)")
    parser.add_argument("--seed", type=int, metavar="N", default=1, help="graine : même graine, même fichier (défaut : 1)")
    parser.add_argument("--occitanie-share", type=float, metavar="PART", default=0.85,
                        help="part des structures en Occitanie, entre 0 et 1 (défaut : 0.85)")
    parser.add_argument("--malformed", type=int, metavar="N", default=0, help="lignes mal formées à glisser (défaut : 0)")
    parser.add_argument("--no-geolocalisation", action="store_true", help="sans lignes geolocalisation")
    parser.add_argument("--mojibake", action="store_true", help="UTF-8 : quelques noms aux accents mal encodés")
    parser.add_argument("--crlf", action="store_true", help="fins de ligne Windows (CRLF)")
    args = parser.parse_args(argv)
    if args.rows < 0 or not 0 <= args.occitanie_share <= 1 or args.malformed < 0:
        parser.error("--rows et --malformed doivent être positifs, --occitanie-share entre 0 et 1")
    try:
        summary = generate(
            args.output, args.rows, seed=args.seed, encoding=args.encoding, occitanie_share=args.occitanie_share,
            geolocalisation=not args.no_geolocalisation, malformed=args.malformed, mojibake=args.mojibake,
            newline="\r\n" if args.crlf else "\n",
        )
    except ValueError as error:
        parser.error(str(error))
    print(
        f"{summary.path} : {summary.rows} structures ({summary.occitanie} en Occitanie), "
        f"{summary.geolocalisation} lignes geolocalisation, {len(summary.malformed_lines)} lignes mal formées, "
        f"{summary.lines} lignes, {summary.encoding}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
