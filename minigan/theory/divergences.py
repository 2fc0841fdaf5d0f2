"""The optimal discriminator, the value function and the divergences of Goodfellow et al. (2014), §4.

Every function takes the two distributions in one of three forms (both in the same form):

* callables ``p(x)``, e.g. ``scipy.stats.norm(2, 0.5).pdf``: integrated with ``scipy.integrate.quad``
  over ``bounds`` (default: the whole real line);
* arrays of density values on a 1-D grid ``x``: integrated with ``scipy.integrate.simpson``;
* arrays with ``x=None``: discrete distributions, normalized to sum 1 (as
  ``scipy.spatial.distance.jensenshannon`` does) and summed.

Terms like 0 · log 0 are 0 (``scipy.special.xlogy`` / ``rel_entr``), so densities may vanish.
"""
import math
from dataclasses import dataclass

import numpy as np
from scipy import integrate, special

LOG_4 = math.log(4.0)
LOG_FLOOR = -100.0  # the clamp on log D and log(1 - D) that binary_cross_entropy uses too
REAL_LINE = (-math.inf, math.inf)


# ---- the three input forms -------------------------------------------------------------------
def _form(p, q, x):
    """'callable', 'grid' or 'discrete'; refuses a callable mixed with an array."""
    if callable(p) and callable(q):
        if x is not None:
            raise ValueError("x is the grid of array densities; with callables pass bounds=(lo, hi) instead")
        return "callable"
    if callable(p) or callable(q):
        raise TypeError("pass both densities as callables or both as arrays, not one of each")
    return "discrete" if x is None else "grid"


def _as_density(values, name, like=None):
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or (like is not None and values.shape != like.shape):
        raise ValueError(f"{name} must be a 1-D array" + (f" of shape {like.shape}" if like is not None else "")
                         + f", got shape {values.shape}")
    if np.any(values < 0) or not np.all(np.isfinite(values)):
        raise ValueError(f"{name} must hold finite, non-negative density values")
    return values


def _arrays(form, p, q, x, names=("p", "q")):
    """p and q as float64 arrays (normalized for discrete ones), and the grid (or None)."""
    p = _as_density(p, names[0])
    q = _as_density(q, names[1], like=p)
    if form == "discrete":
        return p / p.sum(), q / q.sum(), None
    x = np.asarray(x, dtype=np.float64)
    if x.shape != p.shape or np.any(np.diff(x) <= 0):
        raise ValueError(f"x must be an increasing grid of the densities' shape {p.shape}, got shape {x.shape}")
    return p, q, x


def _quad(f, bounds):
    """∫ f over bounds, tight enough that Theorem 1 checks to ~1e-10 (quad's own error estimate)."""
    lo, hi = bounds
    value, _ = integrate.quad(f, lo, hi, epsabs=1e-12, epsrel=1e-10, limit=500)
    return float(value)


def _integrate(values, x):
    """Simpson on a grid, a plain sum for a discrete distribution."""
    return float(np.sum(values) if x is None else integrate.simpson(values, x=x))


# ---- D*, V, C ---------------------------------------------------------------------------------
def _d_star(p, q):
    """p / (p + q), with 1/2 where both vanish (no evidence either way)."""
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    total = p + q
    return np.divide(p, total, out=np.full(total.shape, 0.5), where=total > 0)


def optimal_discriminator(p_data, p_g):
    """D*(x) = p_data(x) / (p_data(x) + p_g(x))   (Proposition 1), 1/2 where both densities are 0.

    Two callables give a callable; two arrays (values on a grid) give an array.
    """
    if callable(p_data) and callable(p_g):
        def d_star(x):
            """D*(x) = p_data(x) / (p_data(x) + p_g(x))"""
            return _d_star(p_data(x), p_g(x))
        return d_star
    if callable(p_data) or callable(p_g):
        raise TypeError("pass both densities as callables or both as arrays, not one of each")
    p_data = _as_density(p_data, "p_data")
    return _d_star(p_data, _as_density(p_g, "p_g", like=p_data))


def _v_integrand(d, p, q):
    """p log D + q log(1 - D), each log floored at -100 like binary_cross_entropy.

    The floor only matters where D rounds to exactly 0 or 1; for D* that happens where
    p_g / p_data < 1e-16, and there q log(1 - D*) < 4e-15 p: the floor changes V by < 1e-13.
    """
    d = np.asarray(d, dtype=np.float64)
    return np.maximum(special.xlogy(p, d), LOG_FLOOR * p) + np.maximum(special.xlogy(q, 1.0 - d), LOG_FLOOR * q)


