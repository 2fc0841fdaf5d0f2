"""What a training run writes into its ``--out`` folder, and how it reads it back.

    config.json      every resolved setting, the command line, versions and the seed
    metrics.csv      one row every ``log_every`` generator steps
    checkpoint.npz   weights, optimizer, schedule, EMA, data order, RNG (atomic; see checkpoint.py)
    samples.png      the latest samples from fixed noise (2-D data: ~2,000 points over the modes,
                     with the modes covered and the share of high-quality samples in the title)
    progress.png     the same fixed noise at every sample point: how the generator learned (at the end)
    losses.png       the training curves, at the end
    .lock            while a run is using the folder (see run_guard.py)
    .previous-run/   during an --overwrite, the old run, until the new one's first checkpoint
"""
import csv
import json

import numpy as np

from minigan.data.toy import mode_coverage

FIELDS = ["step", "epoch", "d_loss", "g_loss", "d_real", "d_fake", "grad_norm_d", "grad_norm_g"]
N_POINTS = 2000          # samples in a 2-D scatter or 1-D histogram
N_IMAGES = 64            # images in the sample grid
PROGRESS_IMAGES = 8      # images per row of the progress strip
PROGRESS_POINTS = 500    # points per panel of the progress strip


def write_config(out, config):
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")


def fixed_noise(config):
    """The same noise for every sample picture: its own generator, so drawing it never shifts the
    training random stream (resumed runs stay identical)."""
    n = N_IMAGES if config["kind"] == "image" else N_POINTS
    if config.get("conditional"):   # ten of each class: a row per class
        n = 10 * config["n_classes"]
    return np.random.default_rng(config["seed"] + 12345).standard_normal((n, config["latent_dim"]))


def fixed_labels(config):
    """The labels the fixed noise is drawn for (a conditional GAN: 0 x 10, 1 x 10, ...), else None."""
    from minigan.gan.conditional import class_labels
    return class_labels(10 * config["n_classes"], config["n_classes"]) if config.get("conditional") else None


def read_metrics(path, upto):
    """Rows already logged up to step ``upto`` (a resumed run drops rows after its checkpoint)."""
    if upto == 0 or not path.exists():
        return []
    rows = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            try:
                rows.append({k: (int(v) if k in ("step", "epoch") else float(v)) for k, v in r.items() if k in FIELDS})
            except (TypeError, ValueError):   # a row torn by a full disk or a power cut: dropped
                continue
    return [r for r in rows if set(r) == set(FIELDS) and r["step"] <= upto]


class MetricsLog:
    """metrics.csv, rewritten from the rows kept so far, then appended to."""

    def __init__(self, path, history):
        self.history = list(history)
        self.file = open(path, "w", newline="")
        self.writer = csv.DictWriter(self.file, fieldnames=FIELDS)
        self.writer.writeheader()
        self.writer.writerows(self.history)

    def append(self, row):
        row = {k: row[k] for k in FIELDS}
        self.writer.writerow(row)
        self.history.append(row)

    def flush(self):
        self.file.flush()

    def close(self):
        self.file.close()


def sample_title(config, dataset, samples, step):
    title = f"{config['dataset']} {config['loss']}: step {step}"
    if dataset.modes is not None and dataset.kind == "points":
        modes, hq = mode_coverage(samples, dataset.modes, dataset.std)
        title += f"\n{modes}/{len(dataset.modes)} modes, {100 * hq:.1f}% high quality"
    return title


def save_sample_pictures(out, samples, dataset, config, step, progress, final=False):
    """samples.png from this step's samples and a frame added to ``progress`` (a dict of lists that
    travels in the checkpoint); at the end of the run (``final``) progress.png is drawn from all the
    frames (a strip of panels costs a second or two of matplotlib: too much to redraw each time)."""
    from minigan.plot import save_samples
    from minigan.plot_progress import save_progress
    save_samples(out / "samples.png", samples, dataset.kind, sample_shape=tuple(dataset.shape),
                 modes=dataset.modes, data_samples=dataset.x[:N_POINTS], density=dataset.pdf,
                 title=sample_title(config, dataset, samples, step), nrow=10 if config.get("conditional") else None)
    keep = PROGRESS_IMAGES if dataset.kind == "image" else PROGRESS_POINTS
    progress["steps"].append(step)
    progress["frames"].append(np.asarray(samples[:keep], dtype=np.float32))
    if final:
        save_progress(out / "progress.png", progress["steps"], progress["frames"], dataset.kind,
                      sample_shape=tuple(dataset.shape), modes=dataset.modes,
                      title=f"{config['dataset']} {config['loss']}: fixed noise during training")
