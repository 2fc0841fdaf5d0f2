"""Every op: values against NumPy, gradients against finite differences (first and second order).

Tests are tables: one row per op with the function, the input shapes (broadcasting included)
and a NumPy reference. One helper runs the checks; backends are a fixture parameter.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import minigan as mg
from minigan import ops
from minigan.gradcheck import GradcheckError

POSITIVE = "positive"  # inputs drawn away from 0 (log, sqrt, div)
AWAY = "away"          # inputs kept away from kinks (abs, relu, max ties)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# (name, function of tensors, input shapes, NumPy reference, domain)
OPS = [
    ("add", lambda a, b: a + b, [(3, 4), (4,)], lambda a, b: a + b, None),
    ("add_scalar", lambda a: 2.5 + a, [(3, 4)], lambda a: a + 2.5, None),
    ("sub", lambda a, b: a - b, [(2, 3, 4), (3, 1)], lambda a, b: a - b, None),
    ("rsub_scalar", lambda a: 1.0 - a, [(5,)], lambda a: 1.0 - a, None),
    ("mul", lambda a, b: a * b, [(3, 1), (1, 4)], lambda a, b: a * b, None),
    ("mul_scalar", lambda a: a * -3.0, [(2, 2)], lambda a: a * -3.0, None),
    ("div", lambda a, b: a / b, [(3, 4), (3, 4)], lambda a, b: a / b, POSITIVE),
    ("rdiv_scalar", lambda a: 2.0 / a, [(4,)], lambda a: 2.0 / a, POSITIVE),
    ("div_scalar", lambda a: a / 4.0, [(4,)], lambda a: a / 4.0, None),
    ("neg", lambda a: -a, [(3,)], lambda a: -a, None),
    ("pow2", lambda a: a ** 2, [(3, 2)], lambda a: a ** 2, None),
    ("pow_frac", lambda a: a.pow(1.5), [(3, 2)], lambda a: a ** 1.5, POSITIVE),
    ("pow_neg", lambda a: a ** -2, [(3,)], lambda a: a ** -2.0, POSITIVE),
    ("matmul", lambda a, b: a @ b, [(3, 4), (4, 5)], lambda a, b: a @ b, None),
    ("matmul_outer", lambda a, b: a @ b, [(3, 1), (1, 5)], lambda a, b: a @ b, None),
    ("matmul_batched", lambda a, b: a @ b, [(2, 3, 4), (4, 2)], lambda a, b: a @ b, None),
    ("matmul_batched_bcast", lambda a, b: a @ b, [(2, 1, 3, 4), (3, 4, 2)], lambda a, b: a @ b, None),
    ("linear", lambda x, w, b: ops.linear(x, w, b), [(4, 3), (5, 3), (5,)], lambda x, w, b: x @ w.T + b, None),
    ("linear_nobias", lambda x, w: ops.linear(x, w), [(4, 3), (2, 3)], lambda x, w: x @ w.T, None),
    ("linear_one_out", lambda x, w, b: ops.linear(x, w, b), [(4, 3), (1, 3), (1,)], lambda x, w, b: x @ w.T + b, None),
    ("exp", mg.exp, [(3, 4)], np.exp, None),
    ("log", mg.log, [(3, 4)], np.log, POSITIVE),
    ("sqrt", mg.sqrt, [(3, 4)], np.sqrt, POSITIVE),
    ("abs", mg.abs, [(3, 4)], np.abs, AWAY),
    ("maximum", mg.maximum, [(3, 4), (4,)], np.maximum, AWAY),
    ("minimum", mg.minimum, [(3, 4), (3, 1)], np.minimum, AWAY),
    ("where", lambda a, b: mg.where(a > 0, a, b), [(3, 4), (3, 4)], lambda a, b: np.where(a > 0, a, b), AWAY),
    ("clip", lambda a: a.clip(-0.5, 0.5), [(4, 4)], lambda a: np.clip(a, -0.5, 0.5), AWAY),
    ("clip_min", lambda a: mg.clip(a, min=0.1), [(4, 4)], lambda a: np.clip(a, 0.1, None), AWAY),
    ("sum_all", lambda a: a.sum(), [(3, 4)], lambda a: a.sum(), None),
    ("sum_axis", lambda a: a.sum(axis=1), [(2, 3, 4)], lambda a: a.sum(axis=1), None),
    ("sum_axes_keep", lambda a: a.sum(axis=(0, 2), keepdims=True), [(2, 3, 4)], lambda a: a.sum(axis=(0, 2), keepdims=True), None),
    ("mean_axis", lambda a: a.mean(axis=-1), [(3, 4)], lambda a: a.mean(axis=-1), None),
    ("mean_keep", lambda a: a.mean(axis=0, keepdims=True), [(3, 4)], lambda a: a.mean(axis=0, keepdims=True), None),
    ("var", lambda a: a.var(axis=0), [(5, 3)], lambda a: a.var(axis=0, ddof=1), None),  # PyTorch's default
    ("var_biased", lambda a: a.var(dim=1, correction=0, keepdim=True), [(3, 5)], lambda a: a.var(axis=1, keepdims=True), None),
    ("var_ddof", lambda a: mg.var(a, ddof=2), [(3, 5)], lambda a: a.var(ddof=2), None),
    ("var_unbiased_false", lambda a: a.var(0, False), [(4, 2)], lambda a: a.var(axis=0), None),
    ("std", lambda a: a.std(dim=0), [(5, 3)], lambda a: a.std(axis=0, ddof=1), None),
    ("norm_dim", lambda a: a.norm(dim=1), [(3, 4)], lambda a: np.linalg.norm(a, axis=1), None),
    ("norm_all", lambda a: a.norm(), [(3, 4)], lambda a: np.linalg.norm(a), None),
    ("norm_1", lambda a: a.norm(1, dim=0, keepdim=True), [(3, 4)], lambda a: np.abs(a).sum(0, keepdims=True), AWAY),
    ("norm_inf", lambda a: a.norm(float("inf")), [(3, 4)], lambda a: np.abs(a).max(), AWAY),
    ("norm_3", lambda a: a.norm(3, dim=1), [(3, 4)], lambda a: (np.abs(a) ** 3).sum(1) ** (1 / 3), AWAY),
    ("amax", lambda a: a.amax(dim=(0, 2)), [(2, 3, 4)], lambda a: a.max(axis=(0, 2)), AWAY),
    ("max_dim_values", lambda a: a.max(dim=1).values, [(3, 4)], lambda a: a.max(axis=1), AWAY),
    ("min_dim_values", lambda a: a.min(dim=0, keepdim=True).values, [(3, 4)], lambda a: a.min(axis=0, keepdims=True), AWAY),
    ("sum_dim", lambda a: a.sum(dim=(0, 2), keepdim=True), [(2, 3, 4)], lambda a: a.sum(axis=(0, 2), keepdims=True), None),
    ("sum_dim_empty_is_all", lambda a: a.sum(dim=()), [(2, 3)], lambda a: a.sum(), None),
    ("sum_axis_empty_is_none", lambda a: a.sum(axis=()), [(2, 3)], lambda a: a.sum(axis=()), None),
    ("pow_tensor", lambda a, b: a ** b, [(3, 4), (4,)], lambda a, b: a ** b, POSITIVE),
    ("rpow", lambda a: 2.0 ** a, [(3, 4)], lambda a: 2.0 ** a, None),
    ("pow0", lambda a: a ** 0, [(3,)], lambda a: a ** 0.0, None),
    ("softmax", lambda a: a.softmax(dim=1), [(3, 4)], lambda a: np.exp(a) / np.exp(a).sum(1, keepdims=True), None),
    ("log_softmax", lambda a: mg.log_softmax(a, 0), [(3, 4)], lambda a: a - np.log(np.exp(a).sum(0, keepdims=True)), None),
    ("clamp", lambda a: a.clamp(min=-0.5, max=0.5), [(4, 4)], lambda a: np.clip(a, -0.5, 0.5), AWAY),
    ("clone", lambda a: a.clone() * 1.0, [(3, 2)], lambda a: a.copy(), None),
    ("max_all", lambda a: a.max(), [(3, 4)], lambda a: a.max(), AWAY),
    ("max_axis", lambda a: a.max(axis=1, keepdims=True), [(3, 4)], lambda a: a.max(axis=1, keepdims=True), AWAY),
    ("min_axis", lambda a: a.min(axis=0), [(3, 4)], lambda a: a.min(axis=0), AWAY),
    ("reshape", lambda a: a.reshape(4, 3), [(3, 4)], lambda a: a.reshape(4, 3), None),
    ("flatten", lambda a: a.flatten(), [(2, 3, 2)], lambda a: a.reshape(-1), None),
    ("flatten_from_1", lambda a: ops.flatten(a, 1), [(2, 3, 2)], lambda a: a.reshape(2, -1), None),
    ("flatten_range", lambda a: a.flatten(0, 1), [(2, 3, 2)], lambda a: a.reshape(6, 2), None),
    ("view", lambda a: a.view(-1, 2), [(3, 4)], lambda a: a.reshape(-1, 2), None),
    ("squeeze", lambda a: a.squeeze(), [(3, 1, 2, 1)], lambda a: a.squeeze(), None),
    ("squeeze_dim_not_1_kept", lambda a: a.squeeze(0), [(3, 1)], lambda a: a, None),
    ("unsqueeze", lambda a: a.unsqueeze(-1), [(3, 2)], lambda a: a[..., None], None),
    ("transpose_swap_2d", lambda a: a.transpose(0, 1), [(3, 4)], lambda a: a.T, None),
    ("transpose_swap_3d", lambda a: a.transpose(0, 2), [(2, 3, 4)], lambda a: a.swapaxes(0, 2), None),
    ("transpose_tuple", lambda a: a.transpose((1, 0, 2)), [(2, 3, 4)], lambda a: a.transpose((1, 0, 2)), None),
    ("permute", lambda a: a.permute(2, 0, 1), [(2, 3, 4)], lambda a: a.transpose(2, 0, 1), None),
    ("mT", lambda a: a.mT, [(2, 3, 4)], lambda a: a.swapaxes(-1, -2), None),
    ("matmul_vec_vec", lambda a, b: a @ b, [(4,), (4,)], lambda a, b: a @ b, None),
    ("matmul_mat_vec", lambda a, b: a @ b, [(3, 4), (4,)], lambda a, b: a @ b, None),
    ("matmul_vec_batched", lambda a, b: mg.matmul(a, b), [(3,), (2, 3, 4)], lambda a, b: a @ b, None),
    ("transpose", lambda a: a.T, [(3, 4)], lambda a: a.T, None),
    ("transpose_axes", lambda a: a.transpose(2, 0, 1), [(2, 3, 4)], lambda a: a.transpose(2, 0, 1), None),
    ("broadcast_to", lambda a: a.broadcast_to((2, 3, 4)), [(3, 1)], lambda a: np.broadcast_to(a, (2, 3, 4)), None),
    ("sum_to", lambda a: ops.sum_to(a, (3, 1)), [(2, 3, 4)], lambda a: a.sum(axis=(0, 2)).reshape(3, 1), None),
    ("slice", lambda a: a[1:, ::2], [(3, 4)], lambda a: a[1:, ::2], None),
    ("int_index", lambda a: a[1], [(3, 4)], lambda a: a[1], None),
    ("fancy_index_repeats", lambda a: a[[0, 2, 0, 0]], [(3, 2)], lambda a: a[[0, 2, 0, 0]], None),
    ("concatenate", lambda a, b: mg.concatenate([a, b], axis=1), [(2, 3), (2, 1)], lambda a, b: np.concatenate([a, b], axis=1), None),
    ("stack", lambda a, b: mg.stack([a, b], axis=1), [(2, 3), (2, 3)], lambda a, b: np.stack([a, b], axis=1), None),
    ("sigmoid", mg.sigmoid, [(3, 4)], _sigmoid, None),
    ("tanh", mg.tanh, [(3, 4)], np.tanh, None),
    ("leaky_relu_zero_slope", lambda a: mg.leaky_relu(a, 0.0), [(3, 4)], lambda a: np.maximum(a, 0), AWAY),
    ("relu", mg.relu, [(3, 4)], lambda a: np.maximum(a, 0), AWAY),
    ("leaky_relu", lambda a: mg.leaky_relu(a, 0.2), [(3, 4)], lambda a: np.where(a > 0, a, 0.2 * a), AWAY),
    ("softplus", mg.softplus, [(3, 4)], lambda a: np.log1p(np.exp(a)), None),
    ("log_sigmoid", mg.log_sigmoid, [(3, 4)], lambda a: np.log(_sigmoid(a)), None),
]


def _inputs(shapes, domain, seed=0):
    rng = np.random.default_rng(seed)
    arrays = []
    for shape in shapes:
        a = rng.standard_normal(shape)
        if domain == POSITIVE:
            a = np.abs(a) + 0.5
        elif domain == AWAY:  # keep |x| >= 0.1 and entries distinct, so no kink sits within eps
            a = np.sign(a) * (np.abs(a) + 0.1) + rng.uniform(0, 1e-2, shape)
        arrays.append(a)
    return arrays


@pytest.mark.parametrize("name, fn, shapes, reference, domain", OPS, ids=[row[0] for row in OPS])
def test_op_matches_numpy_and_finite_differences(backend, float64, name, fn, shapes, reference, domain):
    arrays = _inputs(shapes, domain)
    tensors = [mg.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    np.testing.assert_allclose(out.numpy(), reference(*arrays), rtol=1e-12, atol=1e-12)
    assert isinstance(out.numpy(), np.ndarray)
    assert mg.gradcheck(fn, tensors)
    assert mg.gradgradcheck(fn, tensors)


@pytest.mark.parametrize("name, fn, shapes, reference, domain", OPS, ids=[row[0] for row in OPS])
def test_op_keeps_float32(name, fn, shapes, reference, domain):
    tensors = [mg.tensor(a, requires_grad=True) for a in _inputs(shapes, domain)]
    out = fn(*tensors)
    assert out.dtype == np.float32
    out.sum().backward()
    for t in tensors:
        assert t.grad.dtype == np.float32 and t.grad.shape == t.shape


# ---- broadcasting on random shapes (hypothesis) ---------------------------------------------------
BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "div": lambda a, b: a / (b * b + 1.0), "maximum": mg.maximum}


@settings(max_examples=25, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
       op=st.sampled_from(sorted(BINARY)), seed=st.integers(0, 2**16))
def test_binary_ops_broadcast_random_shapes(shapes, op, seed):
    mg.set_default_dtype("float64")
    arrays = _inputs(shapes.input_shapes, AWAY, seed)
    tensors = [mg.tensor(a, requires_grad=True) for a in arrays]
    fn = BINARY[op]
    assert fn(*tensors).shape == shapes.result_shape
    assert mg.gradcheck(fn, tensors)
    assert mg.gradgradcheck(fn, tensors)


# ---- numerics at the edges -------------------------------------------------------------------------
def test_sigmoid_softplus_log_sigmoid_are_finite_for_huge_inputs(backend):
    x = mg.tensor([-1000.0, -50.0, -30.0, 0.0, 30.0, 50.0, 1000.0], requires_grad=True)
    s = mg.sigmoid(x)
    np.testing.assert_allclose(s.numpy()[[3, 6]], [0.5, 1.0])
    assert s.numpy()[2] == pytest.approx(9.357623e-14, rel=1e-5)  # not rounded to 0
    for y in (s, mg.softplus(x), mg.log_sigmoid(x), mg.tanh(x)):
        (g,) = mg.grad(y.sum(), [x])
        assert np.all(np.isfinite(y.numpy())) and np.all(np.isfinite(g.numpy()))
    np.testing.assert_allclose(mg.log_sigmoid(x).numpy()[:2], [-1000.0, -50.0], rtol=1e-6)
    np.testing.assert_allclose(mg.softplus(x).numpy()[-2:], [50.0, 1000.0], rtol=1e-6)


def test_max_splits_gradient_between_ties():
    x = mg.tensor([[1.0, 3.0, 3.0]], requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.0, 0.5, 0.5]])


def test_amax_takes_numpy_axis_and_pytorch_dim():
    x = mg.tensor([[1.0, 5.0], [3.0, 2.0]])
    assert x.amax(dim=()).item() == 5.0 and x.amax(axis=()).shape == (2, 2)  # (): all for PyTorch, none for NumPy
    assert x.amax(axis=0, keepdims=True).numpy().tolist() == [[3.0, 5.0]] and x.amin(1).numpy().tolist() == [1.0, 2.0]
    with pytest.raises(TypeError, match="not both"):
        x.amax(dim=0, axis=0)


def test_squeeze_checks_its_dims_and_takes_0d_tensors():
    """Before: squeeze(5) on a 2-D tensor wrapped around to dim 1, and a 0-d tensor's squeeze(0) divided by 0."""
    assert mg.zeros(2, 1).squeeze(-1).shape == (2,) and mg.tensor(3.0).squeeze(0).shape == ()
    assert mg.zeros(1, 2, 1).squeeze((0, 2)).shape == (2,)
    with pytest.raises(ValueError, match="axis 5 is out of range"):
        mg.zeros(2, 1).squeeze(5)


