"""Keeping a run folder whole: one run at a time, and ``--overwrite`` that never mixes two runs.

* :class:`RunLock` — ``OUT/.lock`` holds the owner's pid and host, created atomically
  (``O_CREAT | O_EXCL``), so of two runs started into one folder the second is refused. A lock
  whose process is gone (same host, pid not alive) is stale and taken over; a lock from another
  host is never guessed about.
* :func:`check_resume` — which settings may change when a run is resumed, and how.
* :class:`PreviousRun` — ``--overwrite`` first moves the old run's files into ``OUT/.previous-run/``;
  they are deleted once the new run has written its first checkpoint, and put back if it fails
  before that. At no moment does the folder hold files of two runs side by side.
"""
import errno
import json
import os
import shutil
import socket

RUN_FILES = ("checkpoint.npz", "config.json", "metrics.csv", "samples.png", "progress.png", "losses.png")


class RunInUse(RuntimeError):
    pass


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # someone else's process: alive
        return True
    return True


class RunLock:
    def __init__(self, out):
        self.path = out / ".lock"
        self.held = False

    def acquire(self):
        me = {"pid": os.getpid(), "host": socket.gethostname()}
        for _ in range(2):    # a second try after removing a stale lock
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                owner = self._owner()
                if owner and owner.get("host") == me["host"] and isinstance(owner.get("pid"), int) \
                        and not _alive(owner["pid"]):
                    self.path.unlink(missing_ok=True)   # stale: its process has gone
                    continue
                who = f"pid {owner['pid']} on {owner['host']}" if owner else "an unknown process"
                raise RunInUse(f"{self.path.parent} is in use by another run ({who}; lock file {self.path}); "
                               "wait for it to finish or choose another --out") from None
            with os.fdopen(fd, "w") as f:
                json.dump(me, f)
            self.held = True
            return self
        raise RunInUse(f"could not take the lock {self.path}; remove it if no run is using the folder")

    def _owner(self):
        try:
            owner = json.loads(self.path.read_text())
            return owner if isinstance(owner, dict) and {"pid", "host"} <= set(owner) else None
        except (OSError, ValueError):
            return None

    def release(self):
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


class PreviousRun:
    """The old run's files, moved aside by ``--overwrite`` until the new run has a checkpoint."""

    def __init__(self, out):
        self.out = out
        self.aside = out / ".previous-run"
        self.moved = []

    def set_aside(self):
        if self.aside.exists():      # left by an --overwrite run that was killed (SIGKILL, power loss)
            if (self.out / "checkpoint.npz").exists():
                shutil.rmtree(self.aside)   # ... after its first checkpoint: it is the run to keep
            else:
                self.restore()              # ... before it: the older run is the real one
        self.aside.mkdir()
        for name in RUN_FILES:
            if (self.out / name).exists() and not (self.aside / name).exists():
                os.replace(self.out / name, self.aside / name)
                self.moved.append(name)
        return self

    def discard(self):
        """The new run has a checkpoint: the old one is gone for good."""
        if self.aside.exists():
            shutil.rmtree(self.aside, ignore_errors=True)
        self.moved = []

    def restore(self):
        """The new run failed before its first checkpoint: its files go, the old run comes back."""
        if not self.aside.exists():
            return
        for name in RUN_FILES:
            (self.out / name).unlink(missing_ok=True)
        for name in os.listdir(self.aside):
            os.replace(self.aside / name, self.out / name)
        self.aside.rmdir()
        self.moved = []


def is_disk_full(err):
    return isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT)


# Resuming: these define the networks or the game and can never change; these change what the
# experiment means (the data, the batches) and need --allow-change; everything else (learning
# rates, betas, schedule, penalty, clip, EMA decay, length) is applied from the next step on.
FIXED_ON_RESUME = ("dataset", "loss", "model", "width", "latent_dim", "logits", "pack", "conditional")
# Settings added after the first checkpoints were written, with what runs did before each existed.
OLD_DEFAULTS = {"pack": 1, "conditional": False, "width": 1, "logits": False, "r1_weight": None, "ema": None,
                "lr_schedule": "constant", "lr_final": 0.01, "lr_decay_start": 0.5}
MEANING_ON_RESUME = ("seed", "n_samples", "batch_size", "d_steps")


def saved_setting(saved, key):
    """A checkpoint's setting, or what runs did before the setting was recorded."""
    return saved.get(key, OLD_DEFAULTS.get(key))


def check_resume(saved, config, allow_change):
    """Raises ValueError naming the flags that may not change; returns {key: [old, new]} of changes."""
    flag = lambda k: "--" + k.replace("_", "-")
    fixed = [k for k in FIXED_ON_RESUME if saved_setting(saved, k) != config[k]]
    if bool(saved.get("ema")) != bool(config["ema"]):
        fixed.append("ema")
    if fixed:
        raise ValueError("these settings define the checkpoint's networks or game and cannot change on resume: "
                         + ", ".join(f"{flag(k)} (was {saved_setting(saved, k)!r}, now {config[k]!r})" for k in fixed)
                         + "; start a new run in another --out")
    changes = {k: [saved_setting(saved, k), config[k]] for k in ("lr_g", "lr_d", "betas", "lr_schedule", "lr_final",
                                                      "lr_decay_start", "gp_weight", "r1_weight", "clip_value", "ema", "steps",
                                                      *MEANING_ON_RESUME)
               if _plain(saved_setting(saved, k)) != _plain(config[k])}
    meaning = [k for k in MEANING_ON_RESUME if k in changes]
    if meaning and not allow_change:
        raise ValueError("these settings change what the resumed experiment means: "
                         + ", ".join(f"{flag(k)} (was {changes[k][0]!r}, now {changes[k][1]!r})" for k in meaning)
                         + "; pass --allow-change if you mean it (it is recorded in config.json)")
    return changes


def _plain(value):
    return list(value) if isinstance(value, tuple) else value
