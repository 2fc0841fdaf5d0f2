"""The command line: smoke runs of every loss, resume, NaN stop, bad arguments, sampling."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from minigan import gan, sample, train
from minigan.gan import load_checkpoint, save_checkpoint

TINY = ["--n-samples", "64", "--batch-size", "16", "--no-progress"]


def _run(tmp_path, *args, name="run"):
    out = tmp_path / name
    return train.main([*args, "--out", str(out)]), out


@pytest.mark.parametrize("loss", list(gan.LOSSES))
@pytest.mark.parametrize("dataset", ["digits", "ring", "gauss1d"])
def test_dry_run_of_every_loss_writes_all_outputs(tmp_path, loss, dataset):
    rc, out = _run(tmp_path, "--dry-run", "--loss", loss, "--dataset", dataset, "--no-progress")
    assert rc == 0
    for name in ("config.json", "metrics.csv", "losses.png", "checkpoint.npz", "samples.png", "progress.png"):
        assert (out / name).stat().st_size > 0, name
    rows = (out / "metrics.csv").read_text().splitlines()
    assert rows[0] == "step,epoch,d_loss,g_loss,d_real,d_fake,grad_norm_d,grad_norm_g" and len(rows) == 1 + 3
    config = json.loads((out / "config.json").read_text())
    assert config["loss"] == loss and config["d_steps"] == (5 if loss.startswith("wgan") else 1)


def test_logit_discriminator_runs(tmp_path):
    rc, out = _run(tmp_path, "--dry-run", "--logits", "--loss", "minimax", "--no-progress")
    assert rc == 0 and json.loads((out / "config.json").read_text())["logits"] is True
    # the digits recipe uses a logit D; --no-logits asks for a probability D (and so no R1)
    rc, out = _run(tmp_path, "--dry-run", "--no-logits", "--r1-weight", "0", "--no-progress", name="probability")
    config = json.loads((out / "config.json").read_text())
    assert rc == 0 and config["logits"] is False and config["r1_weight"] is False


@pytest.mark.parametrize("args", [["--logits", "--loss", "nonsaturating"], ["--loss", "wgan-gp"]])
def test_r1_weight_runs_and_is_recorded(tmp_path, args):
    rc, out = _run(tmp_path, "--dry-run", "--dataset", "ring", "--r1-weight", "0.5", *args, "--no-progress")
    config = json.loads((out / "config.json").read_text())
    assert rc == 0 and config["r1_weight"] == 0.5
    rc, off = _run(tmp_path, "--dry-run", "--dataset", "ring", "--r1-weight", "0", *args, "--no-progress", name="off")
    assert rc == 0 and json.loads((off / "config.json").read_text())["r1_weight"] is False


@pytest.mark.parametrize("args", [
    ["--dataset", "digits", "--model", "mlp-bn", "--loss", "nonsaturating", "--k", "2"],  # BatchNorm + Dropout
    ["--dataset", "ring", "--loss", "wgan-gp", "--k", "2", "--lr-schedule", "constant"],  # random interpolates (the row decays over its length: constant here, as 3 + 3 steps must equal 6)
    ["--dataset", "gauss1d", "--loss", "wgan", "--k", "1"],                              # weight clipping
])
def test_interrupted_and_resumed_run_ends_with_the_same_weights(tmp_path, args):
    rc, straight = _run(tmp_path, *args, *TINY, "--steps", "6", name="straight")
    assert rc == 0
    rc, resumed = _run(tmp_path, *args, *TINY, "--steps", "3", name="resumed")   # 3 is mid-epoch
    assert rc == 0
    rc, resumed = _run(tmp_path, *args, *TINY, "--steps", "6", "--resume", name="resumed")
    assert rc == 0
    a, b = load_checkpoint(straight / "checkpoint.npz"), load_checkpoint(resumed / "checkpoint.npz")
    assert a["trainer"]["step"] == b["trainer"]["step"] == 6
    for net in ("G", "D"):
        for key, value in a["trainer"][net].items():
            np.testing.assert_array_equal(value, b["trainer"][net][key], err_msg=f"{net}.{key}")
    rows = lambda p: (p / "metrics.csv").read_text().splitlines()
    assert rows(straight) == rows(resumed)


def test_non_finite_loss_stops_with_message_and_keeps_last_checkpoint(tmp_path, monkeypatch, capsys):
    real_step = gan.GANTrainer.step

    def poisoned(self):
        metrics = real_step(self)
        if self.step_count == 6:
            metrics["d_loss"] = float("nan")
        return metrics

    monkeypatch.setattr(gan.GANTrainer, "step", poisoned)
    rc, out = _run(tmp_path, *TINY, "--steps", "10", "--sample-every", "4")  # checkpoints at steps 4 and 8
    assert rc == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "non-finite loss at step 6" in err and str(out / "checkpoint.npz") in err
    assert load_checkpoint(out / "checkpoint.npz")["trainer"]["step"] == 4


@pytest.mark.parametrize("args, message", [
    (["--dataset", "cifar"], "argument --dataset: invalid choice: 'cifar'"),
    (["--batch-size", "-3"], "argument --batch-size: must be a positive integer, got -3"),
    (["--loss", "hinge"], "argument --loss: invalid choice"),
    (["--epochs", "2", "--steps", "3"], "not allowed with argument"),
    (["--batch-size", "5000", "--n-samples", "100"], "--batch-size 5000 is larger than the data set (100 samples)"),
    (["--resume"], "--resume: no checkpoint at"),
    (["--r1-weight", "1", "--no-logits"], "--r1-weight: R1 penalizes the discriminator's logit, but the nonsaturating D outputs probabilities; add --logits (or turn R1 off with --r1-weight 0)"),
    (["--r1-weight", "-1"], "argument --r1-weight"),
])
def test_bad_arguments_give_one_line_and_status_2(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as exit_info:
        train.main([*args, "--out", str(tmp_path / "x")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err and "Traceback" not in err


def test_an_existing_run_is_never_overwritten_silently(tmp_path, capsys):
    rc, out = _run(tmp_path, "--dry-run", "--no-progress")
    before = (out / "checkpoint.npz").read_bytes()
    with pytest.raises(SystemExit) as exit_info:
        train.main(["--dry-run", "--no-progress", "--out", str(out)])
    assert exit_info.value.code == 2 and "already holds a run" in capsys.readouterr().err
    assert (out / "checkpoint.npz").read_bytes() == before
    assert train.main(["--dry-run", "--no-progress", "--overwrite", "--out", str(out)]) == 0


def test_unwritable_out_is_a_one_line_error(tmp_path, capsys):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    with pytest.raises(SystemExit) as exit_info:
        train.main(["--dry-run", "--out", str(blocker / "sub")])
    assert exit_info.value.code == 2
    assert "cannot write there" in capsys.readouterr().err


def test_cupy_backend_without_gpu_is_a_one_line_error():
    try:
        import minigan.backend as be
        be.CupyBackend()
        pytest.skip("a usable GPU is present")
    except RuntimeError:
        pass
    proc = subprocess.run([sys.executable, "-m", "minigan.train", "--backend", "cupy", "--dry-run"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "backend 'cupy'" in proc.stderr


def test_short_training_on_a_1d_gaussian_matches_mean_and_std(tmp_path):
    rc, out = _run(tmp_path, "--dataset", "gauss1d", "--steps", "1500", "--batch-size", "64", "--no-progress")
    assert rc == 0
    state = load_checkpoint(out / "checkpoint.npz")
    x = sample.generate(state, 5000, seed=1)
    data_mean, data_std = 4.0, 0.5  # toy.gaussian_1d defaults
    assert abs(x.mean() - data_mean) < 0.2 and abs(x.std() - data_std) < 0.15, (x.mean(), x.std())


def test_sample_cli_writes_png_and_npy_in_data_space(tmp_path, capsys):
    rc, out = _run(tmp_path, "--dry-run", "--no-progress")
    ckpt = str(out / "checkpoint.npz")
    assert sample.main(["--checkpoint", ckpt, "--n", "10", "--out", str(tmp_path / "s.npy")]) == 0
    x = np.load(tmp_path / "s.npy")
    assert x.shape == (10, 8, 8) and x.min() >= 0.0 and x.max() <= 1.0
    assert sample.main(["--checkpoint", ckpt, "--out", str(tmp_path / "g.png")]) == 0
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(SystemExit):
        sample.main(["--checkpoint", ckpt, "--out", str(tmp_path / "s.txt")])
    assert "must end in .png" in capsys.readouterr().err


def test_checkpoint_round_trip_and_damage(tmp_path, monkeypatch):
    state = {"a": np.arange(6.0).reshape(2, 3), "nested": {"b": [np.ones(2, np.float32), 3, "x"]},
             "rng": {"state": 2**100 + 7, "inc": 5}}
    path = tmp_path / "c.npz"
    save_checkpoint(path, state)
    back = load_checkpoint(path)
    np.testing.assert_array_equal(back["a"], state["a"])
    assert back["nested"]["b"][1:] == [3, "x"] and back["rng"]["state"] == 2**100 + 7
    assert back["nested"]["b"][0].dtype == np.float32
    # a save that dies half way leaves the previous checkpoint intact
    monkeypatch.setattr(np, "savez", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        save_checkpoint(path, {"a": np.zeros(1)})
    np.testing.assert_array_equal(load_checkpoint(path)["a"], state["a"])
    monkeypatch.undo()
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match="unreadable or truncated"):
        load_checkpoint(path)


def test_threads_default_from_the_model_size_and_threads_overrides(tmp_path, monkeypatch):
    from minigan import train as train_cli
    seen = []

    def fake_train(trainer, loader, dataset, config, out, total, backend, args, progress, previous=None):
        from threadpoolctl import threadpool_info
        seen.append((config["threads"], {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}))
        return 0
    monkeypatch.setattr(train_cli, "_train", fake_train)
    base = ["--dataset", "ring", "--dry-run", "--no-progress"]
    assert train_cli.main(base + ["--out", str(tmp_path / "a")]) == 0
    assert train_cli.main(base + ["--out", str(tmp_path / "b"), "--threads", "2"]) == 0
    assert seen[0] == (1, {1}) and seen[1] == (2, {2})
    assert train_cli.default_threads("mlp") == (os.cpu_count() or 1) and train_cli.default_threads("small") == 1
    assert json.loads((tmp_path / "b" / "config.json").read_text())["threads"] == 2