def value_function(D, p_data, p_g, x=None, bounds=REAL_LINE):
    """V(D, G) = ∫ p_data(x) log D(x) + p_g(x) log(1 - D(x)) dx   (eq. 1 with x = G(z) substituted).

    ``D`` is a callable (any form) or an array of D's values (grid and discrete forms).
    """
    form = _form(p_data, p_g, x)
    if form == "callable":
        if not callable(D):
            raise TypeError("with density callables, D must be a callable too")
        return _quad(lambda t: float(_v_integrand(D(t), p_data(t), p_g(t))), bounds)
    p, q, x = _arrays(form, p_data, p_g, x, names=("p_data", "p_g"))
    d = np.asarray(D(x) if callable(D) and x is not None else D, dtype=np.float64).reshape(-1)
    if d.shape != p.shape or np.any((d < 0) | (d > 1)):
        raise ValueError(f"D must hold {p.size} values in [0, 1], got shape {d.shape}")
    return _integrate(_v_integrand(d, p, q), x)


def virtual_training_criterion(p_data, p_g, x=None, bounds=REAL_LINE):
    """C(G) = max_D V(D, G) = V(D*, G)   (eq. 4 of the paper)."""
    if _form(p_data, p_g, x) == "discrete":
        p_data, p_g, _ = _arrays("discrete", p_data, p_g, None)
    return value_function(optimal_discriminator(p_data, p_g), p_data, p_g, x, bounds)


# ---- divergences ------------------------------------------------------------------------------
def kl(p, q, x=None, bounds=REAL_LINE):
    """KL(p ‖ q) = ∫ p log(p / q) dx (natural log); inf where q = 0 < p.

    A density that merely underflows counts as 0 too (a Gaussian pdf does beyond ~38 std): when q is
    narrower than p, pass finite ``bounds`` (or a grid) that stop before q's underflow.
    """
    form = _form(p, q, x)
    if form == "callable":
        return _quad(lambda t: float(special.rel_entr(p(t), q(t))), bounds)
    p, q, x = _arrays(form, p, q, x)
    return _integrate(special.rel_entr(p, q), x)


def _jsd_integrand(p, q):
    """(p log(p/m) + q log(q/m)) / 2 with m = (p + q)/2, written with 2m = p + q and 2p, 2q.

    Halving can round a subnormal density to 0 (5e-324 / 2 == 0) and give q log(q/0) = inf in
    the far tails; doubling never underflows.
    """
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    two_m = p + q
    return 0.25 * (special.rel_entr(2.0 * p, two_m) + special.rel_entr(2.0 * q, two_m))


def jsd(p, q, x=None, bounds=REAL_LINE):
    """JSD(p ‖ q) = KL(p ‖ m)/2 + KL(q ‖ m)/2 with m = (p + q)/2 (natural log: 0 <= JSD <= log 2)."""
    form = _form(p, q, x)
    if form == "callable":
        return _quad(lambda t: float(_jsd_integrand(p(t), q(t))), bounds)
    p, q, x = _arrays(form, p, q, x)
    return _integrate(_jsd_integrand(p, q), x)


# ---- Theorem 1 --------------------------------------------------------------------------------
@dataclass
class Theorem1Check:
    """C(G) computed as V(D*, G) against -log 4 + 2 JSD(p_data ‖ p_g) computed separately."""
    criterion: float   # C(G) = V(D*, G)
    jsd: float         # JSD(p_data ‖ p_g)
    predicted: float   # -log 4 + 2 JSD
    error: float       # |C(G) - predicted|
    holds: bool        # error <= tol and C(G) >= -log 4 - tol


def check_theorem_1(p_data, p_g, x=None, bounds=REAL_LINE, tol=1e-8):
    """Theorem 1: C(G) = -log 4 + 2 JSD(p_data ‖ p_g), so min C = -log 4, reached iff p_g = p_data."""
    criterion = virtual_training_criterion(p_data, p_g, x, bounds)
    divergence = jsd(p_data, p_g, x, bounds)
    predicted = -LOG_4 + 2.0 * divergence
    error = abs(criterion - predicted)
    return Theorem1Check(criterion, divergence, predicted, error,
                         bool(error <= tol and criterion >= -LOG_4 - tol))
