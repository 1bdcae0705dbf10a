"""Seeded demo legal clause classification set: clause text → clause type.

Parties, signatories, phone and case numbers are invented. Records are
``{"id", "text", "label"}``; classes are slightly imbalanced and the file
carries the usual export faults (see :mod:`engine.data.demo_common`). Standard
boilerplate sentences also recur verbatim across contracts, as in real clause
sets, so a cleaner finds some exact duplicates beyond the injected ones.

With ``mixed_rate`` above 0 a share of the clauses also carries one sentence of
another clause type (a termination clause naming the confidentiality duties that
survive it, say), so the text no longer gives its label away on every line: the
harder set that selection benchmarks need, since a probe scores 100 % on the
plain one.
"""

from __future__ import annotations

import random
from pathlib import Path

from engine.data.demo_common import (
    PII_KEY,
    DemoStats,
    fake_case_number,
    fake_date,
    fake_name,
    fake_phone,
    render_lines,
    unique_count,
    write_lines,
)
from engine.resources import demo_terms

IDENTIFIER_RATE = 0.2
_TERMS = demo_terms("legal_terms")
LABEL_WEIGHTS = dict(_TERMS["label_weights"])
_ORGS = _TERMS["orgs"]
_ORG_KINDS = _TERMS["org_kinds"]
_SUFFIXES = _TERMS["suffixes"]
_PLACES = _TERMS["places"]
_ROLES = _TERMS["roles"]
_WORDS_NUM = _TERMS["words_num"]


def write_legal(path: Path, n: int = 1200, seed: int = 0, mixed_rate: float = 0.0) -> DemoStats:
    """Write the seeded demo legal clause set as JSONL.

    Args:
        path: Target file; written through a temporary file and a rename.
        n: Lines to write, faulty ones included.
        seed: Seed of the generator; the same seed gives the same file.
        mixed_rate: Share of clauses that also carry a sentence of another clause type.

    Returns:
        Counts of the records and of each injected fault.

    Raises:
        ValueError: If ``n`` is below 1 or ``mixed_rate`` is outside 0–1.
    """
    if not 0.0 <= mixed_rate <= 1.0:
        raise ValueError(f"mixed_rate must be between 0 and 1, got {mixed_rate}")
    rng = random.Random(seed)
    base = [legal_record(rng, mixed_rate) for _ in range(unique_count(n))]
    lines, stats = render_lines(base, n, rng, ("text", "label"), "text", _contract_sentence, "lgl")
    write_lines(path, lines)
    return stats


def legal_record(rng: random.Random, mixed_rate: float = 0.0) -> dict:
    """One clean clause record (without id), label drawn with the imbalanced weights;
    with probability ``mixed_rate`` one sentence of another clause type is mixed in."""
    label = rng.choices(list(LABEL_WEIGHTS), weights=list(LABEL_WEIGHTS.values()))[0]
    a, b = rng.choice(_ROLES)
    sentences = _TEMPLATES[label](rng, a, b)
    chosen = rng.sample(sentences, rng.choice((1, 2, 2, 3, 3)))
    if mixed_rate and rng.random() < mixed_rate:
        chosen.insert(rng.randint(0, len(chosen)), _other_type_sentence(rng, label, a, b))
    text = " ".join(chosen)
    if rng.random() < 0.3:
        text = f'{_org(rng)} (the "{a}") and {_org(rng)} (the "{b}") agree as follows. {text}'
    if rng.random() < 0.3:
        text = f"{rng.randint(1, 18)}.{rng.randint(1, 9)} {label.replace('_', ' ').title()}. {text}"
    record = {"text": text, "label": label}
    if rng.random() < IDENTIFIER_RATE:
        record["text"] = f"{text} {_identifier_sentence(rng, len(text))}"
        record[PII_KEY] = True
    return record


