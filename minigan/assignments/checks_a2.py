"""Checks of A2: Linear against nn.functional.linear, binary cross entropy against
nn.functional.binary_cross_entropy, adam_step against optim.Adam; gradients by finite differences."""
import math

import numpy as np

import minigan as mg
import minigan.nn.functional as F
from minigan import nn, optim
from minigan.assignments.checking import (Check, CheckFailed, array64, as_numpy, check_gradients, expect_close,
                                          fmt, get)


# --- Linear ---------------------------------------------------------------------------------------
def _make_linear(student, n_in, n_out, bias=True):
    layer = get(student, "Linear")(n_in, n_out, bias=bias)
    names = [name for name, _ in layer.named_parameters()]
    if "weight" not in names:
        raise CheckFailed("Linear has no parameter `weight`: assign nn.Parameter(...) to self.weight")
    if bias and "bias" not in names:
        raise CheckFailed("Linear has no parameter `bias`: assign nn.Parameter(...) to self.bias")
    return layer


def linear_parameters(student, cache):
    n_in, n_out = 40, 30
    layer = _make_linear(student, n_in, n_out)
    w, b = layer.weight, layer.bias
    if w.shape != (n_out, n_in):
        raise CheckFailed(f"Linear({n_in}, {n_out}).weight has shape {w.shape}; expected (out_features, "
                          f"in_features) = {(n_out, n_in)}, PyTorch's layout")
    if b.shape != (n_out,):
        raise CheckFailed(f"Linear({n_in}, {n_out}).bias has shape {b.shape}; expected (out_features,) = {(n_out,)}")
    if not (isinstance(w, nn.Parameter) and isinstance(b, nn.Parameter) and w.requires_grad and b.requires_grad):
        raise CheckFailed("weight and bias must be nn.Parameter objects (learnable tensors that require grad)")
    bound = 1.0 / math.sqrt(n_in)
    for name, values in (("weight", w.numpy()), ("bias", b.numpy())):
        top = np.abs(values).max()
        if top > bound * (1 + 1e-6):
            raise CheckFailed(f"Linear.{name} has values up to {fmt(top)}, beyond the bound 1/sqrt(in_features) = "
                              f"{fmt(bound)}: draw from U(-1/sqrt(in), 1/sqrt(in))")
    spread = w.numpy().std()
    if not 0.85 < spread / (bound / math.sqrt(3)) < 1.15:
        raise CheckFailed(f"Linear.weight has standard deviation {fmt(spread)}; U(-b, b) with b = 1/sqrt(in_features) "
                          f"= {fmt(bound)} has {fmt(bound / math.sqrt(3))}")
    no_bias = _make_linear(student, n_in, n_out, bias=False)
    if no_bias.bias is not None or len(no_bias.parameters()) != 1:
        raise CheckFailed("Linear(..., bias=False) must have a weight only (self.bias = None)")


def linear_forward(student, cache):
    rng = np.random.default_rng(1)
    for bias in (True, False):
        layer = _make_linear(student, 5, 3, bias=bias)
        x = mg.tensor(rng.standard_normal((7, 5)), dtype="float64")
        y = layer(x)
        expected = F.linear(x, layer.weight, layer.bias).numpy()
        expect_close("Linear.forward", as_numpy(y, "Linear.forward"), expected,
                     context=f"x of shape (7, 5), bias={bias}")


def linear_gradients(student, cache):
    layer = _make_linear(student, 4, 3)
    x = array64(np.random.default_rng(2).standard_normal((5, 4)))
    check_gradients("Linear", lambda x_, w, b: layer(x_), [x, layer.weight, layer.bias])


# --- binary cross entropy ---------------------------------------------------------------------------
def _bce(student, p, t):
    out = get(student, "binary_cross_entropy")(p, t)
    if not isinstance(out, mg.Tensor):
        raise CheckFailed(f"binary_cross_entropy returned a {type(out).__name__}; return a Tensor (built from "
                          "Tensor operations, so it has a gradient)")
    if out.shape != ():
        raise CheckFailed(f"binary_cross_entropy: wrong output shape {out.shape}: the loss is a scalar, the mean "
                          "over all elements (did you forget .mean()?)")
    return out


def bce_value(student, cache):
    rng = np.random.default_rng(3)
    for shape, soft in (((8, 1), False), ((6,), False), ((4, 3), True)):
        p = mg.tensor(rng.uniform(0.02, 0.98, shape), dtype="float64")
        t = rng.uniform(0, 1, shape) if soft else (rng.uniform(size=shape) < 0.5).astype(float)
        t = mg.tensor(t, dtype="float64")
        expected = F.binary_cross_entropy(p, t).numpy()
        expect_close("binary_cross_entropy", _bce(student, p, t).numpy(), expected, rtol=1e-8,
                     context=f"shape {shape}, {'soft' if soft else '0/1'} targets")


def bce_edges(student, cache):
    p = mg.tensor([[0.0], [1.0], [0.0], [1.0], [1e-60]], dtype="float64")
    t = mg.tensor([[1.0], [0.0], [0.0], [1.0], [1.0]], dtype="float64")
    value = _bce(student, p, t).numpy()
    if not np.isfinite(value):
        raise CheckFailed(f"binary_cross_entropy is {value} where p = 0 and t = 1 (or p = 1 and t = 0): clamp each "
                          "log at -100, as PyTorch does")
    expect_close("binary_cross_entropy at p = 0 and p = 1", value, F.binary_cross_entropy(p, t).numpy(), rtol=1e-8,
                 context="p = [0, 1, 0, 1, 1e-60], t = [1, 0, 0, 1, 1]: the logs are clamped at -100")
    p.requires_grad_(True)
    (g,) = mg.grad(_bce(student, p, t), [p])
    if not np.all(np.isfinite(g.numpy())):
        raise CheckFailed(f"the gradient of binary_cross_entropy at p = 0 or 1 is not finite ({g.numpy().ravel()}); "
                          "clamp so that no 1/0 or 0 * inf is ever computed (see the docstring)")


