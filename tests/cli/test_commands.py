"""The training commands as a user runs them: ``nnlab ...`` in a subprocess."""

import json
import os
import pickle
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from cli_checks import kill_then_resume, one_line_error
from nnlab.files.format import load_arrays


def nnlab(*args, cwd, timeout=180, check=None):
    out = subprocess.run([sys.executable, "-m", "nnlab", *map(str, args)], cwd=cwd,
                         capture_output=True, text=True, timeout=timeout)
    if check is not None:
        assert out.returncode == check, (out.stdout, out.stderr)
    return out




@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    out = nnlab("train", "moons", "--layers", "6,3", "--epochs", "40", "--lr", "0.05",
                "--val-split", "0.2", "--save", "run", "--json", cwd=d, check=0)
    return d, json.loads(out.stdout)


def test_train_reports_and_saves(trained):
    d, res = trained
    assert res["metrics"]["train"]["accuracy"] > 0.8 and "val" in res["metrics"]
    assert res["epochs"] == 40 and len(res["loss_curve"]) == 40
    assert (d / "run" / "model.npz").exists() and (d / "run" / "config.toml").exists()


def test_evaluate_predict_summary_plot(trained):
    d, _ = trained
    ev = json.loads(nnlab("evaluate", "run", "moons", "--json", cwd=d, check=0).stdout)
    assert 0.8 < ev["metrics"]["data"]["accuracy"] <= 1
    pr = json.loads(nnlab("predict", "run", "moons", "--out", "p.csv", "--json", cwd=d,
                          check=0).stdout)
    assert len(pr["predictions"]) == 300 and set(pr["predictions"]) <= {0, 1}
    assert (d / "p.csv").read_text().splitlines()[0] == "prediction,p_0,p_1"
    sm = json.loads(nnlab("summary", "run", "--json", cwd=d, check=0).stdout)
    assert sm["layer_dims"] == [2, 6, 3, 1] and sm["params"] == 6 * 3 + 3 * 7 + 4
    assert "total params: 43" in nnlab("summary", "run", cwd=d, check=0).stdout
    nnlab("plot", "run", "moons", "--out", "b.png", cwd=d, check=0)
    assert (d / "b.png").read_bytes()[:4] == b"\x89PNG"


def test_predict_from_a_features_only_csv(trained):
    d, _ = trained
    (d / "new.csv").write_text("x1,x2\n0.0,1.0\n1.5,-0.5\n")
    pr = json.loads(nnlab("predict", "run", "new.csv", "--json", cwd=d, check=0).stdout)
    assert len(pr["predictions"]) == 2


def test_config_file_and_flags_override(tmp_path):
    (tmp_path / "exp.toml").write_text('dataset = "xor"\nlayers = [4]\nepochs = 5\nlr = 0.1\n')
    res = json.loads(nnlab("train", "--config", "exp.toml", "--epochs", "3", "--json",
                           cwd=tmp_path, check=0).stdout)
    assert res["config"]["dataset"] == "xor" and res["config"]["epochs"] == 3
    assert res["config"]["layers"] == [4]


def test_full_batch_flag(tmp_path):
    res = json.loads(nnlab("train", "moons", "--batch-size", "full", "--epochs", "2", "--json",
                           cwd=tmp_path, check=0).stdout)
    assert res["config"]["batch_size"] == "full"
    res = json.loads(nnlab("train", "moons", "--batch-size", "32", "--epochs", "2", "--json",
                           cwd=tmp_path, check=0).stdout)
    assert res["config"]["batch_size"] == 32


def test_same_seed_same_model(tmp_path):
    for name in ("a", "b"):
        nnlab("train", "flower", "--layers", "4", "--activation", "tanh", "--epochs", "20",
              "--keep-prob", "0.9", "--save", name, "--quiet", cwd=tmp_path, check=0)
    a, _ = load_arrays(tmp_path / "a" / "model.npz")
    b, _ = load_arrays(tmp_path / "b" / "model.npz")
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_every_command_has_help_with_examples(tmp_path):
    for cmd in ("train", "evaluate", "predict", "summary", "gradcheck", "plot", "datasets"):
        out = nnlab(cmd, "--help", cwd=tmp_path, check=0)
        assert "example" in out.stdout and "--json" in out.stdout, cmd


