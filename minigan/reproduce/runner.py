"""Running jobs in local worker processes (a Dask cluster is the issue's next step).

Each job runs at most twice: a failed job is retried once, then kept as failed (the table shows
it). Results are handed to ``on_result`` as they arrive, so whatever finished before a Ctrl-C
is already saved.
"""
import concurrent.futures as cf
import multiprocessing

from minigan.reproduce.jobs import run_job

ATTEMPTS = 2


def run_local(jobs, workers, on_result, run=None):
    """Run ``jobs`` in ``workers`` processes (spawned: no state inherited from this one);
    ``run`` (default :func:`run_job`, looked up at call time) runs one job."""
    run = run or run_job
    if workers == 1:   # in-process: easiest to debug, and what the workers do anyway
        for job in jobs:
            on_result(_with_retry(run, job))
        return
    with cf.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        try:
            pending = {pool.submit(run, job): (job, 1) for job in jobs}
            while pending:
                done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                for future in done:
                    job, attempt = pending.pop(future)
                    result = _outcome(future, job)
                    if result["status"] != "ok" and attempt < ATTEMPTS:
                        pending[pool.submit(run, job)] = (job, attempt + 1)
                    else:
                        on_result(dict(result, attempts=attempt))
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _with_retry(run, job):
    for attempt in range(1, ATTEMPTS + 1):
        result = run(job)
        if result["status"] == "ok":
            break
    return dict(result, attempts=attempt)


def _outcome(future, job):
    try:
        return future.result()
    except Exception as err:   # the worker process died (e.g. out of memory): still a result
        return {"job": job, "status": "failed", "error": f"{type(err).__name__}: {err}"}
