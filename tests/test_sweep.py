"""nnlab sweep: sweep files, trial expansion and seeds, resuming, failed trials, results, CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pytest

from cli_checks import one_line_error
from nnlab.runs.config import TrainConfig
from nnlab.sweep import (
    SweepError,
    SweepResult,
    check_claims,
    expand,
    load_spec,
    parse_spec,
    points,
    run_sweep,
    summarize,
    trial_seeds,
)
from nnlab.sweep.execute import TrialStore

REPO = Path(__file__).resolve().parent.parent

#: A small sweep: 2 cases x 2 learning rates x 2 seeds = 8 trials of a few milliseconds.
SMALL = """
[sweep]
name = "small"
seed = 11
seeds = 2
metric = "val.accuracy"
expect = ["adam, lr=0.05 > gd, lr=0.05"]

[base]
dataset = "moons"
layers = [4]
epochs = 8
val_split = 0.25

[cases]
gd = { optimizer = "gd" }
adam = { optimizer = "adam" }

[grid]
lr = [0.05, 0.01]
"""

RESULT_FILES = ("results.json", "results.csv", "best.toml")


def files_of(folder: Path) -> dict[str, bytes]:
    """The result files and every trial record of a sweep folder, by relative path."""
    out = {name: (folder / name).read_bytes() for name in RESULT_FILES}
    for f in sorted((folder / "trials").glob("*.json")):
        out[f"trials/{f.name}"] = f.read_bytes()
    return out


# ------------------------------------------------------------------------------- expansion


def test_points_cross_cases_grid_and_random_draws_in_order():
    spec = parse_spec("""
        [sweep]
        seed = 3
        seeds = 2
        n_samples = 3
        [base]
        dataset = "moons"
        [cases]
        small = { layers = [3] }
        big = { layers = [8, 4] }
        [grid]
        optimizer = ["gd", "adam"]
        [random]
        lr = { dist = "loguniform", low = 1e-4, high = 1e-1 }
        batch_size = { dist = "choice", values = [32, "full"] }
    """)
    pts = points(spec)
    assert spec.n_points() == len(pts) == 2 * 2 * 3
    assert spec.axes() == ["case", "optimizer", "lr", "batch_size"]
    assert [p.params["case"] for p in pts] == ["small"] * 6 + ["big"] * 6
    assert [p.params["optimizer"] for p in pts[:6]] == ["gd"] * 3 + ["adam"] * 3
    # the same three draws under every case and optimizer
    draws = [(p.params["lr"], p.params["batch_size"]) for p in pts[:3]]
    assert [(p.params["lr"], p.params["batch_size"]) for p in pts[3:6]] == draws
    assert all(1e-4 <= lr < 1e-1 for lr, _ in draws)
    assert pts[0].changes["layers"] == [3] and pts[0].label.startswith("small, optimizer=gd, lr=")
    trials = expand(spec)
    assert len(trials) == spec.n_trials() == 24
    assert [t.seed_index for t in trials[:4]] == [0, 1, 0, 1]
    assert [t.index for t in trials] == list(range(24))
    for t in trials:  # every trial is a valid TrainConfig with its seed
        cfg = TrainConfig.from_dict(t.config)
        assert cfg.seed == t.seed
        assert cfg.optimizer == t.point.params["optimizer"]
    assert len({t.id for t in trials}) == 24


def test_random_draws_depend_on_the_sweep_seed_only():
    text = """
        [sweep]
        seed = {seed}
        n_samples = 5
        [base]
        dataset = "moons"
        [random]
        lr = {{ dist = "uniform", low = 0.001, high = 0.1 }}
        epochs = {{ dist = "int", low = 1, high = 3 }}
        layers = {{ dist = "choice", values = [[5, 2], [10]] }}
    """
    a = [p.params for p in points(parse_spec(text.format(seed=1)))]
    b = [p.params for p in points(parse_spec(text.format(seed=1)))]
    c = [p.params for p in points(parse_spec(text.format(seed=2)))]
    assert a == b and a != c
    for p in a + c:
        assert 0.001 <= p["lr"] < 0.1 and p["epochs"] in (1, 2, 3)
        assert p["layers"] in ([5, 2], [10])
    # the draws come from SeedSequence(seed).spawn(2)[0], in the table's key order
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(1).spawn(2)[0]))
    first_lr = float(rng.uniform(0.001, 0.1))
    assert a[0]["lr"] == first_lr


def test_int_draws_include_both_ends():
    spec = parse_spec("""
        [sweep]
        n_samples = 60
        [base]
        dataset = "moons"
        [random]
        epochs = { dist = "int", low = 1, high = 2 }
    """)
    assert {p.params["epochs"] for p in points(spec)} == {1, 2}


# ----------------------------------------------------------------------------------- seeds


def test_trial_seeds_come_from_seed_sequence_spawn():
    root = np.random.SeedSequence(42)
    _, seed_root = root.spawn(2)
    expected = [int(c.generate_state(1, dtype=np.uint32)[0]) for c in seed_root.spawn(5)]
    assert trial_seeds(42, 5) == expected
    assert trial_seeds(42, 3) == expected[:3]  # seed k does not change with the count
    assert trial_seeds(43, 5) != expected
    assert all(0 <= s < 2**32 for s in expected) and len(set(expected)) == 5


def test_every_point_shares_the_seeds():
    spec = parse_spec(SMALL)
    trials = expand(spec)
    by_index: dict[int, set[int]] = {}
    for t in trials:
        by_index.setdefault(t.seed_index, set()).add(t.seed)
    assert by_index == {k: {s} for k, s in enumerate(trial_seeds(11, 2))}


# ------------------------------------------------------------------------------ bad specs


@pytest.mark.parametrize("text, words", [
    ("[base]\ndataset = 'moons'\n[gird]\nlr = [1]", ["unknown table", "gird"]),
    ("[sweep]\nseeds = 2", ["no [base] table"]),
    ("[base]\ndataset = 'moons'\nlearning_rate = 0.1", ["[base]", "learning_rate"]),
    ("[base]\ndataset = 'moons'\nseed = 3", ["seed is set by the sweep"]),
    ("[base]\ndataset = 'moons'\n[grid]\nseed = [1, 2]", ["seed cannot be swept"]),
    ("[base]\ndataset = 'moons'\n[grid]\ninit = ['he', 'bogus']", ["init='bogus'", "init=bogus"]),
    ("[base]\ndataset = 'moons'\n[grid]\nlr = 0.1", ["[grid] lr", "list"]),
    ("[base]\ndataset = 'moons'\n[grid]\nlayers = [5, 2]", ["layer lists"]),
    ("[base]\ndataset = 'moons'\n[grid]\nlr = [-1.0]", ["lr=-1.0"]),
    ("[base]\ndataset = 'moons'\n[random]\nlr = { dist = 'uniform', low = 0, high = 1 }",
     ["n_samples"]),
    ("[sweep]\nn_samples = 2\n[base]\ndataset = 'moons'\n[random]\nlr = 0.1",
     ["[random] lr", "distribution"]),
    ("[sweep]\nn_samples = 2\n[base]\ndataset = 'moons'\n[random]\n"
     "lr = { dist = 'gauss', low = 0, high = 1 }", ["dist='gauss'"]),
    ("[sweep]\nn_samples = 2\n[base]\ndataset = 'moons'\n[random]\n"
     "lr = { dist = 'loguniform', low = 0, high = 1 }", ["0 < low"]),
    ("[sweep]\nn_samples = 2\n[base]\ndataset = 'moons'\n[random]\n"
     "lr = { dist = 'uniform', low = 1, high = 0.5 }", ["below high"]),
    ("[sweep]\nmetric = 'val.f1'\n[base]\ndataset = 'moons'", ["metric='val.f1'"]),
    ("[sweep]\nseeds = 0\n[base]\ndataset = 'moons'", ["seeds=0"]),
    ("[sweep]\nexpect = ['he > zeros']\n[base]\ndataset = 'moons'\n[grid]\ninit = ['he']",
     ["'he' is not a point", "init=he"]),
    ("[sweep]\nexpect = ['he']\n[base]\ndataset = 'moons'", ["A > B"]),
    ("[base]\ndataset = 'moons'\n[cases]\na = { lr = 0.1 }\n[grid]\nlr = [0.2]",
     ["lr is in both"]),
    ("[base]\ndataset = 'moons'\n[cases]\nbig = { init = 'he', init_scale = 10.0 }",
     ["point 'big'", "init_scale"]),
    ("[base\ndataset = 'moons'", ["not valid TOML"]),
])
def test_bad_sweep_files_name_the_problem(text, words):
    with pytest.raises(SweepError) as info:
        parse_spec(text, where="s.toml")
    message = str(info.value)
    assert "\n" not in message and message.startswith("s.toml")
    for w in words:
        assert w in message, message


def test_overrides_change_the_base(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(SMALL)
    spec = load_spec(path, overrides=["epochs=3", "layers=[2, 2]", "init=xavier"])
    assert spec.base["epochs"] == 3 and spec.base["layers"] == [2, 2]
    assert spec.base["init"] == "xavier" and spec.name == "small"
    with pytest.raises(SweepError, match="expected KEY=VALUE"):
        load_spec(path, overrides=["epochs"])
    with pytest.raises(SweepError, match="epochs"):
        load_spec(path, overrides=["epochs=-2"])
    with pytest.raises(SweepError, match="no such sweep file"):
        load_spec(tmp_path / "missing.toml")


# ------------------------------------------------------------------------------- results


def test_two_runs_give_identical_result_files(tmp_path):
    spec = parse_spec(SMALL)
    a = run_sweep(spec, tmp_path / "a", jobs=1, plots=False)
    b = run_sweep(spec, tmp_path / "b", jobs=1, plots=False)
    assert a.ran == b.ran == 8 and a.reused == 0
    fa, fb = files_of(tmp_path / "a"), files_of(tmp_path / "b")
    assert fa == fb and len(fa) == 3 + 8


def test_results_hold_every_trial_and_the_ranking(tmp_path):
    spec = parse_spec(SMALL)
    result = run_sweep(spec, tmp_path, jobs=1)
    data = json.loads((tmp_path / "results.json").read_text())
    assert [t["index"] for t in data["trials"]] == list(range(8))
    assert {t["status"] for t in data["trials"]} == {"ok"}
    means = [p["mean"] for p in data["points"]]
    assert means == sorted(means, reverse=True)  # val.accuracy: higher first
    for p in data["points"]:
        vals = [t["val.accuracy"] for t in data["trials"] if t["label"] == p["label"]]
        assert p["values"] == vals
        assert p["mean"] == pytest.approx(np.mean(vals))
        assert p["std"] == pytest.approx(np.std(vals, ddof=1))
    assert data["expect"][0]["claim"] == "adam, lr=0.05 > gd, lr=0.05"
    assert data["expect"][0]["of"] == 2
    rows = (tmp_path / "results.csv").read_text().splitlines()
    assert len(rows) == 9 and rows[0].startswith("index,id,point,label,seed_index,seed,case,lr")
    # best.toml is a training config of the best point, with its best trial's seed
    best = TrainConfig.from_file(tmp_path / "best.toml")
    top = data["points"][0]
    assert best.optimizer == top["params"]["case"] and best.lr == top["params"]["lr"]
    assert best.seed in trial_seeds(11, 2) and data["best"]["config"] == best.to_dict()
    for png in ("metric_vs_params.png", "learning_curves.png"):
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG"
    assert result.files["best"] == str(tmp_path / "best.toml")


def test_a_loss_metric_ranks_lowest_first(tmp_path):
    spec = parse_spec(SMALL.replace('"val.accuracy"', '"train.loss"').replace(
        'expect = ["adam, lr=0.05 > gd, lr=0.05"]', ""))
    assert spec.goal == "min"
    result = run_sweep(spec, tmp_path, jobs=1, plots=False)
    means = [s.mean for s in summarize(result)]
    assert means == sorted(means)


def _fake_result(values: dict[tuple[str, int], float | None]) -> SweepResult:
    spec = parse_spec("""
        [sweep]
        seeds = 3
        metric = "test.accuracy"
        expect = ["a > b", "b > c"]
        [base]
        dataset = "moons"
        [cases]
        a = { lr = 0.1 }
        b = { lr = 0.2 }
        c = { lr = 0.3 }
    """)
    trials = expand(spec)
    records = {}
    for t in trials:
        v = values[(t.point.label, t.seed_index)]
        records[t.id] = ({"status": "ok", "metrics": {"test": {"accuracy": v}}} if v is not None
                         else {"status": "diverged", "error": "training diverged at epoch 3"})
    return SweepResult(spec, trials, records)


def test_claims_are_checked_seed_by_seed():
    values = {("a", 0): 0.9, ("a", 1): 0.7, ("a", 2): 0.8,
              ("b", 0): 0.8, ("b", 1): 0.8, ("b", 2): None,
              ("c", 0): 0.5, ("c", 1): 0.8, ("c", 2): 0.6}
    result = _fake_result(values)
    claims, together = check_claims(result)
    # a > b: seed 0 yes, seed 1 no, seed 2 yes (b failed); b > c: 0 yes, 1 no (a tie), 2 no
    assert [(c.text, c.held, c.of) for c in claims] == [("a > b", 2, 3), ("b > c", 1, 3)]
    assert together == 1
    summaries = summarize(result)
    # b's mean (0.8) is as good as a's, but a point with a failed trial ranks after the others
    assert [s.point.label for s in summaries] == ["a", "c", "b"]
    b = summaries[2]
    assert b.values == [0.8, 0.8] and b.failed == 1 and b.std == 0.0
    assert b.errors == ["training diverged at epoch 3"]


# ---------------------------------------------------------------------- failures, resuming


FAILING = """
[sweep]
seeds = 2
metric = "train.loss"

