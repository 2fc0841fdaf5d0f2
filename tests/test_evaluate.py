"""python -m minigan.evaluate: the metrics of each kind of data set, JSON output, one-line errors."""
import json

import numpy as np
import pytest

from minigan import evaluate, train
from minigan.data import load_dataset
from minigan.gan import load_checkpoint
from minigan.metrics import mode_coverage, reverse_kl
from minigan.sample import generate

TINY = ["--steps", "3", "--n-samples", "64", "--batch-size", "16", "--no-progress"]


def _run(tmp_path, dataset):
    out = tmp_path / dataset
    assert train.main(["--dataset", dataset, *TINY, "--out", str(out)]) == 0
    return str(out / "checkpoint.npz")


def _json(capsys, *args):
    capsys.readouterr()   # drop what training printed
    assert evaluate.main([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_ring_gets_the_mode_metrics_of_its_samples(tmp_path, capsys):
    ckpt = _run(tmp_path, "ring")
    result = _json(capsys, "--checkpoint", ckpt, "--n", "64")
    assert (result["dataset"], result["kind"], result["n"], result["checkpoint_step"]) == ("ring", "points", 64, 3)
    # the same numbers straight from the metrics on the same samples
    samples, data = generate(load_checkpoint(ckpt), 64, seed=1), load_dataset("ring")
    covered, hq = mode_coverage(samples, data.modes, data.std)
    kl = reverse_kl(samples, data.modes, data.std)
    m = result["metrics"]
    assert (m["modes_covered"], m["modes_total"], m["high_quality"]) == (covered, 8, hq)
    assert m["reverse_kl"] == (None if np.isnan(kl) else pytest.approx(kl))
    assert set(result["labels"]) == set(m)


def test_1d_reports_mean_and_std_beside_the_data(tmp_path, capsys):
    m = _json(capsys, "--checkpoint", _run(tmp_path, "gauss1d"), "--n", "200")["metrics"]
    assert m["data_mean"] == pytest.approx(4.0, abs=0.05) and m["data_std"] == pytest.approx(0.5, abs=0.05)
    assert {"mean", "std", "modes_covered"} <= set(m)


def test_images_get_the_classifier_scores_and_the_table_names_them(tmp_path, capsys):
    ckpt = _run(tmp_path, "digits")
    cache = ["--cache-dir", str(tmp_path / "cache")]
    result = _json(capsys, "--checkpoint", ckpt, "--n", "64", *cache)
    m = result["metrics"]
    assert result["classifier"]["held_out_accuracy"] > 0.95
    assert len(m["class_balance"]) == 10 and sum(m["class_balance"]) == pytest.approx(1)
    assert 1 <= m["is_style"] <= 10 and m["real_is_style"] > 5 and m["fd"] > m["real_fd"] > 0
    assert 0 <= m["confident"] <= 1
    assert evaluate.main(["--checkpoint", ckpt, "--n", "64", *cache]) == 0
    table = capsys.readouterr().out
    assert "FD (minigan digits classifier)" in table and "FID" not in table


def test_bad_checkpoints_are_one_line_errors(tmp_path, capsys):
    damaged = tmp_path / "damaged.npz"
    damaged.write_bytes(b"PK\x03\x04 truncated")
    not_a_run = tmp_path / "other.npz"
    np.savez(not_a_run, __meta__=np.array(json.dumps({"a": 1})))
    for path, message in [(tmp_path / "missing.npz", "no such file"), (damaged, "unreadable or truncated"),
                          (not_a_run, "not a training checkpoint")]:
        with pytest.raises(SystemExit) as exit_info:
            evaluate.main(["--checkpoint", str(path)])
        err = capsys.readouterr().err
        assert exit_info.value.code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_images_get_the_parzen_likelihood_of_held_out_digits(tmp_path, capsys):
    from minigan.metrics import parzen_protocol
    from minigan.metrics.classifier import split_rows
    ckpt = _run(tmp_path, "digits")
    cache = ["--cache-dir", str(tmp_path / "cache")]
    m = _json(capsys, "--checkpoint", ckpt, "--n", "64", *cache)["metrics"]
    # the protocol by hand: digits counts / 16 in [0, 1]; sigma on 1,000 training rows, scored on the 360 held out
    counts = load_dataset("digits").x.astype(np.float64) * 8 + 8
    train_rows, held_out = split_rows(len(counts))
    samples = np.clip((generate(load_checkpoint(ckpt), 64, seed=1) + 1) / 2, 0, 1)
    want = parzen_protocol(samples, counts[train_rows[:1000]] / 16, counts[held_out] / 16)
    assert len(held_out) == 360 and want["n_test"] == 360
    assert m["parzen_ll"] == pytest.approx(want["mean"], rel=1e-6) and m["parzen_se"] == pytest.approx(want["se"], rel=1e-6)
    assert m["parzen_sigma"] == pytest.approx(want["sigma"])
    assert evaluate.main(["--checkpoint", ckpt, "--n", "64", *cache]) == 0
    assert "Parzen log-likelihood of 360 digits images (seen in training), nats" in capsys.readouterr().out


def test_parzen_splits_follow_the_paper_for_mnist_and_say_when_images_were_seen(monkeypatch):
    import minigan.data
    from minigan.data import Dataset
    rng = np.random.default_rng(0)
    train = Dataset("mnist", rng.uniform(-1, 1, (51_000, 3)).astype(np.float32), (3,), "image")
    t10k = Dataset("mnist_test", rng.uniform(-1, 1, (10_000, 3)).astype(np.float32), (3,), "image")
    monkeypatch.setattr(minigan.data, "load_dataset", lambda name, data_dir=None: {"mnist_test": t10k}[name])
    valid, test, what = evaluate.parzen_splits(train)
    np.testing.assert_array_equal(valid, (train.x[50_000:51_000] + 1) / 2)
    np.testing.assert_array_equal(test, (t10k.x + 1) / 2)
    assert what == "MNIST t10k images"
    valid, test, what = evaluate.parzen_splits(t10k, quick=True)
    np.testing.assert_array_equal(valid, (t10k.x[:100] + 1) / 2)
    np.testing.assert_array_equal(test, (t10k.x[:500] + 1) / 2)
    assert "seen in training" in what
