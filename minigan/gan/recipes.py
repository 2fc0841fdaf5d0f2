"""Training recipes: every setting of a run, for each (data set, loss), in one table.

``python -m minigan.train --dataset X --loss Y`` trains with :func:`resolve` ``(X, Y)``: the loss's
paper settings (``LOSS_DEFAULTS``), then the data set's (``DATASET_DEFAULTS``), then the tuned row
of ``RECIPES`` if there is one; any flag given on the command line overrides the result.

Lengths: ``steps`` counts generator steps, whatever the loss (a WGAN step is ``d_steps`` critic
updates and one generator update); ``epochs`` counts passes of real data through D, so one
epoch is ``len(data) / (batch_size * d_steps)`` generator steps. A row gives one or the other.

Learning-rate schedules (the factor on both initial learning rates after t of T generator steps):

* ``constant``: 1;
* ``linear``: 1 until ``lr_decay_start * T``, then straight down to ``lr_final`` at T;
* ``cosine``: ``lr_final + (1 - lr_final) (1 + cos(pi s)) / 2``, s the fraction of the decay
  phase done (also from ``lr_decay_start * T``).

A row may hold ``packed``: settings used instead when ``--pack`` > 1
(a packed discriminator judges ``pack`` times fewer inputs per step), and ``conditional``: settings
used instead for ``--conditional`` (told the label, a GAN needs far less); flags override both.

``MODEL_RECIPES`` holds rows for a model other than the data set's usual one, used when ``--model``
names it: ``--dataset digits --model dcgan`` trains with the DCGAN row, not with the MLP's
learning rates and length. The conditional GAN (``--conditional``) uses the same rows (and their
``conditional`` settings where a row has them).

Decaying the learning rate settles the oscillation of the two players; in our ring runs the
share of high-quality samples was still rising at the end of every constant-rate run.
"""
import math

FIELDS = ("model", "width", "latent_dim", "batch_size", "d_steps", "lr_g", "lr_d", "betas", "lr_schedule", "lr_final",
          "lr_decay_start", "gp_weight", "r1_weight", "logits", "clip_value", "pack", "ema", "steps", "epochs")
SCHEDULES = ("constant", "linear", "cosine")

# The papers' optimizers. Optimizer type follows the loss: RMSprop for WGAN (Arjovsky et al. 2017
# found momentum unstable with weight clipping), Adam otherwise.
LOSS_DEFAULTS = {
    # Radford et al. 2016 (DCGAN): Adam 2e-4, beta1 0.5 — the usual setting for the GAN losses
    "minimax": dict(d_steps=1, lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999), gp_weight=None, clip_value=None),
    "nonsaturating": dict(d_steps=1, lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999), gp_weight=None, clip_value=None),
    # Arjovsky et al. 2017, Algorithm 1: RMSprop 5e-5, n_critic 5, clip 0.01
    "wgan": dict(d_steps=5, lr_g=5e-5, lr_d=5e-5, betas=None, gp_weight=None, clip_value=0.01),
    # Gulrajani et al. 2017: Adam 1e-4, betas (0.5, 0.9) as in their toy code, n_critic 5, lambda 10
    "wgan-gp": dict(d_steps=5, lr_g=1e-4, lr_d=1e-4, betas=(0.5, 0.9), gp_weight=10.0, clip_value=None),
}
_COMMON = dict(width=1, lr_schedule="constant", lr_final=0.01, lr_decay_start=0.5, pack=1, ema=None, steps=None,
               r1_weight=None, logits=False)
DATASET_DEFAULTS = {
    "digits": dict(model="small", latent_dim=100, batch_size=64, epochs=200),
    "mnist": dict(model="mlp", latent_dim=100, batch_size=128, epochs=30),
    "mnist_test": dict(model="mlp", latent_dim=100, batch_size=128, epochs=100),
}
_TOY_DEFAULTS = dict(model="toy", latent_dim=16, batch_size=64, epochs=30)

