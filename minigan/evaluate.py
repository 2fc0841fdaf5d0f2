"""``python -m minigan.evaluate``: every sample-quality metric that applies to a checkpoint's data.

    python -m minigan.evaluate --checkpoint runs/ring-nonsaturating/checkpoint.npz
    python -m minigan.evaluate --checkpoint runs/digits-nonsaturating/checkpoint.npz --json

* 2-D toy mixtures (ring, grid): modes covered, share of high-quality samples, PacGAN's reverse KL.
* 1-D toys: generated mean and std beside the data's, and the same mode metrics.
* images (digits, MNIST): with the minigan classifier of that data set (trained once, cached;
  see ``minigan.metrics.classifier``): the share of confident (> 0.9) labels, the class balance,
  the Fréchet distance of its features to the real images' ("FD (minigan digits classifier)",
  not an Inception FID) and the IS-style score — each also for real images, as a yardstick;
  and the Parzen-window log-likelihood of real images under the samples (Goodfellow et al. 2014,
  their protocol; :func:`parzen_splits` says which images), the likelihood the goodfellow tables report.
"""
import json
import sys

import numpy as np

from minigan import __version__
from minigan.train import _Parser, _positive_int

DEFAULT_N = {"points": 2500, "1d": 2500, "image": 10_000}   # VEEGAN/PacGAN's 2,500; FID's usual 10,000
MAX_REAL_IMAGES = 10_000


def build_parser():
    p = _Parser(prog="python -m minigan.evaluate", description="Score the samples of a trained minigan generator.")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument("--checkpoint", required=True, help="checkpoint.npz written by python -m minigan.train")
    p.add_argument("--n", type=_positive_int, default=None,
                   help="generated samples to score (default 2,500 for toy data, 10,000 for images)")
    p.add_argument("--seed", type=int, default=1, help="seed of the generator's noise")
    p.add_argument("--weights", default="auto", choices=["auto", "ema", "trained"],
                   help="generator weights: the EMA average if the run kept one (auto), or the trained ones")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--data-dir", default=None, help="folder with the MNIST files (default $MINIGAN_DATA_DIR or data/)")
    p.add_argument("--cache-dir", default=None,
                   help="where image classifiers are cached (default $MINIGAN_CACHE_DIR, else the data folder)")
    p.add_argument("--backend", default="numpy", choices=["numpy", "cupy"], help="array backend")
    return p


def _metric(key, label, value):
    return key, label, value


def toy_metrics(samples, data):
    """Mode metrics for a toy set (its true modes and std), plus mean/std for 1-D sets."""
    from minigan.metrics import mode_coverage, reverse_kl
    covered, hq = mode_coverage(samples, data.modes, data.std)
    rows = [_metric("modes_covered", f"modes covered (of {len(data.modes)})", covered),
            _metric("modes_total", "modes in the data", len(data.modes)),
            _metric("high_quality", "high-quality samples (within 3 std of a mode)", hq),
            _metric("reverse_kl", "reverse KL(HQ mode histogram || uniform), nats", reverse_kl(samples, data.modes, data.std))]
    if data.kind == "1d":
        rows += [_metric("mean", "generated mean", float(samples.mean())),
                 _metric("data_mean", "data mean", float(data.x.mean())),
                 _metric("std", "generated std", float(samples.std())),
                 _metric("data_std", "data std", float(data.x.std()))]
    return rows


def image_metrics(samples, data, classifier):
    """Classifier-based scores of generated images, each beside the real images' value."""
    from minigan.metrics import class_balance, confident_share, frechet_distance, inception_score
    from minigan.metrics.classifier import split_rows
    train, held_out = split_rows(len(data))
    real_x = data.x[held_out[:MAX_REAL_IMAGES]]   # real images the classifier never trained on
    probs, real_probs = classifier.probs(samples), classifier.probs(real_x)
    balance = class_balance(probs)
    splits = min(10, len(samples))
    rows = [_metric("confident", "share labelled with confidence > 0.9", confident_share(probs)),
            _metric("real_confident", "  real images", confident_share(real_probs)),
            _metric("classes_present", "classes with >= 1% of the labels", int((balance >= 0.01).sum())),
            _metric("class_balance", "share of each predicted class", balance.tolist()),
            _metric("is_style", f"IS-style score ({classifier.name}), {splits} splits",
                    inception_score(probs, splits)[0]),
            _metric("real_is_style", "  real images", inception_score(real_probs, min(10, len(real_probs)))[0])]
    if len(samples) >= 2:
        # the reference: the classifier's training images (disjoint from the held-out yardstick)
        real_features = classifier.features(data.x[train[:MAX_REAL_IMAGES]])
        rows += [_metric("fd", f"{classifier.fd_label} to {len(real_features)} real images",
                         frechet_distance(classifier.features(samples), real_features)),
                 _metric("real_fd", f"  {len(real_x)} held-out real images",
                         frechet_distance(classifier.features(real_x), real_features))]
    return rows


def label_agreement(samples, config, classifier):
    """A conditional GAN's samples (drawn for minigan.sample.class_labels, every class in turn):
    the share the classifier puts in the class they were asked for."""
    from minigan.gan.conditional import class_labels
    asked = class_labels(len(samples), config["n_classes"])
    agree = float(np.mean(classifier.probs(samples).argmax(axis=1) == asked))
    return _metric("label_agreement", "share classified as the label asked for", agree)


