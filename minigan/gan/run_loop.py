"""The training loop of ``python -m minigan.train``: steps, metrics.csv, pictures, checkpoints, and
the ways a run can end short of its last step (divergence, Ctrl-C / SIGTERM, a full disk), each
with one line saying where the last good checkpoint is and how to continue.
"""
import math
import shlex
import signal
import sys
import threading
import time
import warnings

REPORT_SECONDS = 60   # without a progress bar, a line at least this often


class StopSignals:
    """SIGINT / SIGTERM: the first one asks the loop to stop after the current step (it saves a
    checkpoint and says how to resume); a second one stops at once."""

    def __init__(self):
        self.signal = None

    def __enter__(self):
        self._old = {}
        # only the main thread may install handlers (and only it receives signals): a run in another
        # thread, e.g. a Dask worker's task, leaves the signals to the process that hosts it
        if threading.current_thread() is threading.main_thread():
            self._old = {s: signal.signal(s, self._handle) for s in (signal.SIGINT, signal.SIGTERM)}
        return self

    def _handle(self, signum, frame):
        if self.signal is not None:
            raise KeyboardInterrupt
        self.signal = signum

    def __exit__(self, *exc):
        for s, handler in self._old.items():
            signal.signal(s, handler)


def run_training(trainer, loader, dataset, config, out, total, backend, args, progress, previous=None):
    """Step ``trainer`` to ``total`` generator steps, logging, drawing and checkpointing into ``out``;
    returns the exit status (0 done, 1 diverged or disk full, 128 + signal when stopped)."""
    import minigan as mg
    from minigan.gan import save_checkpoint
    from minigan.gan.trainer import metrics_to_host
    from minigan.gan.run_folder import (FIELDS, MetricsLog, fixed_labels, fixed_noise, read_metrics,
                                        save_sample_pictures)
    from minigan.gan.run_guard import is_disk_full
    from minigan.plot import save_loss_curves
    from tqdm import tqdm

    log = MetricsLog(out / "metrics.csv", read_metrics(out / "metrics.csv", upto=trainer.step_count))
    z_fixed = mg.tensor(fixed_noise(config))
    y_fixed = None if fixed_labels(config) is None else mg.tensor(fixed_labels(config))
    resume_hint = f"python -m minigan.train --resume --out {shlex.quote(str(out))}"

    def checkpoint():
        save_checkpoint(out / "checkpoint.npz", {
            "trainer": trainer.state_dict(), "loader": loader.state_dict(), "rng": backend.get_rng_state(),
            "config": config, "progress": {"steps": progress["steps"], "frames": progress["frames"]}})
        if previous is not None and previous.moved:
            previous.discard()   # the new run has a checkpoint of its own: the old one can go

    def last_good():
        if previous is not None and previous.moved:
            return "none of this run yet (the previous run is kept)"
        return str(out / "checkpoint.npz") if (out / "checkpoint.npz").exists() else "none saved yet"

    reported = [time.monotonic()]

    def report(step, row):
        print(f"step {step}/{total}: d_loss={row['d_loss']:.4f} g_loss={row['g_loss']:.4f}", flush=True)
        reported[0] = time.monotonic()

    bar = tqdm(total=total, initial=trainer.step_count, disable=True if args.no_progress else None, unit="step",
               desc=f"{config['dataset']}/{config['loss']}", dynamic_ncols=True)
    try:
        with StopSignals() as stop, warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)   # overflow on the way to a divergence: reported below
            pending = []   # the metrics of the steps since the last read-back, still on the device
            while trainer.step_count < total and stop.signal is None:
                pending.append(trainer.step())
                step = trainer.step_count
                bar.update(1)
                sample = step % config["sample_every"] == 0 or step == total
                late = bar.disable and time.monotonic() - reported[0] > REPORT_SECONDS
                if step % config["log_every"] and not sample and not late and stop.signal is None:
                    continue   # no host sync on this step: the metrics wait for the next read-back
                # one transfer for all of them; a divergence among them stops the run before any
                # checkpoint of a later step is written, so the last good checkpoint stays the last one
                rows, pending = metrics_to_host(pending), []
                bad = next((r for r in rows if not all(math.isfinite(r[k]) and abs(r[k]) <= args.max_loss
                                                       for k in ("d_loss", "g_loss"))), None)
                if bad is not None:
                    bar.close()
                    log.flush()
                    losses = (bad["d_loss"], bad["g_loss"])
                    what = "non-finite loss" if not all(map(math.isfinite, losses)) else \
                        f"loss beyond --max-loss {args.max_loss:g} (diverged)"
                    print(f"error: {what} at step {bad['step']} (d_loss={bad['d_loss']:.4g}, "
                          f"g_loss={bad['g_loss']:.4g}); training stopped; last good checkpoint: {last_good()}",
                          file=sys.stderr)
                    return 1
                row = rows[-1]
                row["epoch"] = (step - 1) // config["steps_per_epoch"] + 1
                if step % config["log_every"] == 0 or step == total:
                    log.append(row)
                bar.set_postfix(d_loss=f"{row['d_loss']:.3f}", g_loss=f"{row['g_loss']:.3f}",
                                d_real=f"{row['d_real']:.2f}", d_fake=f"{row['d_fake']:.2f}", refresh=False)
                if sample:
                    log.flush()
                    samples = trainer.generate(z_fixed, y_fixed).numpy()
                    save_sample_pictures(out, samples, dataset, config, step, progress, final=step == total)
                    checkpoint()
                    if bar.disable:   # no bar (not a terminal, or --no-progress): a line per checkpoint
                        report(step, row)
                elif late:            # ... and every minute
                    report(step, row)
            if stop.signal is not None:
                log.flush()
                checkpoint()
                bar.close()
                name = "SIGINT" if stop.signal == signal.SIGINT else "SIGTERM"
                print(f"stopped by {name} at step {trainer.step_count} of {total}; checkpoint saved to "
                      f"{out / 'checkpoint.npz'}; continue with: {resume_hint}", file=sys.stderr)
                return 128 + stop.signal
    except KeyboardInterrupt:   # the second signal: no checkpoint, the last one is intact (atomic writes)
        print(f"stopped at once; last good checkpoint: {last_good()}; continue with: {resume_hint}", file=sys.stderr)
        return 130
    except OSError as err:
        if not is_disk_full(err):
            raise
        print(f"error: the disk is full ({err.filename or out}: {err.strerror}); training stopped at step "
              f"{trainer.step_count}; last good checkpoint: {last_good()}; free some space and continue with: "
              f"{resume_hint}", file=sys.stderr)
        return 1
    finally:
        bar.close()
        try:
            log.close()
        except OSError:
            pass
    history = log.history
    if history:
        save_loss_curves(out / "losses.png", {k: [r[k] for r in history] for k in FIELDS if k != "epoch"},
                         title=f"{config['dataset']} {config['loss']}")
    last = history[-1] if history else {}
    print(f"done: {trainer.step_count} steps; " + ", ".join(f"{k}={last[k]:.4f}" for k in FIELDS[2:] if k in last)
          + f"; wrote {out}/")
    return 0
