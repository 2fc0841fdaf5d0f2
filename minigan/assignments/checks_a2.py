"""Checks of A2: Linear against nn.functional.linear, binary cross entropy against
nn.functional.binary_cross_entropy, adam_step against optim.Adam; gradients against minigan's own.
Each probe (in the child) returns the student's numbers; each judge (in the grader) recomputes."""
import math

import numpy as np

import minigan as mg
import minigan.nn.functional as F
from minigan import nn, optim
from minigan.assignments.checking import (Check, CheckFailed, analytic_gradients, array64, as_numpy,
                                          compare_gradients, expect_close, field_of, fmt, get)


# --- Linear ---------------------------------------------------------------------------------------
def _make_linear(student, n_in, n_out, bias=True):
    layer = get(student, "Linear")(n_in, n_out, bias=bias)
    names = [name for name, _ in layer.named_parameters()]
    if "weight" not in names:
        raise CheckFailed("Linear has no parameter `weight`: assign nn.Parameter(...) to self.weight")
    if bias and "bias" not in names:
        raise CheckFailed("Linear has no parameter `bias`: assign nn.Parameter(...) to self.bias")
    return layer


N_IN, N_OUT = 40, 30


def linear_parameters(student, cache):
    n_in, n_out = N_IN, N_OUT
    layer = _make_linear(student, n_in, n_out)
    w, b = layer.weight, layer.bias
    if w.shape != (n_out, n_in):
        raise CheckFailed(f"Linear({n_in}, {n_out}).weight has shape {w.shape}; expected (out_features, "
                          f"in_features) = {(n_out, n_in)}, PyTorch's layout")
    if b.shape != (n_out,):
        raise CheckFailed(f"Linear({n_in}, {n_out}).bias has shape {b.shape}; expected (out_features,) = {(n_out,)}")
    if not (isinstance(w, nn.Parameter) and isinstance(b, nn.Parameter) and w.requires_grad and b.requires_grad):
        raise CheckFailed("weight and bias must be nn.Parameter objects (learnable tensors that require grad)")
    no_bias = _make_linear(student, n_in, n_out, bias=False)
    if no_bias.bias is not None or len(no_bias.parameters()) != 1:
        raise CheckFailed("Linear(..., bias=False) must have a weight only (self.bias = None)")
    return {"weight": w.numpy(), "bias": b.numpy()}


def judge_linear_parameters(data):
    bound = 1.0 / math.sqrt(N_IN)
    w, b = field_of(data, "weight", (N_OUT, N_IN)), field_of(data, "bias", (N_OUT,))
    for name, values in (("weight", w), ("bias", b)):
        top = np.abs(values).max()
        if not np.isfinite(top) or top > bound * (1 + 1e-6):
            raise CheckFailed(f"Linear.{name} has values up to {fmt(top)}, beyond the bound 1/sqrt(in_features) = "
                              f"{fmt(bound)}: draw from U(-1/sqrt(in), 1/sqrt(in))")
    spread = w.std()
    if not 0.85 < spread / (bound / math.sqrt(3)) < 1.15:
        raise CheckFailed(f"Linear.weight has standard deviation {fmt(spread)}; U(-b, b) with b = 1/sqrt(in_features) "
                          f"= {fmt(bound)} has {fmt(bound / math.sqrt(3))}")


def _linear_x(bias):
    return np.random.default_rng(1 if bias else 11).standard_normal((7, 5))


def linear_forward(student, cache):
    cases = []
    for bias in (True, False):
        layer = _make_linear(student, 5, 3, bias=bias)
        y = as_numpy(layer(mg.tensor(_linear_x(bias), dtype="float64")), "Linear.forward")
        cases.append({"y": y, "weight": layer.weight.numpy(),
                      "bias": layer.bias.numpy() if bias else np.zeros(3)})
    return cases


def judge_linear_forward(data):
    for bias, case in zip((True, False), _cases(data, 2)):
        w, b = field_of(case, "weight", (3, 5)), field_of(case, "bias", (3,))
        expected = F.linear(mg.tensor(_linear_x(bias), dtype="float64"), mg.tensor(w, dtype="float64"),
                            mg.tensor(b, dtype="float64") if bias else None).numpy()
        expect_close("Linear.forward", case.get("y"), expected, context=f"x of shape (7, 5), bias={bias}")


def _cases(data, n):
    if not isinstance(data, list) or len(data) != n or not all(isinstance(c, dict) for c in data):
        raise CheckFailed("the result sent by your code's process is malformed")
    return data


LINEAR_X = np.random.default_rng(2).standard_normal((5, 4))


def linear_gradients(student, cache):
    layer = _make_linear(student, 4, 3)
    inputs = [array64(LINEAR_X), layer.weight, layer.bias]
    start = {"weight": layer.weight.numpy(), "bias": layer.bias.numpy()}
    return {**start, "gradients": analytic_gradients(lambda x_, w, b: layer(x_), inputs)}