def bce_gradients(student, cache):
    rng = np.random.default_rng(4)
    p = array64(rng.uniform(0.05, 0.95, (6, 1)))
    t = mg.tensor(rng.uniform(0, 1, (6, 1)), dtype="float64")
    check_gradients("binary_cross_entropy", lambda p_: _bce(student, p_, t), [p])


# --- Adam -------------------------------------------------------------------------------------------
HYPER = {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-8}


def _gradients(n_steps, shape=(3, 4), seed=5):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) * (1.0 + k) for k in range(n_steps)]


def _reference_adam(start, grads):
    """Parameters after each step of optim.Adam, and its final moments."""
    p = mg.tensor(start, dtype="float64", requires_grad=True)
    opt = optim.Adam([p], **HYPER)
    trajectory = []
    for g in grads:
        p.grad = mg.tensor(g, dtype="float64")
        opt.step()
        trajectory.append(p.numpy().copy())
    return trajectory, opt.state[p]["exp_avg"], opt.state[p]["exp_avg_sq"]


def _variant_adam(start, grads, bias_correction=True):
    """A common mistake, to recognise it in a student's numbers."""
    b1, b2 = HYPER["betas"]
    p, m, v, trajectory = start.copy(), np.zeros_like(start), np.zeros_like(start), []
    for t, g in enumerate(grads, start=1):
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        mh, vh = (m / (1 - b1 ** t), v / (1 - b2 ** t)) if bias_correction else (m, v)
        p = p - HYPER["lr"] * mh / (np.sqrt(vh) + HYPER["eps"])
        trajectory.append(p.copy())
    return trajectory


def _student_adam(student, start, grads):
    step = get(student, "adam_step")
    p, m, v, trajectory = start.copy(), np.zeros_like(start), np.zeros_like(start), []
    for t, g in enumerate(grads, start=1):
        step(p, g.copy(), m, v, t, **HYPER)
        trajectory.append(p.copy())
    return trajectory, m, v


def adam_moments(student, cache):
    start = np.random.default_rng(6).standard_normal((3, 4))
    grads = _gradients(2)
    _, m, v = _student_adam(student, start, grads)
    _, m_ref, v_ref = _reference_adam(start, grads)
    if np.all(m == 0) and np.all(v == 0):
        raise CheckFailed("m and v are still zero after adam_step: update them in place (m *= b1; m += ...), "
                          "rebinding the names (m = ...) changes nothing outside the function")
    expect_close("adam_step: the first moment m after 2 steps", m, m_ref, rtol=1e-9, atol=1e-12)
    expect_close("adam_step: the second moment v after 2 steps", v, v_ref, rtol=1e-9, atol=1e-12)


def adam_updates(student, cache):
    start = np.random.default_rng(7).standard_normal((3, 4))
    grads = _gradients(10)
    mine, _, _ = _student_adam(student, start, grads)
    reference, _, _ = _reference_adam(start, grads)
    for t, (p, ref) in enumerate(zip(mine, reference), start=1):
        if np.allclose(p, ref, rtol=1e-7, atol=1e-10):
            continue
        if np.allclose(p, start):
            raise CheckFailed("adam_step did not change param: update it in place (param -= ...)")
        hint = ""
        if all(np.allclose(a, b, rtol=1e-7, atol=1e-10) for a, b in zip(mine, _variant_adam(start, grads, False))):
            hint = (" — this is Adam without bias correction: divide m by (1 - b1^t) and v by (1 - b2^t) "
                    "before the update")
        idx = tuple(int(k) for k in np.unravel_index(np.argmax(np.abs(p - ref)), p.shape))
        raise CheckFailed(f"adam_step: after step {t}, param{list(idx)} is {fmt(p[idx])} but optim.Adam gives "
                          f"{fmt(ref[idx])}{hint} [lr={HYPER['lr']}, betas={HYPER['betas']}]")


def adam_in_place(student, cache):
    param, grad = np.ones((2, 3)), np.full((2, 3), 0.5)
    m, v = np.zeros((2, 3)), np.zeros((2, 3))
    get(student, "adam_step")(param, grad, m, v, 1, **HYPER)
    unchanged = [name for name, array, before in (("param", param, 1.0), ("m", m, 0.0), ("v", v, 0.0))
                 if np.all(array == before)]
    if unchanged:
        raise CheckFailed(f"adam_step left {', '.join(unchanged)} unchanged: update the arrays in place "
                          "(x -= ..., x *= ..., x[...] = ...); rebinding a name inside the function is not "
                          "seen outside")


CHECKS = [
    Check("Linear: parameters (shapes, PyTorch init)", linear_parameters),
    Check("Linear.forward matches nn.functional.linear", linear_forward),
    Check("Linear: gradients match finite differences", linear_gradients, needs=("Linear.forward matches "
                                                                                 "nn.functional.linear",)),
    Check("binary_cross_entropy matches nn.functional.binary_cross_entropy", bce_value),
    Check("binary_cross_entropy at p = 0 and 1 (logs clamped at -100)", bce_edges),
    Check("binary_cross_entropy: gradient matches finite differences", bce_gradients),
    Check("adam_step: moments m and v", adam_moments),
    Check("adam_step: 10 steps match optim.Adam", adam_updates),
    Check("adam_step updates param, m and v in place", adam_in_place),
]