def test_fancy_index_backward_adds_repeated_indices(backend):
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2]].sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 0.0, 1.0])


# ---- the checker itself must be able to fail ------------------------------------------------------
def test_gradcheck_catches_a_wrong_backward(float64):
    from minigan.tensor import Function

    class WrongSquare(Function):
        def forward(self, a):
            return a * a

        def backward(self, grad):
            return (grad * self.inputs[0] * 3.0,)  # should be 2x

    x = mg.tensor(np.random.default_rng(0).standard_normal((2, 3)), requires_grad=True)
    with pytest.raises(GradcheckError, match=r"input 0 is wrong at element \(\d, \d\): analytic .* vs numerical"):
        mg.gradcheck(WrongSquare.apply, [x])


def test_gradgradcheck_catches_a_non_differentiable_backward(float64):
    from minigan.tensor import Function, Tensor

    class SquareWithConstantBackward(Function):
        def forward(self, a):
            return a * a

        def backward(self, grad):  # correct values, but built from raw arrays: no second order
            return (grad * Tensor(2.0 * self.inputs[0].data),)

    x = mg.tensor(np.random.default_rng(1).standard_normal(4), requires_grad=True)
    assert mg.gradcheck(SquareWithConstantBackward.apply, [x])
    with pytest.raises(GradcheckError):
        mg.gradgradcheck(SquareWithConstantBackward.apply, [x])


def test_gradcheck_rejects_float32_and_no_grad_inputs():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="float64"):
        mg.gradcheck(mg.exp, [x])
    with pytest.raises(ValueError, match="nothing to check"):
        mg.gradcheck(mg.exp, [mg.tensor([1.0], dtype="float64")])
