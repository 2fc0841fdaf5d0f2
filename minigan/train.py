"""``python -m minigan.train``: train a GAN from the command line.

Writes to --out: config.json, metrics.csv (one row per step), samples_epoch_NNN.png (a fixed
noise batch, once per epoch), losses.png, and checkpoint.npz (atomically, every epoch and at the
end; ``--resume`` continues from it, and ``--steps`` counts generator steps in total). The optimizer
states in it have PyTorch's state_dict layout; a checkpoint of the older layout is converted on resume.
"""
import argparse
import csv
import json
import math
import os
import pathlib
import sys

import numpy as np

from minigan import __version__

DEFAULT_MODEL = {"digits": "small", "mnist": "mlp", "mnist_test": "mlp"}       # else "toy"
DEFAULT_EPOCHS = {"digits": 200, "mnist": 30, "mnist_test": 100}               # else 30
GRID_SIZE = 64


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        """One line, exit status 2, no usage block and no traceback."""
        self.exit(2, f"{self.prog}: error: {message}\n")


def _positive_int(text):
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _positive_float(text):
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def build_parser():
    from minigan.data import dataset_names
    from minigan.gan import LOSSES, PRESETS
    p = _Parser(prog="python -m minigan.train", description="Train a GAN (Goodfellow et al. 2014) with minigan.")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument("--backend", default="numpy", choices=["numpy", "cupy"], help="array backend: numpy (CPU) or cupy (NVIDIA GPU)")
    p.add_argument("--dataset", default="digits", choices=dataset_names(), help="training data (digits needs no download)")
    p.add_argument("--loss", default="nonsaturating", choices=list(LOSSES), help="the GAN objective")
    p.add_argument("--k", type=_positive_int, default=None, help="discriminator (critic) steps per generator step (default 1; 5 for WGANs)")
    length = p.add_mutually_exclusive_group()
    length.add_argument("--epochs", type=_positive_float, default=None, help="passes over the data (default depends on the dataset)")
    length.add_argument("--steps", type=_positive_int, default=None, help="total generator steps (with --resume: the total to reach)")
    p.add_argument("--batch-size", type=_positive_int, default=64, help="minibatch size m")
    p.add_argument("--lr", type=_positive_float, default=None, help="learning rate of both networks (default: the loss's paper value)")
    p.add_argument("--lr-g", type=_positive_float, default=None, help="generator learning rate (overrides --lr)")
    p.add_argument("--lr-d", type=_positive_float, default=None, help="discriminator learning rate (overrides --lr)")
    p.add_argument("--latent-dim", type=_positive_int, default=None, help="noise dimension (default 100 for images, 16 for toy data)")
    p.add_argument("--model", default=None, choices=list(PRESETS), help="model preset (default depends on the dataset)")
    p.add_argument("--logits", action="store_true", help="discriminator outputs logits; use the softplus forms of the losses")
    p.add_argument("--n-samples", type=_positive_int, default=None, help="use only this many training samples")
    p.add_argument("--seed", type=int, default=0, help="seed of every random number (weights, noise, batches)")
    p.add_argument("--out", default=None, help="output folder (default runs/DATASET-LOSS)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.npz")
    p.add_argument("--overwrite", action="store_true", help="start afresh even if OUT already holds a run")
    p.add_argument("--dry-run", action="store_true", help="a few steps on a little data, for smoke tests")
    p.add_argument("--data-dir", default=None, help="folder with the MNIST files (default $MINIGAN_DATA_DIR or data/)")
    p.add_argument("--threads", type=_positive_int, default=None,
                   help="BLAS threads (default: 1 for the toy and small models, whose tiny matrices only lose to "
                        "threading, and every core for the MNIST MLPs)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (e.g. in logs)")
    return p


