"""Checks of A3: D*, V, JSD and C(G) against the grader's own integrals (and Theorem 1's identity),
then a discriminator trained by the student's code against D*.

The expected values come from first principles here (the definitions, integrated on a fine grid
with Simpson's rule), never from the reference solution, which a student's installation lacks."""
import math

import numpy as np
from scipy import integrate, stats

from minigan.assignments.checking import Check, CheckFailed, field_of, fmt, get

LOG4 = math.log(4.0)
D_STAR_BOUND = 0.05     # max |D - D*| over the central 99% of the probability mass
THEOREM_TOLERANCE = 0.01  # |V(D, G) - C(G)| for the trained D


# --- the grader's own integrals ------------------------------------------------------------------
GRID = 20001
FLOOR = math.exp(-100.0)  # logs clamped at -100, as binary cross entropy does


def _grid(lo, hi):
    return np.linspace(lo, hi, GRID)


def _d_star(p, q, x):
    pv, qv = p(x), q(x)
    total = pv + qv
    return np.where(total > 0, pv / np.where(total > 0, total, 1.0), 0.5)


def _value_of(d, p, q, x):
    """V on the grid x, for D's values d there."""
    integrand = p(x) * np.log(np.maximum(d, FLOOR)) + q(x) * np.log(np.maximum(1.0 - d, FLOOR))
    return float(integrate.simpson(integrand, x=x))


def _jsd(p, q, lo, hi):
    x = _grid(lo, hi)
    pv, qv = p(x), q(x)
    m = 0.5 * (pv + qv)

    def kl(a):
        return integrate.simpson(np.where(a > 0, a * np.log(np.where(a > 0, a, 1.0) / np.where(m > 0, m, 1.0)), 0), x=x)
    return float(0.5 * kl(pv) + 0.5 * kl(qv))


def _c_of_g(p, q, lo, hi):
    x = _grid(lo, hi)
    return _value_of(_d_star(p, q, x), p, q, x)


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


D_STAR_X, DISJOINT_X = np.linspace(-5, 5, 101), np.array([0.5, 1.5, 2.5])


def probe_d_star(student, cache):
    d_star = get(student, "optimal_discriminator")
    outputs = [np.asarray(d_star(p, q, D_STAR_X.copy()), dtype=np.float64) for _, p, q in PAIRS]
    label, p, q = DISJOINT
    return {"pairs": outputs, "disjoint": np.asarray(d_star(p, q, DISJOINT_X.copy()), dtype=np.float64).reshape(-1)}


def judge_d_star(data):
    x = D_STAR_X
    for k, (label, p, q) in enumerate(PAIRS):
        got = np.asarray(data["pairs"][k], dtype=np.float64)
        if got.shape != x.shape:
            raise CheckFailed(f"optimal_discriminator: wrong output shape {got.shape} for x of shape {x.shape}")
        expected = p(x) / (p(x) + q(x))
        bad = ~np.isfinite(got) | (np.abs(got - expected) > 1e-9 + 1e-7 * np.abs(expected))
        if bad.any():
            i = int(np.argmax(bad))
            raise CheckFailed(f"optimal_discriminator: D*({x[i]:.3g}) = {fmt(got[i])}, expected "
                              f"p_data / (p_data + p_g) = {fmt(expected[i])} for {label}")
    got = field_of(data, "disjoint")
    if got.shape != (3,) or not np.allclose(got, [1.0, 0.5, 0.0]):
        raise CheckFailed(f"optimal_discriminator at x = 0.5, 1.5, 2.5 gives {got} for {DISJOINT[0]}; expected "
                          "[1, 0.5, 0]: where both densities are 0, return 1/2")


DISCRIMINATORS = [("D(x) = 1/2", lambda x: np.full(np.shape(x), 0.5)),
                  ("D(x) = sigmoid(1.3 x - 0.4)", lambda x: 1.0 / (1.0 + np.exp(-(1.3 * np.asarray(x) - 0.4))))]


