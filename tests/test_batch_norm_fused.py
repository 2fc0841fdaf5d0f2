"""Batch normalization with the batch's statistics as one Function (minigan/conv/batch_norm.py):
its kernels against plain NumPy, its values and gradients against the formula composed in float64,
first and second order by finite differences, and the fused backward taken only where no
higher-order graph is recorded. (Running statistics and PyTorch's numbers: test_nn.py,
test_conv_pytorch.py, test_torch_parity.py.)"""
import numpy as np
import pytest

import minigan as mg
from minigan.kernels import KERNELS
from minigan.nn import functional as F
from minigan.strict import count_calls

SHAPES = [(5, 3), (4, 2, 3), (3, 2, 3, 4)]   # BatchNorm1d's (N, C) and (N, C, L), BatchNorm2d's (N, C, H, W)


def _channel_last(a):
    """The same values with the channel axis last in memory (a conv output's layout, say)."""
    return np.moveaxis(np.ascontiguousarray(np.moveaxis(a, 1, -1)), -1, 1)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_twins_equal_the_numpy_they_fuse_bit_for_bit_and_keep_the_memory_order(dtype):
    rng = np.random.default_rng(0)
    c, g = (_channel_last(rng.standard_normal((4, 3, 2, 5)).astype(dtype)) for _ in range(2))
    k1, k2, k3 = (rng.standard_normal((1, 3, 1, 1)).astype(dtype) for _ in range(3))
    y = KERNELS["batch_norm"].twin(c, k1, k2)
    np.testing.assert_array_equal(y, c * k1 + k2)
    dx = KERNELS["batch_norm_backward"].twin(g, c, k1, k2, k3)
    np.testing.assert_array_equal(dx, (c * k2 + k3) + g * k1)
    assert y.dtype == dx.dtype == dtype and y.strides == dx.strides == c.strides


def _reference(x, w, b, eps=1e-5):
    """y and d sum(r * y) / d (x, w, b) from the formulas, in float64 NumPy."""
    axes = (0,) + tuple(range(2, x.ndim))
    channel = (1, -1) + (1,) * (x.ndim - 2)
    centered = x - x.mean(axis=axes, keepdims=True)
    s = np.sqrt((centered ** 2).mean(axis=axes, keepdims=True) + eps)
    xhat = centered / s
    return xhat * w.reshape(channel) + b.reshape(channel), xhat, s, axes, channel


@pytest.mark.parametrize("shape", SHAPES, ids=["nc", "ncl", "nchw"])
def test_values_and_gradients_equal_the_formula(backend, float64, shape):
    rng = np.random.default_rng(1)
    x, r = rng.standard_normal(shape) * 3.0 + 1.0, rng.standard_normal(shape)
    w, b = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
    y_ref, xhat, s, axes, channel = _reference(x, w, b)
    gx_ref = w.reshape(channel) / s * (r - r.mean(axis=axes, keepdims=True)
                                       - xhat * (r * xhat).mean(axis=axes, keepdims=True))
    t, tw, tb = (mg.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.batch_norm(t, None, None, tw, tb, training=True)
    (y * mg.tensor(r)).sum().backward()
    np.testing.assert_allclose(y.numpy(), y_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(t.grad.numpy(), gx_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tw.grad.numpy(), (r * xhat).sum(axis=axes), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tb.grad.numpy(), r.sum(axis=axes), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape", SHAPES, ids=["nc", "ncl", "nchw"])
@pytest.mark.parametrize("affine", [True, False], ids=["affine", "no_affine"])
def test_first_and_second_derivatives_match_finite_differences(float64, shape, affine):
    rng = np.random.default_rng(2)
    x = mg.tensor(rng.standard_normal(shape), requires_grad=True)
    if affine:
        w, b = (mg.tensor(rng.standard_normal(shape[1]), requires_grad=True) for _ in range(2))
        fn, inputs = (lambda t, w, b: F.batch_norm(t, None, None, w, b, training=True) ** 2), [x, w, b]
    else:
        fn, inputs = (lambda t: F.batch_norm(t, None, None, training=True) ** 2), [x]
    assert mg.gradcheck(fn, inputs) and mg.gradgradcheck(fn, inputs)


def test_backward_is_one_kernel_without_create_graph_and_tensor_ops_with_it():
    mg.set_backend("strict")
    mg.set_default_dtype("float64")
    x = mg.tensor(np.random.default_rng(3).standard_normal((4, 3, 2, 2)), requires_grad=True)
    w, b = mg.ones(3, requires_grad=True), mg.zeros(3, requires_grad=True)

    def loss():
        return (F.batch_norm(x, None, None, w, b, training=True) ** 3).sum()
    with count_calls() as fused:
        first = mg.grad(loss(), [x, w, b])
    with count_calls() as unfused:
        second = mg.grad(loss(), [x, w, b], create_graph=True)
    assert fused.calls["kernel batch_norm_backward"] == 1 and unfused.calls["kernel batch_norm_backward"] == 0
    assert all(g.requires_grad for g in second) and not any(g.requires_grad for g in first)
    for a, c in zip(first, second):
        np.testing.assert_allclose(a.numpy(), c.numpy(), rtol=1e-12, atol=1e-14)


def test_a_gradient_in_another_memory_order_than_the_input_gives_the_same_gradients(float64):
    """A Flatten's gradient arrives channel first while a conv output is held channel last: the
    backward brings it into the input's order (mixed strides cost ~10x) without changing a value."""
    rng = np.random.default_rng(4)
    x, r = _channel_last(rng.standard_normal((4, 3, 2, 5))), rng.standard_normal((4, 3, 2, 5))
    grads = []
    for grad in (r, _channel_last(r)):
        t = mg.tensor(x, requires_grad=True)
        F.batch_norm(t, None, None, mg.ones(3), mg.zeros(3), training=True).backward(mg.tensor(grad))
        grads.append(t.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])