def test_gradcheck_verdicts(tmp_path):
    res = json.loads(nnlab("gradcheck", "iris", "--layers", "4", "--activation", "tanh",
                           "--l2", "0.5", "--json", cwd=tmp_path, check=0).stdout)
    assert res["passed"] and res["difference"] < 1e-7 and set(res["per_parameter"]) == {
        "W1", "b1", "W2", "b2"}
    line = one_line_error(nnlab("gradcheck", "moons", "--keep-prob", "0.8", cwd=tmp_path))
    assert "refused with dropout" in line


def test_datasets_list_and_show(tmp_path):
    out = json.loads(nnlab("datasets", "--json", cwd=tmp_path, check=0).stdout)
    names = [r["name"] for r in out["datasets"]]
    assert {"flower", "circles", "moons", "football", "cat", "digits", "iris"} <= set(names)
    one = json.loads(nnlab("datasets", "iris", "--json", cwd=tmp_path, check=0).stdout)
    assert one["samples"] == 150 and one["classes"] == {"0": 50, "1": 50, "2": 50}


# --- bad input: one clear line, exit code 2, nothing lost ------------------------------------

BAD_FLAGS = [
    (["--lr", "0"], "lr=0.0 is out of range"),
    (["--lr", "-0.1"], "lr=-0.1 is out of range"),
    (["--l2", "-1"], "l2=-1.0 is out of range"),
    (["--keep-prob", "1.5"], "keep_prob=1.5 is out of range"),
    (["--keep-prob", "0"], "keep_prob=0.0 is out of range"),
    (["--layers", "5,0"], r"layers[1]=0 is out of range"),
    (["--activation", "swish"], "activation='swish' is unknown"),
    (["--optimizer", "lbfgs"], "optimizer='lbfgs' is unknown"),
    (["--init", "glorot"], "init='glorot' is unknown"),
    (["--early-stopping", "5"], "needs a validation set"),
    (["--batch-size", "many"], "is not a batch size"),
]


@pytest.mark.parametrize("flags, message", BAD_FLAGS)
def test_bad_hyperparameters(tmp_path, flags, message):
    line = one_line_error(nnlab("train", "moons", "--epochs", "1", *flags, cwd=tmp_path))
    assert message in line


BAD_CSV = [
    ("a,b,y\n", "header but no data rows"),
    ("a,b,y\n1,2,0\n3,4\n", "row 3 has 2 fields but the header has 3"),
    ("a,b,y\n1,nan,0\n2,3,1\n", "is not finite"),
    ("a,b,y\n1,inf,0\n2,3,1\n", "is not finite"),
    ("a,b,y\n1,x,0\n2,3,1\n", "'x' is not a number"),
    ("a,b,y\n1,(1+2j),0\n2,3,1\n", "is not a number"),
    ("a,b,y\n1,2,0\n3,4,0\n", "single class"),
    ("", "the file is empty"),
    # a CSV without a header row would lose its first example as column names
    ("1,2,0\n3,4,1\n5,6,0\n", "the first row holds numbers"),
    # a label column first: the hint names --target
    ("label,a,b\nyes,1,2\nno,3,4\n", "--target label"),
    # a field over the csv module's 128 KB limit
    ("a,b,y\n1," + "2" * 140_000 + ",0\n3,4,1\n", "not a readable CSV file"),
]


@pytest.mark.parametrize("text, message", BAD_CSV)
def test_bad_csv(tmp_path, text, message):
    (tmp_path / "d.csv").write_text(text)
    line = one_line_error(nnlab("train", "d.csv", "--epochs", "1", cwd=tmp_path))
    assert message in line


