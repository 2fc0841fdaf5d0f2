"""``python -m minigan.reproduce TABLE``: a paper's table, every run trained and scored, ours beside theirs.

    python -m minigan.reproduce --list
    python -m minigan.reproduce pacgan --quick --seeds 1 --out runs/table-smoke
    python -m minigan.reproduce pacgan --seeds 3 --workers 2 --out runs/pacgan
    python -m minigan.reproduce pacgan --seeds 10 --scheduler tcp://HOST:8786   # a Dask cluster

Each (row, seed) is a job run in its own worker process with one BLAS thread, locally or on the
Dask workers (``cluster.py``); ``--out`` gets ``runs/ROW-seedS/`` (the training run and
result.json), results.csv, results.json and table.md. Run it again and finished jobs are
skipped: an interrupted table resumes where it stopped.
"""
import os
import pathlib
import sys
import time

from minigan import __version__
from minigan.train import _Parser, _positive_int


def build_parser():
    from minigan.reproduce.tables import table_names
    p = _Parser(prog="python -m minigan.reproduce", description="Reproduce a paper's table with minigan.")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument("table", nargs="?", choices=table_names(), help="the table to reproduce")
    p.add_argument("--list", action="store_true", help="list the tables and their rows, then exit")
    p.add_argument("--seeds", type=_positive_int, default=3, help="seeds per row (0, 1, ...; default 3)")
    p.add_argument("--workers", type=_positive_int, default=None,
                   help="local worker processes (default: the number of cores)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run the jobs on the Dask cluster of this scheduler, e.g. tcp://10.0.0.5:8786 "
                        "(pip install minigan[cluster]); results come back here")
    p.add_argument("--rows", nargs="+", default=None, metavar="ROW",
                   help="only these rows, e.g. ring-GAN grid-PacGAN2 (default: all; see --list)")
    p.add_argument("--quick", action="store_true", help="shrink every run to a smoke test (seconds)")
    p.add_argument("--data-dir", default=None,
                   help="folder with the MNIST files (goodfellow tables; default $MINIGAN_DATA_DIR or data/)")
    p.add_argument("--out", default=None, help="output folder (default runs/reproduce-TABLE)")
    return p


def list_tables():
    from minigan.reproduce.tables import TABLES
    for table in TABLES.values():
        print(f"{table.name:8} {table.title}")
        for row in table.rows:
            print(f"           {row.name:14} python -m minigan.train --dataset {row.dataset} {' '.join(row.train_args)}")


def select_rows(parser, table, names):
    """The table with only the rows named (spaces or hyphens, any case)."""
    import dataclasses
    key = lambda name: name.lower().replace(" ", "-")
    known = {key(row.name): row for row in table.rows}
    unknown = [n for n in names if key(n) not in known]
    if unknown:
        parser.error(f"--rows: {', '.join(unknown)} not in {table.name}; its rows: {', '.join(known)}")
    wanted = {key(n) for n in names}
    return dataclasses.replace(table, rows=tuple(r for r in table.rows if key(r.name) in wanted))


def check_mnist_train(parser, data_dir):
    """The MNIST training split, downloaded if missing and allowed; else one line naming the files."""
    from minigan.data import DataError, load_mnist
    try:
        load_mnist("train", data_dir)
    except DataError as err:
        parser.error(f"this table needs the MNIST training split: {err}; or pass --data-dir FOLDER "
                     "(goodfellow-t10k is a stand-in that needs only the t10k files)")


def run_jobs(parser, args, todo, on_result):
    """Run ``todo`` locally (``--workers``) or on the Dask cluster (``--scheduler``), each result
    to ``on_result`` as it comes; returns the exit status (1: the cluster was lost on the way)."""
    from minigan.reproduce.runner import run_local
    if args.scheduler is None:
        workers = min(args.workers or os.cpu_count() or 1, max(len(todo), 1))
        print(f"running {len(todo)} on {workers} local workers", flush=True)
        run_local(todo, workers, on_result)
        return 0
    from minigan.reproduce.cluster import ClusterError, connect, cores, run_dask
    try:
        client = connect(args.scheduler, log=sys.stderr)
    except ClusterError as err:
        parser.error(str(err))
    with client:
        print(f"running {len(todo)} on the Dask cluster at {args.scheduler} ({cores(client)} worker processes)",
              flush=True)
        try:
            run_dask(todo, client, on_result)
        except ClusterError as err:
            print(f"{parser.prog}: error: {err}", file=sys.stderr, flush=True)
            return 1
    return 0


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list:
        list_tables()
        return 0
    if args.table is None:
        parser.error("name a table (pacgan, veegan, goodfellow, goodfellow-t10k) or pass --list")
    if args.scheduler is not None and args.workers is not None:
        parser.error("--workers is for local runs; with --scheduler the cluster's workers run the jobs")
    from minigan.reproduce.jobs import finished_result, make_jobs, save_result
    from minigan.reproduce.report import markdown, write_runs
    from minigan.reproduce.tables import get_table

    table = get_table(args.table)
    if args.rows:
        table = select_rows(parser, table, args.rows)
    # absolute: Dask workers run elsewhere (another folder, another machine) and write there too
    out = pathlib.Path(args.out or f"runs/reproduce-{table.name}").absolute()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        parser.error(f"--out {out}: cannot create it ({err.strerror or err}); choose another folder")
    if table.needs_mnist_train:
        check_mnist_train(parser, args.data_dir)
    jobs = make_jobs(table, args.seeds, out, args.quick, args.data_dir)
    results, todo = [], []
    for job in jobs:
        done = finished_result(job)   # its saved job may name the folder by another path: keep this one
        (results.append(dict(done, job=job, skipped=True)) if done else todo.append(job))
    print(f"{table.name}: {len(jobs)} runs, {len(results)} already finished in {out}, {len(todo)} to run", flush=True)

    def on_result(result):
        save_result(result)   # here too: a cluster's workers may have written theirs on another disk
        results.append(result)
        job = result["job"]
        status = "ok" if result["status"] == "ok" else f"FAILED ({result.get('error')})"
        print(f"  [{len(results)}/{len(jobs)}] {job['row']} seed {job['seed']}: {status}, "
              f"{result.get('wall_s', 0):.1f} s", flush=True)

    start, status = time.perf_counter(), 0
    try:
        if todo:
            status = run_jobs(parser, args, todo, on_result)
    except KeyboardInterrupt:
        status = 130
        print("interrupted: the finished runs are kept; run the same command again to resume", file=sys.stderr)
    order = {job["run_dir"]: i for i, job in enumerate(jobs)}
    results.sort(key=lambda r: order[r["job"]["run_dir"]])
    write_runs(out, table, results)
    text = markdown(table, results, args.seeds, args.quick)
    (out / "table.md").write_text(text)
    print(f"\n{text}\nwall time {time.perf_counter() - start:.1f} s; wrote {out / 'table.md'}, results.csv, results.json")
    return status


if __name__ == "__main__":
    sys.exit(main())
