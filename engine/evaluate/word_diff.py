"""Word-level differences between two answers, for side-by-side views."""

from __future__ import annotations

import difflib
import html


def diff_words(before: str, after: str) -> list[tuple[str, str]]:
    """``(op, text)`` pieces turning ``before`` into ``after``; op is "same", "del" or "ins"."""
    old, new = before.split(), after.split()
    pieces: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            pieces.append(("same", " ".join(old[a0:a1])))
            continue
        if a1 > a0:
            pieces.append(("del", " ".join(old[a0:a1])))
        if b1 > b0:
            pieces.append(("ins", " ".join(new[b0:b1])))
    return pieces


def diff_html(before: str, after: str) -> str:
    """``after`` as HTML with words new against ``before`` in <ins> and dropped ones in <del>."""
    tags = {"same": "{}", "del": "<del>{}</del>", "ins": "<ins>{}</ins>"}
    return " ".join(tags[op].format(html.escape(text)) for op, text in diff_words(before, after))
