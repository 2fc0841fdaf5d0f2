"""Collecting results: per-run CSV and JSON, and the markdown table beside the paper's numbers.

Ours: mean +- standard error over the seeds that finished (s.e. = sample std (ddof=1) / sqrt(n));
failed runs are counted in the table's last column, never dropped silently.
"""
import csv
import json
import math

import numpy as np


def write_runs(out, table, results):
    """results.json (everything) and results.csv (one row per run, one column per metric)."""
    (out / "results.json").write_text(json.dumps(results, indent=1, allow_nan=False))
    keys = [c.key for c in table.columns]
    for r in results:   # then every other number a run reported (e.g. the Parzen s.e. and sigma)
        keys += [k for k, v in (r.get("metrics") or {}).items() if k not in keys and not isinstance(v, list)]
    with open(out / "results.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["table", "row", "dataset", "seed", "status", *keys, "wall_s", "cpu_s", "error"])
        for r in results:
            job, metrics = r["job"], r.get("metrics") or {}
            writer.writerow([job["table"], job["row"], job["dataset"], job["seed"], r["status"],
                             *[metrics.get(k) for k in keys], r.get("wall_s"), r.get("cpu_s"), r.get("error", "")])


def summarize(values):
    """(mean, standard error, n) of the finite values."""
    values = np.array([v for v in values if v is not None and math.isfinite(v)], dtype=np.float64)
    if len(values) == 0:
        return math.nan, math.nan, 0
    se = values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else math.nan
    return float(values.mean()), float(se), len(values)


def _fmt(mean, spread, column):
    if mean is None or not math.isfinite(mean):
        return "-"
    text = f"{mean * column.scale:.{column.digits}f}"
    if spread is not None and math.isfinite(spread):
        text += f" ± {spread * column.scale:.{column.digits}f}"
    return text


def _paper(value, column):
    """The paper's figure, given in the units shown (e.g. HQ in %), with its spread if it has one."""
    if value is None:
        return "-"
    mean, spread = value if isinstance(value, tuple) else (value, None)
    return _fmt(mean / column.scale, None if spread is None else spread / column.scale, column)


def markdown(table, results, seeds, quick=False):
    header = ["row"] + [f"{c.label}: {who}" for c in table.columns for who in ("paper", "ours")] + ["runs"]
    lines = [f"### {table.title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in table.rows:
        mine = [r for r in results if r["job"]["row"] == row.name]
        ok = [r for r in mine if r["status"] == "ok"]
        cells = [row.name]
        for column in table.columns:
            mean, se, _ = summarize([r["metrics"].get(column.key) for r in ok])
            cells += [_paper(row.paper.get(column.key), column), _fmt(mean, se, column)]
        failed = len(mine) - len(ok)
        cells.append(f"{len(ok)}/{seeds}" + (f" ({failed} failed)" if failed else ""))
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"Ours: mean ± standard error over seeds 0..{seeds - 1}. {table.note}."]
    if quick:
        lines.append("**--quick: every run shrunk to a smoke test; these numbers mean nothing.**")
    return "\n".join(lines) + "\n"