def _identifier_sentence(rng: random.Random, pick: int) -> str:
    """One sentence with identifiers; ``pick`` chooses which, so that the random stream
    (and so every later record of a seeded set) is the same whichever is chosen."""
    sentences = (
        f"This clause supersedes the terms approved in {fake_case_number(rng)}.",
        f"Signed by {fake_name(rng)} on {fake_date(rng)}.",
        f"Notices under this clause go to {fake_name(rng)}, telephone {fake_phone(rng)}.",
        f"As amended on {fake_date(rng)} following the order in {fake_case_number(rng)}.",
    )
    return sentences[pick % len(sentences)]


def _other_type_sentence(rng: random.Random, label: str, a: str, b: str) -> str:
    other = rng.choice([name for name in _TEMPLATES if name != label])
    return rng.choice(_TEMPLATES[other](rng, a, b))


def _org(rng: random.Random) -> str:
    return f"{rng.choice(_ORGS)} {rng.choice(_ORG_KINDS)} {rng.choice(_SUFFIXES)}"


def _days(rng: random.Random) -> str:
    number, words = rng.choice(_WORDS_NUM)
    return f"{words} ({number}) days"


def _money(rng: random.Random) -> str:
    return f"${rng.choice((5, 10, 25, 50, 100, 250, 500)) * 1000:,}"


def _confidentiality(rng: random.Random, a: str, b: str) -> tuple[str, ...]:
    years = rng.choice(("two", "three", "five", "seven"))
    return (
        f"Each party shall hold the other party's Confidential Information in strict confidence and shall "
        f"not disclose it to any third party without prior written consent. These obligations survive for "
        f"{years} years after termination of this Agreement.",
        f"The {b} agrees to use Confidential Information of the {a} solely to perform its obligations "
        f"hereunder, to restrict access to employees with a need to know, and to protect it with at least "
        f"reasonable care.",
        f"Confidential Information does not include information that is publicly available, already known "
        f"to the receiving party, or independently developed. The receiving party shall return or destroy "
        f"all Confidential Information within {_days(rng)} of a written request.",
    )


def _termination(rng: random.Random, a: str, b: str) -> tuple[str, ...]:
    return (
        f"Either party may terminate this Agreement for convenience upon {_days(rng)} prior written notice "
        f"to the other party.",
        f"The {a} may terminate this Agreement immediately if the {b} materially breaches it and fails to "
        f"cure the breach within {_days(rng)} after receiving written notice describing the breach.",
        "This Agreement terminates automatically if either party becomes insolvent, makes an assignment for "
        "the benefit of creditors, or files for bankruptcy. Sections on payment and confidentiality survive "
        "termination.",
    )


def _payment_terms(rng: random.Random, a: str, b: str) -> tuple[str, ...]:
    rate = rng.choice(("1%", "1.5%", "2%"))
    return (
        f"The {b} shall pay all undisputed invoices within {_days(rng)} of receipt. Late amounts bear "
        f"interest at {rate} per month or the highest rate permitted by law, whichever is lower.",
        f"Fees are payable quarterly in advance in US dollars. The {a} may suspend services if any invoice "
        f"remains unpaid for more than {_days(rng)} after its due date.",
        f"The {b} shall pay the {a} a fixed fee of {_money(rng)} per year, invoiced monthly, plus "
        f"reasonable pre-approved expenses.",
    )


def _indemnification(rng: random.Random, a: str, b: str) -> tuple[str, ...]:
    return (
        f"The {a} shall defend, indemnify and hold harmless the {b} and its officers, directors and "
        f"employees from any third-party claims arising from the {a}'s negligence or wilful misconduct.",
        f"The {b} shall indemnify the {a} against all losses, damages and reasonable attorneys' fees "
        f"resulting from any breach of the {b}'s representations under this Agreement.",
        "The indemnified party shall give prompt written notice of any claim, allow the indemnifying party "
        "to control the defence, and provide reasonable cooperation at the indemnifying party's expense.",
    )


