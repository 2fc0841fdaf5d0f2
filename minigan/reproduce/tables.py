"""The papers' tables: which runs make each one, which metrics it reports, and the paper's numbers.

A :class:`Table` is a list of :class:`Row` (one configuration: data set, training flags) and the
metric columns; ``python -m minigan.reproduce TABLE`` trains every row once per seed and prints
our mean +- standard error beside the paper's number.

The paper figures were typed in without the papers at hand (mean +- the spread they report).
Cross-checked against independent sources so far: PacGAN's plain GAN modes and HQ (ring 6.3 / 98.2,
grid 17.3 / 94.8), its best coverage (ring PacGAN2 7.9, grid PacGAN4 24.8) and Goodfellow et al.'s
225 +- 2. Every other paper figure (the reverse KLs, the other PacGAN rows, VEEGAN's) is
UNVERIFIED: check it against the paper before quoting it.
"""
from dataclasses import dataclass, field

# --quick: every run shrunk to a smoke test (seconds, not minutes); the numbers mean nothing
QUICK_TRAIN = ["--steps", "30", "--n-samples", "512", "--batch-size", "64", "--sample-every", "30"]
QUICK_EVAL_N = 256     # also the Parzen samples under --quick (100 validation, 500 test images)


@dataclass(frozen=True)
class Column:
    key: str        # the metric's key in minigan.evaluate's result
    label: str
    scale: float = 1.0   # shown as value * scale (shares as percentages)
    digits: int = 1


@dataclass(frozen=True)
class Row:
    name: str                     # e.g. "ring GAN"
    dataset: str
    train_args: tuple             # flags for python -m minigan.train (beyond --dataset)
    paper: dict = field(default_factory=dict)   # column key -> (value, spread) or value
    quick_args: tuple = ()        # flags --quick needs on top of QUICK_TRAIN (e.g. a batch that packs)


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    columns: tuple
    rows: tuple
    eval_n: int = 2500            # generated samples scored per run (VEEGAN/PacGAN: 2,500)
    note: str = ""
    score: str = "evaluate"       # "evaluate" (minigan.evaluate's metrics) or "parzen" (jobs.parzen_scores)
    needs_mnist_train: bool = False


MODES = Column("modes_covered", "modes")
HQ = Column("high_quality", "HQ %", scale=100)
REVERSE_KL = Column("reverse_kl", "reverse KL", digits=2)
PARZEN = Column("parzen_ll", "Parzen log-likelihood", digits=0)


def _pacgan_row(dataset, pack, paper):
    name = f"{dataset} {'GAN' if pack == 1 else f'PacGAN{pack}'}"
    # the recipe's batch of 256 does not split into packs of 3; 255 does (85 inputs to D)
    batch = ("--batch-size", "255") if pack == 3 else ()
    quick = ("--batch-size", "63") if pack == 3 else ()
    packing = ("--pack", str(pack)) if pack > 1 else ()
    return Row(name, dataset, ("--loss", "nonsaturating", *packing, *batch), paper, quick)


# Lin et al. 2018 (PacGAN), Table 1: 2,500 samples, 10 trials
_PACGAN_PAPER = {
    ("ring", 1): {"modes_covered": (6.3, 0.5), "high_quality": (98.2, 0.2), "reverse_kl": (0.45, 0.09)},
    ("ring", 2): {"modes_covered": (7.9, 0.1), "high_quality": (95.6, 2.0), "reverse_kl": (0.07, 0.03)},
    ("ring", 3): {"modes_covered": (7.8, 0.1), "high_quality": (97.7, 0.3), "reverse_kl": (0.07, 0.02)},
    ("ring", 4): {"modes_covered": (7.8, 0.1), "high_quality": (95.9, 1.4), "reverse_kl": (0.05, 0.02)},
    ("grid", 1): {"modes_covered": (17.3, 0.8), "high_quality": (94.8, 0.7), "reverse_kl": (0.70, 0.07)},
    ("grid", 2): {"modes_covered": (23.8, 0.7), "high_quality": (91.3, 0.8), "reverse_kl": (0.13, 0.04)},
    ("grid", 3): {"modes_covered": (24.6, 0.4), "high_quality": (94.2, 0.4), "reverse_kl": (0.06, 0.02)},
    ("grid", 4): {"modes_covered": (24.8, 0.2), "high_quality": (93.6, 0.6), "reverse_kl": (0.04, 0.01)},
}

TABLES = {
    "pacgan": Table(
        "pacgan", "PacGAN (Lin et al. 2018), Table 1: mode collapse on the 2-D ring and grid",
        (MODES, HQ, REVERSE_KL),
        tuple(_pacgan_row(d, k, _PACGAN_PAPER[d, k]) for d in ("ring", "grid") for k in (1, 2, 3, 4)),
        note="ours: minigan's ring/grid recipe (minigan/gan/recipes.py), not the paper's architecture; paper "
             "figures other than GAN modes/HQ and the best coverage are unverified transcriptions"),
    "veegan": Table(
        "veegan", "VEEGAN (Srivastava et al. 2017), Table 1: the GAN rows on the 2-D ring and grid",
        (MODES, HQ),
        (Row("ring GAN", "ring", ("--loss", "nonsaturating"), {"modes_covered": 1.0, "high_quality": 99.3}),
         Row("grid GAN", "grid", ("--loss", "nonsaturating"), {"modes_covered": 3.3, "high_quality": 0.5})),
        note="ours: minigan's ring/grid recipe, not VEEGAN's GAN; VEEGAN reports no spread; "
             "paper figures unverified transcriptions"),
    "recipes": Table(
        "recipes", "minigan's own recipes (minigan/gan/recipes.py): the CLI's defaults, run as a user types them",
        (MODES, HQ),
        (Row("ring nonsaturating", "ring", ("--loss", "nonsaturating")),
         Row("ring wgan-gp", "ring", ("--loss", "wgan-gp")),
         Row("grid nonsaturating", "grid", ("--loss", "nonsaturating")),
         Row("ring nonsaturating --pack 2", "ring", ("--loss", "nonsaturating", "--pack", "2"))),
        note="no paper column: these rows check the recipe table's own measured figures; "
             "per-seed values, wall and CPU seconds are in results.csv"),
    "goodfellow": Table(
        "goodfellow", "Goodfellow et al. 2014, Table 1: Parzen window log-likelihood of MNIST test images",
        (PARZEN,), (Row("MNIST GAN", "mnist", ("--loss", "nonsaturating"), {"parzen_ll": (225, 2)}),),
        eval_n=10_000, score="parzen", needs_mnist_train=True,
        note="ours: minigan's MNIST MLP recipe; 10,000 samples, sigma by validation on train[50000:51000]"),
    "goodfellow-t10k": Table(
        "goodfellow-t10k", "STAND-IN for Goodfellow et al. 2014, Table 1: GAN trained on t10k, scored on t10k",
        (PARZEN,), (Row("t10k GAN", "mnist_test", ("--loss", "nonsaturating"), {"parzen_ll": (225, 2)}),),
        eval_n=10_000, score="parzen",
        note="NOT the paper's split: the GAN saw these test images; the paper's 225 is for unseen ones"),
}


def table_names():
    return tuple(TABLES)


def get_table(name):
    if name not in TABLES:
        raise ValueError(f"unknown table {name!r}; tables: {', '.join(TABLES)} (see --list)")
    return TABLES[name]