# Tuned rows: (data set, loss) -> settings that differ from the defaults above, where they come
# from, and what they measured (2,500 samples per run, PacGAN's protocol; `python -m minigan.reproduce recipes`
# re-measures the toy rows).
RECIPES = {
    ("ring", "nonsaturating"): dict(
        batch_size=256, lr_g=1e-3, lr_d=2e-3, lr_schedule="linear", ema=0.999, steps=6000, epochs=None,
        source="PacGAN's ring (Lin et al. 2018); lr (two time-scale: D at twice G's rate), batch, decay "
               "and EMA from our own search",
        measured="7 seeds: modes 7 8 8 8 8 8 8 (mean 7.9/8), HQ 91.6 95.9 94.6 95.8 94.0 93.5 93.3% "
                 "(mean 94.1%); about 26 s of one core per run. Packed (--pack 2, 12,000 steps), 5 seeds: "
                 "modes 8 8 8 8 8, HQ 91.0 94.3 95.0 95.0 91.4% (mean 93.4%); at 6,000 steps it was "
                 "8/8 on every seed but 78.3% HQ",
        packed=dict(steps=12000)),
    ("ring", "wgan-gp"): dict(
        batch_size=256, lr_g=5e-4, lr_d=5e-4, gp_weight=0.1, lr_schedule="linear", ema=0.999, steps=2500,
        epochs=None,
        source="Gulrajani et al. 2017, their toy code (batch 256, 5 critic steps, Adam betas (0.5, 0.9), "
               "lambda 0.1: 'smaller lambda seems to help for toy tasks'); lr, decay and EMA from our own search",
        measured="5 seeds: modes 8 8 8 8 8, HQ 71.9 77.8 71.4 73.2 63.8% (mean 71.6%); 158 s wall for the "
                 "last seed on a lightly loaded machine (the others ran beside other jobs). Lambda 10 with "
                 "lr 1e-3 and the same decay: 2.5/8 modes, 0.2% HQ (4 seeds)"),
    ("digits", "nonsaturating"): dict(
        logits=True, r1_weight=1.0, epochs=400,
        source="the small MLP with Radford et al. 2016's Adam 2e-4 (0.5, 0.999), batch 64; D's R1 penalty on real "
               "data (Mescheder et al. 2018, gamma 1, on D's logit) and the length from our own search",
        measured="5 seeds (2,500 samples, minigan's digits classifier; real digits 86.1%): 65.9, 67.5, 67.2, "
                 "66.5 and 66.0% above 0.9 confidence, every class 7.1-12.3%; 55-62 s wall per run, and 49.5-51.2 s "
                 "(seeds 4 and 0, alone on an idle machine) once the digits loader stopped importing scikit-learn. "
                 "Without R1 (200 epochs): 53% and '3' at 23%, '4' under 4%; R1 at 200 epochs: 58.3% and 56.7%, "
                 "27-32 s; R1 + EMA 0.999 at 300 epochs: 62.9%; with a linear decay too: 60.6%"),
    ("mnist_test", "nonsaturating"): dict(
        model="mlp", batch_size=128, lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999), logits=True, r1_weight=10.0,
        ema=0.999, epochs=50,
        source="Goodfellow et al. 2014's MLP GAN on MNIST with Radford et al. 2016's Adam 2e-4 (0.5, 0.999); "
               "D's R1 penalty on real data (Mescheder et al. 2018, gamma 10 as in their image experiments, on "
               "D's logit), EMA and the length from our own search; the real t10k images stand in for the "
               "training split",
        measured="3 seeds (10,000 samples, minigan's mnist_test classifier; real t10k images 90.1%): 70.4%, 70.5% "
                 "and 72.6% above 0.9 confidence, every class 6.3-13.1%; 394-408 s wall (7.9-8.2 s per epoch) "
                 "on one BLAS thread, one run per core. Without EMA: 66.3% (classes 5.3-13.7%) and 68.1% with "
                 "'9' at 16.7%; R1 gamma 1 without EMA: 65.6%, '9' at 17.4%. No R1 (100 epochs, 545 s): 81.2% "
                 "but '1' 43.0%, '8' 1.4%"),
    ("mnist", "nonsaturating"): dict(
        model="mlp", batch_size=128, lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999), logits=True, r1_weight=10.0,
        ema=0.999, epochs=10,
        source="the mnist_test row's settings for the 60,000-image training split; 10 epochs are 4,680 "
               "generator steps, a little more than mnist_test's 3,900",
        measured="not measured: the training split was not on the machines this row was tuned on (no "
                 "download); see the mnist_test row"),
    ("grid", "nonsaturating"): dict(
        model="toy-wide", batch_size=256, lr_g=1e-3, lr_d=1e-3, lr_schedule="linear", ema=0.999, steps=10000,
        epochs=None, logits=True, r1_weight=1.0,
        source="PacGAN's grid (Lin et al. 2018); D's R1 penalty on real data (Mescheder et al. 2018, gamma 1, "
               "on D's logit); a wider toy model, lr, batch, decay, EMA and gamma from our own search",
        measured="5 seeds: modes 25 25 25 25 25 (mean 25/25), HQ 88.8 88.3 88.4 91.2 89.5% (mean 89.2%), "
                 "reverse KL 0.005-0.009; 265 s wall (261 s CPU) per run with one run per core. Without R1 "
                 "(6,000 steps, 4 seeds): 19.2/25 and 69.8%; R1 gamma 0.3 at 8,000 steps: 25/25 but 69-86%"),
}

