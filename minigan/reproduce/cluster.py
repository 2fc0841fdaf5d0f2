"""Running jobs on an existing Dask distributed cluster (``--scheduler ADDRESS``; ``pip install minigan[cluster]``).

    dask scheduler                                  # on one machine: prints tcp://HOST:8786
    dask worker tcp://HOST:8786 --nthreads 1 --nworkers 8    # on each machine: one job per process
    python -m minigan.reproduce pacgan --seeds 10 --scheduler tcp://HOST:8786

The client submits each job (a plain dict) with :func:`minigan.reproduce.jobs.run_job`, which the
workers import (install the same minigan and NumPy there); results come back to the client as
they finish and are saved there, so ``--out`` on the client's disk is what a rerun resumes from.
Each worker also writes the training run under the job's run folder (an absolute path: the
same folder on a shared file system, else the same path on the worker's own disk).

Same seeds, same numbers: a job draws everything from its seed and runs with one BLAS thread,
so a worker gives bit-identical results to a local run with the same NumPy build and CPU kernels.
The retry rule is the local one (:data:`minigan.reproduce.runner.ATTEMPTS`): a job whose result
is "failed", or whose worker died, is submitted once more, then reported as failed.
"""
import asyncio
import threading

import numpy as np

from minigan import __version__
from minigan.reproduce import runner

CONNECT_TIMEOUT_S = 10
# A job changes process-wide state (sys.stdout for its log, the BLAS thread count, minigan's
# backend): two at once in one worker process would tangle, so a worker runs one at a time.
_ONE_JOB_AT_A_TIME = threading.Lock()


class ClusterError(RuntimeError):
    """The cluster cannot be used; the message is one line naming the fix."""


def run_on_worker(run, job):
    """The task a Dask worker runs: ``run(job)`` alone in this process. A worker stopped mid-job
    (SIGINT/SIGTERM reach the trainer, which saves and returns 130/143) gives a failed result,
    so the client retries the job elsewhere instead of reading it as its own Ctrl-C."""
    with _ONE_JOB_AT_A_TIME:
        try:
            return run(job)
        except KeyboardInterrupt:
            return {"job": job, "status": "failed", "error": "the worker was stopped while running this job"}


def _versions():
    import minigan
    return minigan.__version__, np.__version__


async def _probe(address, timeout):
    from distributed.comm import connect
    comm = await connect(address, timeout=timeout)
    await comm.close()


def connect(address, timeout=None, log=None):
    """A ``dask.distributed.Client`` of the scheduler at ``address`` with at least one worker that
    runs minigan, or :class:`ClusterError`. ``log``: where to warn about version mismatches."""
    timeout = timeout or CONNECT_TIMEOUT_S
    try:
        from dask.distributed import Client
    except ImportError as err:
        raise ClusterError(f"--scheduler needs Dask distributed ({err}): pip install minigan[cluster]") from None
    try:
        # a bare connection first: a Client that fails to connect spends seconds more closing itself
        asyncio.run(_probe(address, timeout))
        client = Client(address, timeout=timeout, set_as_default=False)
    except Exception as err:
        raise ClusterError(f"--scheduler {address}: cannot reach a Dask scheduler there ({type(err).__name__}: "
                           f"{err}); start one with `dask scheduler` and pass the address it prints") from None
    try:
        client.wait_for_workers(1, timeout=timeout)
        versions = client.run(_versions)
    except Exception as err:
        client.close()
        raise ClusterError(f"--scheduler {address}: no worker that can run minigan ({type(err).__name__}: {err}); "
                           f"start workers with `dask worker {address} --nthreads 1` where minigan "
                           f"{__version__} is installed") from None
    if log and any(n > 1 for n in client.nthreads().values()):
        print("note: a worker with several threads runs one minigan job at a time (a job owns its process); "
              "start workers with --nthreads 1 --nworkers N to use every core", file=log, flush=True)
    mine = (__version__, np.__version__)
    odd = {worker: v for worker, v in versions.items() if tuple(v) != mine}
    if odd and log:
        print(f"warning: workers {', '.join(f'{w} (minigan {v[0]}, NumPy {v[1]})' for w, v in odd.items())} differ "
              f"from this client (minigan {mine[0]}, NumPy {mine[1]}): their numbers may not match a local run",
              file=log, flush=True)
    return client


def cores(client):
    """Jobs the cluster runs at once: one per worker process (see :data:`_ONE_JOB_AT_A_TIME`)."""
    return len(client.nthreads())


def run_dask(jobs, client, on_result, run=None):
    """Run ``jobs`` on the cluster behind ``client``; hand each result to ``on_result`` as it
    arrives. ``run`` (default :func:`run_job`, looked up at call time) must be importable on the
    workers. On any interruption the pending jobs are cancelled (a running one finishes on its worker);
    a job the cluster itself cancels (its scheduler went away) raises :class:`ClusterError`."""
    from dask.distributed import as_completed
    run = run or runner.run_job
    pending = {}

    def submit(job, attempt):
        future = client.submit(run_on_worker, run, job, pure=False)
        pending[future] = (job, attempt)
        return future

    queue = as_completed([submit(job, 1) for job in jobs], loop=client.loop)
    try:
        for future in queue:
            job, attempt = pending.pop(future)
            if future.cancelled():   # not by us (we cancel only on the way out): the scheduler lost it
                raise ClusterError(f"the Dask cluster dropped the job {job['row']} seed {job['seed']} (scheduler "
                                   "lost or restarted); the finished runs are kept: run the same command to resume")
            result = runner.outcome(future, job)
            if result["status"] != "ok" and attempt < runner.ATTEMPTS:
                queue.add(submit(job, attempt + 1))
            else:
                on_result(dict(result, attempts=attempt))
    except BaseException:
        client.cancel(list(pending))
        raise
