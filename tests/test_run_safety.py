"""Runs one can trust (issue 9): resume honours the flags, overwrite never mixes runs, a lock per
folder, Ctrl-C and full disks lose nothing, divergence stops cleanly, bad input is one line."""
import errno
import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from minigan import train
from minigan.gan import checkpoint as checkpoint_module, load_checkpoint

TOY = ["--dataset", "gauss1d", "--n-samples", "64", "--batch-size", "16", "--no-progress"]


def _run(out, *args):
    return train.main([*TOY, *args, "--out", str(out)])


def _error(capsys, call):
    with pytest.raises(SystemExit) as exit_:
        call()
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and len(err.strip().splitlines()) == 1, err
    return err


def test_resume_applies_a_new_learning_rate_and_records_it(tmp_path):
    out = tmp_path / "run"
    assert _run(out, "--steps", "4", "--lr", "1e-3") == 0
    assert _run(out, "--steps", "6", "--lr", "5e-4", "--resume") == 0
    state = load_checkpoint(out / "checkpoint.npz")
    assert state["trainer"]["step"] == 6
    assert [g["lr"] for g in state["trainer"]["opt_g"]["param_groups"]] == [5e-4]
    config = json.loads((out / "config.json").read_text())
    assert config["lr_g"] == config["lr_d"] == 5e-4
    assert config["resumed"] == [{"at_step": 4, "changed": {"lr_g": [1e-3, 5e-4], "lr_d": [1e-3, 5e-4],
                                                            "steps": [4, 6]}}]
    assert _run(out, "--steps", "8", "--resume") == 0          # no flag: the run's own (new) lr carries on
    assert load_checkpoint(out / "checkpoint.npz")["trainer"]["opt_g"]["param_groups"][0]["lr"] == 5e-4


@pytest.mark.parametrize("flag, value, name", [("--batch-size", "8", "--batch-size"), ("--seed", "5", "--seed"),
                                               ("--k", "2", "--d-steps"), ("--n-samples", "32", "--n-samples")])
def test_resume_refuses_a_change_of_meaning_unless_allowed(tmp_path, capsys, flag, value, name):
    out = tmp_path / "run"
    assert _run(out, "--steps", "2") == 0
    args = TOY[:TOY.index(flag)] + TOY[TOY.index(flag) + 2:] if flag in TOY else TOY
    err = _error(capsys, lambda: train.main([*args, flag, value, "--steps", "4", "--resume", "--out", str(out)]))
    assert f"{name} (was" in err and "--allow-change" in err
    assert train.main([*args, flag, value, "--steps", "4", "--resume", "--allow-change", "--out", str(out)]) == 0
    assert json.loads((out / "config.json").read_text())["resumed"][0]["at_step"] == 2


def test_resume_refuses_a_different_game_in_one_line(tmp_path, capsys):
    out = tmp_path / "run"
    assert _run(out, "--steps", "2", "--loss", "nonsaturating") == 0
    err = _error(capsys, lambda: _run(out, "--steps", "4", "--loss", "wgan", "--resume"))
    assert "--loss (was 'nonsaturating', now 'wgan')" in err and "cannot change on resume" in err


def test_a_checkpoint_from_before_the_newer_settings_resumes_and_samples_as_it_was_trained(tmp_path):
    from minigan import sample
    before = {"pack": 1, "conditional": False, "width": 1, "logits": False, "r1_weight": None, "ema": None,
              "lr_schedule": "constant", "lr_final": 0.01, "lr_decay_start": 0.5}   # what runs did then
    out = tmp_path / "run"
    assert _run(out, "--steps", "2") == 0
    state = load_checkpoint(out / "checkpoint.npz")
    for key in before:                             # as written before these settings were recorded
        del state["config"][key]
    checkpoint_module.save_checkpoint(out / "checkpoint.npz", state)
    assert sample.main(["--checkpoint", str(out / "checkpoint.npz"), "--n", "4", "--out", str(tmp_path / "s.npy")]) == 0
    assert train.main(["--no-progress", "--steps", "4", "--resume", "--out", str(out)]) == 0
    config = load_checkpoint(out / "checkpoint.npz")["config"]
    assert {k: config[k] for k in before} == before
    assert config["resumed"][-1]["changed"] == {"steps": [2, 4]}   # the old defaults are no change