def _config(args, dataset):
    toy = dataset.kind != "image"
    d_steps = args.k if args.k is not None else (5 if args.loss.startswith("wgan") else 1)
    return {
        "dataset": args.dataset, "loss": args.loss, "k": d_steps, "batch_size": args.batch_size,
        "lr_g": args.lr_g or args.lr, "lr_d": args.lr_d or args.lr, "logits": args.logits,
        "latent_dim": args.latent_dim or (16 if toy else 100),
        "model": args.model or DEFAULT_MODEL.get(args.dataset, "toy"),
        "seed": args.seed, "n_samples": args.n_samples, "backend": args.backend,
        "data_dim": dataset.dim, "sample_shape": list(dataset.shape), "kind": dataset.kind,
        "threads": args.threads or default_threads(args.model or DEFAULT_MODEL.get(args.dataset, "toy")),
    }


def default_threads(model):
    """One BLAS thread for small matrices (measured: 300 toy steps took 40 s with two threads on a
    busy 2-core machine, 1.9 s with one); every core for the MNIST-sized MLPs."""
    return 1 if model in ("toy", "small") else (os.cpu_count() or 1)


def build_models(config):
    """Generator and discriminator for a config (also used by ``minigan.sample``)."""
    from minigan.gan import discriminator_output, make_discriminator, make_generator
    G = make_generator(config["model"], config["latent_dim"], config["data_dim"], image=config["kind"] == "image")
    D = make_discriminator(config["model"], config["data_dim"], discriminator_output(config["loss"], config["logits"]))
    return G, D


def fixed_noise(config, n=GRID_SIZE):
    """The same noise batch for every sample grid: its own generator, so drawing it never
    shifts the training random stream (resumed runs stay identical)."""
    return np.random.default_rng(config["seed"] + 12345).standard_normal((n, config["latent_dim"]))