def parzen_splits(data, data_dir=None, quick=False):
    """(validation, test, what the test images are): real images of the GAN's image set ``data``,
    in [0, 1] and flattened, for the Parzen score; sigma is chosen on the first, scored on the second.

    mnist (the paper's split): validation train[50000:51000], test the 10,000 t10k images.
    mnist_test (a stand-in without the training split): validation t10k[:1000], test all of t10k.
    digits: validation 1,000 of the classifier's training rows, test its 360 held-out rows.
    The mnist_test and digits GANs trained on every image of their set: a likelihood of seen images.
    ``quick`` (reproduce --quick): 100 validation and 500 test images at most.
    """
    from minigan.data import load_dataset
    from minigan.metrics.classifier import split_rows
    if data.name == "mnist":
        valid, test, what = data.x[50_000:51_000], load_dataset("mnist_test", data_dir).x, "MNIST t10k images"
    elif data.name == "mnist_test":
        valid, test, what = data.x[:1000], data.x, "t10k images (seen in training)"
    else:
        train, held_out = split_rows(len(data))
        valid, test, what = data.x[train[:1000]], data.x[held_out], f"{data.name} images (seen in training)"
    if quick:
        valid, test = valid[:100], test[:500]
    return data.to_data_space(valid), data.to_data_space(test), what


def parzen_metrics(samples, data, data_dir=None, quick=False):
    """Goodfellow et al.'s Parzen protocol for generated images ``samples`` (model space, as the
    generator gives them) of the image set ``data``: rows parzen_ll, parzen_se, parzen_sigma.
    Batched: never more than (100, len(samples)) distances in memory."""
    from minigan.metrics import parzen_protocol
    valid, test, what = parzen_splits(data, data_dir, quick)
    result = parzen_protocol(data.to_data_space(samples), valid, test)
    return [_metric("parzen_ll", f"Parzen log-likelihood of {len(test)} {what}, nats", result["mean"]),
            _metric("parzen_se", "  its standard error", result["se"]),
            _metric("parzen_sigma", f"  kernel width sigma (the best of 10 on {len(valid)} validation images)",
                    result["sigma"])]


def evaluate_state(state, n=None, seed=1, weights="auto", data_dir=None, cache_dir=None, log=sys.stderr):
    """{"dataset", "kind", "checkpoint_step", "n", "weights", "metrics": {key: value}, "labels": {key: label}}
    for the generator in a checkpoint ``state`` (NaN values, e.g. a reverse KL without HQ samples, are None)."""
    from minigan.data import load_dataset
    from minigan.sample import generate
    config = state["config"]
    kind, name = config["kind"], config["dataset"]
    n = n or DEFAULT_N[kind]
    samples = generate(state, n, seed, weights)
    used = "ema" if "G_ema" in state["trainer"] and weights != "trained" else "trained"
    result = {"checkpoint_step": state["trainer"]["step"], "dataset": name, "kind": kind, "loss": config["loss"],
              "n": n, "seed": seed, "weights": used}
    if kind == "image":
        from minigan.metrics import load_classifier
        classifier = load_classifier(name, data_dir, cache_dir, log=log)
        result["classifier"] = {"name": classifier.name, "held_out_accuracy": classifier.accuracy}
        data = load_dataset(name, data_dir)
        extra = []
        if config.get("conditional"):   # drawn class by class: agreement first, then mix them for the
            extra = [label_agreement(samples, config, classifier)]   # IS-style score's splits
            samples = samples[np.random.default_rng(seed).permutation(len(samples))]
        rows = image_metrics(samples, data, classifier) + parzen_metrics(samples, data, data_dir) + extra
    else:
        rows = toy_metrics(samples, load_dataset(name, seed=seed))
    result["metrics"] = {key: None if isinstance(v, float) and np.isnan(v) else v for key, _, v in rows}
    result["labels"] = {key: label for key, label, _ in rows}
    return result


def format_table(result):
    lines = [f"{result['dataset']} {result['loss']}, step {result['checkpoint_step']}: "
             f"{result['n']} samples (seed {result['seed']}, {result['weights']} weights)"]
    if "classifier" in result:
        c = result["classifier"]
        lines.append(f"classifier: {c['name']}, {c['held_out_accuracy']:.1%} accurate on held-out real images")
    width = max(map(len, result["labels"].values()))
    for key, label in result["labels"].items():
        value = result["metrics"][key]
        if isinstance(value, list):
            text = " ".join(f"{v:.3f}" for v in value)
        elif isinstance(value, float):
            text = f"{value:.4g}"
        else:
            text = str(value)
        lines.append(f"  {label:{width}} {text}")
    return "\n".join(lines)


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    import minigan as mg
    from minigan.gan import load_checkpoint
    try:
        mg.set_backend(args.backend)
    except RuntimeError as err:
        parser.error(str(err))
    try:
        state = load_checkpoint(args.checkpoint)
        state["config"]["kind"], state["trainer"]["step"]
    except FileNotFoundError:
        parser.error(f"--checkpoint {args.checkpoint}: no such file; give the checkpoint.npz of a run")
    except (OSError, ValueError) as err:
        parser.error(f"--checkpoint {args.checkpoint}: {err}")
    except (KeyError, TypeError):
        parser.error(f"--checkpoint {args.checkpoint}: not a training checkpoint (no config or trainer state); "
                     "give the checkpoint.npz that python -m minigan.train wrote")
    from threadpoolctl import threadpool_limits
    from minigan.train import default_threads
    try:
        with threadpool_limits(state["config"].get("threads") or default_threads(state["config"]["model"])):
            result = evaluate_state(state, args.n, args.seed, args.weights, args.data_dir, args.cache_dir)
    except ValueError as err:   # no EMA for --weights ema, missing MNIST files (DataError), bad cache
        parser.error(str(err))
    print(json.dumps(result, allow_nan=False) if args.json else format_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
