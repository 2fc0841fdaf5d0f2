"""Finite-difference checks of gradients (public: students check their own backward with them).

``gradcheck`` compares the analytic gradient of a random projection ``L = sum(r * fn(*inputs))``
with central differences ``(L(x + eps) - L(x - eps)) / (2 eps)``, element by element, for every
input that requires grad. ``gradgradcheck`` runs the same check on the function
``x -> sum(r2 * grad(L, x, create_graph=True))``, i.e. on second derivatives.
Both need float64 inputs: in float32 the differences drown in rounding error.
"""
import numpy as np

from minigan.tensor import Tensor, grad


class GradcheckError(AssertionError):
    """The analytic and the numerical gradient disagree."""


def _as_tuple(x): return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _projection(outputs, directions):
    """sum over i of sum(outputs[i] * directions[i]): one scalar that depends on every output."""
    return sum((out * d).sum() for out, d in zip(outputs, directions))


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """True if ``fn``'s gradients match central differences; raises GradcheckError otherwise.

    ``fn`` maps the ``inputs`` Tensors to a Tensor (or a tuple of Tensors) and must be
    deterministic (e.g. Dropout with a fixed mask).
    """
    inputs = _as_tuple(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"gradcheck: input {i} is a {type(t).__name__}, expected a Tensor")
        if t.requires_grad and t.dtype != np.float64:
            raise ValueError(f"gradcheck: input {i} has dtype {t.dtype}; use float64 "
                             "(mg.tensor(x, dtype='float64') or mg.set_default_dtype('float64'))")
    checked = [t for t in inputs if t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")

    rng = np.random.default_rng(seed)
    outputs = _as_tuple(fn(*inputs))
    directions = [_random_like(o, rng) for o in outputs]
    loss = _projection(outputs, directions)
    analytic = grad(loss, checked, allow_unused=True) if loss.requires_grad else [None] * len(checked)

    def value_with(t, idx, x):  # L with one input element set to x in place (the caller restores it)
        t.data[idx] = x
        return _projection(_as_tuple(fn(*inputs)), directions).item()

    for t, g in zip(checked, analytic):
        g = np.zeros(t.shape) if g is None else g.numpy()
        numeric = np.zeros(t.shape)
        for idx in np.ndindex(*t.shape):
            original = t.data[idx].item()
            numeric[idx] = (value_with(t, idx, original + eps) - value_with(t, idx, original - eps)) / (2 * eps)
            t.data[idx] = original
        position = next(i for i, x in enumerate(inputs) if x is t)
        _compare(position, g, numeric, atol, rtol)
    return True


def _random_like(t, rng):
    return Tensor(t.backend.asarray(rng.standard_normal(t.shape), dtype=t.dtype), _backend=t.backend)


def _compare(input_index, analytic, numeric, atol, rtol):
    excess = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
    if not np.all(np.isfinite(analytic)) or excess.max(initial=-1.0) > 0:
        worst = np.unravel_index(np.argmax(np.where(np.isfinite(analytic), excess, np.inf)), analytic.shape)
        raise GradcheckError(
            f"gradcheck: gradient of input {input_index} is wrong at element {tuple(int(k) for k in worst)}: "
            f"analytic {analytic[worst]!r} vs numerical {numeric[worst]!r} (atol={atol}, rtol={rtol})")


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """gradcheck of the gradient itself: checks second derivatives (needed by WGAN-GP)."""
    inputs = _as_tuple(inputs)
    checked = [t for t in inputs if t.requires_grad]
    rng = np.random.default_rng(seed + 1)
    directions = [_random_like(o, rng) for o in _as_tuple(fn(*inputs))]
    second = [_random_like(t, rng) for t in checked]

    def first_derivative(*xs):
        """sum(r2 * dL/dx) for the projection L = sum(r * fn(*xs)), kept differentiable."""
        loss = _projection(_as_tuple(fn(*xs)), directions)
        if not loss.requires_grad:
            return loss * 0.0
        grads = grad(loss, checked, create_graph=True, allow_unused=True)
        pairs = [(g, r) for g, r in zip(grads, second) if g is not None]
        return _projection(*zip(*pairs)) if pairs else loss * 0.0

    return gradcheck(first_derivative, inputs, eps=eps, atol=atol, rtol=rtol, seed=seed)
