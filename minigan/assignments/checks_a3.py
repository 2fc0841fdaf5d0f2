"""Checks of A3: D*, V, JSD and C(G) against the reference integration (and Theorem 1's identity),
then a discriminator trained by the student's code against D*."""
import math

import numpy as np
from scipy import stats

from minigan.assignments import a3_optimal_d as reference
from minigan.assignments.checking import Check, CheckFailed, fmt, get

LOG4 = math.log(4.0)
D_STAR_BOUND = 0.05     # max |D - D*| over the central 99% of the probability mass
THEOREM_TOLERANCE = 0.01  # |V(D, G) - C(G)| for the trained D


def _mixture(*parts):
    return lambda x: sum(w * stats.norm(mu, sd).pdf(x) for w, mu, sd in parts)


# (label, p_data, p_g)
PAIRS = [
    ("p_data = N(2, 0.5^2), p_g = N(0, 1)", stats.norm(2, 0.5).pdf, stats.norm(0, 1).pdf),
    ("p_data = N(-1, 1), p_g = N(1, 2^2)", stats.norm(-1, 1).pdf, stats.norm(1, 2).pdf),
    ("p_data = (N(-2, 0.5^2) + N(2, 0.5^2)) / 2, p_g = N(0, 1.5^2)",
     _mixture((0.5, -2, 0.5), (0.5, 2, 0.5)), stats.norm(0, 1.5).pdf),
]
DISJOINT = ("p_data = U[0, 1], p_g = U[2, 3] (never overlapping)", stats.uniform(0, 1).pdf, stats.uniform(2, 1).pdf)


def _number(value, label):
    try:
        return float(np.asarray(value, dtype=np.float64).reshape(()))
    except (TypeError, ValueError):
        raise CheckFailed(f"{label} must return a number, got {type(value).__name__} "
                          f"{getattr(value, 'shape', '')}") from None


def _expect_number(label, got, expected, atol, context):
    if not math.isfinite(got):
        raise CheckFailed(f"{label} is {got} for {context} (expected {fmt(expected)}); mind log(0) and 0 / 0 "
                          "where a density or D is 0 (clamp the logs; 0 log 0 = 0)")
    if abs(got - expected) > atol:
        raise CheckFailed(f"{label} = {got:.6g} for {context}, expected {expected:.6g} "
                          f"(tolerance {atol:g})")


def check_d_star(student, cache):
    d_star = get(student, "optimal_discriminator")
    x = np.linspace(-5, 5, 101)
    for label, p, q in PAIRS:
        got = np.asarray(d_star(p, q, x), dtype=np.float64)
        if got.shape != x.shape:
            raise CheckFailed(f"optimal_discriminator: wrong output shape {got.shape} for x of shape {x.shape}")
        expected = p(x) / (p(x) + q(x))
        bad = ~np.isfinite(got) | (np.abs(got - expected) > 1e-9 + 1e-7 * np.abs(expected))
        if bad.any():
            i = int(np.argmax(bad))
            raise CheckFailed(f"optimal_discriminator: D*({x[i]:.3g}) = {fmt(got[i])}, expected "
                              f"p_data / (p_data + p_g) = {fmt(expected[i])} for {label}")
    label, p, q = DISJOINT
    got = np.asarray(d_star(p, q, np.array([0.5, 1.5, 2.5])), dtype=np.float64).reshape(-1)
    if not np.allclose(got, [1.0, 0.5, 0.0]):
        raise CheckFailed(f"optimal_discriminator at x = 0.5, 1.5, 2.5 gives {got} for {label}; expected "
                          "[1, 0.5, 0]: where both densities are 0, return 1/2")


def check_value_function(student, cache):
    value_function = get(student, "value_function")
    discriminators = [("D(x) = 1/2", lambda x: np.full(np.shape(x), 0.5)),
                      ("D(x) = sigmoid(1.3 x - 0.4)", lambda x: 1.0 / (1.0 + np.exp(-(1.3 * np.asarray(x) - 0.4))))]
    for d_label, D in discriminators:
        for label, p, q in PAIRS[::2]:
            got = _number(value_function(D, p, q, -10.0, 10.0), "value_function")
            _expect_number("V(D, G)", got, reference.value_function(D, p, q, -10.0, 10.0), 1e-5,
                           f"{d_label}, {label}")


def check_jsd(student, cache):
    jsd = get(student, "jsd")
    label, p, _ = PAIRS[0]
    _expect_number("jsd(p, p)", _number(jsd(p, p, -10.0, 10.0), "jsd"), 0.0, 1e-7, "p = q = N(2, 0.5^2)")
    for label, p, q in PAIRS:
        _expect_number("JSD(p_data || p_g)", _number(jsd(p, q, -10.0, 10.0), "jsd"),
                       reference.jsd(p, q, -10.0, 10.0), 1e-6, label)
    label, p, q = DISJOINT
    _expect_number("JSD(p_data || p_g)", _number(jsd(p, q, -10.0, 10.0), "jsd"), math.log(2.0), 5e-3,
                   label + ": the maximum, log 2")