def test_the_checkpoint_is_the_source_of_truth(tmp_path, capsys):
    out = tmp_path / "run"
    assert _run(out, "--steps", "2", "--loss", "minimax") == 0
    (out / "config.json").write_text("{ not json")
    assert train.main(["--no-progress", "--steps", "3", "--resume", "--out", str(out)]) == 0   # loss etc. from it
    assert json.loads((out / "config.json").read_text())["loss"] == "minimax"
    (out / "config.json").unlink()
    assert train.main(["--no-progress", "--steps", "4", "--resume", "--out", str(out)]) == 0
    (out / "checkpoint.npz").write_bytes(b"PK\x03\x04 damaged")
    err = _error(capsys, lambda: train.main(["--no-progress", "--resume", "--out", str(out)]))
    assert "cannot be read" in err and "--overwrite" in err


def test_a_failed_overwrite_keeps_the_previous_run_whole(tmp_path, capsys):
    out = tmp_path / "run"
    assert _run(out, "--steps", "8", "--loss", "minimax", "--seed", "3") == 0
    before = {name: (out / name).read_bytes() for name in ("checkpoint.npz", "config.json", "metrics.csv")}
    capsys.readouterr()
    assert _run(out, "--steps", "8", "--loss", "nonsaturating", "--lr", "1e10", "--seed", "3", "--overwrite") == 1
    err = capsys.readouterr().err
    assert "the previous run is kept" in err and "previous run in" in err
    assert {name: (out / name).read_bytes() for name in before} == before
    assert not (out / ".previous-run").exists() and not (out / ".lock").exists()
    assert _run(out, "--steps", "3", "--loss", "nonsaturating", "--overwrite") == 0      # a good overwrite
    config = json.loads((out / "config.json").read_text())
    assert config["loss"] == "nonsaturating" and load_checkpoint(out / "checkpoint.npz")["trainer"]["step"] == 3
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["checkpoint.npz", "config.json", "metrics.csv", "samples.png", "progress.png", "losses.png"])


def test_one_run_per_folder_and_stale_locks_are_taken_over(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / ".lock").write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname()}))   # alive
    err = _error(capsys, lambda: _run(out, "--steps", "2"))
    assert f"is in use by another run (pid {os.getpid()} on {socket.gethostname()}" in err
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (out / ".lock").write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname()}))
    assert _run(out, "--steps", "2") == 0 and not (out / ".lock").exists()


