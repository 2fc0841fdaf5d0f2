"""What the assignment checks share: the Check record, CheckFailed, and comparisons that explain
themselves (a student reads the message, so it says where the answer is wrong and, where a common
mistake fits the numbers, which one: a flipped sign, a constant factor, swapped gradients).

A check is a function ``run(student, cache)``: ``student`` is the student's imported module,
``cache`` a dict shared by the checks that run in the same process (e.g. a trained network).
It returns on success and raises :class:`CheckFailed` with the message on a wrong answer; any
other exception comes from the student's code and is reported by the grader as such.
"""
from dataclasses import dataclass

import numpy as np

import minigan as mg
from minigan.gradcheck import GradcheckError

ATOL, RTOL = 1e-5, 1e-3  # mg.gradcheck's defaults


class CheckFailed(Exception):
    """A wrong answer; the message is shown to the student."""


@dataclass(frozen=True)
class Check:
    name: str
    run: object           # run(student, cache) -> None, raises CheckFailed
    timeout: float = 10.0  # seconds, unless the grader is given its own limit
    needs: tuple = ()     # names of checks that must pass first (else this one is not run)
    reuses: tuple = ()    # checks whose work (e.g. a trained network) this one reuses: not run if
    #                       they raised or timed out, which would only happen again


def get(student, name):
    """``student.name``, or a failure that says the file lacks it."""
    try:
        return getattr(student, name)
    except AttributeError:
        raise CheckFailed(f"your file defines no `{name}` (was it renamed or deleted?)") from None


def fmt(x):
    return f"{float(x):.4g}"


def array64(rng_values):
    """A float64 Tensor that requires grad, from a NumPy array."""
    return mg.tensor(np.asarray(rng_values, dtype=np.float64), requires_grad=True, dtype="float64")


def as_numpy(value, label):
    """A Tensor, array or number as a float64 NumPy array; a failure for anything else."""
    if isinstance(value, mg.Tensor):
        return value.numpy().astype(np.float64)
    if isinstance(value, (np.ndarray, np.generic, float, int)):
        return np.asarray(value, dtype=np.float64)
    raise CheckFailed(f"{label} returned a {type(value).__name__}, expected a Tensor or an array")


def expect_close(label, actual, expected, rtol=1e-6, atol=1e-8, context=""):
    """Shapes equal and values close, or a failure naming the worst element."""
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    where = f" [{context}]" if context else ""
    if actual.shape != expected.shape:
        raise CheckFailed(f"{label}: wrong output shape {actual.shape}, expected {expected.shape}{where}")
    if not np.all(np.isfinite(actual)):
        idx = _index(np.argmax(~np.isfinite(actual)), actual.shape)
        raise CheckFailed(f"{label}: the output contains {actual[idx] if actual.ndim else actual} "
                          f"at element {idx} (expected {fmt(expected[idx])}){where}")
    excess = np.abs(actual - expected) - (atol + rtol * np.abs(expected))
    if excess.max(initial=-1.0) > 0:
        idx = _index(np.argmax(excess), actual.shape)
        hint = " — check the sign" if np.allclose(actual, -expected, rtol, atol) else ""
        raise CheckFailed(f"{label}: wrong value at element {idx}: got {fmt(actual[idx])}, expected "
                          f"{fmt(expected[idx])}{hint}{where}")


def _index(flat, shape):
    return tuple(int(k) for k in np.unravel_index(flat, shape))


