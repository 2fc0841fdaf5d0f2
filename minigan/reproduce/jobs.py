"""One job = one (row, seed): train with ``minigan.train``, score with ``minigan.evaluate``.

A job is a plain dict (picklable, JSON-able), so the same job runs in a local worker process
or on a Dask worker and gives the same numbers: everything random in it comes from its seed.
Its run folder holds the training run and ``result.json``; a result whose job equals the one
asked for is reused (an interrupted table resumes), any other is run again.
"""
import contextlib
import json
import pathlib
import time
import traceback

from minigan.reproduce.tables import QUICK_EVAL_N, QUICK_TRAIN

RESULT = "result.json"


def make_jobs(table, seeds, out, quick=False, data_dir=None):
    """The table's jobs, row by row, seed 0..seeds-1."""
    jobs = []
    for row in table.rows:
        args = ["--dataset", row.dataset, *row.train_args, *((*QUICK_TRAIN, *row.quick_args) if quick else ()),
                *(("--data-dir", data_dir) if data_dir else ())]
        for seed in range(seeds):
            folder = pathlib.Path(out) / "runs" / f"{row.name.replace(' ', '-')}-seed{seed}"
            jobs.append({"table": table.name, "row": row.name, "dataset": row.dataset, "seed": seed,
                         "train_args": args, "eval_n": QUICK_EVAL_N if quick else table.eval_n,
                         "quick": quick, "score": table.score, "data_dir": data_dir, "run_dir": str(folder)})
    return jobs


def finished_result(job):
    """The saved result of this very job (same flags, seed, size), or None."""
    path = pathlib.Path(job["run_dir"]) / RESULT
    try:
        result = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    same = {k: v for k, v in result.get("job", {}).items() if k != "run_dir"} == \
        {k: v for k, v in job.items() if k != "run_dir"}
    return result if same and result.get("status") == "ok" else None


def run_job(job):
    """Train and evaluate one job in this process, with one BLAS thread; returns its result dict
    (status "ok" with metrics, or "failed" with the error) and writes it to the run folder."""
    from threadpoolctl import threadpool_limits
    from minigan import train
    from minigan.evaluate import evaluate_state
    from minigan.gan import load_checkpoint
    folder = pathlib.Path(job["run_dir"])
    folder.mkdir(parents=True, exist_ok=True)
    start, cpu_start = time.perf_counter(), time.process_time()
    result = {"job": job, "status": "failed"}
    try:
        with threadpool_limits(1), open(folder / "train.log", "w") as log, \
                contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            argv = [*job["train_args"], "--seed", str(job["seed"]), "--threads", "1", "--no-progress",
                    "--overwrite", "--out", str(folder)]
            try:
                status = train.main(argv)
            except SystemExit as exit_:   # a one-line argument error: its text is in train.log
                status = exit_.code
            if status in (130, 143):   # the trainer caught Ctrl-C/SIGTERM and saved: stop the table, do not retry
                raise KeyboardInterrupt
            if status != 0:
                raise RuntimeError(f"python -m minigan.train exited with status {status}; see {folder / 'train.log'}")
            state = load_checkpoint(folder / "checkpoint.npz")
            if job.get("score") == "parzen":   # the goodfellow tables: the likelihood alone, on eval_n samples
                metrics = parzen_scores(state, job)
            else:
                metrics = evaluate_state(state, job["eval_n"], seed=1, data_dir=job.get("data_dir"), log=None)["metrics"]
        result.update(status="ok", metrics=metrics, step=state["trainer"]["step"])
    except Exception as err:   # reported in the table as failed, never dropped
        result.update(error=f"{type(err).__name__}: {err}", traceback=traceback.format_exc())
    result["wall_s"] = round(time.perf_counter() - start, 3)
    # with one BLAS thread, the CPU time is what the run costs on an idle core, however busy the machine
    result["cpu_s"] = round(time.process_time() - cpu_start, 3)
    save_result(result)
    return result


def save_result(result):
    """Write ``result`` to its job's run folder as result.json, atomically (a kill never leaves half a file)."""
    folder = pathlib.Path(result["job"]["run_dir"])
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (RESULT + ".tmp")
    tmp.write_text(json.dumps(result, indent=1, allow_nan=False))
    tmp.replace(folder / RESULT)


def parzen_scores(state, job):
    """{"parzen_ll", "parzen_se", "parzen_sigma"} of the generator in ``state``: minigan.evaluate's
    Parzen rows (Goodfellow et al.'s protocol) without the classifier scores."""
    from minigan.data import load_dataset
    from minigan.evaluate import parzen_metrics
    from minigan.sample import generate
    data = load_dataset(state["config"]["dataset"], job.get("data_dir"))
    rows = parzen_metrics(generate(state, job["eval_n"], seed=1), data, job.get("data_dir"), job["quick"])
    return {key: value for key, _, value in rows}
