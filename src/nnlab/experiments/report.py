"""What ``nnlab reproduce`` shows: the terminal table, ``report.md`` and ``results.json``."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

from ._core import Row
from .scheduler import Report

HEADER = ("experiment", "setting", "course", "nnlab", "match")


def match_text(match: bool | None, claim: bool = False) -> str:
    if claim:
        return "shown" if match else "not shown"
    return "—" if match is None else ("yes" if match else "differs")


#: The terminal table's width: it wraps long cells to fit.
TABLE_WIDTH = 100


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, break_on_hyphens=False) or [""]


def _fit(columns: list[list[str]], budget: int) -> list[int]:
    """Column widths summing to at most ``budget``: each column's widest cell, then, while too
    wide, the column whose narrowing by one adds the fewest wrapped lines is narrowed."""
    widths = [max(len(c) for c in col) for col in columns]

    def lines(k: int, width: int) -> int:
        return sum(len(_wrap(c, width)) for c in columns[k])

    while sum(widths) > budget:
        costs = [(lines(k, w - 1) - lines(k, w), -w, k) for k, w in enumerate(widths) if w > 8]
        if not costs:
            break
        widths[min(costs)[2]] -= 1
    return widths


def format_table(report: Report) -> str:
    """The course's numbers beside nnlab's, one row per number, under a line per experiment;
    long cells wrap so that the table fits ``TABLE_WIDTH`` columns."""
    header = ("experiment / setting", "course", "nnlab", "match")
    rows = [(f"  {r.setting}", r.course, r.nnlab, match_text(r.match, r.claim))
            for e in report.experiments if e.status == "ok" for r in e.rows]
    match_w = max(len(c) for c in [header[3], *(r[3] for r in rows)])
    columns = [[header[k], *(r[k] for r in rows)] for k in range(3)]
    widths = [*_fit(columns, TABLE_WIDTH - match_w - 6), match_w]

    def line(cells: tuple[str, ...]) -> list[str]:
        wrapped = [_wrap(c, w) for c, w in zip(cells, widths, strict=True)]
        wrapped[0] = textwrap.wrap(cells[0].strip(), widths[0], initial_indent="  ",
                                   subsequent_indent="    ", break_on_hyphens=False)
        height = max(len(w) for w in wrapped)
        return ["  ".join((w[i] if i < len(w) else "").ljust(n)
                          for w, n in zip(wrapped, widths, strict=True)).rstrip()
                for i in range(height)]

    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(),
             "  ".join("-" * w for w in widths)]
    for e in report.experiments:
        lines.append(f"{e.letter} {e.name}" + ("" if e.status == "ok" else f": {e.status}"))
        for r in e.rows if e.status == "ok" else []:
            lines += line((f"  {r.setting}", r.course, r.nnlab, match_text(r.match, r.claim)))
    return "\n".join(lines)


def summary_line(report: Report) -> str:
    """"31 of 32 course numbers matched exactly; 1 differs (...)", the claims shown, and what
    was skipped: lines of at most ``TABLE_WIDTH`` columns (a long reason wraps, indented)."""
    differ = report.compared - report.matched
    text = f"{report.matched} of {report.compared} course numbers matched exactly"
    if differ:
        text += f"; {differ} differ{'s' if differ == 1 else ''} (see report.md)"
    if report.claims:
        text += (f"\nthe numbers show {report.claims_shown} of the {report.claims} claims "
                 "the course makes with figures")
    for line in not_run_lines(report):
        text += "\n" + textwrap.fill(line, TABLE_WIDTH, subsequent_indent="    ",
                                     break_long_words=False, break_on_hyphens=False)
    return text


def not_run_lines(report: Report) -> list[str]:
    """One line per reason an experiment was skipped or failed, naming every experiment it
    stopped: ``skipped a logistic, f deep: train_catvnoncat.h5 not found ...``."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for e in report.skipped + report.failed:
        grouped.setdefault((e.status, e.reason), []).append(f"{e.letter} {e.name}")
    return [f"{status} {', '.join(names)}: {reason}"
            for (status, reason), names in grouped.items()]


def _markdown_table(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "| " + " | ".join("---" for _ in HEADER) + " |"]
    for r in rows:
        match = match_text(r.match, r.claim)
        if r.match is False:
            match = f"**{match}**"
        lines.append(f"| {r.experiment} | {r.setting} | {r.course} | {r.nnlab} | {match} |")
    return "\n".join(lines)


def environment() -> str:
    """NumPy's version and BLAS (library, version, kernel): the last bits of a long run can
    depend on the kernel's order of summation."""
    import numpy

    text = f"NumPy {numpy.__version__}"
    try:
        from threadpoolctl import threadpool_info

        blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    except ImportError:  # pragma: no cover
        blas = []
    if blas:
        b = blas[0]
        text += f", {b.get('internal_api', 'BLAS')} {b.get('version') or ''}".rstrip()
        if b.get("architecture"):
            text += f" ({b['architecture']} kernel)"
    return text


def markdown(report: Report) -> str:
    """``report.md``: the summary table, then one illustrated section per experiment."""
    from .._version import __version__

    differ = report.compared - report.matched
    parts = [
        "# nnlab reproduce: the course's experiments, number for number\n",
        f"*{environment()}*\n",
        f"nnlab {__version__} ran {len(report.experiments)} experiment(s) in "
        f"{report.wall_seconds:.1f} s with {report.jobs} worker process(es). "
        f"**{report.matched} of {report.compared}** course numbers came out exactly "
        "(the same count of correctly classified examples)"
        + (f"; {differ} differ{'s' if differ == 1 else ''}, explained in its section."
           if differ else ".")
        + (f" The claims the course makes with figures rather than numbers: nnlab's numbers "
           f"show **{report.claims_shown} of {report.claims}**." if report.claims else ""),
        "",
    ]
    for e in report.skipped + report.failed:
        parts.append(f"- **{e.status}: {e.letter}. {e.title}** — {e.reason}")
    if report.skipped or report.failed:
        parts.append("")
    parts += ["## Summary", "", _markdown_table(report.rows), ""]
    for e in report.experiments:
        parts.append(f"## {e.letter}. {e.title}\n")
        if e.seconds:
            parts.append(f"*Its runs took {e.seconds:.1f} s, added up over the runs.*\n")
        if e.status != "ok":
            parts.append(f"*{e.status}:* {e.reason}\n")
            continue
        parts.append(f"**Protocol**\n\n{e.protocol}\n")
        parts.append(e.notebook())
        parts.append(_markdown_table(e.rows) + "\n")
        for f in e.figures:
            parts.append(f"![{f.caption}]({f.filename})\n\n*{f.caption}*\n")
        if e.reason:
            parts.append(f"*Note:* {e.reason}\n")
    return "\n".join(parts).rstrip() + "\n"


def write_report(report: Report, out_dir: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write ``report.md`` and ``results.json`` into ``out_dir`` (figures are already there).

    Returns their paths.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    md, js = out / "report.md", out / "results.json"
    md.write_text(markdown(report), encoding="utf-8")
    js.write_text(json.dumps(report.to_json(), indent=1, ensure_ascii=False) + "\n",
                  encoding="utf-8")
    return md, js