def probe_value_function(student, cache):
    value_function = get(student, "value_function")
    return [_number(value_function(D, p, q, -10.0, 10.0), "value_function")
            for _, D in DISCRIMINATORS for _, p, q in PAIRS[::2]]


def judge_value_function(data):
    cases = [(d_label, D, label, p, q) for d_label, D in DISCRIMINATORS for label, p, q in PAIRS[::2]]
    for got, (d_label, D, label, p, q) in zip(_numbers(data, len(cases)), cases):
        x = _grid(-10.0, 10.0)
        _expect_number("V(D, G)", got, _value_of(D(x), p, q, x), 1e-5, f"{d_label}, {label}")


def _numbers(data, n):
    try:
        values = [float(v) for v in data]
    except (TypeError, ValueError):
        raise CheckFailed("the result sent by your code's process is malformed") from None
    if len(values) != n:
        raise CheckFailed("the result sent by your code's process is malformed")
    return values


def probe_jsd(student, cache):
    jsd = get(student, "jsd")
    pairs = [(PAIRS[0][1], PAIRS[0][1])] + [(p, q) for _, p, q in PAIRS] + [DISJOINT[1:]]
    return [_number(jsd(p, q, -10.0, 10.0), "jsd") for p, q in pairs]


def judge_jsd(data):
    got = _numbers(data, len(PAIRS) + 2)
    _expect_number("jsd(p, p)", got[0], 0.0, 1e-7, "p = q = N(2, 0.5^2)")
    for value, (label, p, q) in zip(got[1:], PAIRS):
        _expect_number("JSD(p_data || p_g)", value, _jsd(p, q, -10.0, 10.0), 1e-6, label)
    _expect_number("JSD(p_data || p_g)", got[-1], math.log(2.0), 5e-3, DISJOINT[0] + ": the maximum, log 2")


# C(G) on an interval that cuts off part of the mass: there V(D*, G) != -log 4 + 2 JSD, since the
# theorem needs densities that integrate to 1. A C(G) that assumes the theorem fails here.
TRUNCATED = (-1.0, 1.5)


def probe_theorem_1(student, cache):
    c_of_g = get(student, "C")
    p0 = PAIRS[0][1]
    cases = [(p0, p0, -10.0, 10.0)] + [(p, q, -10.0, 10.0) for _, p, q in PAIRS]
    cases += [(DISJOINT[1], DISJOINT[2], -10.0, 10.0), (PAIRS[0][1], PAIRS[0][2], *TRUNCATED)]
    return [_number(c_of_g(*case), "C") for case in cases]


def judge_theorem_1(data):
    got = _numbers(data, len(PAIRS) + 3)
    _expect_number("C(G)", got[0], -LOG4, 1e-6, "p_g = p_data = N(2, 0.5^2): the global minimum -log 4")
    for value, (label, p, q) in zip(got[1:], PAIRS):
        expected = -LOG4 + 2.0 * _jsd(p, q, -10.0, 10.0)
        _expect_number("C(G)", value, expected, 1e-5, f"{label}; Theorem 1: -log 4 + 2 JSD = {expected:.6g}")
    _expect_number("C(G)", got[-2], 0.0, 1e-2, DISJOINT[0] + ": -log 4 + 2 log 2 = 0")
    label, p, q = PAIRS[0]
    lo, hi = TRUNCATED
    expected, theorem = _c_of_g(p, q, lo, hi), -LOG4 + 2.0 * _jsd(p, q, lo, hi)
    if abs(got[-1] - expected) > 1e-5:
        hint = (" — this is -log 4 + 2 JSD: compute C(G) as V(D*, G), the theorem is what the grader checks, "
                "your code must not assume it") if abs(got[-1] - theorem) <= 1e-5 else ""
        raise CheckFailed(f"C(G) = {got[-1]:.6g} over [{lo}, {hi}] for {label}, expected V(D*, G) = {expected:.6g} "
                          f"(the densities do not integrate to 1 there, so the theorem does not hold){hint}")


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


