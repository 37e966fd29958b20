"""The documentation's promises, checked: every ```python block of README.md and docs/ runs, the
cheap `nnlab` shell lines run, every `nnlab` command and flag the shell blocks show exists, the
terminal sessions shown print what they show, the sweep files shown are valid, every public name
has an API entry, and the committed figures are reproduce's own and small.

Blocks of one page run in order, in one namespace, in a temporary working directory. A block is
skipped only when its info string says more than ``python`` (```python title="...") or a
``<!-- no-test -->`` line comes right before it: for code that cannot run here (a server, a
remote cluster). `mkdocs build --strict` itself runs in `bash run.sh test`, not here.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import nnlab

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted([ROOT / "README.md", *DOCS.rglob("*.md")])
NNLAB = str(Path(sys.executable).with_name("nnlab"))
FENCE = re.compile(r"^```(.*)$")
#: shell lines cheap enough to run as they are written
CHEAP = {("nnlab", "--version"), ("nnlab", "datasets"), ("nnlab", "--help")}


@dataclass
class Block:
    info: str  # the fence's info string: "python", "bash", 'python title="x"', ...
    code: str
    line: int  # 1-based line of the opening fence
    skip: bool  # a <!-- no-test --> line right before it


def blocks(text: str) -> list[Block]:
    """The fenced code blocks of a Markdown page, in order."""
    found: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        start, body = i, []
        i += 1
        while i < len(lines) and lines[i] != "```":
            body.append(lines[i])
            i += 1
        if i == len(lines):
            raise ValueError(f"line {start + 1}: a code block that is never closed")
        before = lines[start - 1].strip() if start else ""
        found.append(Block(m.group(1).strip(), "\n".join(body) + "\n", start + 1,
                           before == "<!-- no-test -->"))
        i += 1
    return found


def test_blocks_finds_info_strings_bodies_and_markers():
    page = ("Text\n```python\nx = 1\n```\n<!-- no-test -->\n```python\nserve()\n```\n"
            "```bash\nls\n```\n")
    got = blocks(page)
    assert [(b.info, b.code, b.line, b.skip) for b in got] == [
        ("python", "x = 1\n", 2, False),
        ("python", "serve()\n", 6, True),
        ("bash", "ls\n", 9, False),
    ]
    with pytest.raises(ValueError, match="never closed"):
        blocks("```python\nx = 1\n")


def _rel(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


def _python_pages() -> list[Path]:
    return [p for p in PAGES if any(b.info == "python" for b in blocks(p.read_text()))]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("page", _python_pages(), ids=_rel)
def test_python_blocks_run(page: Path, tmp_path, monkeypatch, capsys):
    """The page's ```python blocks run, in order, in one namespace."""
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    ran = 0
    for block in blocks(page.read_text()):
        if block.info != "python" or block.skip:
            continue
        code = compile(block.code, f"{_rel(page)}:{block.line}", "exec")
        exec(code, namespace)
        ran += 1
    assert ran > 0
    capsys.readouterr()


def test_the_pages_have_python_to_run():
    """The extractor finds the pages' examples (a change of fence style would silence them)."""
    names = {_rel(p) for p in _python_pages()}
    for page in ("README.md", "docs/engine.md", "docs/model.md", "docs/estimators.md",
                 "docs/files.md", "docs/sweeps.md", "docs/beyond-memory.md", "docs/fast-path.md"):
        assert page in names


def _shell_lines() -> list[tuple[str, list[str]]]:
    """Every `nnlab ...` line of the pages' ```bash blocks, comments dropped, continued lines
    joined: (where, words)."""
    found = []
    for page in PAGES:
        for block in blocks(page.read_text()):
            if block.info != "bash":
                continue
            for n, line in enumerate(block.code.replace("\\\n", " ").splitlines()):
                words = shlex.split(line, comments=True)
                while words and "=" in words[0] and not words[0].startswith("-"):
                    words = words[1:]  # NAME=value before the command
                if words and words[0] == "nnlab":
                    found.append((f"{_rel(page)}:{block.line + 1 + n}", words))
    return found


def test_cheap_shell_lines_run():
    ran = 0
    for where, words in _shell_lines():
        if tuple(words) in CHEAP:
            done = subprocess.run([NNLAB, *words[1:]], capture_output=True, text=True,
                                  timeout=120)
            assert done.returncode == 0, (where, done.stderr)
            assert done.stdout.strip(), where
            ran += 1
    assert ran >= 2