# (data set, loss, model) -> the row used for ``--model model``; same layout as RECIPES
_RADFORD = dict(model="dcgan", latent_dim=100, batch_size=64, lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999))
# both MNIST DCGAN rows (t10k stand-in and training split) differ only in their length
_MNIST_DCGAN = dict(_RADFORD, lr_g=4e-4, lr_d=4e-4, logits=True, r1_weight=10.0, lr_schedule="linear", ema=0.999,
                    steps=None)
MODEL_RECIPES = {
    ("digits", "nonsaturating", "dcgan"): dict(
        _RADFORD, width=2, batch_size=256, lr_schedule="linear", ema=0.999, steps=30000, epochs=None,
        conditional=dict(batch_size=64, steps=5000, width=1),
        source="Radford et al. 2016 (DCGAN): Adam 2e-4 (0.5, 0.999), N(0, 0.02) init; width (twice the "
               "channels), batch, length, decay and EMA from our own search",
        measured="5 seeds (10,000 samples, minigan's digits classifier; real digits 86.1%): 81.68%, 81.53%, "
                 "80.92%, 82.35% and 82.08% above 0.9 confidence (seeds 0-4, mean 81.7%), every class "
                 "8.3-12.3%; 3,442-3,465 s of one core per run (85 min wall, three runs on two cores; seed 1 "
                 "alone on two threads 43 min). Width 1 (half the channels), the same settings: 80.06%, 78.65%, "
                 "80.00%, 78.2% and 79.05% (mean 79.2%), 1,305-1,528 s per run; lr 4e-4 at width 1: seeds 1 "
                 "and 2 79.02% and 79.13%. Width 1, seed 0, on the way there: batch 64, 15,000 steps 73.8%; "
                 "30,000 steps 76.9%; batch 128, 30,000 steps 78.75%; 60,000 steps 79.4%; batch 256, 15,000 "
                 "steps 77.4%. The generator before its smoothing convolution: 68.5% (batch 64, 15,000 steps). "
                 "Conditional (--conditional: width 1, batch 64, 5,000 steps): 91.7% confident, the label asked "
                 "for in 98.9%, 2.8 min"),
    ("mnist_test", "nonsaturating", "dcgan"): dict(
        _MNIST_DCGAN, epochs=130,
        source="Radford et al. 2016 (DCGAN): Adam (0.5, 0.999), batch 64, N(0, 0.02) init; the mnist_test "
               "MLP row's logit D with R1 (gamma 10) and EMA; decay as in our toy recipes; lr (twice Radford's) "
               "and length from our search",
        measured="seed 0 (10,000 samples, minigan's mnist_test classifier; real t10k images 90.1%): 73.5% above "
                 "0.9 confidence, every class 8.4-12.0%; 20,280 steps in 95.3 min wall (44 s per epoch, one "
                 "thread) with another run on the second core: short of the 80% asked for. The search, seed 0: "
                 "lr 2e-4 for 60 epochs 67.2% (classes 8.1-13.8%); at 25 epochs each: lr 2e-4 59.2% (classes "
                 "7.2-14.1%), lr 4e-4 62.6% (8.1-12.8%), lr 2e-4 with R1 gamma 1 61.1%, gamma 0.1 61.35% ('9' "
                 "17.1%), G ending in the 8x8 preset's smoothing convolution 61.3% (1.8x the time per step), no R1 "
                 "(--no-logits --r1-weight 0) 60.9% (classes 4.3-18.3%); length is what moved it most. At 130 epochs, seed 0: "
                 "R1 gamma 1 74.7% (classes 8.2-12.6%; 1.2 points over gamma 10, one seed, within the seed-to-seed "
                 "spread of the digits row, so the row keeps gamma 10), batch 128 69.9% (10,140 steps). (R1 was "
                 "made for a D without BatchNorm; here D's BatchNorm mixes the batch into each input gradient; a D "
                 "without BatchNorm was not tried.)"),
    ("mnist", "nonsaturating", "dcgan"): dict(
        _MNIST_DCGAN, epochs=22,
        source="the mnist_test DCGAN row's settings for the 60,000-image training split; 22 epochs are 20,614 "
               "generator steps, about mnist_test's 20,280",
        measured="not measured: the training split was not on the machines this row was tuned on (no "
                 "download); see the mnist_test DCGAN row"),
}


