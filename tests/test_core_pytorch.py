"""The core against recorded PyTorch answers: masking ops at inf/NaN/zero edges, PyTorch's names.

tests/reference/torch_reference_core.npz was written by tests/reference/make_torch_reference_core.py
(PyTorch 2.13, float64) from the same case functions that are replayed here with minigan, so the
expressions cannot drift apart. Values, first and second derivatives are compared exactly where
they are inf/NaN and to rounding (rtol 1e-10) elsewhere.
"""
import importlib.util
import os

import numpy as np
import pytest

import minigan as mg
from minigan import optim

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("core_cases", os.path.join(HERE, "reference", "make_torch_reference_core.py"))
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)
with np.load(os.path.join(HERE, "reference", "torch_reference_core.npz"), allow_pickle=False) as _npz:
    REF = {k: _npz[k] for k in _npz.files}


class MinimanNamespace:
    where, maximum, minimum, zeros_like, leaky_relu, grad = (mg.where, mg.maximum, mg.minimum, mg.zeros_like,
                                                              mg.leaky_relu, mg.grad)

    @staticmethod
    def tensor_like(x, values):
        return mg.tensor(np.asarray(values), dtype=x.dtype)


L = MinimanNamespace


def same(actual, expected, what):
    """Equal to rounding where finite; the same inf and NaN pattern elsewhere."""
    actual = actual.numpy() if isinstance(actual, mg.Tensor) else np.asarray(actual)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, PyTorch {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=1e-12, equal_nan=True, err_msg=what)


def replay(name, fn, *arrays):
    xs = [mg.tensor(a, requires_grad=True, dtype="float64") for a in arrays]
    y = fn(*xs)
    r, _ = cases.projections(y.shape, len(name))
    (g,) = mg.grad((y * mg.tensor(r, dtype="float64")).sum(), [xs[0]], create_graph=True)
    h = None
    if g.requires_grad:
        s = cases.projections(g.shape, len(name) + 1)[1]
        (h,) = mg.grad((g * mg.tensor(s, dtype="float64")).sum(), [xs[0]], allow_unused=True)
    h = np.zeros(g.shape) if h is None else h.numpy()
    return y, g, h


@pytest.mark.parametrize("name, x, fn", cases.EDGE_CASES, ids=[c[0] for c in cases.EDGE_CASES])
def test_masking_ops_at_inf_nan_and_zero_edges_match_pytorch(name, x, fn):
    with np.errstate(all="ignore"):  # sqrt(0) and inf arithmetic warn in NumPy, by design here
        y, g, h = replay(name, lambda t: fn(L, t), x)
    same(y, REF[f"{name}.value"], f"{name} value")
    expected1, expected2 = REF[f"{name}.grad"], REF[f"{name}.grad2"]
    if name == "amax_sqrt":
        # NOTE: deliberately not PyTorch's answer: its amax multiplies the gradient by a 0/1 mask, so
        # an inf gradient gives NaN at the non-maxima; minigan selects (exactly 0 there), like its max().
        dropped = np.isnan(expected1)
        assert dropped.sum() == 3
        expected1, expected2 = np.where(dropped, 0.0, expected1), np.where(np.isnan(expected2), 0.0, expected2)
    same(g, expected1, f"{name} first derivative")
    if name == "norm_at_zero":
        # NOTE: deliberately not PyTorch's answer: its norm's second derivative is NaN at 0; ours is
        # finite (0 there), so a WGAN-GP step with an exactly-zero input gradient stays finite.
        assert np.isnan(expected2[0]).all() and np.isfinite(h).all()
        same(h[1:], expected2[1:], f"{name} second derivative away from 0")
    else:
        same(h, expected2, f"{name} second derivative")


@pytest.mark.parametrize("name, fn", cases.METHOD_CASES, ids=[c[0] for c in cases.METHOD_CASES])
def test_pytorch_named_methods_mean_what_pytorch_means(name, fn):
    y, g, h = replay(name, lambda t, u: fn(L, t, u), cases.A, cases.V)
    same(y, REF[f"{name}.value"], f"{name} value")
    same(g, REF[f"{name}.grad"], f"{name} first derivative")
    same(h, REF[f"{name}.grad2"], f"{name} second derivative")


@pytest.mark.parametrize("name, fn", cases.INDEX_CASES, ids=[c[0] for c in cases.INDEX_CASES])
def test_pytorch_named_queries_match(name, fn):
    value = fn(mg.tensor(cases.A, dtype="float64"))
    value = value.numpy() if isinstance(value, mg.Tensor) else value
    expected = REF[f"{name}.index"]
    assert np.asarray(value).tolist() == expected.tolist(), f"{name}: {value!r}, PyTorch {expected!r}"


def test_relu_critic_gradient_penalty_is_finite_and_matches_pytorch(float64):
    """One sample's input gradient is exactly 0: a 0/1-multiplied ReLU mask made every weight
    gradient NaN; PyTorch (and now minigan) selects, so the penalty's gradient is finite."""
    for form in ("sqrt", "norm"):
        w, b = mg.tensor(cases.CRITIC_W, requires_grad=True), mg.tensor(cases.CRITIC_B, requires_grad=True)
        cases.relu_critic_penalty(L, mg.tensor(cases.CRITIC_X), w, b, form).backward()
        same(w.grad, REF[f"critic_{form}.weight_grad"], f"critic penalty ({form}) weight gradient")
        assert (b.grad is not None) == bool(REF[f"critic_{form}.bias_has_grad"])


def test_sgd_momentum_moves_a_0d_parameter_as_pytorch(float64):
    p = cases.sgd_momentum_0d(L, lambda v: mg.tensor(v, requires_grad=True), optim)
    same(p, REF["sgd_momentum_0d.value"], "0-d parameter after 3 SGD momentum steps")  # was 0.188, PyTorch 0.062
