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