def resolve(dataset, loss, overrides=None, conditional=False):
    """All of FIELDS for ``--dataset dataset --loss loss`` (``conditional``: for ``--conditional``),
    then ``overrides`` (None values skipped).

    Returns ``(settings, source)``: ``source`` says which recipe row was used."""
    if loss not in LOSS_DEFAULTS:
        raise ValueError(f"unknown loss {loss!r}; valid losses: {', '.join(LOSS_DEFAULTS)}")
    settings = {**_COMMON, **LOSS_DEFAULTS[loss], **DATASET_DEFAULTS.get(dataset, _TOY_DEFAULTS)}
    model = (overrides or {}).get("model")
    row = MODEL_RECIPES.get((dataset, loss, model)) or RECIPES.get((dataset, loss), {})
    settings.update({k: v for k, v in row.items() if k in FIELDS})
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    unknown = set(given) - set(FIELDS)
    if unknown:
        raise KeyError(f"unknown recipe settings {sorted(unknown)}; valid: {', '.join(FIELDS)}")
    # a row's variants: a packed D sees pack times fewer inputs per step and sharpens more slowly (its
    # own length); a conditional GAN, told the label, needs far less. Flags still override them, below.
    for variant, applies in (("packed", given.get("pack", settings["pack"]) > 1), ("conditional", conditional)):
        if applies and variant in row:
            settings.update(row[variant])
    if "steps" in given:       # a length given on the command line replaces the row's
        settings["epochs"] = None
    if "epochs" in given:
        settings["steps"] = None
    settings.update(given)
    if settings["lr_schedule"] not in SCHEDULES:
        raise ValueError(f"unknown lr schedule {settings['lr_schedule']!r}; valid: {', '.join(SCHEDULES)}")
    source = row.get("source", f"defaults of the {loss} loss and the {dataset} data set (no tuned row)")
    return settings, source


def lr_factor(schedule, total_steps, lr_final=0.01, decay_start=0.5):
    """``factor(t)``: the learning-rate multiplier after t of ``total_steps`` generator steps."""
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown lr schedule {schedule!r}; valid: {', '.join(SCHEDULES)}")
    if not 0.0 <= decay_start < 1.0:
        raise ValueError(f"lr_decay_start must be in [0, 1), got {decay_start}")
    start = decay_start * total_steps

    def factor(t):
        if schedule == "constant" or t <= start:
            return 1.0
        s = min(1.0, (t - start) / (total_steps - start))   # fraction of the decay phase done
        if schedule == "linear":
            return 1.0 - (1.0 - lr_final) * s
        return lr_final + (1.0 - lr_final) * 0.5 * (1.0 + math.cos(math.pi * s))
    return factor