def check_theorem_1(student, cache):
    c_of_g = get(student, "C")
    label, p, _ = PAIRS[0]
    _expect_number("C(G)", _number(c_of_g(p, p, -10.0, 10.0), "C"), -LOG4, 1e-6,
                   "p_g = p_data = N(2, 0.5^2): the global minimum -log 4")
    for label, p, q in PAIRS:
        expected = -LOG4 + 2.0 * reference.jsd(p, q, -10.0, 10.0)
        _expect_number("C(G)", _number(c_of_g(p, q, -10.0, 10.0), "C"), expected, 1e-5,
                       f"{label}; Theorem 1: -log 4 + 2 JSD = {expected:.6g}")
    label, p, q = DISJOINT
    _expect_number("C(G)", _number(c_of_g(p, q, -10.0, 10.0), "C"), 0.0, 1e-2,
                   label + ": -log 4 + 2 log 2 = 0")


# --- the trained discriminator ------------------------------------------------------------------
P_DATA = stats.norm(2.0, 0.5)
P_G = stats.norm(-0.5, 1.2)  # G(z) = -0.5 + 1.2 z with z ~ N(0, 1): an affine map, so p_g is known
TRAINING_LABEL = "p_data = N(2, 0.5^2), G(z) = -0.5 + 1.2 z (p_g = N(-0.5, 1.2^2))"


def central_region(p, q, mass=0.99, lo=-10.0, hi=10.0):
    """[a, b] holding ``mass`` of the mixture (p + q) / 2, leaving equal tails."""
    x = np.linspace(lo, hi, 40001)
    cdf = np.cumsum(0.5 * (p(x) + q(x)))
    cdf /= cdf[-1]
    tail = (1.0 - mass) / 2.0
    return float(x[np.searchsorted(cdf, tail)]), float(x[np.searchsorted(cdf, 1.0 - tail)])


def _trained(student, cache):
    if "D" not in cache:
        rng = np.random.default_rng(2014)

        def sample_data(n):
            return rng.normal(2.0, 0.5, n)

        def sample_g(n):
            return -0.5 + 1.2 * rng.standard_normal(n)  # the frozen generator

        D = get(student, "train_discriminator")(sample_data, sample_g, seed=0)
        if not callable(D):
            raise CheckFailed(f"train_discriminator must return a callable D(x), got a {type(D).__name__}")
        cache["D"] = D
    return cache["D"]


def _evaluate(D, x):
    values = np.asarray(D(x), dtype=np.float64)
    if values.shape != x.shape:
        raise CheckFailed(f"the trained D: wrong output shape {values.shape} for x of shape {x.shape} "
                          "(return a 1-D array of probabilities)")
    if not np.all(np.isfinite(values)) or values.min() < 0 or values.max() > 1:
        raise CheckFailed(f"the trained D returns values outside [0, 1] (from {fmt(np.nanmin(values))} to "
                          f"{fmt(np.nanmax(values))}): return probabilities, e.g. sigmoid of the logit")
    return values


def check_trained_d(student, cache):
    D = _trained(student, cache)
    a, b = central_region(P_DATA.pdf, P_G.pdf)
    x = np.linspace(a, b, 1001)
    error = np.abs(_evaluate(D, x) - reference.optimal_discriminator(P_DATA.pdf, P_G.pdf, x))
    i = int(np.argmax(error))
    if error[i] > D_STAR_BOUND:
        d_star = reference.optimal_discriminator(P_DATA.pdf, P_G.pdf, x[i:i + 1])[0]
        raise CheckFailed(f"max |D - D*| = {error[i]:.3f} > {D_STAR_BOUND} over [{a:.2f}, {b:.2f}] (99% of the mass), "
                          f"at x = {x[i]:.2f}: D = {fmt(D(x[i:i + 1])[0])}, D* = {fmt(d_star)} for {TRAINING_LABEL}; "
                          "train longer, or decay the learning rate so the minibatch noise averages out")


def check_trained_value(student, cache):
    D = _trained(student, cache)
    _evaluate(D, np.linspace(-10, 10, 11))
    v = reference.value_function(D, P_DATA.pdf, P_G.pdf)
    c = reference.C(P_DATA.pdf, P_G.pdf)
    if not math.isfinite(v) or abs(v - c) > THEOREM_TOLERANCE:
        raise CheckFailed(f"V(D, G) = {v:.5f} for the trained D, but C(G) = max_D V = {c:.5f} "
                          f"(|V - C| must be <= {THEOREM_TOLERANCE}) for {TRAINING_LABEL}")


TRAIN_CHECK = f"train_discriminator: max |D - D*| <= {D_STAR_BOUND} on the central 99%"
CHECKS = [
    Check("optimal_discriminator: D* = p_data / (p_data + p_g)", check_d_star),
    Check("value_function: V(D, G) by numerical integration", check_value_function, timeout=30.0),
    Check("jsd: Jensen-Shannon divergence by numerical integration", check_jsd, timeout=30.0),
    Check("C(G) = -log 4 + 2 JSD (Theorem 1), minimum -log 4 at p_g = p_data", check_theorem_1, timeout=30.0),
    Check(TRAIN_CHECK, check_trained_d, timeout=120.0),
    Check(f"trained D: |V(D, G) - C(G)| <= {THEOREM_TOLERANCE}", check_trained_value, timeout=30.0,
          reuses=(TRAIN_CHECK,)),
]
