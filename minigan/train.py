"""``python -m minigan.train``: train a GAN from the command line.

Every setting comes from the recipe table (``minigan/gan/recipes.py``) for ``--dataset`` and
``--loss``; a flag given here overrides it. ``--steps`` counts generator steps for every loss,
``--epochs`` passes of real data through D (see recipes.py). The run folder ``--out`` is described
in ``minigan/gan/run_folder.py``: config.json, metrics.csv, checkpoint.npz (``--resume`` continues
from it; ``--steps`` is then the total to reach), samples.png, progress.png, losses.png.
"""
import argparse
import math
import os
import pathlib
import platform
import shlex
import sys

from minigan import __version__

DRY_RUN_STEPS = 3


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
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text}")
    return value


def _bound(text):
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive (inf turns the check off), got {text}")
    return value


def _seed(text):
    value = int(text)
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be an integer in [0, 2**32), got {text}")
    return value


def _non_negative_float(text):
    value = float(text)
    if not (value >= 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def _fraction(text):
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def build_parser():
    from minigan.data import dataset_names
    from minigan.gan import LOSSES, MODELS
    from minigan.gan.recipes import SCHEDULES
    p = _Parser(prog="python -m minigan.train", description="Train a GAN (Goodfellow et al. 2014) with minigan. "
                "Unset options come from the recipe for --dataset and --loss (minigan/gan/recipes.py).")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument("--backend", default="numpy", choices=["numpy", "cupy"], help="array backend: numpy (CPU) or cupy (NVIDIA GPU)")
    p.add_argument("--dataset", default=None, choices=dataset_names(),
                   help="training data (default digits, which needs no download; with --resume: the run's)")
    p.add_argument("--loss", default=None, choices=list(LOSSES),
                   help="the GAN objective (default nonsaturating; with --resume: the run's)")
    p.add_argument("--d-steps", "--k", dest="d_steps", type=_positive_int, default=None,
                   help="discriminator (critic) steps per generator step: Algorithm 1's k (recipe; 5 for WGANs)")
    length = p.add_mutually_exclusive_group()
    length.add_argument("--epochs", type=_positive_float, default=None,
                        help="passes of real data through D (one epoch = data size / (batch size x d-steps) generator steps)")
    length.add_argument("--steps", type=_positive_int, default=None,
                        help="generator steps, for every loss (with --resume: the total to reach)")
    p.add_argument("--batch-size", type=_positive_int, default=None, help="minibatch size m (samples per D step)")
    p.add_argument("--lr", type=_positive_float, default=None, help="learning rate of both networks")
    p.add_argument("--lr-g", type=_positive_float, default=None, help="generator learning rate (overrides --lr)")
    p.add_argument("--lr-d", type=_positive_float, default=None, help="discriminator learning rate (overrides --lr)")
    p.add_argument("--betas", type=_fraction, nargs=2, default=None, metavar=("BETA1", "BETA2"), help="Adam's betas")
    p.add_argument("--lr-schedule", choices=SCHEDULES, default=None,
                   help="learning-rate schedule: constant, or linear/cosine decay from --lr-decay-start to --lr-final")
    p.add_argument("--lr-final", type=_positive_float, default=None,
                   help="learning rate at the last step, as a fraction of the initial one (e.g. 0.01)")
    p.add_argument("--lr-decay-start", type=_fraction, default=None,
                   help="fraction of the steps after which the decay begins (e.g. 0.5: the second half)")
    p.add_argument("--gp-weight", type=_non_negative_float, default=None,
                   help="gradient-penalty weight lambda (WGAN-GP; 0 turns the penalty off)")
    p.add_argument("--r1-weight", type=_non_negative_float, default=None,
                   help="R1 penalty gamma (Mescheder et al. 2018): gamma/2 * |grad D(x)|^2 on real x, on D's logit "
                        "(needs --logits or a WGAN loss; 0 turns it off)")
    p.add_argument("--clip-value", type=_non_negative_float, default=None,
                   help="WGAN weight clipping to [-c, c] (0 turns clipping off)")
    p.add_argument("--pack", type=_positive_int, default=None,
                   help="PacGAN: D judges this many samples at once (the batch size must be a multiple)")
    p.add_argument("--ema", type=_fraction, default=None,
                   help="decay of an exponential moving average of G's weights, used for samples (0: none)")
    p.add_argument("--latent-dim", type=_positive_int, default=None, help="noise dimension")
    p.add_argument("--model", default=None, choices=list(MODELS),
                   help="model: an MLP preset (minigan/gan/models.py) or dcgan, the convolutional DCGAN for images")
    p.add_argument("--width", type=_positive_int, default=None,
                   help="multiplies the model's hidden sizes (MLP) or channel counts (dcgan) (recipe; default 1)")
    p.add_argument("--conditional", action="store_true",
                   help="conditional GAN (Mirza & Osindero 2014): G and D are given the class label (labelled data sets)")
    p.add_argument("--logits", action=argparse.BooleanOptionalAction, default=None,
                   help="discriminator outputs logits; use the softplus forms of the losses (recipe; --no-logits: "
                        "a probability D)")
    p.add_argument("--n-samples", type=_positive_int, default=None, help="use only this many training samples")
    p.add_argument("--seed", type=_seed, default=None, help="seed of every random number (weights, noise, batches; default 0)")
    p.add_argument("--out", default=None, help="output folder (default runs/DATASET-LOSS)")
    p.add_argument("--resume", action="store_true",
                   help="continue from OUT/checkpoint.npz with its settings; flags given change them (see --allow-change)")
    p.add_argument("--allow-change", action="store_true",
                   help="with --resume: accept a changed seed, data size, batch size or k (recorded in config.json)")
    p.add_argument("--overwrite", action="store_true", help="start afresh even if OUT already holds a run")
    p.add_argument("--dry-run", action="store_true", help=f"{DRY_RUN_STEPS} steps on a little data, for smoke tests")
    p.add_argument("--data-dir", default=None, help="folder with the MNIST files (default $MINIGAN_DATA_DIR or data/)")
    p.add_argument("--sample-every", type=_positive_int, default=None,
                   help="steps between sample pictures and checkpoints (default: a dozen per run)")
    p.add_argument("--log-every", type=_positive_int, default=None,
                   help="steps between rows of metrics.csv (default 1, or 10 for runs over 10,000 steps)")
    p.add_argument("--threads", type=_positive_int, default=None,
                   help="BLAS threads (default: 1 for the toy and small models, whose tiny matrices only lose to "
                        "threading, and every core for the MNIST MLPs)")
    p.add_argument("--max-loss", type=_bound, default=1e6,
                   help="stop as diverged when |d_loss| or |g_loss| exceeds this (default 1e6; inf: only NaN/inf stop)")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar (it is off anyway when stderr is not a terminal; a line per checkpoint instead)")
    return p


def _overrides(args):
    """The recipe settings given on the command line (None: take the recipe's)."""
    zero_is_off = lambda v: None if v is None else (v or False)   # --ema 0 / --gp-weight 0: explicitly off
    return {"model": args.model, "width": args.width, "latent_dim": args.latent_dim, "batch_size": args.batch_size,
            "d_steps": args.d_steps, "lr_g": args.lr_g or args.lr, "lr_d": args.lr_d or args.lr,
            "betas": tuple(args.betas) if args.betas else None, "lr_schedule": args.lr_schedule,
            "lr_final": args.lr_final, "lr_decay_start": args.lr_decay_start,
            "gp_weight": zero_is_off(args.gp_weight), "r1_weight": zero_is_off(args.r1_weight),
            "logits": args.logits, "clip_value": zero_is_off(args.clip_value),
            "pack": args.pack, "ema": zero_is_off(args.ema), "steps": args.steps, "epochs": args.epochs}


def resolve_config(args, dataset, argv, saved=None):
    """The run's every setting: the recipe (or, resuming, the saved run's settings), the flags
    over it, and what the run is made of."""
    import numpy
    import scipy
    from minigan.gan.recipes import FIELDS, resolve
    from minigan.gan.run_guard import saved_setting
    settings, source = resolve(args.dataset, args.loss, _overrides(args), conditional=args.conditional)
    if saved is not None:   # resuming: the run's own settings, then only the flags actually given
        given = {k: v for k, v in _overrides(args).items() if v is not None}
        settings = {k: (tuple(saved[k]) if k == "betas" and saved.get(k) else saved_setting(saved, k))
                    for k in FIELDS}
        if "epochs" in given:
            settings["steps"] = None
        settings.update(given)
        source = saved.get("recipe", source)
    return {"dataset": args.dataset, "loss": args.loss, **settings,
            "conditional": args.conditional, "n_classes": None if dataset.y is None else int(dataset.y.max()) + 1,
            "recipe": source, "seed": args.seed, "n_samples": args.n_samples, "backend": args.backend,
            "data_dim": dataset.dim, "sample_shape": list(dataset.shape), "kind": dataset.kind,
            "threads": args.threads or default_threads(settings["model"]),
            "command": shlex.join(["python", "-m", "minigan.train", *argv]),
            "versions": {"minigan": __version__, "numpy": numpy.__version__, "scipy": scipy.__version__,
                         "python": platform.python_version()},
            "resumed": list(saved.get("resumed", [])) if saved else []}


def default_threads(model):
    """One BLAS thread for small matrices (measured: 300 toy steps took 40 s with two threads on a
    busy 2-core machine, 1.9 s with one); every core for the MNIST-sized MLPs."""
    return 1 if model in ("toy", "toy-wide", "small") else (os.cpu_count() or 1)


def build_models(config):
    """Generator and discriminator for a config (also used by ``minigan.sample``); with PacGAN's
    packing, D's input is ``pack`` samples side by side. A conditional GAN's label embedding has
    one number per class (as wide as the one-hot vector of Mirza & Osindero), fed to G beside z
    and to D beside x (an MLP) or as that many extra channels (dcgan)."""
    from minigan.gan import discriminator_output, make_discriminator, make_generator
    from minigan.gan.conditional import ConditionalDiscriminator, ConditionalGenerator
    from minigan.gan.run_guard import saved_setting
    classes = config["n_classes"] if saved_setting(config, "conditional") else 0   # older checkpoints lack some
    shape, output = tuple(config["sample_shape"]), discriminator_output(config["loss"], saved_setting(config, "logits"))
    width = saved_setting(config, "width")
    G = make_generator(config["model"], config["latent_dim"] + classes, config["data_dim"],
                       image=config["kind"] == "image", shape=shape, width=width)
    if not classes:
        D = make_discriminator(config["model"], config["data_dim"] * saved_setting(config, "pack"), output, shape=shape,
                               width=width)
        return G, D
    if config["model"] == "dcgan":
        from minigan.gan.dcgan import dcgan_discriminator
        D = dcgan_discriminator(shape, in_channels=1 + classes, output=output, unflatten=False, width=width)
    else:
        D = make_discriminator(config["model"], config["data_dim"] + classes, output, width=width)
    return (ConditionalGenerator(G, classes, classes),
            ConditionalDiscriminator(D, classes, classes, image_shape=shape if config["model"] == "dcgan" else None))


def build_trainer(config, G, D, sample_real, total_steps):
    from minigan.gan import GANTrainer
    from minigan.gan.recipes import lr_factor
    schedule = lr_factor(config["lr_schedule"], total_steps, config["lr_final"], config["lr_decay_start"])
    return GANTrainer(G, D, sample_real, config["latent_dim"], loss=config["loss"], d_steps=config["d_steps"],
                      lr_g=config["lr_g"], lr_d=config["lr_d"], betas=config["betas"], logits=config["logits"],
                      clip_value=config["clip_value"], gp_weight=config["gp_weight"], pack=config["pack"],
                      r1_weight=config["r1_weight"],
                      ema=config["ema"] or None, lr_lambda=None if config["lr_schedule"] == "constant" else schedule)


def _prepare_out(parser, args):
    out = pathlib.Path(args.out or f"runs/{args.dataset or 'digits'}-{args.loss or 'nonsaturating'}")
    probe = out / ".write-test"
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe.write_text("ok")
    except OSError as err:
        parser.error(f"--out {out}: cannot write there ({err.strerror or err}); choose another folder")
    finally:
        try:
            probe.unlink(missing_ok=True)
        except OSError:
            pass
    if args.resume and not (out / "checkpoint.npz").exists():
        parser.error(f"--resume: no checkpoint at {out / 'checkpoint.npz'}; run without --resume first")
    if not args.resume and not args.overwrite and (out / "checkpoint.npz").exists():
        parser.error(f"--out {out} already holds a run (checkpoint.npz); pass --resume to continue it, "
                     "--overwrite to replace it, or choose another --out")
    return out


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    import minigan as mg
    from minigan.gan.run_guard import RunInUse, RunLock

    if args.resume and args.overwrite:
        parser.error("--resume and --overwrite contradict each other; pass one of them")
    try:
        backend = mg.set_backend(args.backend)
    except RuntimeError as err:
        parser.error(str(err))
    out = _prepare_out(parser, args)
    lock = RunLock(out)
    try:
        lock.acquire()
    except RunInUse as err:
        parser.error(str(err))
    try:
        return _setup_and_train(parser, args, argv, out, backend)
    finally:
        lock.release()


def _setup_and_train(parser, args, argv, out, backend):
    import minigan as mg
    from minigan.data import DataError, DataLoader, load_dataset
    from minigan.gan import load_checkpoint
    from minigan.gan.run_folder import write_config
    from minigan.gan.run_guard import PreviousRun, check_resume

    saved = state = None
    if args.resume:   # the checkpoint is the source of truth; config.json is only a readable copy
        try:
            state = load_checkpoint(out / "checkpoint.npz")
            saved = state["config"]
        except (OSError, ValueError, KeyError, TypeError) as err:
            parser.error(f"--resume: {out / 'checkpoint.npz'} cannot be read ({err}); "
                         "start afresh with --overwrite or choose another --out")
        for key in ("dataset", "loss", "seed", "n_samples"):
            if getattr(args, key) is None:
                setattr(args, key, saved.get(key))
        args.logits = bool(saved.get("logits")) if args.logits is None else args.logits
        args.conditional = args.conditional or bool(saved.get("conditional"))
    args.dataset = args.dataset or "digits"
    args.loss = args.loss or "nonsaturating"
    args.seed = 0 if args.seed is None else args.seed
    if args.logits and args.loss.startswith("wgan"):
        parser.error(f"--logits: the {args.loss} critic outputs unbounded scores already; drop --logits")
    n = args.n_samples or (256 if args.dry_run else None)
    try:
        dataset = load_dataset(args.dataset, args.data_dir, n=n, seed=args.seed)
    except (DataError, ValueError, MemoryError) as err:
        parser.error(str(err))
    try:
        config = resolve_config(args, dataset, argv, saved)
    except (KeyError, ValueError) as err:
        parser.error(str(err))
    if config["batch_size"] > len(dataset):
        parser.error(f"--batch-size {config['batch_size']} is larger than the data set ({len(dataset)} samples)")
    if args.conditional and dataset.y is None:
        parser.error(f"--conditional: the {args.dataset} data set has no class labels; use digits, mnist or mnist_test")
    if args.conditional and config["pack"] > 1:
        parser.error("--conditional with --pack: a packed D would judge samples of different labels at once; "
                     "use one of them")
    from minigan.gan import discriminator_output
    if config["r1_weight"] and discriminator_output(args.loss, config["logits"]) == "probability":
        parser.error(f"--r1-weight: R1 penalizes the discriminator's logit, but the {args.loss} D outputs "
                     "probabilities; add --logits (or turn R1 off with --r1-weight 0)")
    if config["batch_size"] % config["pack"]:
        parser.error(f"--pack {config['pack']}: the batch size {config['batch_size']} is not a multiple of it; "
                     f"choose --batch-size {config['batch_size'] // config['pack'] * config['pack'] or config['pack']}")
    if config["model"] in ("mlp-bn", "dcgan") and config["batch_size"] < 2:
        parser.error(f"--batch-size 1: the {config['model']} model's BatchNorm needs at least 2 samples per batch")
    if saved is not None:
        try:
            changes = check_resume(saved, config, args.allow_change)
        except ValueError as err:
            parser.error(f"--resume: {err}")

    mg.manual_seed(args.seed)
    try:
        G, D = build_models(config)
    except (MemoryError, ValueError) as err:
        parser.error(f"the models do not fit ({type(err).__name__}: {err}); choose a smaller --latent-dim, --width or --model")
    # a conditional GAN's batches are (images, labels) pairs
    loader = DataLoader((dataset.x, dataset.y) if args.conditional else dataset.x, config["batch_size"],
                        shuffle=True, drop_last=True, seed=args.seed)
    steps_per_epoch = max(1, len(loader) // config["d_steps"])
    if args.dry_run and not args.steps:
        total = DRY_RUN_STEPS
    else:
        total = config["steps"] or math.ceil(config["epochs"] * steps_per_epoch)
    trainer = build_trainer(config, G, D, loader.sample_batch, total)
    default_every = total // 12   # a dozen pictures per run: the progress strip's frames
    config.update(steps=total, steps_per_epoch=steps_per_epoch,
                  sample_every=args.sample_every or max(1, default_every),
                  log_every=args.log_every or (10 if total > 10_000 else 1))

    progress = {"steps": [], "frames": []}
    previous = None
    if state is not None:
        try:  # optimizer states of minigan's older layout (hyper / step_count / state list) are converted
            trainer.load_state_dict(state["trainer"])
            # an allowed change of data, batches or seed starts a fresh data order / random stream
            if not {"seed", "n_samples", "batch_size"} & set(changes):
                loader.load_state_dict(state["loader"])
            if "seed" not in changes:
                backend.set_rng_state(state["rng"])
        except (KeyError, ValueError, RuntimeError, TypeError) as err:
            parser.error(f"--resume: {out / 'checkpoint.npz'} does not fit this run ({type(err).__name__}: {err})")
        if changes:
            config["resumed"].append({"at_step": trainer.step_count, "changed": changes})
        progress = state.get("progress", progress)
        progress = {"steps": list(progress["steps"]), "frames": list(progress["frames"])}
    elif (out / "checkpoint.npz").exists() or (out / ".previous-run").exists():   # --overwrite
        previous = PreviousRun(out).set_aside()
    write_config(out, config)
    from threadpoolctl import threadpool_limits
    rc = 1
    try:
        with threadpool_limits(config["threads"], user_api="blas"):
            rc = _train(trainer, loader, dataset, config, out, total, backend, args, progress, previous)
        return rc
    finally:
        if previous is not None and previous.moved:   # the new run never reached its first checkpoint
            previous.restore()
            print(f"the previous run in {out} was kept (the new one ended before its first checkpoint)",
                  file=sys.stderr)


def _train(trainer, loader, dataset, config, out, total, backend, args, progress, previous=None):
    """The training loop (minigan/gan/run_loop.py): imported when training starts, so --help stays fast."""
    from minigan.gan.run_loop import run_training
    return run_training(trainer, loader, dataset, config, out, total, backend, args, progress, previous)


if __name__ == "__main__":
    sys.exit(main())
