"""Convolutions, BatchNorm2d and Embedding against recorded PyTorch answers, without torch.

tests/reference/torch_reference_conv.npz was written by tests/reference/make_torch_reference_conv.py
(PyTorch 2.13, float64) from the case tables and inputs defined in that file, which are replayed
here with minigan: forward values, input/weight/bias gradients, second derivatives, BatchNorm2d's
running statistics and eval output, Embedding's gradients with repeated labels and padding_idx,
PyTorch's init fan_in and state_dict keys. Tolerance: rounding (rtol 1e-10, atol 1e-12).
"""
import importlib.util
import os

import numpy as np
import pytest

import minigan as mg
from minigan import nn
from minigan.nn import functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("conv_cases", os.path.join(HERE, "reference", "make_torch_reference_conv.py"))
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)
with np.load(os.path.join(HERE, "reference", "torch_reference_conv.npz"), allow_pickle=False) as _npz:
    REF = {k: _npz[k] for k in _npz.files}


def same(actual, key):
    actual = actual.numpy() if isinstance(actual, mg.Tensor) else np.asarray(actual)
    expected = REF[key]
    assert actual.shape == expected.shape, f"{key}: shape {actual.shape}, PyTorch {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=1e-12, err_msg=key)


def T(a, requires_grad=False):
    return mg.tensor(np.asarray(a), requires_grad=requires_grad, dtype="float64")


CONV_ROWS = [(c, False) for c in cases.CONV_CASES] + [(c, True) for c in cases.CONV_T_CASES]


@pytest.mark.parametrize("case, transposed", CONV_ROWS, ids=[c[0][0] for c in CONV_ROWS])
def test_convolution_values_gradients_and_second_derivatives_match_pytorch(backend, case, transposed):
    name, kwargs = case[0], case[3]
    x, w, b, rng, s_x, s_w = cases.inputs(case, transposed)
    tx, tw, tb = T(x, True), T(w, True), T(b, True)
    y = (F.conv_transpose2d if transposed else F.conv2d)(tx, tw, tb, **kwargs)
    r = T(rng.standard_normal(y.shape))
    gx, gw, gb = mg.grad((y * r).sum(), [tx, tw, tb], create_graph=True)
    hx, hw = mg.grad((gx * T(s_x)).sum() + (gw * T(s_w)).sum(), [tx, tw])
    for key, value in (("y", y), ("gx", gx), ("gw", gw), ("gb", gb), ("hx", hx), ("hw", hw)):
        same(value, f"{name}.{key}")


@pytest.mark.parametrize("name, kwargs", cases.BN_CASES, ids=[c[0] for c in cases.BN_CASES])
def test_batchnorm2d_matches_pytorch_over_three_batches_then_in_eval(backend, float64, name, kwargs):
    xs, r = cases.bn_batches()
    bn = nn.BatchNorm2d(2, **kwargs)
    if bn.weight is not None:
        bn.weight.data[...] = backend.asarray(cases.BN_WEIGHT)
        bn.bias.data[...] = backend.asarray(cases.BN_BIAS)
    for i, x in enumerate(xs):
        t = T(x, True)
        y = bn(t)
        (y * T(r)).sum().backward()
        same(y, f"{name}.y{i}")
        same(t.grad, f"{name}.gx{i}")
    if bn.weight is not None:
        same(bn.weight.grad, f"{name}.gw")
        same(bn.bias.grad, f"{name}.gb")
    bn.eval()
    same(bn(T(xs[0])), f"{name}.eval")
    if f"{name}.rm" in REF:
        same(bn.running_mean, f"{name}.rm")
        same(bn.running_var, f"{name}.rv")
        assert bn.num_batches_tracked.item() == REF[f"{name}.nbt"]
    assert list(bn.state_dict()) == REF[f"{name}.keys"].tolist()


@pytest.mark.parametrize("name, kwargs", cases.EMB_CASES, ids=[c[0] for c in cases.EMB_CASES])
def test_embedding_matches_pytorch_with_repeated_labels_and_padding(backend, float64, name, kwargs):
    emb = nn.Embedding(*cases.EMB_SHAPE, **kwargs)
    emb.weight.data[...] = backend.asarray(cases.EMB_WEIGHT)
    y = emb(mg.tensor(cases.EMB_INDICES))
    (y * T(cases.EMB_R)).sum().backward()
    same(y, f"{name}.y")
    same(emb.weight.grad, f"{name}.gw")
    assert (-1 if emb.padding_idx is None else emb.padding_idx) == REF[f"{name}.padding_idx"]
    assert list(emb.state_dict()) == REF[f"{name}.keys"].tolist()


def test_a_fresh_embedding_has_a_zero_padding_row_like_pytorch():
    assert np.array_equal(nn.Embedding(5, 3, padding_idx=2).weight.numpy()[2], REF["emb_fresh_padding_row"])


@pytest.mark.parametrize("name, layer, args", cases.INIT_CASES, ids=[c[0] for c in cases.INIT_CASES])
def test_conv_layers_have_pytorchs_shapes_keys_and_init_bound(name, layer, args):
    """Weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with PyTorch's fan_in (weight.shape[1] kh kw,
    so ConvTranspose2d's counts its *output* channels): the largest of many draws comes close to it."""
    module = getattr(nn, layer)(*args)
    assert module.weight.shape == tuple(REF[f"{name}.weight_shape"])
    assert list(module.state_dict()) == REF[f"{name}.keys"].tolist()
    bound = 1.0 / np.sqrt(REF[f"{name}.fan_in"])
    for p in (module.weight, module.bias):
        values = np.abs(p.numpy())
        assert values.max() <= bound
    assert np.abs(module.weight.numpy()).max() > 0.95 * bound  # hundreds of draws: within 5 % of the edge
    assert list(nn.Conv2d(2, 3, 3, bias=False).state_dict()) == REF["conv_nobias.keys"].tolist()


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="regenerating the reference needs torch")
def test_the_stored_reference_is_what_the_maker_writes_today(tmp_path, monkeypatch):
    """With torch installed: a stale or hand-edited .npz is caught."""
    monkeypatch.setattr(cases, "OUT", str(tmp_path / "fresh.npz"))
    cases.main()
    with np.load(cases.OUT) as fresh:
        assert sorted(fresh.files) == sorted(REF)
        for key in fresh.files:
            if key != "meta":
                np.testing.assert_allclose(fresh[key], REF[key], rtol=1e-12, atol=1e-14) if fresh[key].dtype.kind == "f" \
                    else np.testing.assert_array_equal(fresh[key], REF[key])