def judge_linear_gradients(data):
    w, b = field_of(data, "weight", (3, 4)), field_of(data, "bias", (3,))
    inputs = [array64(LINEAR_X), array64(w), array64(b)]
    expected = analytic_gradients(lambda x_, w_, b_: F.linear(x_, w_, b_), inputs)
    got = [np.asarray(g, dtype=np.float64) for g in data.get("gradients", [])]
    compare_gradients("Linear", got, expected, input_names=["x", "weight", "bias"])


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


def _bce_cases():
    rng = np.random.default_rng(3)
    for shape, soft in (((8, 1), False), ((6,), False), ((4, 3), True)):
        p = rng.uniform(0.02, 0.98, shape)
        t = rng.uniform(0, 1, shape) if soft else (rng.uniform(size=shape) < 0.5).astype(float)
        yield shape, soft, mg.tensor(p, dtype="float64"), mg.tensor(t, dtype="float64")


def bce_value(student, cache):
    return [_bce(student, p, t).numpy() for _, _, p, t in _bce_cases()]


def judge_bce_value(data):
    if not isinstance(data, list) or len(data) != 3:
        raise CheckFailed("the result sent by your code's process is malformed")
    for (shape, soft, p, t), got in zip(_bce_cases(), data):
        expect_close("binary_cross_entropy", got, F.binary_cross_entropy(p, t).numpy(), rtol=1e-8,
                     context=f"shape {shape}, {'soft' if soft else '0/1'} targets")


EDGE_P, EDGE_T = [[0.0], [1.0], [0.0], [1.0], [1e-60]], [[1.0], [0.0], [0.0], [1.0], [1.0]]


def bce_edges(student, cache):
    p, t = mg.tensor(EDGE_P, dtype="float64", requires_grad=True), mg.tensor(EDGE_T, dtype="float64")
    value = _bce(student, p, t)
    (g,) = mg.grad(value, [p]) if value.requires_grad else (mg.zeros_like(p),)
    return {"value": value.numpy(), "gradient": g.numpy()}


def judge_bce_edges(data):
    value = field_of(data, "value", ())
    p, t = mg.tensor(EDGE_P, dtype="float64", requires_grad=True), mg.tensor(EDGE_T, dtype="float64")
    if not np.isfinite(value):
        raise CheckFailed(f"binary_cross_entropy is {value} where p = 0 and t = 1 (or p = 1 and t = 0): clamp each "
                          "log at -100, as PyTorch does")
    expected = F.binary_cross_entropy(p, t)
    expect_close("binary_cross_entropy at p = 0 and p = 1", value, expected.numpy(), rtol=1e-8,
                 context="p = [0, 1, 0, 1, 1e-60], t = [1, 0, 0, 1, 1]: the logs are clamped at -100")
    g = field_of(data, "gradient", p.shape)
    if not np.all(np.isfinite(g)):
        raise CheckFailed(f"the gradient of binary_cross_entropy at p = 0 or 1 is not finite ({g.ravel()}); "
                          "clamp so that no 1/0 or 0 * inf is ever computed (see the docstring)")


BCE_RNG = np.random.default_rng(4)
BCE_P, BCE_T = BCE_RNG.uniform(0.05, 0.95, (6, 1)), BCE_RNG.uniform(0, 1, (6, 1))


def bce_gradients(student, cache):
    t = mg.tensor(BCE_T, dtype="float64")
    return analytic_gradients(lambda p_: _bce(student, p_, t), [array64(BCE_P)])


def judge_bce_gradients(data):
    t = mg.tensor(BCE_T, dtype="float64")
    expected = analytic_gradients(lambda p_: F.binary_cross_entropy(p_, t), [array64(BCE_P)])
    got = [np.asarray(g, dtype=np.float64) for g in data] if isinstance(data, list) else []
    compare_gradients("binary_cross_entropy", got, expected, input_names=["p"])


# --- Adam -------------------------------------------------------------------------------------------
HYPER = {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-8}


def _gradients(n_steps, shape=(3, 4), seed=5):
    """Growing gradients; the last row tiny, where v is ~1e-10 and eps = 1e-8 is not negligible."""
    rng = np.random.default_rng(seed)
    scale = np.ones(shape)
    scale[-1] = 1e-5
    return [rng.standard_normal(shape) * (1.0 + k) * scale for k in range(n_steps)]


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


def _variant_adam(start, grads, bias_correction=True, eps_inside_sqrt=False):
    """A common mistake, to recognise it in a student's numbers."""
    b1, b2 = HYPER["betas"]
    p, m, v, trajectory = start.copy(), np.zeros_like(start), np.zeros_like(start), []
    for t, g in enumerate(grads, start=1):
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        mh, vh = (m / (1 - b1 ** t), v / (1 - b2 ** t)) if bias_correction else (m, v)
        denominator = np.sqrt(vh + HYPER["eps"]) if eps_inside_sqrt else np.sqrt(vh) + HYPER["eps"]
        p = p - HYPER["lr"] * mh / denominator
        trajectory.append(p.copy())
    return trajectory


