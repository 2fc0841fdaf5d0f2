"""python -m minigan.reproduce --scheduler: a real Dask cluster (a scheduler and two worker
processes on 127.0.0.1) gives the local run's numbers bit for bit, retries and reports failures,
and a missing Dask or an unreachable scheduler is one line naming the fix."""
import json
import socket
import sys

import pytest
from dask.distributed import LocalCluster

from minigan.reproduce import __main__ as reproduce
from minigan.reproduce import cluster

# rows with numbers that are not all zero even under --quick, and a pack of 3 (batch 63)
ROWS = ["--rows", "ring-GAN", "ring-PacGAN3", "grid-GAN", "grid-PacGAN2"]


@pytest.fixture(scope="module")
def scheduler():
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None) as dask_cluster:
        yield dask_cluster.scheduler_address


def _run(capsys, *args):
    capsys.readouterr()
    status = reproduce.main(["pacgan", "--quick", "--seeds", "1", *ROWS, *args])
    return status, capsys.readouterr()


def test_the_cluster_gives_the_local_numbers_bit_for_bit(tmp_path, capsys, scheduler):
    status, printed = _run(capsys, "--scheduler", scheduler, "--out", str(tmp_path / "dask"))
    assert status == 0 and "on the Dask cluster at" in printed.out and "(2 worker processes)" in printed.out
    assert _run(capsys, "--workers", "1", "--out", str(tmp_path / "local"))[0] == 0
    dask, local = (json.loads((tmp_path / d / "results.json").read_text()) for d in ("dask", "local"))
    assert [r["job"]["row"] for r in dask] == ["ring GAN", "ring PacGAN3", "grid GAN", "grid PacGAN2"]
    assert [r["status"] for r in dask] == ["ok"] * 4
    assert [r["metrics"] for r in dask] == [r["metrics"] for r in local]   # == on floats: bit-identical
    assert any(r["metrics"]["high_quality"] > 0 for r in dask)          # not merely zeros on both sides
    for row in ("ring-GAN", "ring-PacGAN3", "grid-GAN", "grid-PacGAN2"):   # every loss of every step
        runs = [(tmp_path / d / "runs" / f"{row}-seed0" / "metrics.csv").read_bytes() for d in ("dask", "local")]
        assert runs[0] == runs[1]
    csv = [(tmp_path / d / "results.csv").read_text().splitlines() for d in ("dask", "local")]
    assert [line.split(",")[:9] for line in csv[0]] == [line.split(",")[:9] for line in csv[1]]
    # the results came back to the client, which saved them: a rerun needs no cluster at all
    status, printed = _run(capsys, "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "dask"))
    assert status == 0 and "4 already finished" in printed.out


def test_a_failing_job_on_the_cluster_is_retried_once_then_reported(tmp_path, scheduler):
    bad = {"table": "t", "row": "bad", "dataset": "ring", "seed": 0, "eval_n": 16, "quick": True,
           "train_args": ["--dataset", "ring", "--pack", "3", "--batch-size", "16", "--steps", "2"],
           "run_dir": str(tmp_path / "bad")}
    results = []
    with cluster.connect(scheduler) as client:
        cluster.run_dask([bad], client, results.append)
    assert len(results) == 1 and results[0]["status"] == "failed" and results[0]["attempts"] == 2
    assert "exited with status" in results[0]["error"]


def test_an_interrupted_cluster_run_keeps_what_finished(tmp_path, scheduler):
    from minigan.reproduce.jobs import make_jobs
    from minigan.reproduce.tables import get_table
    jobs = make_jobs(get_table("veegan"), 2, tmp_path, quick=True)

    def stop_after_the_first(result):
        raise KeyboardInterrupt
    with cluster.connect(scheduler) as client, pytest.raises(KeyboardInterrupt):
        cluster.run_dask(jobs, client, stop_after_the_first)
    # the job that finished wrote its result where a rerun finds it
    finished = [json.loads((p / "result.json").read_text()) for p in (tmp_path / "runs").iterdir()
                if (p / "result.json").exists()]
    assert finished and all(r["status"] == "ok" for r in finished)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_scheduler_is_one_line_naming_the_address(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1)
    address = f"tcp://127.0.0.1:{_free_port()}"
    for where, message in [(address, f"--scheduler {address}: cannot reach a Dask scheduler"),
                           ("no-port-here", "--scheduler no-port-here: cannot reach")]:
        with pytest.raises(SystemExit) as exit_info:
            _run(capsys, "--scheduler", where, "--out", str(tmp_path))
        err = capsys.readouterr().err
        assert exit_info.value.code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_without_dask_the_error_names_the_extra(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)   # import dask.distributed -> ImportError
    with pytest.raises(SystemExit):
        _run(capsys, "--scheduler", "tcp://127.0.0.1:8786", "--out", str(tmp_path))
    err = capsys.readouterr().err
    assert "pip install minigan[cluster]" in err and len(err.strip().splitlines()) == 1


def test_workers_and_scheduler_together_are_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        _run(capsys, "--scheduler", "tcp://127.0.0.1:8786", "--workers", "2", "--out", str(tmp_path))
    assert "--workers is for local runs" in capsys.readouterr().err


def test_a_stopped_worker_gives_a_failed_result_not_a_ctrl_c(tmp_path):
    def stopped(job):
        raise KeyboardInterrupt
    job = {"row": "r", "run_dir": str(tmp_path)}
    assert cluster.run_on_worker(stopped, job) == {
        "job": job, "status": "failed", "error": "the worker was stopped while running this job"}


def test_workers_with_another_minigan_are_named_in_a_warning(scheduler, monkeypatch):
    import io
    log = io.StringIO()
    with cluster.connect(scheduler, log=log):
        assert log.getvalue() == ""   # same minigan and NumPy, one thread each: nothing to say
    monkeypatch.setattr(cluster, "__version__", "0.0.0-elsewhere")   # as if this client were another version
    with cluster.connect(scheduler, log=log):
        pass
    assert "warning: workers tcp://127.0.0.1:" in log.getvalue() and "may not match a local run" in log.getvalue()


def test_a_job_the_cluster_drops_stops_the_table_with_one_line_not_a_failure(tmp_path, capsys, scheduler, monkeypatch):
    from minigan.reproduce.jobs import make_jobs
    from minigan.reproduce.tables import get_table
    job = make_jobs(get_table("veegan"), 1, tmp_path / "direct", quick=True)[0]
    with cluster.connect(scheduler) as client:
        submit = client.submit

        def submitted_then_lost(*args, **kwargs):   # as when the scheduler goes away mid-run
            future = submit(*args, **kwargs)
            future.cancel()
            return future
        monkeypatch.setattr(client, "submit", submitted_then_lost)
        results = []
        with pytest.raises(cluster.ClusterError, match="dropped the job ring GAN seed 0"):
            cluster.run_dask([job], client, results.append)
        assert results == []   # not reported as a failed run: nothing ran
    # the CLI: one line, exit status 1, the table of what finished still written
    def lost(jobs, client, on_result):
        on_result(dict(_fake_ok(jobs[0]), attempts=1))
        raise cluster.ClusterError("the Dask cluster dropped the job grid GAN seed 0 (scheduler lost or restarted)")
    monkeypatch.setattr(cluster, "run_dask", lost)
    capsys.readouterr()
    status = reproduce.main(["veegan", "--quick", "--seeds", "1", "--scheduler", scheduler, "--out", str(tmp_path / "cli")])
    err = capsys.readouterr().err
    assert status == 1 and "error: the Dask cluster dropped the job grid GAN" in err
    table = (tmp_path / "cli" / "table.md").read_text()
    assert "| ring GAN | 1.0 | 8.0 |" in table and "0/1 |" in table


def _fake_ok(job):
    return {"job": job, "status": "ok", "metrics": {"modes_covered": 8, "high_quality": 0.5}}
