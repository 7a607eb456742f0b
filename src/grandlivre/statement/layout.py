"""Where each account goes in the balance sheet and the income statement: the PCG's tables.

The layout is the PCG's *modèle de base* (système de base: articles 821-1, the bilan, and 823-1,
the compte de résultat in a table; the headings of the liasse 2050 to 2053), with French labels.
Each statement is a tuple of sections; each section a tuple of lines; each line takes the
accounts whose number starts with one of its prefixes (`Take`):

- `either(...)`: whatever the sign of the account's balance (a debit balance on the passif, or a
  credit one on the actif, shows as a negative amount: 119 report à nouveau débiteur);
- `debits(...)` / `credits(...)`: only when the balance is a debit / a credit. This is how the
  accounts whose side depends on their balance (40, 41, 42 to 47, 51) go to the actif when they
  are debtors and to the passif when they are creditors, account by account.

An actif line has its gross accounts (`takes`) and the accounts of its amortissements and
dépréciations (`less`), read credit-positive: net = gross − less.

An account goes to the line of its **longest matching prefix** among the takes of its balance's
sign: 4091 with a debit balance is an advance paid (AC-AVANCES), with a credit balance it falls
back to 40, a supplier debt (DT-FOURNISSEURS); 269 is a debt (DT-AUTRES) although 26 is a
financial asset. No two takes share a prefix and a sign (checked when this module loads), so
every account lands in exactly one line. An account of classes 1 to 5 that no take matches goes
to the catch-all line of its sign (`ACTIF_OTHER`, `PASSIF_OTHER`) so that nothing is dropped.
The income statement's roots `6` and `7` take whatever of classes 6 and 7 no longer prefix does.

Two passif lines are computed, not taken from accounts alone: `RESULT` (classes 7 − 6 of the
year) and `PRIOR_RESULTS` (account 12 as carried, plus the result of earlier years that were
never closed); see docs/statements.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Sign = Literal["debit", "credit", "either"]
Column = Literal["gross", "less"]
Kind = Literal["produits", "charges"]


@dataclass(frozen=True)
class Take:
    """The accounts under `prefix` whose balance has the sign `sign` (or either)."""

    prefix: str
    sign: Sign = "either"


def either(*prefixes: str) -> tuple[Take, ...]:
    """Take these accounts whatever the sign of their balance."""
    return tuple(Take(p, "either") for p in prefixes)


def debits(*prefixes: str) -> tuple[Take, ...]:
    """Take these accounts when their balance is a debit."""
    return tuple(Take(p, "debit") for p in prefixes)


def credits(*prefixes: str) -> tuple[Take, ...]:
    """Take these accounts when their balance is a credit."""
    return tuple(Take(p, "credit") for p in prefixes)


@dataclass(frozen=True)
class Line:
    """A line of a statement: its stable code, its label, and the accounts it takes."""

    code: str
    label: str
    takes: tuple[Take, ...] = ()
    less: tuple[Take, ...] = ()  # actif only: amortissements et dépréciations


@dataclass(frozen=True)
class Section:
    """A group of lines with a subtotal; on the income statement, produits or charges."""

    code: str
    label: str
    lines: tuple[Line, ...]
    kind: Kind | None = None


RESULT = "CP-RESULTAT"
PRIOR_RESULTS = "CP-ANTERIEURS"
ACTIF_OTHER = "AX-AUTRES"
PASSIF_OTHER = "PX-AUTRES"

# -- bilan, actif ---------------------------------------------------------------------------

ACTIF: tuple[Section, ...] = (
    Section(
        "AS",
        "Capital souscrit non appelé",
        (Line("AS-NON-APPELE", "Capital souscrit non appelé", either("109")),),
    ),
    Section(
        "AI",
        "Actif immobilisé",
        (
            Line("AI-INCORP", "Immobilisations incorporelles", either("20"), either("280", "290")),
            Line(
                "AI-CORP",
                "Immobilisations corporelles",
                either("21", "22"),
                either("281", "282", "291", "292"),
            ),
            Line(
                "AI-ENCOURS",
                "Immobilisations en cours, avances et acomptes",
                either("23"),
                either("293"),
            ),
            Line(
                "AI-FIN",
                "Immobilisations financières",
                either("26", "27"),  # less 269 and 279, debts (DT-AUTRES)
                either("296", "297"),
            ),
        ),
    ),
    Section(
        "AC",
        "Actif circulant",
        (
            Line(
                "AC-STOCKS",
                "Stocks et en-cours",
                either("31", "32", "33", "34", "35", "36", "37", "38"),
                either("39"),
            ),
            Line("AC-AVANCES", "Avances et acomptes versés sur commandes", debits("4091")),
            Line(
                "AC-CLIENTS",
                "Créances clients et comptes rattachés",
                debits("41"),
                either("491"),
            ),
            Line(
                "AC-CREANCES",
                "Autres créances",
                debits("40", "42", "43", "44", "45", "46", "47"),
                either("495", "496"),
            ),
            Line("AC-VMP", "Valeurs mobilières de placement", either("50"), either("59")),
            Line("AC-DISPO", "Disponibilités", debits("51", "53", "54")),
            Line("AC-CCA", "Charges constatées d'avance", either("486", "4886")),
        ),
    ),
    Section(
        "AR",
        "Comptes de régularisation",
        (
            Line("AR-CHARGES", "Charges à répartir sur plusieurs exercices", either("481")),
            Line("AR-PRIMES", "Primes de remboursement des obligations", either("169")),
            Line("AR-ECA", "Écarts de conversion actif", either("476")),
        ),
    ),
    Section(
        "AX",
        "Comptes non classés",
        (Line(ACTIF_OTHER, "Autres comptes débiteurs"),),
    ),
)

# -- bilan, passif --------------------------------------------------------------------------

PASSIF: tuple[Section, ...] = (
    Section(
        "CP",
        "Capitaux propres",
        (
            # 101 and 108, and whatever of 10 no longer prefix takes (102 fonds fiduciaires).
            Line("CP-CAPITAL", "Capital social ou individuel", either("10", "101", "108")),
            Line("CP-PRIMES", "Primes d'émission, de fusion, d'apport", either("104")),
            Line("CP-REEVALUATION", "Écarts de réévaluation", either("105")),
            Line("CP-EQUIVALENCE", "Écart d'équivalence", either("107")),
            Line("CP-RESERVES", "Réserves", either("106")),
            Line("CP-REPORT", "Report à nouveau", either("11")),
            Line(RESULT, "Résultat de l'exercice (bénéfice ou perte)"),
            Line(PRIOR_RESULTS, "Résultats antérieurs en instance d'affectation", either("12")),
            Line("CP-SUBVENTIONS", "Subventions d'investissement", either("13")),
            Line("CP-PROVISIONS", "Provisions réglementées", either("14")),
        ),
    ),
    Section(
        "PRC",
        "Provisions pour risques et charges",
        (Line("PRC-PROVISIONS", "Provisions pour risques et charges", either("15")),),
    ),
    Section(
        "DT",
        "Dettes",
        (
            Line(
                "DT-EDC",
                "Emprunts et dettes auprès des établissements de crédit",
                either("164") + credits("51"),
            ),
            Line(
                "DT-EDFD",
                "Emprunts et dettes financières divers",
                either("16", "17"),  # less 164 (DT-EDC) and 169 (AR-PRIMES)
            ),
            Line("DT-AVANCES", "Avances et acomptes reçus sur commandes en cours", credits("4191")),
            Line("DT-FOURNISSEURS", "Dettes fournisseurs et comptes rattachés", credits("40")),
            Line("DT-FISCALES", "Dettes fiscales et sociales", credits("42", "43", "44")),
            Line(
                "DT-AUTRES",
                "Autres dettes",
                credits("41", "45", "46", "47") + either("269", "279"),
            ),
            Line("DT-PCA", "Produits constatés d'avance", either("487", "4887")),
        ),
    ),
    Section(
        "PR",
        "Comptes de régularisation",
        (Line("PR-ECP", "Écarts de conversion passif", either("477")),),
    ),
    Section(
        "PX",
        "Comptes non classés",
        (Line(PASSIF_OTHER, "Autres comptes créditeurs"),),
    ),
)

# -- compte de résultat ---------------------------------------------------------------------

INCOME_STATEMENT: tuple[Section, ...] = (
    Section(
        "PE",
        "Produits d'exploitation",
        (
            Line("PE-MARCHANDISES", "Ventes de marchandises", either("707", "7097")),
            Line("PE-PRODUCTION", "Production vendue (biens et services)", either("70")),
            Line("PE-STOCKEE", "Production stockée", either("71")),
            Line("PE-IMMOBILISEE", "Production immobilisée", either("72")),
            Line("PE-SUBVENTIONS", "Subventions d'exploitation", either("74")),
            Line(
                "PE-REPRISES",
                "Reprises sur amortissements, dépréciations et provisions, transferts de charges",
                either("781", "791"),
            ),
            Line("PE-AUTRES", "Autres produits", either("75", "7")),
        ),
        kind="produits",
    ),
    Section(
        "CE",
        "Charges d'exploitation",
        (
            Line("CE-MARCHANDISES", "Achats de marchandises", either("607", "6097")),
            Line("CE-VAR-MARCHANDISES", "Variation de stocks de marchandises", either("6037")),
            Line(
                "CE-APPROVISIONNEMENTS",
                "Achats de matières premières et autres approvisionnements",
                either("601", "602", "6091", "6092"),
            ),
            Line(
                "CE-VAR-APPROVISIONNEMENTS",
                "Variation de stocks de matières premières et approvisionnements",
                either("603"),
            ),
            Line("CE-EXTERNES", "Autres achats et charges externes", either("60", "61", "62")),
            Line("CE-IMPOTS", "Impôts, taxes et versements assimilés", either("63")),
            Line("CE-SALAIRES", "Salaires et traitements", either("641", "644")),
            Line("CE-SOCIALES", "Charges sociales", either("64")),  # 645 to 648
            Line(
                "CE-DOTATIONS",
                "Dotations aux amortissements, dépréciations et provisions",
                either("681"),
            ),
            Line("CE-AUTRES", "Autres charges", either("65", "6")),
        ),
        kind="charges",
    ),
    Section(
        "PF",
        "Produits financiers",
        (
            Line("PF-PARTICIPATIONS", "Produits financiers de participations", either("761")),
            Line(
                "PF-VALEURS",
                "Produits des autres valeurs mobilières et créances de l'actif immobilisé",
                either("762"),
            ),
            Line("PF-INTERETS", "Autres intérêts et produits assimilés", either("76")),
            Line(
                "PF-REPRISES",
                "Reprises sur dépréciations et provisions, transferts de charges",
                either("786", "796"),
            ),
            Line("PF-CHANGE", "Différences positives de change", either("766")),
            Line(
                "PF-CESSIONS",
                "Produits nets sur cessions de valeurs mobilières de placement",
                either("767"),
            ),
        ),
        kind="produits",
    ),
    Section(
        "CF",
        "Charges financières",
        (
            Line(
                "CF-DOTATIONS",
                "Dotations financières aux amortissements, dépréciations et provisions",
                either("686"),
            ),
            Line("CF-INTERETS", "Intérêts et charges assimilées", either("66")),
            Line("CF-CHANGE", "Différences négatives de change", either("666")),
            Line(
                "CF-CESSIONS",
                "Charges nettes sur cessions de valeurs mobilières de placement",
                either("667"),
            ),
        ),
        kind="charges",
    ),
    Section(
        "PEX",
        "Produits exceptionnels",
        (
            Line(
                "PEX-OPERATIONS",
                "Produits exceptionnels sur opérations de gestion et en capital",
                either("77"),
            ),
            Line(
                "PEX-REPRISES",
                "Reprises sur dépréciations et provisions, transferts de charges",
                either("787", "797"),
            ),
        ),
        kind="produits",
    ),
    Section(
        "CEX",
        "Charges exceptionnelles",
        (
            Line(
                "CEX-OPERATIONS",
                "Charges exceptionnelles sur opérations de gestion et en capital",
                either("67"),
            ),
            Line(
                "CEX-DOTATIONS",
                "Dotations exceptionnelles aux amortissements, dépréciations et provisions",
                either("687"),
            ),
        ),
        kind="charges",
    ),
    Section(
        "PS",
        "Participation des salariés aux résultats",
        (Line("PS-PARTICIPATION", "Participation des salariés aux résultats", either("691")),),
        kind="charges",
    ),
    Section(
        "IS",
        "Impôts sur les bénéfices",
        (Line("IS-IMPOTS", "Impôts sur les bénéfices", either("69")),),  # 695 to 699
        kind="charges",
    ),
)


@dataclass(frozen=True)
class Result:
    """A subtotal of the income statement: the sections added, those taken away (each
    section's total in its own sign), and the section after which it reads."""

    code: str
    label: str
    added: tuple[str, ...]
    taken: tuple[str, ...]
    after: str


NET_RESULT = "RESULTAT"
PRODUITS = ("PE", "PF", "PEX")
CHARGES = ("CE", "CF", "CEX", "PS", "IS")

RESULTS: tuple[Result, ...] = (
    Result("RESULTAT-EXPLOITATION", "Résultat d'exploitation", ("PE",), ("CE",), "CE"),
    Result("RESULTAT-FINANCIER", "Résultat financier", ("PF",), ("CF",), "CF"),
    Result("RESULTAT-COURANT", "Résultat courant avant impôts", ("PE", "PF"), ("CE", "CF"), "CF"),
    Result("RESULTAT-EXCEPTIONNEL", "Résultat exceptionnel", ("PEX",), ("CEX",), "CEX"),
    Result("TOTAL-PRODUITS", "Total des produits", PRODUITS, (), "IS"),
    Result("TOTAL-CHARGES", "Total des charges", CHARGES, (), "IS"),
    Result(NET_RESULT, "Bénéfice ou perte", PRODUITS, CHARGES, "IS"),
)


# -- placing an account ---------------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    """Where an account goes: the line's code and, on the actif, gross or less."""

    line: str
    column: Column


Index = dict[tuple[str, Sign], Placement]


def _index(sections: tuple[Section, ...]) -> Index:
    index: Index = {}
    for section in sections:
        for line in section.lines:
            columns: tuple[tuple[Column, tuple[Take, ...]], ...] = (
                ("gross", line.takes),
                ("less", line.less),
            )
            for column, takes in columns:
                for take in takes:
                    # A prefix is taken whatever the sign, or by sign, never both ways and
                    # never twice: each account then has exactly one line.
                    rivals: tuple[Sign, ...] = (
                        ("debit", "credit", "either")
                        if take.sign == "either"
                        else (take.sign, "either")
                    )
                    clash = [index[(take.prefix, s)] for s in rivals if (take.prefix, s) in index]
                    if clash:
                        raise ValueError(f"{take.prefix} ({take.sign}) is taken twice: {clash}")
                    index[(take.prefix, take.sign)] = Placement(line.code, column)
    return index


SHEET_INDEX = _index(ACTIF + PASSIF)
INCOME_INDEX = _index(INCOME_STATEMENT)
ACTIF_LINES = frozenset(line.code for section in ACTIF for line in section.lines)


def place(index: Index, number: str, balance: int) -> Placement | None:
    """Return the line of the account's longest matching prefix for its balance's sign.

    `balance` is debit-positive and not zero. None when no prefix matches.
    """
    sign: Sign = "debit" if balance > 0 else "credit"
    for length in range(len(number), 0, -1):
        prefix = number[:length]
        found = index.get((prefix, sign)) or index.get((prefix, "either"))
        if found is not None:
            return found
    return None