# --- gradients ----------------------------------------------------------------------------------
def check_gradients(label, fn, inputs, order=1, context="", input_names=None, zero_hint=None):
    """``mg.gradcheck`` (order 1) or ``mg.gradgradcheck`` (order 2) of ``fn`` at ``inputs``
    (float64 Tensors); on a mismatch a CheckFailed that names the element and, if it can, the bug.
    ``input_names`` name the inputs in the message; ``zero_hint`` replaces the advice given when
    the analytic gradient is zero everywhere."""
    inputs = list(inputs)
    checker = mg.gradcheck if order == 1 else mg.gradgradcheck
    try:
        checker(fn, inputs)
    except GradcheckError as err:
        message = explain_gradients(label, fn, inputs, order, input_names, zero_hint) or f"{label}: {err}"
        raise CheckFailed(message + (f" [{context}]" if context else "")) from None


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def gradient_arrays(fn, inputs, order=1, seed=7):
    """(analytic, numerical) gradients, one array per input that requires grad, of the random
    projection L = sum(r * fn(inputs)) (order 1) or of sum(r2 * dL/dx) (order 2)."""
    rng = np.random.default_rng(seed)
    checked = [t for t in inputs if t.requires_grad]
    directions = [mg.tensor(rng.standard_normal(o.shape), dtype="float64") for o in _as_tuple(fn(*inputs))]
    second = [mg.tensor(rng.standard_normal(t.shape), dtype="float64") for t in checked]

    def scalar(*xs):
        total = None
        for out, r in zip(_as_tuple(fn(*xs)), directions):
            total = (out * r).sum() if total is None else total + (out * r).sum()
        if order == 1 or not total.requires_grad:
            return total
        grads = mg.grad(total, checked, create_graph=True, allow_unused=True)
        terms = [(g * r).sum() for g, r in zip(grads, second) if g is not None]
        return sum(terms[1:], terms[0]) if terms else total * 0.0

    value = scalar(*inputs)
    if value.requires_grad:
        analytic = mg.grad(value, checked, allow_unused=True)
    else:
        analytic = [None] * len(checked)
    analytic = [np.zeros(t.shape) if g is None else g.numpy().astype(np.float64) for t, g in zip(checked, analytic)]
    numeric, step = [], 1e-6
    for t in checked:
        num = np.zeros(t.shape)
        for idx in np.ndindex(*t.shape):
            original = t.data[idx].item()
            t.data[idx] = original + step
            plus = scalar(*inputs).item()
            t.data[idx] = original - step
            minus = scalar(*inputs).item()
            t.data[idx] = original
            num[idx] = (plus - minus) / (2 * step)
        numeric.append(num)
    positions = [i for i, t in enumerate(inputs) if t.requires_grad]
    return analytic, numeric, positions


def explain_gradients(label, fn, inputs, order=1, input_names=None, zero_hint=None):
    """A message for the first input whose gradient is wrong, or None if all agree."""
    analytic, numeric, positions = gradient_arrays(fn, inputs, order)
    what = "gradient" if order == 1 else "second derivative (the gradient of your gradient)"
    for k, (a, n) in enumerate(zip(analytic, numeric)):
        bad = ~np.isfinite(a) | (np.abs(a - n) > ATOL + RTOL * np.abs(n))
        if not bad.any():
            continue
        idx = _index(np.argmax(bad * (1.0 + np.nan_to_num(np.abs(a - n), nan=1e300))), a.shape)
        name = input_names[positions[k]] if input_names else f"input {positions[k]}"
        return (f"{label}: {what} w.r.t. {name} wrong at element {idx}: analytic {fmt(a[idx])} vs "
                f"numerical {fmt(n[idx])}{_hint(k, analytic, numeric, order, positions, input_names, zero_hint)}")
    return None


def _hint(k, analytic, numeric, order, positions, input_names, zero_hint):
    a, n = analytic[k], numeric[k]
    if not np.all(np.isfinite(a)):
        return " — the gradient contains NaN or inf"
    if np.all(a == 0):
        if zero_hint:
            return f" — the gradient is zero everywhere: {zero_hint}"
        if order == 2:
            return (" — your backward is not differentiable: compute the gradient with Tensor operations on "
                    "grad, self.inputs and self.output(), not on .data arrays or with self.xp")
        return " — the gradient is zero everywhere: was it returned as None, detached, or not connected?"
    if np.allclose(a, -n, RTOL, ATOL):
        return " — check the sign"
    big = np.abs(n) > 1e-3
    if big.sum() >= 2:
        ratio = a[big] / n[big]
        c = float(np.median(ratio))
        if abs(c - 1) > 0.05 and np.allclose(ratio, c, rtol=1e-3) and np.allclose(a, c * n, RTOL, ATOL):
            return f" — off by a constant factor {c:.4g}"
    for j, other in enumerate(numeric):
        if j != k and other.shape == a.shape and np.allclose(a, other, RTOL, ATOL):
            name = input_names[positions[j]] if input_names else f"input {positions[j]}"
            return f" — it matches the gradient of {name}: are the gradients returned in the inputs' order?"
    return ""