def _prepare_out(parser, args):
    out = pathlib.Path(args.out or f"runs/{args.dataset}-{args.loss}")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as err:
        parser.error(f"--out {out}: cannot write there ({err.strerror or err}); choose another folder")
    if args.resume and not (out / "checkpoint.npz").exists():
        parser.error(f"--resume: no checkpoint at {out / 'checkpoint.npz'}; run without --resume first")
    if not args.resume and not args.overwrite and (out / "checkpoint.npz").exists():
        parser.error(f"--out {out} already holds a run (checkpoint.npz); pass --resume to continue it, "
                     "--overwrite to replace it, or choose another --out")
    return out


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    import minigan as mg
    from minigan.data import DataError, DataLoader, load_dataset
    from minigan.gan import GANTrainer, load_checkpoint

    try:
        backend = mg.set_backend(args.backend)
    except RuntimeError as err:
        parser.error(str(err))
    out = _prepare_out(parser, args)
    n = args.n_samples or (256 if args.dry_run else None)
    try:
        dataset = load_dataset(args.dataset, args.data_dir, n=n, seed=args.seed)
    except (DataError, ValueError) as err:
        parser.error(str(err))
    if args.batch_size > len(dataset):
        parser.error(f"--batch-size {args.batch_size} is larger than the data set ({len(dataset)} samples)")

    config = _config(args, dataset)
    if args.resume:
        saved = json.loads((out / "config.json").read_text())
        changed = [k for k in ("dataset", "loss", "model", "latent_dim", "data_dim", "logits") if saved.get(k) != config[k]]
        if changed:
            parser.error(f"--resume: these settings differ from the checkpoint's run: {', '.join(changed)}")
    mg.manual_seed(args.seed)
    G, D = build_models(config)
    loader = DataLoader(dataset.x, config["batch_size"], shuffle=True, drop_last=True, seed=args.seed)
    trainer = GANTrainer(G, D, loader.sample_batch, config["latent_dim"], loss=config["loss"], d_steps=config["k"],
                         lr_g=config["lr_g"], lr_d=config["lr_d"], logits=config["logits"])
    steps_per_epoch = max(1, len(loader) // trainer.d_steps)
    if args.steps:
        total = args.steps
    else:
        total = 3 if args.dry_run else math.ceil((args.epochs or DEFAULT_EPOCHS.get(args.dataset, 30)) * steps_per_epoch)
    config.update(steps=total, steps_per_epoch=steps_per_epoch)

    if args.resume:
        state = load_checkpoint(out / "checkpoint.npz")
        try:  # optimizer states of minigan's older layout (hyper / step_count / state list) are converted
            trainer.load_state_dict(state["trainer"])
        except (KeyError, ValueError, RuntimeError) as err:
            parser.error(f"--resume: {out / 'checkpoint.npz'} does not fit this run ({type(err).__name__}: {err})")
        loader.load_state_dict(state["loader"])
        backend.set_rng_state(state["rng"])
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    from threadpoolctl import threadpool_limits
    with threadpool_limits(config["threads"], user_api="blas"):
        return _train(trainer, loader, dataset, config, out, total, backend, args)


def _train(trainer, loader, dataset, config, out, total, backend, args):
    import minigan as mg
    from minigan.gan import save_checkpoint
    from minigan.plot import save_loss_curves, save_samples
    from tqdm import tqdm

    metrics_path = out / "metrics.csv"
    history = _read_metrics(metrics_path, upto=trainer.step_count)
    z_grid = mg.tensor(fixed_noise(config))
    fields = ["step", "epoch", "d_loss", "g_loss", "d_real", "d_fake", "grad_norm_d", "grad_norm_g"]

    def checkpoint():
        save_checkpoint(out / "checkpoint.npz", {"trainer": trainer.state_dict(), "loader": loader.state_dict(),
                                                 "rng": backend.get_rng_state(), "config": config})

    def sample_grid(epoch):
        trainer.G.eval()
        with mg.no_grad():
            samples = trainer.G(z_grid).numpy()
        trainer.G.train()
        save_samples(out / f"samples_epoch_{epoch:03d}.png", samples, dataset.kind, sample_shape=tuple(dataset.shape),
                     modes=dataset.modes, data_samples=dataset.x[:2000], density=dataset.pdf,
                     title=f"{config['dataset']} {config['loss']}: epoch {epoch}, step {trainer.step_count}")

    with open(metrics_path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(history)
        bar = tqdm(total=total, initial=trainer.step_count, disable=args.no_progress, unit="step",
                   desc=f"{config['dataset']}/{config['loss']}", dynamic_ncols=True)
        while trainer.step_count < total:
            row = trainer.step()
            row["epoch"] = (trainer.step_count - 1) // config["steps_per_epoch"] + 1
            if not all(math.isfinite(row[k]) for k in ("d_loss", "g_loss")):
                bar.close()
                f.flush()
                good = out / "checkpoint.npz"
                where = f"{good}" if good.exists() else "none saved yet"
                print(f"error: non-finite loss at step {trainer.step_count} (d_loss={row['d_loss']}, "
                      f"g_loss={row['g_loss']}); training stopped; last good checkpoint: {where}", file=sys.stderr)
                return 1
            writer.writerow({k: row[k] for k in fields})
            history.append(row)
            bar.update(1)
            bar.set_postfix(d_loss=f"{row['d_loss']:.3f}", g_loss=f"{row['g_loss']:.3f}",
                            d_real=f"{row['d_real']:.2f}", d_fake=f"{row['d_fake']:.2f}", refresh=False)
            end_of_epoch = trainer.step_count % config["steps_per_epoch"] == 0
            if end_of_epoch or trainer.step_count == total:
                f.flush()
                sample_grid(row["epoch"])
                checkpoint()
        bar.close()
    if history:
        save_loss_curves(out / "losses.png", {k: [r[k] for r in history] for k in fields if k != "epoch"},
                         title=f"{config['dataset']} {config['loss']}")
    last = history[-1] if history else {}
    print(f"done: {trainer.step_count} steps; " + ", ".join(f"{k}={last[k]:.4f}" for k in fields[2:] if k in last)
          + f"; wrote {out}/")
    return 0


def _read_metrics(path, upto):
    """Rows already logged up to step ``upto`` (a resumed run drops rows after its checkpoint)."""
    if upto == 0 or not path.exists():
        return []
    with open(path, newline="") as f:
        rows = [{k: (int(v) if k in ("step", "epoch") else float(v)) for k, v in r.items()} for r in csv.DictReader(f)]
    return [r for r in rows if r["step"] <= upto]


if __name__ == "__main__":
    sys.exit(main())
