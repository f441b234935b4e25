"""Helpful errors for unknown names: list the close matches."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def close_matches(name: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """The names in ``choices`` closest to ``name`` (case-insensitive), best first."""
    choices = list(choices)
    lowered = {c.lower(): c for c in choices}
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.6)
    return [lowered[h] for h in hits]


def unknown_name_message(kind: str, name: str, choices: Iterable[str]) -> str:
    """``unknown model 'resnet5O'; did you mean resnet50?`` or the list of valid names."""
    choices = sorted(choices)
    hits = close_matches(name, choices)
    if hits:
        return f"unknown {kind} {name!r}; did you mean {', '.join(hits)}?"
    shown = ", ".join(choices[:20]) + (", ..." if len(choices) > 20 else "")
    return f"unknown {kind} {name!r}; choose one of: {shown}"
