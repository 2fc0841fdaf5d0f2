"""Assignment A3: the optimal discriminator and Theorem 1 of Goodfellow et al. (2014), numerically.

For a fixed generator G whose samples have density p_g, the discriminator's objective is

    V(D, G) = E_{x ~ p_data}[log D(x)] + E_{x ~ p_g}[log(1 - D(x))]
            = integral of  p_data(x) log D(x) + p_g(x) log(1 - D(x))  dx.

Proposition 1: the D that maximizes V is   D*(x) = p_data(x) / (p_data(x) + p_g(x)).
Theorem 1: the value there, the "virtual training criterion" C(G) = max_D V(D, G) = V(D*, G), is

    C(G) = -log 4 + 2 JSD(p_data || p_g),

so it is smallest, -log 4, exactly when p_g = p_data. You verify both twice: by numerical
integration of known densities, and with a discriminator *network* trained with minigan on samples
(the generator frozen), which should learn D*.

Densities are Python callables that take a 1-D NumPy array of points and return the density at
each point (e.g. ``scipy.stats.norm(2, 0.5).pdf``). Integrals run over [lo, hi] (the densities
used are negligible outside): a fine grid (``np.linspace(lo, hi, 20001)``) with
``scipy.integrate.simpson`` (or ``np.trapezoid``) is accurate to many digits for smooth densities;
``scipy.integrate.quad`` works too. Natural logarithms throughout. Two helpers are given below:
``_integrate(values, x)`` (Simpson's rule on a grid) and ``_clamped_log(a)`` (max(log a, -100)).

Grade the file:  python -m minigan.grade A3 a3_optimal_d.py
"""
import math

import numpy as np
from scipy import integrate

import minigan as mg
import minigan.nn.functional as F
from minigan import nn, optim

GRID_POINTS = 20001


def _integrate(values, x):
    return float(integrate.simpson(values, x=x))


def _clamped_log(a):
    """max(log a, -100), as binary cross entropy clamps it: finite at a = 0."""
    return np.log(np.maximum(a, math.exp(-100.0)))


def optimal_discriminator(p_data, p_g, x):
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)) at the points ``x`` (a 1-D array); shape (n,).

    Where both densities are 0 every D is optimal; return 1/2 there (without dividing by zero).
    """
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    p, q = np.asarray(p_data(x), dtype=np.float64), np.asarray(p_g(x), dtype=np.float64)
    total = p + q
    return np.where(total > 0, p / np.where(total > 0, total, 1.0), 0.5)
    ### END SOLUTION


def value_function(D, p_data, p_g, lo=-10.0, hi=10.0):
    """V(D, G) = integral over [lo, hi] of  p_data(x) log D(x) + p_g(x) log(1 - D(x))  dx.

    ``D`` is a callable on 1-D arrays returning values in [0, 1]. Clamp each log at -100 (as
    binary cross entropy does), so D = 0 or 1 gives a finite value.
    """
    ### BEGIN SOLUTION
    x = np.linspace(lo, hi, GRID_POINTS)
    d = np.asarray(D(x), dtype=np.float64).reshape(-1)
    integrand = p_data(x) * _clamped_log(d) + p_g(x) * _clamped_log(1.0 - d)
    return _integrate(integrand, x)
    ### END SOLUTION


def jsd(p, q, lo=-10.0, hi=10.0):
    """The Jensen-Shannon divergence, in nats, by numerical integration over [lo, hi]:

        JSD(p || q) = 1/2 KL(p || m) + 1/2 KL(q || m),   m = (p + q) / 2,   KL(p || m) = integral p log(p / m).

    It lies in [0, log 2]: 0 for p = q, log 2 for densities that never overlap. Where a density
    is 0 its term is 0 (0 log 0 = 0): take care not to compute log(0) or 0 / 0 there.
    """
    ### BEGIN SOLUTION
    x = np.linspace(lo, hi, GRID_POINTS)
    pv, qv = np.asarray(p(x), dtype=np.float64), np.asarray(q(x), dtype=np.float64)
    m = 0.5 * (pv + qv)

    def kl_integrand(a):
        safe_a, safe_m = np.where(a > 0, a, 1.0), np.where(m > 0, m, 1.0)
        return np.where(a > 0, a * np.log(safe_a / safe_m), 0.0)

    return 0.5 * _integrate(kl_integrand(pv), x) + 0.5 * _integrate(kl_integrand(qv), x)
    ### END SOLUTION


def C(p_data, p_g, lo=-10.0, hi=10.0):
    """The virtual training criterion C(G) = max_D V(D, G) = V(D*, G), by numerical integration,
    with D* from ``optimal_discriminator``. (Theorem 1 says it equals -log 4 + 2 JSD(p_data || p_g);
    the grader checks that it does.)
    """
    ### BEGIN SOLUTION
    def d_star(x):
        return optimal_discriminator(p_data, p_g, x)

    return value_function(d_star, p_data, p_g, lo, hi)
    ### END SOLUTION


def train_discriminator(sample_data, sample_g, steps=2000, batch_size=128, lr=1e-2, seed=0):
    """Train a discriminator network with minigan to tell data from generated samples, the
    generator frozen, and return it as a callable D(x): 1-D array (n,) -> probabilities (n,).

    ``sample_data(n)`` and ``sample_g(n)`` return n samples (a 1-D array of shape (n,)) from p_data
    and from the fixed generator. This is the inner loop of the paper's Algorithm 1 run to
    convergence: maximize mean log D(x) + mean log(1 - D(G(z))), i.e. minimize binary cross
    entropy with label 1 for data and 0 for generated samples. Seed minigan (mg.manual_seed) with
    ``seed``. Done well, D comes within 0.05 of D* (in fact ~0.02) wherever the samples are dense,
    in a few seconds on a CPU; the grader allows 120 s.

    Hints: a small MLP such as 1 -> 32 -> 32 -> 1 with Tanh, ending in a logit (no Sigmoid) and
    trained with F.binary_cross_entropy_with_logits; standardize x (subtract the mean, divide by the
    std of a large probe sample) before the network; Adam with fresh samples every step, and a
    learning rate that decays to 0 (cosine) so the noise of the last minibatches averages out.
    """
    ### BEGIN SOLUTION
    mg.manual_seed(seed)
    probe = np.concatenate([sample_data(4096), sample_g(4096)])
    center, scale = float(probe.mean()), float(probe.std())
    net = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))
    opt = optim.Adam(net.parameters(), lr=lr)
    labels = mg.tensor(np.concatenate([np.ones((batch_size, 1)), np.zeros((batch_size, 1))]))

    def features(x):
        return mg.tensor((np.asarray(x, dtype=np.float64).reshape(-1, 1) - center) / scale)

    for step in range(steps):
        opt.param_groups[0]["lr"] = lr * 0.5 * (1.0 + math.cos(math.pi * step / steps))  # cosine decay to 0
        x = np.concatenate([sample_data(batch_size), sample_g(batch_size)])
        loss = F.binary_cross_entropy_with_logits(net(features(x)), labels)  # -[log D(x) + log(1 - D(G(z)))]
        opt.zero_grad()
        loss.backward()
        opt.step()

    def D(x):
        with mg.no_grad():
            return net(features(x)).sigmoid().numpy().reshape(-1).astype(np.float64)

    return D
    ### END SOLUTION
