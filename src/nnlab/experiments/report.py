"""What ``nnlab reproduce`` shows: the terminal table, ``report.md`` and ``results.json``."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ._core import Row
from .runner import Report

HEADER = ("experiment", "setting", "course", "nnlab", "match")


def match_text(match: bool | None, claim: bool = False) -> str:
    if claim:
        return "shown" if match else "not shown"
    return "—" if match is None else ("yes" if match else "differs")


def _cells(report: Report) -> list[tuple[str, ...]]:
    cells: list[tuple[str, ...]] = []
    for e in report.experiments:
        if e.status == "ok":
            cells += [(r.experiment, r.setting, r.course, r.nnlab, match_text(r.match, r.claim))
                      for r in e.rows]
        else:
            cells.append((f"{e.letter} {e.name}", e.status, "", "", ""))
    return cells


def format_table(report: Report) -> str:
    """The course's numbers beside nnlab's, one row per accuracy, as aligned text."""
    rows = [HEADER, *_cells(report)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    lines = []
    for k, r in enumerate(rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def summary_line(report: Report) -> str:
    """"31 of 32 course numbers matched exactly; 1 differs (...)" and what was skipped."""
    differ = report.compared - report.matched
    text = f"{report.matched} of {report.compared} course numbers matched exactly"
    if differ:
        text += f"; {differ} differ{'s' if differ == 1 else ''} (see report.md)"
    if report.claims:
        text += (f"; the numbers show {report.claims_shown} of the {report.claims} claims "
                 "the course makes with figures")
    for e in report.skipped:
        text += f"\nskipped {e.letter} {e.name}: {e.reason}"
    for e in report.failed:
        text += f"\nfailed {e.letter} {e.name}: {e.reason}"
    return text


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
