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
    raise NotImplementedError("optimal_discriminator: write your solution here")
    ### END SOLUTION


def value_function(D, p_data, p_g, lo=-10.0, hi=10.0):
    """V(D, G) = integral over [lo, hi] of  p_data(x) log D(x) + p_g(x) log(1 - D(x))  dx.

    ``D`` is a callable on 1-D arrays returning values in [0, 1]. Clamp each log at -100 (as
    binary cross entropy does), so D = 0 or 1 gives a finite value.
    """
    ### BEGIN SOLUTION
    raise NotImplementedError("value_function: write your solution here")
    ### END SOLUTION


def jsd(p, q, lo=-10.0, hi=10.0):
    """The Jensen-Shannon divergence, in nats, by numerical integration over [lo, hi]:

        JSD(p || q) = 1/2 KL(p || m) + 1/2 KL(q || m),   m = (p + q) / 2,   KL(p || m) = integral p log(p / m).

    It lies in [0, log 2]: 0 for p = q, log 2 for densities that never overlap. Where a density
    is 0 its term is 0 (0 log 0 = 0): take care not to compute log(0) or 0 / 0 there.
    """
    ### BEGIN SOLUTION
    raise NotImplementedError("jsd: write your solution here")
    ### END SOLUTION


def C(p_data, p_g, lo=-10.0, hi=10.0):
    """The virtual training criterion C(G) = max_D V(D, G) = V(D*, G), by numerical integration,
    with D* from ``optimal_discriminator``. (Theorem 1 says it equals -log 4 + 2 JSD(p_data || p_g);
    the grader checks that it does.)
    """
    ### BEGIN SOLUTION
    raise NotImplementedError("C: write your solution here")
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
    raise NotImplementedError("train_discriminator: write your solution here")
    ### END SOLUTION
