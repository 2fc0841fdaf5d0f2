"""python -m minigan.reproduce: same numbers in parallel as serially, resume, retry, failures shown."""
import json
from pathlib import Path

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


# Job functions for the worker-pool tests: module level, so spawned workers import them by name.
# Each call leaves a file in its run folder, so the test counts calls across processes.
def _count_call(job):
    import pathlib
    folder = pathlib.Path(job["run_dir"])
    folder.mkdir(parents=True, exist_ok=True)
    calls = len(list(folder.glob("call-*"))) + 1
    (folder / f"call-{calls}").touch()
    return calls


def _ok(job):
    return {"job": job, "status": "ok", "metrics": {"modes_covered": 8, "high_quality": 0.5}}


def _ring_fails_once_grid_always(job):
    calls = _count_call(job)
    if job["row"] == "grid GAN" or calls == 1:
        return {"job": job, "status": "failed", "error": f"RuntimeError: call {calls}"}
    return _ok(job)


def _ring_kills_its_worker(job):
    import os
    _count_call(job)
    if job["row"] == "ring GAN":
        os._exit(3)   # as if killed for memory: no result, no exception, the process is gone
    return _ok(job)


def _calls(tmp_path, row):
    return len(list((tmp_path / "runs" / f"{row}-seed0").glob("call-*")))


def test_a_failing_job_in_the_worker_pool_is_retried_once_then_reported(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(runner, "run_job", _ring_fails_once_grid_always)
    status, out = _main(capsys, "veegan", "--quick", "--seeds", "1", "--workers", "2", "--out", str(tmp_path))
    assert status == 0 and _calls(tmp_path, "ring-GAN") == 2 and _calls(tmp_path, "grid-GAN") == 2
    assert "| ring GAN | 1.0 | 8.0 | 99.3 | 50.0 | 1/1 |" in out and "0/1 (1 failed)" in out
    results = json.loads((tmp_path / "results.json").read_text())
    assert [(r["status"], r["attempts"]) for r in results] == [("ok", 2), ("failed", 2)]
    assert results[1]["error"] == "RuntimeError: call 2"
    # the failed run is saved as failed, so the next run of the table tries it again
    saved = json.loads((tmp_path / "runs" / "grid-GAN-seed0" / "result.json").read_text())
    assert saved["status"] == "failed"


def test_a_worker_that_dies_fails_only_its_own_job(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(runner, "run_job", _ring_kills_its_worker)
    status, out = _main(capsys, "veegan", "--quick", "--seeds", "1", "--workers", "2", "--out", str(tmp_path))
    results = json.loads((tmp_path / "results.json").read_text())
    assert status == 0 and [r["status"] for r in results] == ["failed", "ok"]
    assert "worker process died" in results[0]["error"] and results[0]["attempts"] == 2
    # once in the pool (whose break names no culprit), then twice alone, where the death is its own
    assert _calls(tmp_path, "ring-GAN") == 3
    assert results[1]["attempts"] == 1         # the pool's break is not counted against the grid job
    assert "0/1 (1 failed)" in out and "| grid GAN | 3.3 | 8.0 |" in out


def _grid_interrupted_after_ring(job):
    import time
    from minigan.reproduce.jobs import save_result
    if job["row"] == "ring GAN":
        result = _ok(job)
        save_result(result)   # what run_job does the moment a run finishes
        return result
    ring = Path(job["run_dir"]).parent / "ring-GAN-seed0" / "result.json"
    for _ in range(600):   # Ctrl-C once the ring job has finished
        if ring.exists():
            break
        time.sleep(0.05)
    raise KeyboardInterrupt


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_keeps_the_finished_runs_and_the_table_resumes(tmp_path, capsys, monkeypatch, workers):
    monkeypatch.setattr(runner, "run_job", _grid_interrupted_after_ring)
    args = ["veegan", "--quick", "--seeds", "1", "--workers", workers, "--out", str(tmp_path)]
    status, out = _main(capsys, *args)
    assert status == 130 and (tmp_path / "table.md").exists()
    monkeypatch.setattr(runner, "run_job", _ok)
    status, out = _main(capsys, *args)
    assert status == 0 and "1 already finished" in out and "1 to run" in out
    results = json.loads((tmp_path / "results.json").read_text())
    assert [(r["job"]["row"], r["status"], r.get("skipped", False)) for r in results] == \
        [("ring GAN", "ok", True), ("grid GAN", "ok", False)]