def test_two_runs_started_together_do_not_mix(tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "minigan.train", "--dataset", "ring", "--steps", "40", "--batch-size", "32",
           "--n-samples", "256", "--no-progress", "--out", str(out)]
    procs = [subprocess.Popen(cmd + ["--seed", str(s)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for s in (1, 2)]
    results = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
    winners = [i for i, r in enumerate(results) if r[2] == 0]
    assert len(winners) == 1, results
    loser = results[1 - winners[0]]
    assert loser[2] == 2 and ("in use by another run" in loser[1] or "already holds a run" in loser[1])
    seed = json.loads((out / "config.json").read_text())["seed"]
    assert load_checkpoint(out / "checkpoint.npz")["config"]["seed"] == seed == winners[0] + 1


def test_sigint_saves_a_checkpoint_says_how_to_resume_and_exits_130(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "minigan.train", *TOY, "--steps", "100000", "--sample-every",
                             "20", "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().startswith("step 20/100000")    # training is under way
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "stopped by SIGINT at step" in err and "--resume" in err and len(err.strip().splitlines()) == 1
    step = int(err.split("at step ")[1].split()[0])
    assert load_checkpoint(out / "checkpoint.npz")["trainer"]["step"] == step >= 20
    assert not (out / ".lock").exists()


def test_a_run_in_another_thread_trains_and_leaves_the_signal_handlers_alone(tmp_path):
    import threading
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    status = []   # a Dask worker trains in a thread, where signal.signal would raise ValueError
    thread = threading.Thread(target=lambda: status.append(_run(tmp_path / "run", "--steps", "3")))
    thread.start()
    thread.join()
    assert status == [0] and load_checkpoint(tmp_path / "run" / "checkpoint.npz")["trainer"]["step"] == 3
    assert {s: signal.getsignal(s) for s in handlers} == handlers


def test_a_torn_last_csv_row_is_ignored_on_resume(tmp_path):
    out = tmp_path / "run"
    assert _run(out, "--steps", "4") == 0
    with open(out / "metrics.csv", "a") as f:
        f.write("5,1,0.69")                       # half a row: the disk filled up, or the power went
    assert _run(out, "--steps", "6", "--resume") == 0
    steps = [int(r.split(",")[0]) for r in (out / "metrics.csv").read_text().splitlines()[1:]]
    assert steps == [1, 2, 3, 4, 5, 6]


def test_a_full_disk_keeps_the_last_checkpoint_and_leaves_no_temp_file(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    calls = []
    savez = np.savez

    def fills_up(*args, **kwargs):      # the second checkpoint write hits ENOSPC half way
        calls.append(1)
        if len(calls) == 2:
            args[0].write(b"x" * 1000)
            raise OSError(errno.ENOSPC, "No space left on device", str(out / "checkpoint.npz.tmp"))
        return savez(*args, **kwargs)
    monkeypatch.setattr(checkpoint_module.np, "savez", fills_up)
    assert _run(out, "--steps", "6", "--sample-every", "3") == 1
    err = capsys.readouterr().err
    assert "the disk is full" in err and "last good checkpoint" in err and "--resume" in err
    assert load_checkpoint(out / "checkpoint.npz")["trainer"]["step"] == 3
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".") or p.suffix == ".tmp") == []


def test_finite_divergence_stops_without_warning_spam(tmp_path, capsys):
    out = tmp_path / "run"
    with _no_warnings():
        rc = _run(out, "--steps", "200", "--loss", "wgan", "--lr", "1e3")
    err = capsys.readouterr().err
    assert rc == 1 and ("diverged" in err or "non-finite" in err) and "last good checkpoint" in err
    assert "RuntimeWarning" not in err


class _no_warnings:
    def __enter__(self):
        import warnings
        self.catcher = warnings.catch_warnings(record=True)
        self.seen = self.catcher.__enter__()
        warnings.simplefilter("always")

    def __exit__(self, *exc):
        self.catcher.__exit__(*exc)
        assert not [w for w in self.seen if issubclass(w.category, RuntimeWarning)], self.seen


@pytest.mark.parametrize("args, message", [
    (["--epochs", "inf"], "argument --epochs: must be a positive finite number, got inf"),
    (["--lr", "inf"], "argument --lr: must be a positive finite number, got inf"),
    (["--seed", "-1"], "argument --seed: must be an integer in [0, 2**32), got -1"),
    (["--logits", "--loss", "wgan"], "--logits: the wgan critic outputs unbounded scores already"),
    (["--resume", "--overwrite"], "--resume and --overwrite contradict each other"),
    (["--model", "mlp-bn", "--batch-size", "1"], "--batch-size 1: the mlp-bn model's BatchNorm needs at least 2"),
])
def test_bad_input_is_one_line(tmp_path, capsys, args, message):
    err = _error(capsys, lambda: train.main(["--dataset", "gauss1d", "--n-samples", "64", "--no-progress",
                                             *args, "--out", str(tmp_path / "run")]))
    assert message in err


def test_sample_refuses_to_overwrite_and_names_bad_outputs(tmp_path, capsys):
    from minigan import sample
    out = tmp_path / "run"
    assert _run(out, "--steps", "2") == 0
    ckpt = str(out / "checkpoint.npz")
    target = tmp_path / "s.npy"
    assert sample.main(["--checkpoint", ckpt, "--n", "4", "--out", str(target)]) == 0
    err = _error(capsys, lambda: sample.main(["--checkpoint", ckpt, "--n", "4", "--out", str(target)]))
    assert "exists; pass --overwrite" in err
    assert sample.main(["--checkpoint", ckpt, "--n", "4", "--out", str(target), "--overwrite"]) == 0
    (tmp_path / "d.npy").mkdir()
    assert "is a folder" in _error(capsys, lambda: sample.main(["--checkpoint", ckpt, "--out", str(tmp_path / "d.npy")]))
    assert "--seed" in _error(capsys, lambda: sample.main(["--checkpoint", ckpt, "--out", str(target), "--seed", "-1"]))


def test_optimizers_and_layers_reject_bad_hyperparameters_and_foreign_state():
    import minigan as mg
    from minigan import nn, optim
    p = mg.tensor([1.0], requires_grad=True)
    for make, message in [(lambda: optim.Adam([p], lr=float("nan")), "learning rate must be a finite number"),
                          (lambda: optim.SGD([p], lr=float("inf")), "learning rate must be a finite number"),
                          (lambda: optim.SGD([p], momentum=-1), "momentum must be >= 0"),
                          (lambda: optim.Adam([p], eps=float("nan")), "eps and weight_decay must be >= 0"),
                          (lambda: nn.BatchNorm1d(3, momentum=5), "momentum must be in [0, 1] or None")]:
        with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
            make()
    opt = optim.Adam([p], lr=1e-3)
    crafted = opt.state_dict()
    crafted["param_groups"][0]["frozen"] = True
    with pytest.raises(ValueError, match=r"unknown settings \['frozen'\]"):
        opt.load_state_dict(crafted)
    crafted = opt.state_dict()
    crafted["param_groups"][0]["lr"] = -1.0
    with pytest.raises(ValueError, match="learning rate"):
        opt.load_state_dict(crafted)
    assert opt.param_groups[0]["lr"] == 1e-3          # nothing half-applied
    assert np.asarray(mg.tensor([1.0, 2.0])).dtype == np.float32


def test_a_gzip_bomb_is_refused_before_it_fills_the_memory(tmp_path, monkeypatch):
    import gzip
    from minigan.data import mnist
    monkeypatch.setattr(mnist, "MAX_IDX_BYTES", 2**20)
    bomb = tmp_path / "t10k-images-idx3-ubyte.gz"
    bomb.write_bytes(gzip.compress(b"\0" * (8 * 2**20)))      # 8 MiB of zeros in about 8 KB
    with pytest.raises(mnist.DataError, match=r"decompresses to more than 1 MiB.*sha256 [0-9a-f]{64}"):
        mnist._gunzip(bomb.read_bytes(), str(bomb), limit=mnist.MAX_IDX_BYTES)


def test_theory_checks_out_and_seed_before_computing(tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    for args, message in ((["--out", str(a_file)], "cannot write figures there"),
                          (["--seed", "-1"], "must be an integer in [0, 2**32)")):
        result = subprocess.run([sys.executable, "-m", "minigan.theory", *args], capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 2 and message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_grader_and_handout_maker_inputs_are_one_line_errors(tmp_path):
    submission = tmp_path / "a1.txt"
    submission.write_text("x = 1\n")
    py = tmp_path / "a1.py"
    py.write_text("x = 1\n")
    for cmd, message in (
            (["minigan.grade", "A1", str(py), "--timeout", "nan"], "--timeout must be a positive finite number"),
            (["minigan.grade", "A1", str(submission)], "is not a Python file"),
            (["minigan.assignments.make_student", "--out", "/proc/minigan-cannot-write-here"], "make_student: error:")):
        result = subprocess.run([sys.executable, "-m", *cmd], capture_output=True, text=True, timeout=60)
        assert result.returncode == 2 and message in result.stderr, (cmd, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
