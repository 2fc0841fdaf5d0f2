"""python -m minigan.reproduce: same numbers in parallel as serially, resume, retry, failures shown."""
import json

import pytest

from minigan.reproduce import __main__ as reproduce
from minigan.reproduce import runner
from minigan.reproduce.jobs import run_job


def _main(capsys, *args):
    capsys.readouterr()
    status = reproduce.main(list(args))
    return status, capsys.readouterr().out


def test_list_names_every_table_and_row(capsys):
    status, out = _main(capsys, "--list")
    assert status == 0 and "pacgan" in out and "veegan" in out and "grid PacGAN4" in out
    assert "recipes" in out and "ring nonsaturating --pack 2" in out


def test_parallel_and_serial_runs_give_identical_results_and_a_rerun_skips_them(tmp_path, capsys):
    quick = ["veegan", "--quick", "--seeds", "1"]
    assert _main(capsys, *quick, "--workers", "2", "--out", str(tmp_path / "par"))[0] == 0
    assert _main(capsys, *quick, "--workers", "1", "--out", str(tmp_path / "ser"))[0] == 0
    par, ser = (json.loads((tmp_path / d / "results.json").read_text()) for d in ("par", "ser"))
    assert [r["metrics"] for r in par] == [r["metrics"] for r in ser]    # bit-identical on NumPy
    assert [r["job"]["row"] for r in par] == ["ring GAN", "grid GAN"]
    table = (tmp_path / "par" / "table.md").read_text()
    assert "| ring GAN | 1.0 |" in table and "99.3" in table and "1/1" in table
    csv_lines = (tmp_path / "par" / "results.csv").read_text().splitlines()
    assert csv_lines[0].startswith("table,row,dataset,seed,status,modes_covered,high_quality") and len(csv_lines) == 3
    assert csv_lines[0].endswith(",wall_s,cpu_s,error") and all(0 < r["cpu_s"] for r in par)
    # the same command again: both runs are found finished and nothing is trained
    status, out = _main(capsys, *quick, "--workers", "2", "--out", str(tmp_path / "par"))
    assert status == 0 and "2 already finished" in out and "0 to run" in out


def test_a_failing_job_is_retried_once_then_reported(tmp_path, capsys, monkeypatch):
    calls = []

    def flaky(job):
        calls.append(job["row"])
        if job["row"] == "grid GAN" or calls.count(job["row"]) == 1:
            return {"job": job, "status": "failed", "error": "RuntimeError: boom"}
        return {"job": job, "status": "ok", "metrics": {"modes_covered": 8, "high_quality": 0.5}}
    monkeypatch.setattr(runner, "run_job", flaky)
    status, out = _main(capsys, "veegan", "--quick", "--seeds", "1", "--workers", "1", "--out", str(tmp_path))
    assert status == 0 and calls == ["ring GAN", "ring GAN", "grid GAN", "grid GAN"]
    assert "| ring GAN | 1.0 | 8.0 | 99.3 | 50.0 | 1/1 |" in out
    assert "0/1 (1 failed)" in out and "FAILED (RuntimeError: boom)" in out
    results = json.loads((tmp_path / "results.json").read_text())
    assert [r["status"] for r in results] == ["ok", "failed"] and results[1]["attempts"] == 2


def test_a_real_training_error_becomes_a_failed_result(tmp_path):
    job = {"table": "t", "row": "bad", "dataset": "ring", "seed": 0, "eval_n": 16, "quick": True,
           "train_args": ["--dataset", "ring", "--pack", "3", "--batch-size", "16", "--steps", "2"],
           "run_dir": str(tmp_path / "bad")}
    result = run_job(job)
    assert result["status"] == "failed" and "exited with status" in result["error"]
    assert "multiple" in (tmp_path / "bad" / "train.log").read_text()   # the trainer's own message


def test_unknown_rows_and_missing_table_are_one_line_errors(capsys):
    for args, message in [(["pacgan", "--rows", "ring-WGAN"], "ring-WGAN not in pacgan"), ([], "name a table")]:
        with pytest.raises(SystemExit):
            reproduce.main(args)
        assert message in capsys.readouterr().err


def test_goodfellow_without_the_training_split_is_one_line_naming_the_files(tmp_path, capsys, monkeypatch):
    from minigan.data import mnist

    def offline(url, dest, timeout=30):
        raise OSError("offline")
    monkeypatch.setattr(mnist, "fetch", offline)   # never the network in tests
    with pytest.raises(SystemExit):
        reproduce.main(["goodfellow", "--data-dir", str(tmp_path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "train-images-idx3-ubyte.gz" in err and "--data-dir" in err and "goodfellow-t10k" in err
