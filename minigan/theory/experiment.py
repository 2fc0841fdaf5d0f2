"""Proposition 1 with a trained network: a discriminator trained with G frozen approaches D*.

The data are 1-D, N(2, 0.5²) by default. The generator is frozen: an affine map of the noise,
x = mu_g + s_g z, whose density N(mu_g, s_g²) is known, or any map z -> x whose density is
estimated from samples with ``scipy.stats.gaussian_kde``. The discriminator is a small minigan MLP
trained on fresh samples every step, and is compared with D* = p_data / (p_data + p_g) on the
region that holds 99% of the mass of p_data + p_g.
"""
import contextlib
import math
import time
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats
from threadpoolctl import threadpool_limits

import minigan as mg
from minigan import nn, optim
from minigan.nn import functional as F
from minigan.theory.divergences import optimal_discriminator, value_function, virtual_training_criterion

DATA_MEAN, DATA_STD = 2.0, 0.5


@dataclass
class TrainConfig:
    """How the discriminator is trained: Adam with a cosine decay from lr to lr_final."""
    steps: int = 3000
    batch_size: int = 512      # real and fake samples each, per step
    hidden: int = 32           # width of the two hidden LeakyReLU(0.2) layers
    lr: float = 1e-2
    lr_final: float = 1e-5
    seed: int = 0


QUICK = TrainConfig(steps=300, batch_size=512, lr=1e-2, lr_final=1e-4)


@contextlib.contextmanager
def _float64_and_seed(seed):
    """float64 parameters and a seeded backend generator inside; the caller's state restored after."""
    be, dtype = mg.get_backend(), mg.get_default_dtype()
    rng_state = be.get_rng_state()
    mg.set_default_dtype("float64")
    be.manual_seed(seed)
    try:
        yield
    finally:
        mg.set_default_dtype(dtype)
        be.set_rng_state(rng_state)


class TrainedDiscriminator:
    """A trained minigan MLP as a function on host arrays: D(x) for x of any shape (or a float)."""

    def __init__(self, net, shift, scale):
        self.net, self.shift, self.scale = net, shift, scale

    def __call__(self, x):
        x = np.asarray(x, dtype=np.float64)
        with mg.no_grad():
            d = self.net(mg.tensor(((x - self.shift) / self.scale).reshape(-1, 1), dtype=np.float64))
        return d.numpy().reshape(x.shape)