TRAINED_REGION = central_region(P_DATA.pdf, P_G.pdf)
TRAINED_X = np.linspace(*TRAINED_REGION, 1001)


def probe_trained_d(student, cache):
    return {"d": _evaluate(_trained(student, cache), TRAINED_X.copy())}


def judge_trained_d(data):
    x, (a, b) = TRAINED_X, TRAINED_REGION
    d = field_of(data, "d", x.shape)
    _in_unit_interval(d)
    d_star = _d_star(P_DATA.pdf, P_G.pdf, x)
    error = np.abs(d - d_star)
    i = int(np.argmax(error))
    if error[i] <= D_STAR_BOUND:
        return
    if np.abs(d - (1.0 - d_star)).max() < np.abs(d - d_star).max() / 2:
        advice = "D looks like 1 - D*: are the labels swapped (1 for data, 0 for generated samples)?"
    elif np.ptp(d) < 0.1:
        advice = ("D is almost constant: does it see the generated samples (from sample_g, not sample_data)? "
                  "Is it trained at all?")
    else:
        advice = "train longer, or decay the learning rate so the minibatch noise averages out"
    raise CheckFailed(f"max |D - D*| = {error[i]:.3f} > {D_STAR_BOUND} over [{a:.2f}, {b:.2f}] (99% of the mass), "
                      f"at x = {x[i]:.2f}: D = {fmt(d[i])}, D* = {fmt(d_star[i])} for {TRAINING_LABEL}; {advice}")


def _in_unit_interval(values):
    if not np.all(np.isfinite(values)) or values.min() < 0 or values.max() > 1:
        raise CheckFailed(f"the trained D returns values outside [0, 1] (from {fmt(np.nanmin(values))} to "
                          f"{fmt(np.nanmax(values))}): return probabilities, e.g. sigmoid of the logit")


def probe_trained_value(student, cache):
    return {"d": _evaluate(_trained(student, cache), _grid(-10.0, 10.0))}


def judge_trained_value(data):
    x = _grid(-10.0, 10.0)
    d = field_of(data, "d", x.shape)
    _in_unit_interval(d)
    v = _value_of(d, P_DATA.pdf, P_G.pdf, x)
    c = _c_of_g(P_DATA.pdf, P_G.pdf, -10.0, 10.0)
    if not math.isfinite(v) or abs(v - c) > THEOREM_TOLERANCE:
        raise CheckFailed(f"V(D, G) = {v:.5f} for the trained D, but C(G) = max_D V = {c:.5f} "
                          f"(|V - C| must be <= {THEOREM_TOLERANCE}) for {TRAINING_LABEL}")


TRAIN_CHECK = f"train_discriminator: max |D - D*| <= {D_STAR_BOUND} on the central 99%"
CHECKS = [
    Check("optimal_discriminator: D* = p_data / (p_data + p_g)", probe_d_star, judge_d_star,
          uses=("optimal_discriminator",)),
    Check("value_function: V(D, G) by numerical integration", probe_value_function, judge_value_function,
          points=2, timeout=30.0, uses=("value_function",)),
    Check("jsd: Jensen-Shannon divergence by numerical integration", probe_jsd, judge_jsd, points=2, timeout=30.0,
          uses=("jsd",)),
    Check("C(G) = -log 4 + 2 JSD (Theorem 1), minimum -log 4 at p_g = p_data", probe_theorem_1, judge_theorem_1,
          points=2, timeout=30.0, uses=("C",)),
    Check(TRAIN_CHECK, probe_trained_d, judge_trained_d, points=3, timeout=120.0, uses=("train_discriminator",)),
    Check(f"trained D: |V(D, G) - C(G)| <= {THEOREM_TOLERANCE}", probe_trained_value, judge_trained_value,
          timeout=30.0, reuses=(TRAIN_CHECK,), uses=("train_discriminator",)),
]
