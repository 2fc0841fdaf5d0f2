"""Running jobs in local worker processes (``cluster.py`` runs them on a Dask cluster, same rules).

Each job runs at most :data:`ATTEMPTS` times: a failed job is retried once, then kept as failed
(the table shows it). A worker process that dies (killed, out of memory) breaks the whole pool
and every job in flight with it, so those jobs are run again one at a time, each in a process of
its own, where a death can only be the job's own; then the pool carries on with the rest.
Results are handed to ``on_result`` as they arrive, so whatever finished before a Ctrl-C is saved.
"""
import concurrent.futures as cf
import functools
import multiprocessing
from concurrent.futures.process import BrokenProcessPool

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
    todo = [(job, 1) for job in jobs]
    while todo:
        todo, broken = _run_pool(todo, workers, run, on_result)
        for job, attempt in broken:   # the break is not counted against them: it may not be theirs
            on_result(_with_retry(functools.partial(_alone, run), job, attempt))


def _pool(workers):
    return cf.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))


def _run_pool(todo, workers, run, on_result):
    """Run (job, attempt) pairs, ``workers`` at a time, until all are done or the pool breaks.
    Returns (the pairs not yet started, the pairs that were in flight when the pool broke)."""
    todo, pending, broken, pool_broke = list(todo), {}, [], False
    with _pool(workers) as pool:
        try:
            while pending or (todo and not pool_broke):
                while todo and not pool_broke and len(pending) < workers:
                    job, attempt = todo.pop(0)
                    try:
                        pending[pool.submit(run, job)] = (job, attempt)
                    except BrokenProcessPool:
                        todo.insert(0, (job, attempt))
                        pool_broke = True
                if not pending:
                    break
                done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                for future in done:
                    job, attempt = pending.pop(future)
                    if isinstance(future.exception(), BrokenProcessPool):
                        broken.append((job, attempt))
                        pool_broke = True
                        continue
                    result = outcome(future, job)
                    if result["status"] != "ok" and attempt < ATTEMPTS:
                        todo.insert(0, (job, attempt + 1))
                    else:
                        on_result(dict(result, attempts=attempt))
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return todo, broken


def _alone(run, job):
    """``run(job)`` in a fresh process of its own; a failed result if that process dies."""
    with _pool(1) as pool:
        return outcome(pool.submit(run, job), job)


def _with_retry(run, job, first=1):
    for attempt in range(first, ATTEMPTS + 1):
        result = run(job)
        if result["status"] == "ok":
            break
    return dict(result, attempts=attempt)


def outcome(future, job):
    """The job's result, or a failed one if it never came back (its worker process died, a Dask
    worker could not import the job...). A KeyboardInterrupt from the job is raised here."""
    try:
        return future.result()
    except BrokenProcessPool:
        return {"job": job, "status": "failed", "error": "its worker process died (killed, out of memory or crashed)"}
    except Exception as err:
        return {"job": job, "status": "failed", "error": f"{type(err).__name__}: {err}"}