def _student_adam(student, start, grads):
    step = get(student, "adam_step")
    p, m, v, trajectory = start.copy(), np.zeros_like(start), np.zeros_like(start), []
    for t, g in enumerate(grads, start=1):
        step(p, g.copy(), m, v, t, **HYPER)
        trajectory.append(p.copy())
    return trajectory, m, v


MOMENT_START = np.random.default_rng(6).standard_normal((3, 4))
UPDATE_START = np.random.default_rng(7).standard_normal((3, 4))


def adam_moments(student, cache):
    _, m, v = _student_adam(student, MOMENT_START, _gradients(2))
    return {"m": m, "v": v}


def judge_adam_moments(data):
    m, v = field_of(data, "m", (3, 4)), field_of(data, "v", (3, 4))
    _, m_ref, v_ref = _reference_adam(MOMENT_START, _gradients(2))
    if np.all(m == 0) and np.all(v == 0):
        raise CheckFailed("m and v are still zero after adam_step: update them in place (m *= b1; m += ...), "
                          "rebinding the names (m = ...) changes nothing outside the function")
    expect_close("adam_step: the first moment m after 2 steps", m, m_ref, rtol=1e-9, atol=1e-12)
    expect_close("adam_step: the second moment v after 2 steps", v, v_ref, rtol=1e-9, atol=1e-12)


def adam_updates(student, cache):
    mine, _, _ = _student_adam(student, UPDATE_START, _gradients(10))
    return {"trajectory": np.stack(mine)}


def judge_adam_updates(data):
    start, grads = UPDATE_START, _gradients(10)
    mine = field_of(data, "trajectory", (10, 3, 4))
    reference, _, _ = _reference_adam(start, grads)
    for t, (p, ref) in enumerate(zip(mine, reference), start=1):
        if np.allclose(p, ref, rtol=1e-7, atol=1e-10):
            continue
        if np.allclose(p, start):
            raise CheckFailed("adam_step did not change param: update it in place (param -= ...)")
        hint = ""
        for variant, text in (({"bias_correction": False}, "this is Adam without bias correction: divide m by "
                               "(1 - b1^t) and v by (1 - b2^t) before the update"),
                              ({"eps_inside_sqrt": True}, "eps belongs outside the square root: "
                               "sqrt(v_hat) + eps, not sqrt(v_hat + eps)")):
            if all(np.allclose(a, b, rtol=1e-7, atol=1e-10) for a, b in zip(mine, _variant_adam(start, grads, **variant))):
                hint = " — " + text
        idx = tuple(int(k) for k in np.unravel_index(np.argmax(np.abs(p - ref)), p.shape))
        raise CheckFailed(f"adam_step: after step {t}, param{list(idx)} is {fmt(p[idx])} but optim.Adam gives "
                          f"{fmt(ref[idx])}{hint} [lr={HYPER['lr']}, betas={HYPER['betas']}]")


def adam_in_place(student, cache):
    param, grad = np.ones((2, 3)), np.full((2, 3), 0.5)
    m, v = np.zeros((2, 3)), np.zeros((2, 3))
    get(student, "adam_step")(param, grad, m, v, 1, **HYPER)
    return {"param": param, "m": m, "v": v}


def judge_adam_in_place(data):
    arrays = {name: field_of(data, name, (2, 3)) for name in ("param", "m", "v")}
    unchanged = [name for name, before in (("param", 1.0), ("m", 0.0), ("v", 0.0)) if np.all(arrays[name] == before)]
    if unchanged:
        raise CheckFailed(f"adam_step left {', '.join(unchanged)} unchanged: update the arrays in place "
                          "(x -= ..., x *= ..., x[...] = ...); rebinding a name inside the function is not "
                          "seen outside")


LINEAR, BCE, ADAM = ("Linear",), ("binary_cross_entropy",), ("adam_step",)
CHECKS = [
    Check("Linear: parameters (shapes, PyTorch init)", linear_parameters, judge_linear_parameters, uses=LINEAR),
    Check("Linear.forward matches nn.functional.linear", linear_forward, judge_linear_forward, uses=LINEAR),
    Check("Linear: gradients match finite differences", linear_gradients, judge_linear_gradients, uses=LINEAR,
          needs=("Linear.forward matches nn.functional.linear",)),
    Check("binary_cross_entropy matches nn.functional.binary_cross_entropy", bce_value, judge_bce_value, uses=BCE),
    Check("binary_cross_entropy at p = 0 and 1 (logs clamped at -100)", bce_edges, judge_bce_edges, uses=BCE),
    Check("binary_cross_entropy: gradient matches finite differences", bce_gradients, judge_bce_gradients,
          uses=BCE),
    Check("adam_step: moments m and v", adam_moments, judge_adam_moments, uses=ADAM),
    Check("adam_step: 10 steps match optim.Adam", adam_updates, judge_adam_updates, points=2, uses=ADAM),
    Check("adam_step updates param, m and v in place", adam_in_place, judge_adam_in_place, uses=ADAM),
]