[base]
dataset = "diabetes"
layers = [8]
epochs = 30
optimizer = "gd"

[cases]
fine = { lr = 0.001 }
diverges = { lr = 50.0 }
missing = { lr = 0.001, dataset = "no-such-file.csv" }
"""


def test_failed_and_diverged_trials_are_recorded_and_the_sweep_goes_on(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = parse_spec(FAILING)
    result = run_sweep(spec, tmp_path / "out", jobs=1)
    status = {t.point.label: result.records[t.id]["status"] for t in result.trials}
    assert status == {"fine": "ok", "diverges": "diverged", "missing": "failed"}
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    by_label = {p["label"]: p for p in data["points"]}
    assert by_label["fine"]["ok"] == 2 and data["points"][0]["label"] == "fine"
    assert "diverged at epoch" in by_label["diverges"]["errors"][0]
    assert "no-such-file.csv" in by_label["missing"]["errors"][0]
    assert by_label["missing"]["mean"] is None
    rows = (tmp_path / "out" / "results.csv").read_text().splitlines()
    assert sum("diverged at epoch" in r for r in rows) == 2

    # failed trials count as finished; --retry-failed runs them again (now the file exists)
    again = run_sweep(spec, tmp_path / "out", jobs=1, plots=False)
    assert again.ran == 0 and again.reused == 6
    rng = np.random.RandomState(0)  # a small regression file
    lines = ["a,b,y"] + [f"{x:.3f},{z:.3f},{x + z:.3f}" for x, z in rng.randn(40, 2)]
    (tmp_path / "no-such-file.csv").write_text("\n".join(lines) + "\n")
    retried = run_sweep(spec, tmp_path / "out", jobs=1, plots=False, retry_failed=True)
    assert retried.ran == 4  # the two diverging ones (again diverged) and the two missing ones
    status = {t.point.label: retried.records[t.id]["status"] for t in retried.trials}
    assert status == {"fine": "ok", "diverges": "diverged", "missing": "ok"}


def test_a_resumed_sweep_equals_an_uninterrupted_one(tmp_path):
    spec = parse_spec(SMALL)
    run_sweep(spec, tmp_path / "whole", jobs=1)

    calls = []

    def stop_after_three(done, total, message):
        calls.append(done)
        if done == 3:
            raise KeyboardInterrupt  # as Ctrl-C would, between two trials

    with pytest.raises(KeyboardInterrupt):
        run_sweep(spec, tmp_path / "parts", jobs=1, progress=stop_after_three)
    assert len(list((tmp_path / "parts" / "trials").glob("*.json"))) == 3
    assert not (tmp_path / "parts" / "results.json").exists()
    resumed = run_sweep(spec, tmp_path / "parts", jobs=1)
    assert (resumed.reused, resumed.ran) == (3, 5)
    assert files_of(tmp_path / "parts") == files_of(tmp_path / "whole")


def test_a_corrupt_or_foreign_trial_file_is_run_again(tmp_path):
    spec = parse_spec(SMALL)
    first = run_sweep(spec, tmp_path, jobs=1, plots=False)
    trials = first.trials
    store = TrialStore(tmp_path)
    store.path(trials[0].id).write_text("{not json")
    record = json.loads(store.path(trials[1].id).read_text())
    record["config"]["lr"] = 123.0  # settings that are not this trial's
    store.path(trials[1].id).write_text(json.dumps(record))
    again = run_sweep(spec, tmp_path, jobs=1, plots=False)
    assert again.ran == 2 and again.reused == 6
    assert again.records == first.records


@pytest.mark.slow
def test_local_processes_give_the_results_of_one_process(tmp_path):
    spec = parse_spec(SMALL)
    run_sweep(spec, tmp_path / "one", jobs=1, plots=False)
    two = run_sweep(spec, tmp_path / "two", jobs=2, plots=False)
    assert two.where == "2 local processes" and two.ran == 8
    assert files_of(tmp_path / "two") == files_of(tmp_path / "one")


# ---------------------------------------------------------------------------------- the CLI


def nnlab(*args, cwd, timeout=300, **kw):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, "-m", "nnlab", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, env=env, **kw)




def test_cli_runs_a_sweep_and_resumes(tmp_path):
    (tmp_path / "s.toml").write_text(SMALL)
    out = nnlab("sweep", "s.toml", "--jobs", "1", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "sweep small: 4 point(s) x 2 seed(s) = 8 trials" in out.stdout
    assert "expect adam, lr=0.05 > gd, lr=0.05: held on" in out.stdout
    assert "8/8" in out.stderr  # the progress display, one line per trial off a terminal
    folder = tmp_path / "sweeps" / "s"
    assert (folder / "best.toml").exists() and len(list((folder / "trials").iterdir())) == 8
    again = nnlab("sweep", "s.toml", "--json", "--no-plots", "--quiet", cwd=tmp_path)
    assert again.returncode == 0 and again.stderr == ""
    data = json.loads(again.stdout)
    assert data["run"]["ran"] == 0 and data["run"]["reused"] == 8
    assert data["trials"] == json.loads((folder / "results.json").read_text())["trials"]
    # the best config trains as it is
    train = nnlab("train", "--config", folder / "best.toml", "--json", cwd=tmp_path)
    assert train.returncode == 0, train.stderr
    assert json.loads(train.stdout)["config"] == data["best"]["config"]


def test_cli_dry_run_lists_the_points(tmp_path):
    (tmp_path / "s.toml").write_text(SMALL)
    out = nnlab("sweep", "s.toml", "--dry-run", "--json", "--set", "epochs=2", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["trials"] == 8 and info["seed_values"] == trial_seeds(11, 2)
    assert [p["label"] for p in info["points"]] == [
        "gd, lr=0.05", "gd, lr=0.01", "adam, lr=0.05", "adam, lr=0.01"]
    assert not (tmp_path / "sweeps").exists()


def test_cli_exit_code_1_when_every_trial_fails(tmp_path):
    (tmp_path / "f.toml").write_text(
        "[sweep]\nmetric = 'train.loss'\n[base]\ndataset = 'gone.csv'\nepochs = 2\n")
    out = nnlab("sweep", "f.toml", "--quiet", "--no-plots", cwd=tmp_path)
    assert out.returncode == 1
    assert "every trial failed" in out.stderr and "gone.csv" in out.stderr


@pytest.mark.parametrize("content, args, words", [
    (None, [], ["no such sweep file"]),
    ("[base]\ndataset = 'moons'\n[grid]\noptimizer = ['adam', 'sgdd']", [], ["sgdd"]),
    ("[sweep]\nmetric = 'accuracy'\n[base]\ndataset = 'moons'", [], ["metric"]),
    ("[base]\ndataset = 'moons'", ["--set", "epochs"], ["KEY=VALUE"]),
    ("[base]\ndataset = 'moons'", ["--jobs", "0"], ["--jobs 0"]),
    ("[base]\ndataset = 'moons'", ["--jobs", "2", "--scheduler", "tcp://127.0.0.1:1"],
     ["--jobs applies to local runs"]),
    ("[base]\ndataset = 'moons'\n[sweep]\nseeds = 'many'", [], ["seeds='many'"]),
])
def test_cli_bad_sweeps_are_one_line_errors(tmp_path, content, args, words):
    if content is not None:
        (tmp_path / "s.toml").write_text(content)
    line = one_line_error(nnlab("sweep", "s.toml", *args, cwd=tmp_path))
    assert line.startswith("nnlab sweep: error:")
    for w in words:
        assert w in line, line
    assert not (tmp_path / "sweeps").exists()


@pytest.mark.slow
def test_cli_killed_mid_sweep_resumes_to_the_uninterrupted_result(tmp_path):
    """SIGKILL while a trial is running (it waits on a named pipe, so the moment is certain),
    then the same command again: the result files are those of a run never interrupted."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("needs named pipes")
    # the 8 trials of SMALL, then 4 that read data.csv
    spec = SMALL.replace('adam = { optimizer = "adam" }\n', 'adam = { optimizer = "adam" }\n'
                         'last = { optimizer = "gd", dataset = "data.csv" }\n')
    rng = np.random.RandomState(1)
    csv_text = "x1,x2,y\n" + "".join(f"{a:.4f},{b:.4f},{int(a + b > 0)}\n"
                                     for a, b in rng.randn(60, 2))
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    for d in (whole, parts):
        d.mkdir()
        (d / "s.toml").write_text(spec)
    (whole / "data.csv").write_text(csv_text)
    out = nnlab("sweep", "s.toml", "--jobs", "1", "--no-plots", "--quiet", cwd=whole)
    assert out.returncode == 0, out.stderr
    n_trials = len(list((whole / "sweeps" / "s" / "trials").iterdir()))
    assert n_trials == 12

    os.mkfifo(parts / "data.csv")  # reading it blocks until someone writes: the trial hangs
    proc = subprocess.Popen([sys.executable, "-m", "nnlab", "sweep", "s.toml", "--jobs", "1",
                             "--no-plots", "--quiet"], cwd=parts, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    trials = parts / "sweeps" / "s" / "trials"
    try:
        deadline = time.monotonic() + 240
        while len(list(trials.glob("*.json")) if trials.exists() else []) < 8:
            assert proc.poll() is None, "the sweep ended before reaching the blocking trial"
            assert time.monotonic() < deadline, "the sweep did not get going"
            time.sleep(0.05)
        time.sleep(0.2)  # it is now inside the first trial that reads the pipe
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert len(list(trials.glob("*.json"))) == 8
    assert not (parts / "sweeps" / "s" / "results.json").exists()
    (parts / "data.csv").unlink()
    (parts / "data.csv").write_text(csv_text)
    out = nnlab("sweep", "s.toml", "--no-plots", "--json", "--quiet", cwd=parts)
    assert out.returncode == 0, out.stderr
    run = json.loads(out.stdout)["run"]
    assert (run["reused"], run["ran"]) == (8, 4)
    assert files_of(parts / "sweeps" / "s") == files_of(whole / "sweeps" / "s")


def test_examples_are_valid_sweeps():
    files = sorted((REPO / "examples" / "sweeps").glob("*.toml"))
    assert [f.stem for f in files] == ["batchnorm", "initialization", "optimizers",
                                       "regularization"]
    for f in files:
        spec = load_spec(f)
        assert spec.seeds == 20 and spec.expect, f
        assert tomllib.loads(f.read_text())["sweep"]["seeds"] == 20



def test_the_docs_sweep_file_is_valid():
    page = (REPO / "docs" / "sweeps.md").read_text(encoding="utf-8")
    toml_block = page.split("```toml\n", 1)[1].split("```", 1)[0]
    spec = parse_spec(toml_block, where="docs/sweeps.md")
    assert spec.axes() == ["case", "batch_size", "lr", "l2", "layers"]
    assert spec.n_trials() == 2 * 2 * 8 * 5


# ------------------------------------------------------------------- abuse: size, records, address


def test_a_sweep_over_the_trial_limit_is_refused_before_a_point_is_made(monkeypatch):
    import nnlab.sweep.spec as spec_module

    def no_expansion(spec):
        raise AssertionError("the points were made before the count was checked")

    monkeypatch.setattr(spec_module, "points", no_expansion)
    million = ("[base]\ndataset = 'moons'\n[grid]\nlr = " + str([0.001 * i for i in range(1, 1001)])
               + "\nepochs = " + str(list(range(1, 1001))))
    with pytest.raises(SweepError) as info:
        parse_spec(million)
    assert "1000000 trials (1000000 points x 1 seed(s)) is more than the limit of 100000" in str(
        info.value) and "--max-trials" in str(info.value)
    small = "[sweep]\nseeds = 4\n[base]\ndataset = 'moons'\n[grid]\nlr = [0.1, 0.2, 0.3]"
    with pytest.raises(SweepError, match=r"12 trials .* limit of 11"):
        parse_spec(small, max_trials=11)
    monkeypatch.undo()
    assert parse_spec(small, max_trials=12).n_trials() == 12


def test_cli_max_trials_flag(tmp_path):
    (tmp_path / "s.toml").write_text(SMALL)
    line = one_line_error(nnlab("sweep", "s.toml", "--dry-run", "--max-trials", "7", cwd=tmp_path))
    assert "8 trials (4 points x 2 seed(s)) is more than the limit of 7" in line
    line = one_line_error(nnlab("sweep", "s.toml", "--dry-run", "--max-trials", "0", cwd=tmp_path))
    assert "--max-trials 0" in line
    out = nnlab("sweep", "s.toml", "--dry-run", "--max-trials", "8", cwd=tmp_path)
    assert out.returncode == 0 and "= 8 trials" in out.stdout


def _damage(path, change):
    record = json.loads(path.read_text())
    change(record)
    path.write_text(json.dumps(record))


@pytest.mark.parametrize("change, words", [
    (lambda r: r["metrics"]["val"].update(accuracy="0.9x"), "metrics.val.accuracy = '0.9x'"),
    (lambda r: r.update(curve="a curve"), "curve = 'a curve' is not a table of lists"),
    (lambda r: r["curve"].update(loss=[0.5]), "curve.loss = [0.5] is not a list of 8 numbers"),
    (lambda r: r.update(epochs_run="8"), "epochs_run = '8'"),
    (lambda r: r.update(status="ok", metrics=None), "metrics = None"),
    (lambda r: r.update(id="0" * 16), "is not the trial's id"),
], ids=["metric-string", "curve-string", "curve-short", "epochs-string", "no-metrics", "id"])
def test_a_record_edited_by_hand_is_named_and_its_trial_runs_again(tmp_path, change, words):
    spec = parse_spec(SMALL)
    first = run_sweep(spec, tmp_path, jobs=1, plots=False)
    path = TrialStore(tmp_path).path(first.trials[3].id)
    _damage(path, change)
    lines = []
    again = run_sweep(spec, tmp_path, jobs=1, plots=False, warn=lines.append)
    assert (again.ran, again.reused) == (1, 7)
    assert again.records == first.records  # the trial ran again, to the same record
    assert len(lines) == 1 and lines[0].startswith(f"{path}: is not a record of this trial: ")
    assert words in lines[0] and lines[0].endswith("running that trial again")
    with pytest.warns(UserWarning, match="is not JSON"):  # the library's default: a warning
        path.write_text("{cut short")
        run_sweep(spec, tmp_path, jobs=1, plots=False)


def test_cli_resume_over_a_hand_edited_record_warns_and_goes_on(tmp_path):
    (tmp_path / "s.toml").write_text(SMALL)
    assert nnlab("sweep", "s.toml", "--quiet", "--no-plots", cwd=tmp_path).returncode == 0
    trials = sorted((tmp_path / "sweeps" / "s" / "trials").glob("*.json"))
    _damage(trials[0], lambda r: r["metrics"]["train"].update(loss="low"))
    _damage(trials[1], lambda r: r.update(curve="a curve"))
    out = nnlab("sweep", "s.toml", "--quiet", "--no-plots", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr and "could not convert" not in out.stderr
    warned = sorted(line for line in out.stderr.splitlines() if line.strip())
    assert len(warned) == 2 and all(line.startswith("nnlab sweep: warning: ") for line in warned)
    assert any(trials[0].name in line and "metrics.train.loss = 'low'" in line for line in warned)
    assert any(trials[1].name in line and "curve = 'a curve'" in line for line in warned)
    assert "2 trial(s) ran on " in out.stdout and "6 were already finished" in out.stdout


@pytest.mark.parametrize("address", ["not a url", "tcp://", "tcp://host", "http://h:1",
                                     "tcp://h:99999", "tcp://a b:80", "h:8786/x"])
def test_cli_a_scheduler_address_of_the_wrong_form_is_one_line_at_once(tmp_path, address):
    (tmp_path / "s.toml").write_text(SMALL)
    line = one_line_error(nnlab("sweep", "s.toml", "--scheduler", address, cwd=tmp_path,
                                timeout=30))
    assert line == (f"nnlab sweep: error: --scheduler {address!r} is not a scheduler address: "
                    "expected tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786")
    assert not (tmp_path / "sweeps").exists()


def test_cli_a_port_that_is_not_a_dask_scheduler_is_one_line(tmp_path):
    """Something else listens there (it answers a few bytes, then waits): one line, no
    traceback, no 40 s wait for the half-made client at exit."""
    import socket
    import threading

    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    held = []

    def answer():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")

    threading.Thread(target=answer, daemon=True).start()
    (tmp_path / "s.toml").write_text(SMALL)
    try:
        out = nnlab("sweep", "s.toml", "--scheduler", f"tcp://127.0.0.1:{port}", "--quiet",
                    cwd=tmp_path, timeout=35)
    finally:
        server.close()
        for conn in held:
            conn.close()
    line = one_line_error(out)
    assert line.startswith(f"nnlab sweep: error: cannot reach the Dask scheduler at "
                           f"tcp://127.0.0.1:{port}: "), line


def test_a_sweep_offers_the_optimizers_train_config_offers():
    from nnlab.optimizers import COURSE_OPTIMIZERS, OPTIMIZERS

    names = list(COURSE_OPTIMIZERS)
    spec = parse_spec(f"[base]\ndataset = 'moons'\n[grid]\noptimizer = {names!r}\n")
    assert [p.changes["optimizer"] for p in points(spec)] == names
    for other in sorted(set(OPTIMIZERS) - set(COURSE_OPTIMIZERS)):
        with pytest.raises(SweepError) as info:
            parse_spec(f"[base]\ndataset = 'moons'\n[grid]\noptimizer = ['adam', '{other}']\n")
        assert str(info.value) == (
            f"sweep: point 'optimizer={other}': optimizer='{other}' is unknown: choose one of "
            + ", ".join(COURSE_OPTIMIZERS))


@pytest.mark.parametrize("table, message", [
    ("lr = { dist = 'uniform', low = 0, high = 1 }",
     "[random] lr: uniform(0, 1) can draw values outside what lr allows: 0 < lr <= 1000"),
    ("keep_prob = { dist = 'uniform', low = 0.5, high = 1.5 }",
     "keep_prob allows: 0 < keep_prob <= 1"),
    ("beta = { dist = 'int', low = 0, high = 1 }", "beta allows: 0 <= beta < 1"),
    ("epochs = { dist = 'loguniform', low = 1, high = 300 }",
     "dist='loguniform' draws fractions, but epochs is a whole number: use dist = \"int\""),
])
def test_random_draws_are_checked_against_the_settings_constraints(table, message):
    text = f"[sweep]\nn_samples = 3\n[base]\ndataset = 'moons'\n[random]\n{table}\n"
    with pytest.raises(SweepError) as info:
        parse_spec(text)
    assert message in str(info.value)
    # an open end of the setting may be the (never drawn) high end of a uniform draw
    parse_spec(text.replace(table, "beta = { dist = 'uniform', low = 0.5, high = 1.0 }"))