def make_discriminator(hidden):
    """1 -> hidden -> hidden -> 1 with LeakyReLU(0.2) and a Sigmoid output, D(x) in (0, 1)."""
    return nn.Sequential(nn.Linear(1, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
                         nn.Linear(hidden, 1), nn.Sigmoid())


def train_discriminator(sample_data, sample_g, config=TrainConfig()):
    """Run the inner loop of Algorithm 1 to convergence with G frozen::

        maximize  mean log D(x) + mean log(1 - D(G(z)))   over D,  a fresh minibatch every step

    ``sample_data(rng, n)`` and ``sample_g(rng, n)`` return n host samples (n,). Inputs are
    standardized with the mean and std of a pilot sample of both (the net then sees values of
    order 1 whatever the data's scale). Returns a :class:`TrainedDiscriminator`.
    """
    rng = np.random.default_rng(config.seed)
    pilot = np.concatenate([sample_data(rng, 10_000), sample_g(rng, 10_000)])
    shift, scale = float(pilot.mean()), float(pilot.std())
    n = config.batch_size
    # NOTE: one BLAS thread: these matmuls are tiny ((2n, 32) @ (32, 32)), and a second thread
    # costs more in synchronisation than it saves (several times more on a busy machine).
    with _float64_and_seed(config.seed), threadpool_limits(1, user_api="blas"):
        net = make_discriminator(config.hidden)
        opt = optim.Adam(net.parameters(), lr=config.lr)
        labels = mg.tensor(np.concatenate([np.ones(n), np.zeros(n)]).reshape(-1, 1))  # real 1, fake 0
        for step in range(config.steps):
            cosine = 0.5 * (1.0 + math.cos(math.pi * step / config.steps))
            opt.param_groups[0]["lr"] = config.lr_final + (config.lr - config.lr_final) * cosine
            x = np.concatenate([sample_data(rng, n), sample_g(rng, n)])  # D runs once on [real; fake]
            x = mg.tensor(((x - shift) / scale).reshape(-1, 1))
            # BCE with labels 1 (real) and 0 (fake) = -(1/2)[mean log D(x) + mean log(1 - D(G(z)))]
            loss = F.binary_cross_entropy(net(x), labels)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return TrainedDiscriminator(net, shift, scale)


def mixture_region(cdf_data, cdf_g, mass=0.99, search=(-1e6, 1e6)):
    """The (1 - mass)/2 and (1 + mass)/2 quantiles of the mixture (p_data + p_g) / 2."""
    def quantile(level):
        return optimize.brentq(lambda t: 0.5 * (cdf_data(t) + cdf_g(t)) - level, *search, xtol=1e-12)
    return quantile((1.0 - mass) / 2.0), quantile((1.0 + mass) / 2.0)


@dataclass
class Proposition1Result:
    """A trained D against D* on a grid over the region holding 99% of p_data + p_g."""
    x: np.ndarray
    p_data: np.ndarray
    p_g: np.ndarray
    d: np.ndarray            # the trained discriminator D(x)
    d_star: np.ndarray       # D*(x) (from the KDE of p_g in the KDE experiment)
    max_error: float         # max |D - D*| on the region
    value: float             # V(D, G), integrated with the trained D
    criterion: float         # C(G) = V(D*, G)
    seconds: float           # wall-clock training time
    cpu_seconds: float       # CPU time of the training (steadier on a shared machine)
    discriminator: TrainedDiscriminator = None

    def panel(self, title):
        """A dict for minigan.plot.save_discriminator_panels."""
        return dict(x=self.x, p_data=self.p_data, p_g=self.p_g, d_values=self.d, d_star=self.d_star, title=title)


def _sample_normal(mean, std):
    return lambda rng, n: mean + std * rng.standard_normal(n)


def _timed_training(sample_data, sample_g, config):
    wall, cpu = time.perf_counter(), time.process_time()
    D = train_discriminator(sample_data, sample_g, config)
    return D, time.perf_counter() - wall, time.process_time() - cpu


def proposition_1(mu_g=0.0, s_g=1.0, config=TrainConfig(), mu_data=DATA_MEAN, s_data=DATA_STD, points=1001):
    """Train D against the frozen generator x = mu_g + s_g z (so p_g = N(mu_g, s_g²)) and compare.

    C(G) is integrated with quad over the real line. V(D, G) with Simpson on a 20001-point grid over
    mu ± 12 std of both densities (all but 1e-32 of the mass): quad, calling the network one point
    at a time, takes seconds and stalls near 1e-9 on its LeakyReLU kinks; the grid agrees with it to
    ~1e-9.
    """
    data, gen = stats.norm(mu_data, s_data), stats.norm(mu_g, s_g)
    D, seconds, cpu = _timed_training(_sample_normal(mu_data, s_data), _sample_normal(mu_g, s_g), config)
    x = np.linspace(*mixture_region(data.cdf, gen.cdf), points)
    d, d_star = D(x), optimal_discriminator(data.pdf(x), gen.pdf(x))
    wide = np.linspace(min(mu_data - 12 * s_data, mu_g - 12 * s_g), max(mu_data + 12 * s_data, mu_g + 12 * s_g),
                       20_001)
    return Proposition1Result(
        x=x, p_data=data.pdf(x), p_g=gen.pdf(x), d=d, d_star=d_star, max_error=float(np.abs(d - d_star).max()),
        value=value_function(D, data.pdf(wide), gen.pdf(wide), x=wide),
        criterion=virtual_training_criterion(data.pdf, gen.pdf), seconds=seconds, cpu_seconds=cpu, discriminator=D)


def proposition_1_kde(generator, config=TrainConfig(), kde_samples=20_000, mu_data=DATA_MEAN, s_data=DATA_STD,
                      points=1001):
    """The same for a generator ``z (n,) -> x (n,)`` whose density is unknown: p_g is replaced by a
    Gaussian KDE of ``kde_samples`` generated points (Scott's bandwidth), and so is D*.

    The region and both integrals (V and C, Simpson on the grid) use the KDE too, so max_error
    measures D against the KDE's D*, which carries the KDE's own bias (compare with the known-density
    experiment to see its size).
    """
    data = stats.norm(mu_data, s_data)
    sample_g = lambda rng, n: np.asarray(generator(rng.standard_normal(n)), dtype=np.float64).reshape(n)
    samples = sample_g(np.random.default_rng(config.seed + 1), kde_samples)
    kde = stats.gaussian_kde(samples)
    reach = 10 * math.sqrt(kde.covariance[0, 0])  # 10 bandwidths: the KDE's mass ends there
    search = (min(samples.min() - reach, mu_data - 40 * s_data), max(samples.max() + reach, mu_data + 40 * s_data))
    cdf_g = lambda t: kde.integrate_box_1d(-np.inf, t)
    D, seconds, cpu = _timed_training(_sample_normal(mu_data, s_data), sample_g, config)
    x = np.linspace(*mixture_region(data.cdf, cdf_g, search=search), points)
    p_data, p_g, d = data.pdf(x), kde(x), D(x)
    d_star = optimal_discriminator(p_data, p_g)
    wide = np.linspace(*mixture_region(data.cdf, cdf_g, mass=1 - 1e-9, search=search), 2001)  # for V and C
    p_data_wide, p_g_wide = data.pdf(wide), kde(wide)
    return Proposition1Result(
        x=x, p_data=p_data, p_g=p_g, d=d, d_star=d_star, max_error=float(np.abs(d - d_star).max()),
        value=value_function(D, p_data_wide, p_g_wide, x=wide),
        criterion=virtual_training_criterion(p_data_wide, p_g_wide, x=wide),
        seconds=seconds, cpu_seconds=cpu, discriminator=D)


def figure_1_stages(stages, config=TrainConfig(), mu_data=DATA_MEAN, s_data=DATA_STD, points=401):
    """One freshly trained D per frozen generator (mu_g, s_g) in ``stages``: Figure 1's panels.

    Returns the Proposition1Result of each stage and the panels (dicts for
    ``minigan.plot.save_discriminator_panels``) on one x axis that covers every stage.
    """
    results = [proposition_1(mu, s, config, mu_data, s_data) for mu, s in stages]
    lo = min(mu_data - 4 * s_data, *(mu - 3 * s for mu, s in stages))
    hi = max(mu_data + 4 * s_data, *(mu + 3 * s for mu, s in stages))
    x = np.linspace(lo, hi, points)
    panels = []
    for (mu, s), r in zip(stages, results):
        p_data, p_g = stats.norm.pdf(x, mu_data, s_data), stats.norm.pdf(x, mu, s)
        title = f"$p_g = N({mu:.2f}, {s:.2f}^2)$\nmax|D - D*| = {r.max_error:.3f}"
        panels.append(dict(x=x, p_data=p_data, p_g=p_g, d_values=r.discriminator(x),
                           d_star=optimal_discriminator(p_data, p_g), title=title))
    return results, panels