def _limitation_of_liability(rng: random.Random, a: str, b: str) -> tuple[str, ...]:
    return (
        "In no event shall either party be liable for any indirect, incidental, special or consequential "
        "damages, including lost profits, even if advised of the possibility of such damages.",
        f"Each party's total liability under this Agreement shall not exceed the fees paid by the {b} in "
        f"the twelve months preceding the claim, or {_money(rng)}, whichever is greater.",
        "The limitations in this section do not apply to breaches of confidentiality, indemnification "
        "obligations, or a party's gross negligence or fraud.",
    )


def _governing_law(rng: random.Random, a: str, b: str) -> tuple[str, ...]:
    place = rng.choice(_PLACES)
    return (
        f"This Agreement shall be governed by and construed in accordance with the laws of {place}, "
        f"without regard to its conflict of laws principles.",
        f"Any dispute arising out of this Agreement shall be subject to the exclusive jurisdiction of the "
        f"courts of {place}, and each party submits to that jurisdiction.",
        f"The laws of {place} govern this Agreement. The United Nations Convention on Contracts for the "
        f"International Sale of Goods does not apply.",
    )


def _warranty(rng: random.Random, a: str, b: str) -> tuple[str, ...]:
    return (
        f"The {a} warrants that the services will be performed in a professional and workmanlike manner "
        f"consistent with generally accepted industry standards.",
        f"The {a} warrants that the software will perform materially as described in the documentation "
        f"for {_days(rng)} after delivery. The {b}'s sole remedy is repair or replacement.",
        f"Except as expressly stated, the {a} disclaims all warranties, express or implied, including "
        f"merchantability and fitness for a particular purpose.",
    )


def _assignment(rng: random.Random, a: str, b: str) -> tuple[str, ...]:
    return (
        "Neither party may assign or transfer this Agreement without the prior written consent of the "
        "other party, which shall not be unreasonably withheld.",
        f"The {a} may assign this Agreement to an affiliate or to a successor in a merger or sale of "
        f"substantially all of its assets upon written notice to the {b}.",
        "Any attempted assignment in violation of this section is void. This Agreement binds and benefits "
        "the parties and their permitted successors and assigns.",
    )


def _force_majeure(rng: random.Random, a: str, b: str) -> tuple[str, ...]:
    return (
        "Neither party shall be liable for delay or failure to perform caused by events beyond its "
        "reasonable control, including fire, flood, epidemic, war, strike or failure of public utilities.",
        f"If a force majeure event continues for more than {_days(rng)}, either party may terminate the "
        f"affected services by written notice without liability.",
        "The affected party shall promptly notify the other party of the force majeure event and use "
        "reasonable efforts to resume performance as soon as practicable.",
    )


def _non_compete(rng: random.Random, a: str, b: str) -> tuple[str, ...]:
    months = rng.choice(("six", "twelve", "eighteen", "twenty-four"))
    return (
        f"During the term and for {months} months thereafter, the {b} shall not engage in any business "
        f"that competes with the {a} within fifty miles of any {a} facility.",
        f"The {b} shall not solicit or hire any employee of the {a} for {months} months after the end of "
        f"this Agreement without the {a}'s written consent.",
        f"For {months} months following termination, the {b} agrees not to provide similar services to "
        f"any direct competitor of the {a} identified in Schedule B.",
    )


_TEMPLATES = {
    "confidentiality": _confidentiality, "termination": _termination, "payment_terms": _payment_terms,
    "indemnification": _indemnification, "limitation_of_liability": _limitation_of_liability,
    "governing_law": _governing_law, "warranty": _warranty, "assignment": _assignment,
    "force_majeure": _force_majeure, "non_compete": _non_compete,
}


def _contract_sentence(rng: random.Random) -> str:
    label = rng.choice(list(_TEMPLATES))
    a, b = rng.choice(_ROLES)
    return f"Between {_org(rng)} and {_org(rng)}: " + rng.choice(_TEMPLATES[label](rng, a, b))
