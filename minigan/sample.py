"""``python -m minigan.sample``: draw samples from a trained generator.

    python -m minigan.sample --checkpoint runs/digits-nonsaturating/checkpoint.npz --n 64 --out grid.png
    python -m minigan.sample --checkpoint ... --n 10000 --out samples.npy
    python -m minigan.sample --checkpoint runs/digits-conditional/checkpoint.npz --label 7 --out sevens.png

A .png gets a picture (image grid, histogram or scatter, as in training); a .npy gets the raw
samples as an (n, ...) array in the data's own coordinates: images as intensities in [0, 1]
shaped (n, h, w), points as they are. A conditional GAN's samples are drawn for ``--label``, or
else for every class in turn: one row of the picture per class.
"""
import argparse
import pathlib
import sys

import numpy as np

from minigan import __version__
from minigan.gan.conditional import class_labels
from minigan.train import _Parser, _positive_int, _seed


def build_parser():
    p = _Parser(prog="python -m minigan.sample", description="Draw samples from a trained minigan generator.")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument("--checkpoint", required=True, help="checkpoint.npz written by python -m minigan.train")
    p.add_argument("--n", type=_positive_int, default=64, help="number of samples")
    p.add_argument("--out", required=True, help="output file: .png (a picture) or .npy (raw samples)")
    p.add_argument("--seed", type=_seed, default=0, help="seed of the noise")
    p.add_argument("--backend", default="numpy", choices=["numpy", "cupy"], help="array backend")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    p.add_argument("--label", type=int, default=None,
                   help="conditional GANs: draw every sample of this class (default: each class in turn, a row each)")
    p.add_argument("--weights", default="auto", choices=["auto", "ema", "trained"],
                   help="generator weights: the EMA average if the run kept one (auto), or the trained ones")
    return p


def generate(state, n, seed, weights="auto", label=None):
    """n samples (host NumPy, model space) from the generator saved in a checkpoint state:
    its weight average (``--ema``) where the run kept one, unless ``weights="trained"``.
    A conditional generator draws them for :func:`class_labels` ``(n, n_classes, label)``."""
    import minigan as mg
    from minigan.train import build_models
    config = state["config"]
    G, _ = build_models(config)
    has_ema = "G_ema" in state["trainer"]
    if weights == "ema" and not has_ema:
        raise ValueError("this checkpoint has no generator EMA (the run had no --ema); use --weights trained")
    G.load_state_dict(state["trainer"]["G_ema" if has_ema and weights != "trained" else "G"])
    G.eval()
    z = np.random.default_rng(seed).standard_normal((n, config["latent_dim"]))
    with mg.no_grad():
        if not config.get("conditional"):
            if label is not None:
                raise ValueError("this generator is not conditional (the run had no --conditional); drop --label")
            return G(mg.tensor(z)).numpy()
        return G(mg.tensor(z), mg.tensor(class_labels(n, config["n_classes"], label))).numpy()


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    import minigan as mg
    from minigan.data import Dataset
    from minigan.gan import load_checkpoint

    out = pathlib.Path(args.out)
    if out.suffix not in (".png", ".npy"):
        parser.error(f"--out {out}: the file must end in .png (a picture) or .npy (raw samples)")
    if out.is_dir():
        parser.error(f"--out {out} is a folder; give a file name ending in .png or .npy")
    if out.exists() and not args.overwrite:
        parser.error(f"--out {out} exists; pass --overwrite to replace it, or choose another name")
    try:
        mg.set_backend(args.backend)
        state = load_checkpoint(args.checkpoint)
    except (OSError, ValueError, RuntimeError) as err:
        parser.error(f"--checkpoint {args.checkpoint}: {err}")
    config = state["config"]
    try:
        samples = generate(state, args.n, args.seed, args.weights, args.label)
    except ValueError as err:   # a label or weights the run has not, or networks that do not fit the checkpoint
        flag = next((f for f, word in (("--label", "label"), ("--weights", "EMA")) if word in str(err)), "--checkpoint")
        parser.error(f"{flag} {getattr(args, flag[2:])}: {err}")
    shape = tuple(config["sample_shape"])
    meta = Dataset(config["dataset"], np.empty((0, config["data_dim"]), np.float32), shape, config["kind"])
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        _write(out, samples, meta, shape, config, state, args)
    except OSError as err:
        parser.error(f"--out {out}: cannot write there ({err.strerror or err}); choose another place")
    print(f"wrote {args.n} samples to {out}")
    return 0


def _write(out, samples, meta, shape, config, state, args):
    from minigan.data import load_dataset
    from minigan.plot import save_samples
    if out.suffix == ".npy":
        np.save(out, meta.to_data_space(samples).reshape((args.n,) + shape))
    else:
        toy = load_dataset(config["dataset"], n=2000) if config["kind"] != "image" else meta
        save_samples(out, samples, config["kind"], sample_shape=shape, modes=toy.modes,
                     data_samples=toy.x if config["kind"] != "image" else None, density=toy.pdf,
                     title=f"{config['dataset']} {config['loss']}: step {state['trainer']['step']}",
                     nrow=_row_length(args.n, config, args.label))


def _row_length(n, config, label):
    """One class per row for a conditional GAN's mixed-class picture (None: near-square)."""
    classes = config.get("n_classes") if config.get("conditional") and label is None else None
    return max(1, n // classes) if classes and n % classes == 0 else None


if __name__ == "__main__":
    sys.exit(main())