def _help(words: tuple[str, ...]) -> str:
    done = subprocess.run([NNLAB, *words, "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, (words, done.stderr)
    return done.stdout


def test_shell_lines_use_real_commands_and_flags():
    """Every `nnlab SUBCOMMAND --flag` shown in a shell block exists in that command's --help."""
    top = _help(())
    helps: dict[str, str] = {}
    checked = 0
    for where, words in _shell_lines():
        if len(words) < 2 or words[1].startswith("-"):
            continue
        sub = words[1]
        assert re.search(rf"^\s+{re.escape(sub)}\b", top, re.M), f"{where}: no command {sub!r}"
        if sub not in helps:
            helps[sub] = _help((sub,))
        for word in words[2:]:
            if word.startswith("--"):
                flag = word.split("=")[0]
                assert re.search(rf"{re.escape(flag)}\b", helps[sub]), f"{where}: {sub} {flag}?"
                checked += 1
    assert checked > 20


def test_shown_terminal_sessions_print_what_they_show(tmp_path):
    """A ```text block of `$ nnlab ...` lines, each followed by its output: running the command
    prints those lines (the CLI's one-line errors, e.g.)."""
    checked = 0
    for page in PAGES:
        for block in blocks(page.read_text()):
            if block.info != "text" or not block.code.startswith("$ nnlab "):
                continue
            sessions: list[tuple[str, list[str]]] = []
            for line in block.code.splitlines():
                if line.startswith("$ "):
                    sessions.append((line[2:], []))
                else:
                    sessions[-1][1].append(line)
            for command, expected in sessions:
                done = subprocess.run([NNLAB, *shlex.split(command)[1:]], capture_output=True,
                                      text=True, timeout=300, cwd=tmp_path)
                printed = (done.stdout + done.stderr).splitlines()
                for line in expected:
                    assert line in printed, (f"{_rel(page)}:{block.line}", command, line)
                assert "Traceback" not in done.stderr, command
                checked += 1
    assert checked >= 2


def test_sweep_files_shown_are_valid(tmp_path):
    """A ```toml block with a [sweep] table is a sweep file `nnlab sweep --dry-run` accepts."""
    checked = 0
    for page in PAGES:
        for block in blocks(page.read_text()):
            if block.info == "toml" and "[sweep]" in block.code:
                path = tmp_path / f"{page.stem}-{block.line}.toml"
                path.write_text(block.code)
                done = subprocess.run([NNLAB, "sweep", str(path), "--dry-run"],
                                      capture_output=True, text=True, timeout=120)
                assert done.returncode == 0, (f"{_rel(page)}:{block.line}", done.stderr)
                checked += 1
    assert checked >= 1


def test_every_public_name_has_an_api_entry():
    api = "\n".join(p.read_text() for p in (DOCS / "api").glob("*.md"))
    documented = set(re.findall(r"^::: nnlab\.(\w+)", api, re.M))
    for name in nnlab.__all__:
        if name == "__version__":
            continue
        assert name in documented or (DOCS / "api" / f"{name}.md").exists(), name


def test_figures_are_reproduces_own_and_small():
    """Each committed figure carries the name `nnlab reproduce` writes it under, is < 100 KB,
    and is shown on an experiment page."""
    sources = "\n".join(p.read_text() for p in (ROOT / "src/nnlab/experiments").glob("*.py"))
    pages = "\n".join(p.read_text() for p in (DOCS / "reproduce").glob("*.md"))
    figures = sorted((DOCS / "figures").glob("*.png"))
    assert len(figures) >= 11
    for figure in figures:
        assert f'"{figure.name}"' in sources, figure.name
        assert figure.stat().st_size < 100_000, figure.name
        assert f"../figures/{figure.name}" in pages, figure.name


def _doctest_fences():
    spec = importlib.util.spec_from_file_location("doctest_fences",
                                                  DOCS / "_ext" / "doctest_fences.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.fence_doctests


def test_doctest_examples_are_fenced_for_the_api_pages():
    pytest.importorskip("griffe")
    fence = _doctest_fences()
    text = "Sum.\n\n    >>> 1 + 1\n    2\n\nA[l] = g[l](Z[l]).\n\n```\nf[x](y)\n```"
    assert fence(text) == (
        "Sum.\n\n    ```pycon\n    >>> 1 + 1\n    2\n    ```\n\nA[l] = g[l]\\(Z[l]).\n\n"
        "```\nf[x](y)\n```")