def test_missing_target_column_and_missing_files(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,y\n1,2,0\n3,4,1\n")
    assert "no column named 'label'" in one_line_error(
        nnlab("train", "d.csv", "--target", "label", cwd=tmp_path))
    assert "no such file" in one_line_error(nnlab("train", "nope.csv", cwd=tmp_path))
    empty = tmp_path / "empty"
    empty.mkdir()
    line = one_line_error(nnlab("train", "football", "--data-dir", empty, cwd=tmp_path))
    assert "data.mat" in line and str(empty) in line
    assert "no such model file" in one_line_error(
        nnlab("summary", "nomodel", cwd=tmp_path))


def test_model_given_wrong_features(trained):
    d, _ = trained
    assert "has 4 features but the model takes 2" in one_line_error(
        nnlab("evaluate", "run", "iris", cwd=d))


class Evil:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_corrupt_and_hostile_model_files(trained, tmp_path):
    d, _ = trained
    good = (d / "run" / "model.npz").read_bytes()
    (tmp_path / "trunc.npz").write_bytes(good[: len(good) // 2])
    assert "trunc.npz" in one_line_error(nnlab("summary", "trunc.npz", cwd=tmp_path))
    (tmp_path / "evil.npz").write_bytes(pickle.dumps(Evil()))
    one_line_error(nnlab("summary", "evil.npz", cwd=tmp_path))
    flipped = bytearray(good)
    flipped[len(flipped) // 3] ^= 0xFF
    (tmp_path / "flip.npz").write_bytes(bytes(flipped))
    out = nnlab("summary", "flip.npz", cwd=tmp_path)
    assert "Traceback" not in out.stderr  # a flip inside the numbers may still load
    assert not (tmp_path / "pwned").exists()


def test_divergence_stops_with_a_hint(tmp_path):
    out = nnlab("train", "diabetes", "--layers", "8", "--optimizer", "gd", "--lr", "5",
                "--epochs", "50", cwd=tmp_path)
    line = one_line_error(out, rc=1)
    assert "diverged at epoch" in line and "smaller learning rate" in line


@pytest.mark.parametrize("data, output, message", [
    ("iris", "sigmoid", "does not fit 3 classes"),
    ("moons", "softmax", "does not fit two classes"),
    ("diabetes", "sigmoid", "does not fit real-valued targets"),
])
def test_labels_that_do_not_fit_the_output(tmp_path, data, output, message):
    line = one_line_error(nnlab("train", data, "--output", output, "--epochs", "1",
                                cwd=tmp_path))
    assert message in line


def test_npz_data_and_bad_npz(tmp_path):
    rng = np.random.RandomState(0)
    np.savez(tmp_path / "d.npz", X=rng.randn(40, 3), y=(rng.randn(40) > 0).astype(int))
    nnlab("train", "d.npz", "--epochs", "2", "--quiet", cwd=tmp_path, check=0)
    np.savez(tmp_path / "e.npz", X=rng.randn(40, 3), y=np.zeros(10))
    assert "must be" in one_line_error(nnlab("train", "e.npz", cwd=tmp_path))
    np.savez(tmp_path / "f.npz", X=np.zeros((0, 3)), y=np.zeros(0))
    assert "at least one sample" in one_line_error(nnlab("train", "f.npz", cwd=tmp_path))
    np.savez(tmp_path / "g.npz", X=rng.randn(40), y=np.zeros(40))
    assert "must be" in one_line_error(nnlab("train", "g.npz", cwd=tmp_path))


# --- exact resume after SIGKILL --------------------------------------------------------------

RUN = ["train", "moons", "--layers", "16,8", "--keep-prob", "0.9", "--optimizer", "adam",
       "--lr", "0.01", "--batch-size", "16", "--epochs", "60", "--val-split", "0.2",
       "--early-stopping", "1000", "--quiet"]


@pytest.mark.slow
def test_sigkill_at_any_moment_then_resume_is_bit_identical(tmp_path):
    interrupted_at = kill_then_resume(RUN, tmp_path, [0.0, 0.1, 0.3, 0.6])
    assert min(interrupted_at) < 60, interrupted_at  # at least one kill landed mid-training


def test_resume_refuses_extra_settings(tmp_path):
    line = one_line_error(nnlab("train", "moons", "--resume", "x.npz", cwd=tmp_path))
    assert "--resume" in line



# --- labels and data: never silently wrong ---------------------------------------------------


def _yes_no(path, labels=("no", "yes"), n=60):
    rng = np.random.RandomState(3)
    X = rng.randn(n, 2)
    rows = [f"{a:.6f},{b:.6f},{labels[int(a + b > 0)]}" for a, b in X]
    path.write_text("a,b,answer\n" + "\n".join(rows) + "\n")


def test_string_labels_are_stored_predicted_and_checked(tmp_path):
    _yes_no(tmp_path / "yn.csv")
    nnlab("train", "yn.csv", "--layers", "4", "--epochs", "40", "--lr", "0.05", "--save",
          "m.npz", "--quiet", cwd=tmp_path, check=0)
    assert load_arrays(tmp_path / "m.npz")[1]["extra"]["classes"] == ["no", "yes"]
    (tmp_path / "new.csv").write_text("a,b\n2,2\n-2,-2\n")
    pr = json.loads(nnlab("predict", "m.npz", "new.csv", "--out", "p.csv", "--json",
                          cwd=tmp_path, check=0).stdout)
    assert pr["predictions"] == ["yes", "no"]
    lines = (tmp_path / "p.csv").read_text().splitlines()
    assert lines[0] == "prediction,p_no,p_yes"
    label, p_no, p_yes = lines[1].split(",")
    assert label == "yes" and float(p_yes) > 0.5 > float(p_no)
    assert abs(float(p_no) + float(p_yes) - 1) < 1e-5
    ev = json.loads(nnlab("evaluate", "m.npz", "yn.csv", "--json", cwd=tmp_path,
                          check=0).stdout)
    assert ev["metrics"]["data"]["accuracy"] > 0.9
    _yes_no(tmp_path / "de.csv", labels=("dog", "eel"))
    line = one_line_error(nnlab("evaluate", "m.npz", "de.csv", cwd=tmp_path))
    assert "'dog', 'eel'" in line and "never seen" in line


def test_predict_never_takes_a_column_for_a_label_silently(trained):
    d, _ = trained
    (d / "three.csv").write_text("u,v,w\n0.5,1,0\n1,-0.5,1\n")
    line = one_line_error(nnlab("predict", "run", "three.csv", cwd=d))
    assert "has 3 columns but the model takes 2" in line and "--target" in line
    pr = json.loads(nnlab("predict", "run", "three.csv", "--target", "w", "--json", cwd=d,
                          check=0).stdout)
    assert len(pr["predictions"]) == 2
    # the model's own feature names, and one column more: that one is left out, and said so
    (d / "named.csv").write_text("label,x2,x1\n1,1,0.5\n0,-0.5,1\n")
    out = nnlab("predict", "run", "named.csv", "--json", cwd=d, check=0)
    assert "ignoring column 'label'" in out.stderr
    (d / "plain.csv").write_text("x1,x2\n0.5,1\n1,-0.5\n")
    plain = json.loads(nnlab("predict", "run", "plain.csv", "--json", cwd=d, check=0).stdout)
    assert json.loads(out.stdout)["predictions"] == plain["predictions"]


@pytest.mark.parametrize("args, message", [
    (["train", "moons", "--target", "y"], "is not a .csv file"),
    (["train", "moons", "--layers", ""], "is not a list of whole numbers"),
    (["train", "moons", "--layers", ","], "is not a list of whole numbers"),
    (["train", "moons", "--save", ""], "--save '': give a path"),
    (["train", "moons", "--checkpoint", " "], "--checkpoint '': give a path"),
    (["evaluate", "run", "moons", "--target", "y"], "is not a .csv file"),
])
def test_flags_that_would_be_ignored_are_refused(trained, args, message):
    d, _ = trained
    line = one_line_error(nnlab(*args, "--epochs", "1", cwd=d) if args[0] == "train"
                          else nnlab(*args, cwd=d))
    assert message in line


def test_layers_none_is_no_hidden_layer(tmp_path):
    res = json.loads(nnlab("train", "moons", "--layers", "none", "--epochs", "2", "--json",
                           cwd=tmp_path, check=0).stdout)
    assert res["config"]["layers"] == []


def test_deeply_nested_config_is_one_line(tmp_path):
    (tmp_path / "deep.toml").write_text("layers = " + "[" * 5000 + "]" * 5000 + "\n")
    assert "nested 5000 levels deep" in one_line_error(
        nnlab("train", "--config", "deep.toml", cwd=tmp_path))


# --- training semantics ------------------------------------------------------------------------


def test_resume_goes_on_to_a_new_total_and_refuses_changes(tmp_path):
    base = ["train", "moons", "--layers", "5", "--batch-size", "32", "--quiet"]
    nnlab(*base, "--epochs", "12", "--checkpoint", "ck.npz", cwd=tmp_path, check=0)
    assert "fewer than the 12" in one_line_error(
        nnlab("train", "--resume", "ck.npz", "--epochs", "5", cwd=tmp_path))
    line = one_line_error(nnlab("train", "--resume", "ck.npz", "--lr", "5", cwd=tmp_path))
    assert "lr=5.0 would change lr=0.01" in line
    # the same settings again are no change; --epochs is the new total
    res = json.loads(nnlab("train", "--resume", "ck.npz", "--epochs", "20", "--lr", "0.01",
                           "--layers", "5", "--save", "resumed.npz", "--json", cwd=tmp_path,
                           check=0).stdout)
    assert res["epochs"] == 20 and res["config"]["epochs"] == 20
    nnlab(*base, "--epochs", "20", "--save", "straight.npz", cwd=tmp_path, check=0)
    a, _ = load_arrays(tmp_path / "resumed.npz")
    b, _ = load_arrays(tmp_path / "straight.npz")
    assert set(a) == set(b) and all(np.array_equal(a[k], b[k]) for k in a)


def test_a_cost_that_rises_is_warned_about(tmp_path):
    out = nnlab("train", "moons", "--lr", "1000", "--epochs", "30", "--quiet", cwd=tmp_path,
                check=0)
    warning = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(warning) == 1 and "cost rose from" in warning[0]
    assert "smaller --lr" in warning[0]
    calm = nnlab("train", "moons", "--lr", "0.01", "--epochs", "30", "--quiet", cwd=tmp_path,
                 check=0)
    assert calm.stderr.strip() == ""


def test_ctrl_c_names_the_checkpoint_epoch_and_the_resume_command(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "nnlab", "train", "moons", "--epochs", "1000000",
         "--checkpoint", "ck.npz", "--checkpoint-every", "3", "--quiet"], cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # a child of a process that ignores SIGINT would inherit that: restore the default
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not (tmp_path / "ck.npz").exists() and proc.poll() is None and \
            time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    epoch = load_arrays(tmp_path / "ck.npz")[1]["epoch"]
    assert epoch % 3 == 0 and f"holds the run after epoch {epoch};" in lines[0]
    command = lines[0].split("go on with: ", 1)[1]
    assert command == "nnlab train --resume ck.npz --checkpoint ck.npz --checkpoint-every 3"


def test_ctrl_c_without_a_checkpoint_says_nothing_was_saved(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "nnlab", "train", "moons", "--epochs", "1000000"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert proc.stdout.readline().startswith("Epoch 1/")  # training has begun
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Traceback" not in err, err
    assert "nothing was saved" in err and "--checkpoint" in err


# --- help texts ----------------------------------------------------------------------------


def test_gradcheck_help_lists_only_what_matters_to_it(tmp_path):
    text = nnlab("gradcheck", "--help", cwd=tmp_path, check=0).stdout
    for flag in ("--layers", "--activation", "--l2", "--seed", "--examples", "--fd-epsilon"):
        assert flag in text
    for flag in ("--lr", "--epochs", "--optimizer", "--batch-size", "--val-split",
                 "--early-stopping", "--decay", "--beta1"):
        assert flag + " " not in text, flag
    assert "unrecognized arguments: --lr" in one_line_error(
        nnlab("gradcheck", "moons", "--lr", "0.1", cwd=tmp_path))
