"""`nnlab reproduce` from the command line: the table, the files, --json, errors, skipping."""

from __future__ import annotations

import json

import pytest

from nnlab.cli import main


def test_reproduce_gradcheck_writes_table_report_figures_and_json(tmp_path, capsys):
    out = tmp_path / "rep"
    assert main(["reproduce", "--only", "gradcheck", "--out", str(out), "--jobs", "1"]) == 0
    stdout = capsys.readouterr().out
    header = stdout.splitlines()[0].split()
    assert header == ["experiment", "/", "setting", "course", "nnlab", "match"]
    table = stdout.partition("\n\n")[0].splitlines()
    assert max(len(line) for line in table) <= 100
    assert "g gradcheck" in stdout and "3 of 3 course numbers matched exactly" in stdout
    assert {p.name for p in out.iterdir()} == {"report.md", "results.json", "g_gradcheck.png"}
    report = (out / "report.md").read_text()
    assert report.startswith("# nnlab reproduce") and "![" in report
    results = json.loads((out / "results.json").read_text())
    assert results["experiments"][0]["rows"][0]["match"] is True


def test_reproduce_json_to_stdout(tmp_path, capsys):
    code = main(["reproduce", "--only", "g", "--json", "--out", str(tmp_path), "--jobs", "1"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["summary"] == {"compared": 3, "matched": 3, "differ": 0, "claims": 2,
                               "claims_shown": 2, "skipped": [], "failed": []}
    extra = data["experiments"][0]["runs"][0]["extra"]
    assert extra["1d"]["difference"] == 2.919335883291695e-10


def test_reproduce_with_an_empty_data_dir_skips_and_says_so(tmp_path, capsys):
    empty = tmp_path / "no-data"
    empty.mkdir()
    code = main(["reproduce", "--only", "logistic,deep", "--only", "gradcheck",
                 "--data-dir", str(empty), "--out", str(tmp_path / "o"), "--jobs", "2"])
    assert code == 0
    stdout = capsys.readouterr().out
    # one line for the one reason, naming both experiments it stopped
    # a long reason wraps to the terminal's 100 columns: compare the words
    words = " ".join(stdout.split())
    assert "skipped a logistic, f deep: train_catvnoncat.h5 not found in " + str(empty) in words
    assert stdout.count("train_catvnoncat.h5 not found") == 1 and "g gradcheck" in stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--only", "nope"], "unknown experiment 'nope'"),
        (["--jobs", "0"], "--jobs 0"),
    ],
)
def test_reproduce_usage_errors_are_one_line(args, message, tmp_path, capsys):
    assert main(["reproduce", "--out", str(tmp_path), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_reproduce_out_must_be_a_folder(tmp_path, capsys):
    file = tmp_path / "a-file"
    file.write_text("x")
    assert main(["reproduce", "--only", "g", "--out", str(file)]) == 2
    assert "is not a folder" in capsys.readouterr().err
