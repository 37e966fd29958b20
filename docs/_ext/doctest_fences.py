"""A griffe extension for the API reference: nnlab's docstrings are written for ``help()`` and
doctest, not for Markdown. Before mkdocstrings renders them, this fences each doctest example as a
``pycon`` code block (Markdown would read ``>>>`` as nested quotes) and escapes the ``](`` of
formulas such as ``g[l](Z[l])``, which Markdown would read as a link.
(tests/test_docs.py tests it.)
"""

from __future__ import annotations

from typing import Any

import griffe


def fence_doctests(text: str) -> str:
    """Fence every doctest example of ``text`` (a ``>>>`` line and what follows it up to a blank
    line) as a ``pycon`` block; escape ``](`` outside code."""
    out: list[str] = []
    lines = text.split("\n")
    i = 0
    in_fence = False
    while i < len(lines):
        line = lines[i]
        stripped = line.lstrip()
        if stripped.startswith("```"):
            in_fence = not in_fence
        if not in_fence and stripped.startswith(">>>"):
            indent = line[: len(line) - len(stripped)]
            out.append(f"{indent}```pycon")
            while i < len(lines) and lines[i].strip():
                out.append(lines[i])
                i += 1
            out.append(f"{indent}```")
            continue
        out.append(line if in_fence else line.replace("](", "]\\("))
        i += 1
    return "\n".join(out)


def _fix(obj: Any, seen: set[int]) -> None:
    if id(obj) in seen or obj.is_alias:
        return
    seen.add(id(obj))
    if obj.docstring is not None:
        obj.docstring.value = fence_doctests(obj.docstring.value)
    for member in obj.members.values():
        _fix(member, seen)


class DoctestFences(griffe.Extension):
    """Rewrite every docstring of a loaded package with ``fence_doctests``."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        _fix(pkg, set())
