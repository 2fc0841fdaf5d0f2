"""What the assignment checks share: the Check record, CheckFailed, and comparisons that explain
themselves (a student reads the message, so it says where the answer is wrong and, where a common
mistake fits the numbers, which one: a flipped sign, a constant factor, swapped gradients).

A check has two halves, because the student's code cannot be trusted with the verdict:

* ``probe(student, cache)`` runs in the sandboxed child process, beside the student's code: it calls
  the student's functions and returns raw numbers (JSON-able: floats, lists, NumPy arrays). It may
  raise :class:`CheckFailed` for a wrong *structure* (a missing function, a Tensor where an array
  belongs): a failure the student could only forge against themselves. ``cache`` is shared by the
  probes of one child (e.g. a trained network).
* ``judge(data)`` runs in the grader's own process, which never imports the student's code: it
  computes the expected values itself (minigan's verified ops, first-principles integrals) and
  raises CheckFailed on a mismatch. A check passes only when its judge returns.
"""
import json
from dataclasses import dataclass

import numpy as np

import minigan as mg

ATOL, RTOL = 1e-5, 1e-3  # mg.gradcheck's defaults


class CheckFailed(Exception):
    """A wrong answer; the message is shown to the student."""


@dataclass(frozen=True)
class Check:
    name: str
    probe: object          # probe(student, cache) -> raw data; runs in the child with the student's code
    judge: object          # judge(data) -> None, raises CheckFailed; runs in the grader's process
    points: float = 1.0    # the check's weight in the score
    timeout: float = 10.0  # seconds, unless the grader is given its own limit
    needs: tuple = ()      # names of checks that must pass first (else this one is not run)
    reuses: tuple = ()     # checks whose work (e.g. a trained network) this one reuses: not run if
    #                        they raised or timed out, which would only happen again
    uses: tuple = ()       # the names in the student's file it grades: ``Mul``, ``adam_step``


# --- the data that crosses from the child to the grader ----------------------------------------
MAX_DEPTH = 8  # nesting allowed in a probe's result; anything deeper is not something a probe sends


def encode(value):
    """A probe's result as JSON-able data: arrays and Tensors become {"array": nested lists}."""
    if isinstance(value, mg.Tensor):
        value = value.numpy()
    if isinstance(value, (np.ndarray, np.generic)):
        return {"array": np.asarray(value, dtype=np.float64).tolist()}
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"grader: a probe returned a {type(value).__name__}")


def decode(text):
    """The grader's side of :func:`encode`: JSON text to dicts, lists, floats and float64 arrays.
    Never unpickles, never evaluates; anything malformed raises ValueError."""
    return _decode(json.loads(text), 0)


def _decode(value, depth):
    if depth > MAX_DEPTH:
        raise ValueError("result nested too deeply")
    if isinstance(value, dict):
        if set(value) == {"array"}:
            array = np.asarray(value["array"], dtype=np.float64)  # ragged or non-numeric lists raise
            return array
        return {k: _decode(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v, depth + 1) for v in value]
    return value


def field_of(data, key, shape=None):
    """``data[key]`` as a float64 array (of ``shape``, if given); a failure if the result lacks it."""
    try:
        value = np.asarray(data[key], dtype=np.float64)
    except (KeyError, IndexError, TypeError, ValueError):
        raise CheckFailed(f"the result sent by your code's process lacks a well-formed `{key}`") from None
    if shape is not None and value.shape != tuple(shape):
        raise CheckFailed(f"{key}: wrong output shape {value.shape}, expected {tuple(shape)}")
    return value


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
def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def analytic_gradients(fn, inputs, order=1, seed=7):
    """The gradients, one float64 array per input that requires grad, of the random projection
    L = sum(r * fn(inputs)) (order 1) or of sum(r2 * dL/dx) (order 2), by backpropagation.

    The child runs it on the student's op, the grader on minigan's own: same seed, same r."""
    rng = np.random.default_rng(seed)
    checked = [t for t in inputs if t.requires_grad]
    outputs = _as_tuple(fn(*inputs))
    directions = [mg.tensor(rng.standard_normal(o.shape), dtype="float64") for o in outputs]
    second = [mg.tensor(rng.standard_normal(t.shape), dtype="float64") for t in checked]
    total = None
    for out, r in zip(outputs, directions):
        total = (out * r).sum() if total is None else total + (out * r).sum()
    if order == 2 and total.requires_grad:
        grads = mg.grad(total, checked, create_graph=True, allow_unused=True)
        terms = [(g * r).sum() for g, r in zip(grads, second) if g is not None and g.requires_grad]
        total = sum(terms[1:], terms[0]) if terms else None
    if total is None or not total.requires_grad:
        return [np.zeros(t.shape) for t in checked]
    found = mg.grad(total, checked, allow_unused=True)
    return [np.zeros(t.shape) if g is None else g.numpy().astype(np.float64) for t, g in zip(checked, found)]


def compare_gradients(label, actual, expected, order=1, input_names=None, zero_hint=None, context=""):
    """The student's gradients against the grader's (lists of arrays, one per input); a failure
    naming the first wrong element and, where the numbers fit one, the mistake."""
    if len(actual) != len(expected):
        raise CheckFailed(f"{label}: got {len(actual)} gradients for {len(expected)} inputs")
    what = "gradient" if order == 1 else "second derivative (the gradient of your gradient)"
    where = f" [{context}]" if context else ""
    for k, (a, n) in enumerate(zip(actual, expected)):
        name = input_names[k] if input_names else f"input {k}"
        if a.shape != n.shape:
            raise CheckFailed(f"{label}: the {what} w.r.t. {name} has shape {a.shape}, expected {n.shape}{where}")
        bad = ~np.isfinite(a) | (np.abs(a - n) > ATOL + RTOL * np.abs(n))
        if not bad.any():
            continue
        idx = _index(np.argmax(bad * (1.0 + np.nan_to_num(np.abs(a - n), nan=1e300))), a.shape)
        raise CheckFailed(f"{label}: {what} w.r.t. {name} wrong at element {idx}: got {fmt(a[idx])}, expected "
                          f"{fmt(n[idx])}{_hint(k, actual, expected, order, input_names, zero_hint)}{where}")


def _hint(k, analytic, expected, order, input_names, zero_hint):
    a, n = analytic[k], expected[k]
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
    for j, other in enumerate(expected):
        if j != k and other.shape == a.shape and np.allclose(a, other, RTOL, ATOL):
            name = input_names[j] if input_names else f"input {j}"
            return f" — it matches the gradient of {name}: are the gradients returned in the inputs' order?"
    return ""
