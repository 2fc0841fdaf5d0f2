"""The fused kernels' NumPy twins (minigan/kernels) against the unfused NumPy code they replaced.

Each twin is what the CPU runs and the reference its CUDA body is checked against on a GPU
(benchmarks/bench_gpu.py), so here it must give exactly what the unfused ops gave -- to the last bit
where it makes the same passes, on random inputs and on the edges (0, -0, +-inf, NaN, huge, tiny).
The CUDA bodies cannot run here; their call signatures are checked against the twins'.
"""
import inspect
import re

import numpy as np
import pytest

import minigan as mg
from minigan.kernels import KERNELS
from minigan.strict import MixedArrayError, count_calls

EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, np.inf, -np.inf, np.nan, 1e-30, -1e-30, 1e30, -1e30, 30.0, -30.0, 100.0, -100.0]


def _inputs(dtype, lo=-5.0, hi=5.0, n=200, seed=0):
    """Random values in [lo, hi) followed by the edge values, as one array of ``dtype``."""
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.uniform(lo, hi, n), EDGES]).astype(dtype)


def _same(actual, expected):
    """Bit-for-bit equal values (NaN where NaN), dtypes and shapes."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    np.testing.assert_array_equal(actual, expected)


# --- the unfused code each twin replaced (minigan before the kernels), in plain NumPy ------------------
def _old_sigmoid(a):
    z = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0, z).astype(a.dtype, copy=False) / (1.0 + z)


def _old_bce(p, t):
    zero = (p == 0).astype(p.dtype)
    log_p = np.maximum(np.log(p + zero) - 100.0 * zero, -100.0)
    one = (p == 1).astype(p.dtype)
    log_1mp = np.maximum(np.log1p(-(p - one)) - 100.0 * one, -100.0)
    return -(t * log_p + (1.0 - t) * log_1mp)


def _old_softplus(a):
    return np.maximum(a, 0) + np.log1p(np.exp(-np.abs(a)))


def _old_select(a, keep):
    unsigned = {2: np.uint16, 4: np.uint32, 8: np.uint64}[a.dtype.itemsize]
    words = keep.astype(unsigned) * (2 ** (8 * a.dtype.itemsize) - 1)
    return np.bitwise_and(a.view(unsigned), words).view(a.dtype)


@pytest.fixture(params=["float32", "float64"])
def dtype(request):
    return np.dtype(request.param)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf - inf and friends on the edge values
def test_activation_twins_equal_the_unfused_ops_bit_for_bit(dtype):
    a, g = _inputs(dtype), _inputs(dtype, seed=1)[::-1].copy()
    out, mask = KERNELS["leaky_relu"].twin(a, 0.2)
    old_mask = (a > 0).astype(a.dtype) * (1.0 - 0.2) + 0.2
    _same(mask, old_mask.astype(dtype))
    _same(out, a * old_mask.astype(dtype))
    out, keep = KERNELS["relu"].twin(a)
    _same(out, np.maximum(a, 0))
    _same(keep, ~(np.maximum(a, 0) <= 0))
    assert keep[np.isnan(a)].all()            # NaN passes its gradient on, as in PyTorch
    keep = np.random.default_rng(2).random(a.shape) < 0.5
    _same(KERNELS["select"].twin(g, keep), _old_select(g, keep))
    assert (KERNELS["select"].twin(np.full(3, np.nan, dtype), np.zeros(3, bool)) == 0).all()  # dropped NaN: 0
    scale = np.where(keep, 0.5, 1.0).astype(dtype)
    _same(KERNELS["select_scaled"].twin(g, keep, scale), _old_select(g, keep) * scale)
    s = KERNELS["sigmoid"].twin(a)
    _same(s, _old_sigmoid(a))
    _same(KERNELS["sigmoid_backward"].twin(g, s), g * (s * (1.0 - s)))
    t = KERNELS["tanh"].twin(a)
    _same(t, np.tanh(a))
    _same(KERNELS["tanh_backward"].twin(g, t), g * (1.0 - t * t))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_bce_twins_equal_the_unfused_ops_bit_for_bit(dtype):
    p = np.concatenate([_inputs(dtype, 0.0, 1.0), np.array([0.0, 1.0, 1e-12, 1 - 1e-7, np.nan], dtype)])
    t = np.random.default_rng(3).uniform(0.0, 1.0, p.shape).astype(dtype)
    t[:8] = [0, 1, 0, 1, 0, 1, 0, 1]
    loss = KERNELS["bce"].twin(p, t)
    _same(loss, _old_bce(p, t))
    assert np.isfinite(loss[(p >= 0) & (p <= 1)]).all()   # log(0) is clamped at -100, never inf
    scale = 1.0 / p.size
    _same(KERNELS["bce_sum"].twin(p, t, scale), np.asarray(_old_bce(p, t).sum(axis=(0,)) * scale))
    grad = np.asarray(-1.0, dtype)   # the 0-d gradient of a mean, as backward hands it in
    g = grad * scale
    _same(KERNELS["bce_backward"].twin(grad, p, t, scale), g * (p - t) / np.clip(p * (1.0 - p), 1e-12, None))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_bce_with_logits_twins_equal_the_unfused_ops(dtype):
    z, t = _inputs(dtype, -40.0, 40.0), np.random.default_rng(4).uniform(0.0, 1.0, 216).astype(dtype)
    t[:8] = [0, 1, 0, 1, 0, 1, 0, 1]
    old = t * _old_softplus(-z) + (1.0 - t) * _old_softplus(z)
    _same(KERNELS["bce_logits"].twin(z, t), old)
    _same(KERNELS["bce_logits_sum"].twin(z, t, 0.5), np.asarray(old.sum(axis=(0,)) * 0.5))
    # d/dz of the unfused form, -t sigmoid(-z) + (1 - t) sigmoid(z): the same two terms, so equal up to
    # rounding in the last place; exactly equal where one term is 0
    grad = np.asarray(2.0, dtype)
    expected = (grad * 0.25) * ((1.0 - t) * _old_sigmoid(z) - t * _old_sigmoid(-z))
    actual = KERNELS["bce_logits_backward"].twin(grad, z, t, 0.25)
    np.testing.assert_allclose(actual, expected, rtol=4 * np.finfo(dtype).eps, atol=0)
    # at z = 60, t = 1 the gradient is -sigmoid(-60) = -8.8e-27, not the 0 that sigmoid(z) - t gives
    big = KERNELS["bce_logits_backward"].twin(np.asarray(1.0), np.array([60.0]), np.array([1.0]), 1.0)
    np.testing.assert_allclose(big, [-np.exp(-60.0) / (1 + np.exp(-60.0))], rtol=1e-12)


# --- the optimizer twins against minigan's per-parameter update code before the kernels --------------
def _old_moving_average(avg, decay, new, weight, tmp):
    avg *= decay
    np.multiply(new, weight, out=tmp)
    avg += tmp


def _old_adam(p, g, m, v, vmax, t, lr, b1, b2, eps, wd, decoupled, amsgrad, maximize):
    tmp = np.zeros_like(p)
    if wd and decoupled:
        p *= 1.0 - lr * wd
    g = -g if maximize else g
    g = g + wd * p if wd and not decoupled else g
    _old_moving_average(m, b1, g, 1.0 - b1, tmp)
    np.multiply(g, g, out=tmp)
    _old_moving_average(v, b2, tmp, 1.0 - b2, tmp)
    if amsgrad:
        v = np.maximum(vmax, v, out=vmax)
    sqrt_bc2 = np.sqrt(1.0 - b2 ** t)
    np.sqrt(v, out=tmp)
    tmp += eps * sqrt_bc2
    np.divide(m, tmp, out=tmp)
    tmp *= lr * sqrt_bc2 / (1.0 - b1 ** t)
    p -= tmp


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")  # the gradient -1e30, squared in float32
@pytest.mark.parametrize("decoupled, amsgrad, maximize, wd", [(False, False, False, 0.0), (False, True, True, 0.1),
                                                               (True, False, False, 0.1), (True, True, True, 0.0)])
def test_adam_twin_equals_the_old_update_bit_for_bit(dtype, decoupled, amsgrad, maximize, wd):
    rng = np.random.default_rng(5)
    p0, m0 = rng.standard_normal(50).astype(dtype), rng.standard_normal(50).astype(dtype) * 0.1
    v0 = rng.random(50).astype(dtype)
    p, m, v, vmax = p0.copy(), m0.copy(), v0.copy(), v0 * 1.5
    q, m2, v2, vmax2 = p0.copy(), m0.copy(), v0.copy(), v0 * 1.5
    lr, b1, b2, eps = 1e-2, 0.5, 0.999, 1e-8
    for t in (1, 2, 3):
        g = rng.standard_normal(50).astype(dtype)
        g[:3] = [0.0, 1e-30, -1e30]
        _old_adam(p, g, m, v, vmax, t, lr, b1, b2, eps, wd, decoupled, amsgrad, maximize)
        sqrt_bc2 = np.sqrt(1.0 - b2 ** t)
        tmp = np.empty_like(q)
        KERNELS["adam"].twin(g, b1, 1.0 - b1, b2, 1.0 - b2, lr * sqrt_bc2 / (1.0 - b1 ** t), eps * sqrt_bc2,
                             1.0 - lr * wd if decoupled and wd else 1.0, 0.0 if decoupled else wd, int(maximize),
                             int(amsgrad), q, m2, v2, vmax2 if amsgrad else tmp, tmp)
    for new, old in ((q, p), (m2, m), (v2, v)):
        _same(new, old)


def test_rmsprop_and_sgd_twins_equal_hand_computed_updates(dtype):
    g, p = np.array([2.0, -0.5, 0.0], dtype), np.array([1.0, 1.0, 1.0], dtype)
    s, a, buf, tmp = np.full(3, 0.25, dtype), np.full(3, 0.1, dtype), np.full(3, 0.3, dtype), np.empty(3, dtype)
    lr, alpha, eps, mom = 0.01, 0.9, 1e-8, 0.5
    s_new = alpha * 0.25 + (1 - alpha) * g.astype(np.float64) ** 2
    a_new = 0.1 + (1 - alpha) * (g.astype(np.float64) - 0.1)
    b_new = mom * 0.3 + g / (np.sqrt(s_new - a_new ** 2) + eps)
    KERNELS["rmsprop"].twin(g, lr, alpha, 1.0 - alpha, eps, 0.0, mom, 0, 1, p, s, a, buf, tmp)
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(s, s_new, rtol=rtol)
    np.testing.assert_allclose(a, a_new, rtol=rtol)
    np.testing.assert_allclose(p, 1.0 - lr * b_new, rtol=rtol)
    q, buf = np.array([1.0, 2.0], dtype), np.empty(2, dtype)
    grads = [np.array([1.0, -1.0], dtype), np.array([0.5, 0.5], dtype)]
    for first, grad in zip((1, 0), grads):   # momentum 0.9, nesterov, weight decay 0.1, maximize
        KERNELS["sgd"].twin(grad, 0.1, 0.9, 1.0, 0.1, 1, 1, first, q, buf, np.empty(2, dtype))
    expected, b = np.array([1.0, 2.0]), None
    for grad in grads:
        d = -grad.astype(np.float64) + 0.1 * expected
        b = d if b is None else 0.9 * b + d
        expected = expected - 0.1 * (d + 0.9 * b)
    np.testing.assert_allclose(q, expected, rtol=rtol)


# --- the CUDA side: signatures agree with the twins; strict counts a kernel as one call ----------------
def _names(params):
    return [re.split(r"\s+", p.strip())[-1] for p in params.split(",") if p.strip()]


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_each_cuda_body_takes_the_twins_arguments_in_order(name):
    spec = KERNELS[name]
    twin_args = list(inspect.signature(spec.twin).parameters)
    inputs, outputs = _names(spec.in_params), _names(spec.out_params)
    in_place = [o for o in outputs if o in twin_args]   # outputs the caller passes (updated in place)
    assert inputs + in_place == twin_args, f"{name}: CUDA takes {inputs + in_place}, the twin {twin_args}"
    for out in set(outputs) - {"tmp"}:   # each output is assigned in the body (a reduction's in its post_map);
        # tmp is the twin's scratch array, which the CUDA body needs not
        body = spec.operation if spec.reduce is None else spec.reduce[1]
        assert re.search(rf"\b{out}\s*(=|\*=|\+=|-=)", body), f"{name}: {out} never written"
    for word in re.findall(r"\b[a-z_][a-z_0-9]*\b", spec.operation):   # no name the kernel does not know
        assert word in inputs + outputs + ["T", "max", "exp", "log", "log1p", "fabs", "sqrt", "tanh", "if",
                                           "else", "bool", "e", "g", "b", "d", "u", "w", "z", "s_pos", "s_neg"], \
            f"{name}: unknown name {word!r} in the CUDA body"


def test_strict_backend_counts_a_kernel_as_one_call_and_refuses_numpy_arrays():
    be = mg.set_backend("strict")
    x = mg.tensor([-1.0, 0.0, 2.0])
    with count_calls() as count:
        s = be.kernel("sigmoid")(x.data)
    assert count.calls == {"kernel sigmoid": 1} and be.is_array(s)
    with pytest.raises(MixedArrayError, match="kernel sigmoid"):
        be.kernel("sigmoid")(np.zeros(3, np.float32))


# --- the ops use them only where no higher-order graph is recorded ------------------------------------
ACTIVATIONS = [("sigmoid", mg.sigmoid), ("tanh", mg.tanh)]


@pytest.mark.parametrize("name, fn", ACTIVATIONS + [
    ("bce", lambda x: mg.nn.functional.binary_cross_entropy(x.sigmoid(), mg.full(x.shape, 0.3))),
    ("bce_logits", lambda x: mg.nn.functional.binary_cross_entropy_with_logits(x, mg.full(x.shape, 0.3)))])
def test_fused_backward_runs_without_create_graph_and_tensor_ops_with_it(name, fn):
    mg.set_backend("strict")
    mg.set_default_dtype("float64")
    x = mg.tensor(np.linspace(-3.0, 3.0, 7), requires_grad=True)
    with count_calls() as fused:
        (g1,) = mg.grad(fn(x).sum(), [x])
    with count_calls() as unfused:
        (g2,) = mg.grad(fn(x).sum(), [x], create_graph=True)
    assert fused.calls[f"kernel {name}_backward"] == 1 and unfused.calls[f"kernel {name}_backward"] == 0
    assert g2.requires_grad and not g1.requires_grad   # the unfused gradient has a graph of its own
    np.testing.assert_allclose(g1.numpy(), g2.numpy(), rtol=1e-13, atol=1e-300)
    assert mg.gradgradcheck(fn, [x])
