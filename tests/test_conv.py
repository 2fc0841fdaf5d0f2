"""Conv2d, ConvTranspose2d, BatchNorm2d, Embedding and the image layers: gradients by finite
differences (first and second order, float64), both internal layouts, the strict backend, every
error path, and the layers' PyTorch behaviour. PyTorch's own numbers: tests/test_conv_pytorch.py.

The convolution cases are the tables of tests/reference/make_torch_reference_conv.py.
"""
import importlib.util
import math
import os

import numpy as np
import pytest

import minigan as mg
from minigan import nn
from minigan.conv import ops as conv_ops
from minigan.nn import functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("conv_cases", os.path.join(HERE, "reference", "make_torch_reference_conv.py"))
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)

ROWS = [(c, False) for c in cases.CONV_CASES] + [(c, True) for c in cases.CONV_T_CASES]
IDS = [c[0][0] for c in ROWS]
# second order by finite differences on a few cases (every case's second derivatives are compared
# with PyTorch's in test_conv_pytorch.py); each shape feature appears at least once
SECOND_ORDER = {"stride2_pad1_odd", "dilation", "groups", "more_out_channels", "t_stride2_pad1_outpad1",
                "t_dilation_outpad", "t_groups", "t_few_out_channels"}


def _tensors(case, transposed):
    x, w, b, *_ = cases.inputs(case, transposed)
    return [mg.tensor(a, requires_grad=True, dtype="float64") for a in (x, w, b)]


def _fn(case, transposed):
    op = F.conv_transpose2d if transposed else F.conv2d
    return lambda x, w, b: op(x, w, b, **case[3])


@pytest.fixture(params=[False, True], ids=["batch_first", "batch_last"])
def layout(request, monkeypatch):
    """Force one internal layout (normally chosen from the weight's shape), to check both on every case."""
    monkeypatch.setattr(conv_ops, "_batch_last", lambda weight, groups: request.param)
    return request.param


# ---- gradients -----------------------------------------------------------------------------------
@pytest.mark.parametrize("case, transposed", ROWS, ids=IDS)
def test_convolution_gradients_match_finite_differences(case, transposed, layout):
    assert mg.gradcheck(_fn(case, transposed), _tensors(case, transposed))


@pytest.mark.parametrize("case, transposed", [r for r in ROWS if r[0][0] in SECOND_ORDER],
                         ids=[i for i in IDS if i in SECOND_ORDER])
def test_convolution_second_derivatives_match_finite_differences(case, transposed, layout):
    assert mg.gradgradcheck(_fn(case, transposed), _tensors(case, transposed))


@pytest.mark.parametrize("case, transposed", ROWS, ids=IDS)
def test_both_layouts_and_both_backends_give_the_same_numbers(case, transposed, monkeypatch):
    """Values, gradients and second derivatives: batch first = batch last, NumPy = strict backend."""
    results = []
    for backend in ("numpy", "strict"):
        for batch_last in (False, True):
            mg.set_backend(backend)
            monkeypatch.setattr(conv_ops, "_batch_last", lambda weight, groups, b=batch_last: b)
            x, w, b = _tensors(case, transposed)
            y = _fn(case, transposed)(x, w, b)
            grads = mg.grad((y * y).sum(), [x, w, b], create_graph=True)
            second = mg.grad(sum((g * g).sum() for g in grads[:2]), [x, w])
            results.append([t.numpy() for t in (y,) + grads + second])
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)


def test_a_gradient_penalty_through_a_conv_critic_trains(backend):
    """WGAN-GP's (||d critic / d x|| - 1)^2, differentiated w.r.t. the critic's weights (double
    backward through both convolutions): a few SGD steps on it bring it down."""
    mg.manual_seed(0)
    critic = nn.Sequential(nn.Conv2d(1, 4, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(4, 1, 3))
    opt = mg.optim.SGD(critic.parameters(), lr=0.05)
    x = mg.randn(3, 1, 6, 6, requires_grad=True)
    penalties = []
    for _ in range(5):
        (g,) = mg.grad(critic(x).sum(), [x], create_graph=True)
        penalty = ((g.reshape(3, -1).norm(dim=1) - 1.0) ** 2).mean()
        opt.zero_grad()
        penalty.backward()
        opt.step()
        penalties.append(penalty.item())
    assert all(np.abs(p.grad.numpy()).sum() > 0 for p in (critic[0].weight, critic[2].weight))
    assert penalties == sorted(penalties, reverse=True) and penalties[-1] < 0.75 * penalties[0], penalties


def test_the_input_of_any_memory_layout_gives_the_same_result():
    """Outputs are views in the internal layout; a convolution of such a view (or of a transposed input)
    is the convolution of its values."""
    mg.set_default_dtype("float64")
    x = np.random.default_rng(0).standard_normal((3, 2, 5, 4))
    first, second = nn.Conv2d(2, 3, 3, padding=1), nn.ConvTranspose2d(3, 2, 2)
    reference = first(mg.tensor(x)).numpy()
    transposed = mg.tensor(np.ascontiguousarray(x.transpose(3, 2, 1, 0))).permute(3, 2, 1, 0)
    assert not transposed.data.flags.c_contiguous
    np.testing.assert_allclose(first(transposed).numpy(), reference, rtol=1e-13)
    view = first(mg.tensor(x))
    assert not view.data.flags.c_contiguous  # the internal layout, handed on as it is
    np.testing.assert_allclose(second(view).numpy(), second(mg.tensor(reference.copy())).numpy(), rtol=1e-13)


def test_changing_the_input_in_place_after_the_forward_is_caught():
    """The forward keeps the input's im2col matrix; a change of the input afterwards would make the
    gradient stale, so backward raises (the engine's version check)."""
    x = mg.randn(1, 1, 4, 4)
    layer = nn.Conv2d(1, 1, 2)
    y = layer(x)
    x.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*Conv2d"):
        y.sum().backward()


def test_a_frozen_input_or_weight_gets_no_gradient_and_skips_its_work():
    x = mg.randn(2, 2, 5, 5)
    w = mg.randn(3, 2, 3, 3, requires_grad=True)
    F.conv2d(x, w).sum().backward()
    assert x.grad is None and w.grad.shape == (3, 2, 3, 3)
    x.requires_grad_()
    w.requires_grad_(False)
    w.grad = None
    F.conv_transpose2d(x, mg.randn(2, 3, 3, 3)).sum().backward()
    assert x.grad.shape == x.shape and w.grad is None


# ---- shapes and PyTorch's arguments --------------------------------------------------------------
@pytest.mark.parametrize("kernel, kwargs, side, expected", [
    (4, {}, 28, 25), (4, {"stride": 2, "padding": 1}, 28, 14), (4, {"stride": 2, "padding": 1}, 14, 7),
    (3, {"dilation": 2}, 9, 5), (2, {"stride": 3}, 10, 3), (4, {"padding": "valid"}, 6, 3),
    (3, {"padding": "same"}, 6, 6), (3, {"padding": "same", "dilation": 2}, 6, 6), (1, {"stride": 2}, 5, 3)])
def test_conv2d_output_size_follows_pytorchs_formula(kernel, kwargs, side, expected):
    """floor((H + 2 padding - dilation (kernel - 1) - 1) / stride) + 1."""
    assert nn.Conv2d(1, 2, kernel, **kwargs)(mg.zeros(1, 1, side, side)).shape == (1, 2, expected, expected)


def test_conv_transpose2d_undoes_conv2ds_shape_and_output_size_picks_among_them():
    down = nn.Conv2d(1, 4, 3, stride=2, padding=1)
    up = nn.ConvTranspose2d(4, 1, 3, stride=2, padding=1)
    for side in (7, 8):
        h = down(mg.zeros(2, 1, side, side))
        assert h.shape[2:] == (4, 4)
        assert up(h, output_size=(side, side)).shape == (2, 1, side, side)
        assert up(h, output_size=(2, 1, side, side)).shape == (2, 1, side, side)
    assert up(mg.zeros(2, 4, 4, 4)).shape == (2, 1, 7, 7)
    assert nn.ConvTranspose2d(4, 1, 3, stride=2, padding=1, output_padding=1)(mg.zeros(1, 4, 4, 4)).shape == (1, 1, 8, 8)
    with pytest.raises(ValueError, match=r"output_size \(9, 9\) is not reachable.*between \(7, 7\) and \(8, 8\)"):
        up(mg.zeros(1, 4, 4, 4), output_size=(9, 9))


def test_dcgan_shapes_on_mnist():
    d = nn.Sequential(nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(64, 128, 4, 2, 1), nn.BatchNorm2d(128),
                      nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(128 * 7 * 7, 1))
    g = nn.Sequential(nn.Linear(100, 128 * 7 * 7), nn.Unflatten(1, (128, 7, 7)), nn.BatchNorm2d(128), nn.ReLU(),
                      nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
                      nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())
    fake = g(mg.randn(2, 100))
    assert fake.shape == (2, 1, 28, 28) and d(fake).shape == (2, 1)
    d(fake).sum().backward()
    assert all(p.grad is not None for p in g.parameters())


def test_unbatched_input_gives_unbatched_output_like_pytorch():
    layer = nn.Conv2d(2, 3, 3)
    x = mg.randn(2, 5, 5)
    np.testing.assert_allclose(layer(x).numpy(), layer(x.reshape(1, 2, 5, 5)).numpy()[0], rtol=1e-6)
    assert nn.ConvTranspose2d(2, 3, 3)(x).shape == (3, 7, 7)


def test_repr_like_pytorch():
    assert repr(nn.Conv2d(1, 64, 4, 2, 1)) == "Conv2d(1, 64, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1))"
    assert repr(nn.Conv2d(2, 4, (3, 1), dilation=2, groups=2, bias=False)) == \
        "Conv2d(2, 4, kernel_size=(3, 1), stride=(1, 1), dilation=(2, 2), groups=2, bias=False)"
    assert repr(nn.ConvTranspose2d(64, 1, 4, 2, 1, output_padding=1)) == \
        "ConvTranspose2d(64, 1, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1), output_padding=(1, 1))"
    assert repr(nn.BatchNorm2d(8)) == "BatchNorm2d(8, eps=1e-05, momentum=0.1)"
    assert repr(nn.Embedding(10, 4, padding_idx=0)) == "Embedding(10, 4, padding_idx=0)"


def test_layers_load_a_state_dict_and_move_between_backends():
    src, dst = nn.ConvTranspose2d(3, 2, 3, bias=True), nn.ConvTranspose2d(3, 2, 3)
    dst.load_state_dict(src.state_dict())
    x = mg.randn(1, 3, 4, 4)
    np.testing.assert_array_equal(src(x).numpy(), dst(x).numpy())
    dst.to("strict")
    assert dst.weight.backend.name == "strict"
    np.testing.assert_allclose(dst(x.to("strict")).numpy(), src(x).numpy(), rtol=1e-6)


# ---- errors: one line, naming the thing and the fix ---------------------------------------------
@pytest.mark.parametrize("call, error, match", [
    (lambda: F.conv2d(mg.zeros(3, 5, 5), mg.zeros(4, 2, 3, 3)), ValueError,
     r"conv2d: input of shape \(3, 5, 5\) has 3 channels but weight of shape \(4, 2, 3, 3\)"),
    (lambda: F.conv2d(mg.zeros(5, 5), mg.zeros(1, 1, 3, 3)), ValueError,
     r"expected input of shape \(N, C, H, W\) or \(C, H, W\), got shape \(5, 5\)"),
    (lambda: F.conv2d(mg.zeros(1, 3, 5, 5), mg.zeros(4, 2, 3, 3)), ValueError,
     r"conv2d: input of shape \(1, 3, 5, 5\) has 3 channels but weight of shape \(4, 2, 3, 3\) \(groups=1\) expects 2"),
    (lambda: F.conv2d(mg.zeros(1, 2, 5, 5), mg.zeros(4, 2, 3)), ValueError, r"weight must be 4-D.*\(4, 2, 3\)"),
    (lambda: F.conv2d(mg.zeros(1, 2, 5, 5), mg.zeros(4, 2, 3, 3), mg.zeros(3)), ValueError,
     r"bias of shape \(3,\) does not fit weight of shape \(4, 2, 3, 3\); expected \(4,\)"),
    (lambda: F.conv2d(mg.zeros(1, 2, 2, 2), mg.zeros(4, 2, 3, 3)), ValueError,
     r"input of shape \(1, 2, 2, 2\) with weight of shape \(4, 2, 3, 3\).*output of size \(0, 0\); each side must be at least 1"),
    (lambda: F.conv2d(mg.zeros(1, 2, 5, 5), mg.zeros(4, 2, 3, 3), stride=0), ValueError, r"stride must be an int >= 1.*got 0"),
    (lambda: F.conv2d(mg.zeros(1, 2, 5, 5), mg.zeros(4, 2, 3, 3), padding=-1), ValueError, r"padding must be an int >= 0"),
    (lambda: F.conv2d(mg.zeros(1, 2, 5, 5), mg.zeros(4, 2, 3, 3), padding=(1, 2, 3)), ValueError, r"padding must be"),
    (lambda: F.conv2d(mg.zeros(1, 2, 5, 5), mg.zeros(4, 2, 3, 3), dilation=1.5), ValueError, r"dilation must be an int"),
    (lambda: F.conv2d(mg.zeros(1, 2, 5, 5), mg.zeros(4, 2, 3, 3), padding="full"), ValueError, r"'valid' or 'same'"),
    (lambda: F.conv2d(mg.zeros(1, 2, 5, 5), mg.zeros(4, 2, 2, 2), padding="same"), ValueError, r"padding='same' needs"),
    (lambda: F.conv2d(mg.zeros(1, 4, 5, 5), mg.zeros(3, 2, 3, 3), groups=2), ValueError, r"groups=2 must divide"),
    (lambda: F.conv2d(mg.zeros(1, 2, 5, 5), mg.zeros(4, 2, 3, 3), groups=0), ValueError, r"groups must be a positive int"),
    (lambda: F.conv2d(mg.zeros(1, 2, 5, 5, dtype="float64"), mg.zeros(4, 2, 3, 3)), TypeError, r"input is float64 but weight is float32"),
    (lambda: F.conv_transpose2d(mg.zeros(1, 3, 4, 4), mg.zeros(2, 3, 3, 3)), ValueError,
     r"conv_transpose2d: input of shape \(1, 3, 4, 4\) has 3 channels but weight of shape \(2, 3, 3, 3\).*expects 2"),
    (lambda: F.conv_transpose2d(mg.zeros(1, 2, 4, 4), mg.zeros(2, 3, 3, 3), stride=2, output_padding=2), ValueError,
     r"output_padding \(2, 2\) must be smaller than stride \(2, 2\) or dilation \(1, 1\)"),
    (lambda: F.conv_transpose2d(mg.zeros(1, 2, 1, 1), mg.zeros(2, 3, 1, 1), padding=1), ValueError, r"output of size \(-1, -1\)"),
    (lambda: nn.Conv2d(0, 2, 3), ValueError, r"Conv2d: in_channels must be a positive int, got 0"),
    (lambda: nn.Conv2d(2, 2, 0), ValueError, r"Conv2d: kernel_size must be an int >= 1"),
    (lambda: nn.Conv2d(2, 3, 3, groups=2), ValueError, r"Conv2d: groups=2 must divide in_channels=2 and out_channels=3"),
    (lambda: nn.Conv2d(2, 3, 3, padding_mode="reflect"), ValueError, r"padding_mode='reflect' is not supported"),
    (lambda: nn.Conv2d(2, 3, 3, stride=(1, 0)), ValueError, r"Conv2d: stride must be an int >= 1"),
    (lambda: nn.ConvTranspose2d(2, 3, 3, stride=2, output_padding=2), ValueError, r"ConvTranspose2d: output_padding"),
    (lambda: nn.BatchNorm2d(3)(mg.zeros(4, 3)), ValueError, r"BatchNorm2d: expected 4-D input, got shape \(4, 3\)"),
    (lambda: nn.BatchNorm1d(3)(mg.zeros(4, 3, 2, 2)), ValueError, r"BatchNorm1d: expected 2-D or 3-D input, got shape \(4, 3, 2, 2\)"),
    (lambda: nn.BatchNorm2d(3)(mg.zeros(4, 2, 2, 2)), ValueError,
     r"input \(4, 2, 2, 2\) has 2 features but the running statistics have shape \(3,\)"),
    (lambda: nn.BatchNorm2d(2)(mg.zeros(1, 2, 1, 1)), ValueError, r"more than 1 value per channel"),
    (lambda: nn.BatchNorm2d(2, 0.9), ValueError, r"BatchNorm2d: eps=0.9 looks wrong.*BatchNorm2d\(n, momentum=...\)"),
    (lambda: nn.Embedding(4, 2)(mg.tensor([1.0, 2.0])), TypeError, r"indices must be an integer tensor.*float32"),
    (lambda: nn.Embedding(4, 2)([1, 2]), TypeError, r"indices must be an integer tensor.*list"),
    (lambda: nn.Embedding(4, 2)(mg.tensor([1, 4])), IndexError, r"indices must be in \[0, 4\).*got values from 1 to 4"),
    (lambda: nn.Embedding(4, 2)(mg.tensor([-1, 2])), IndexError, r"got values from -1 to 2"),
    (lambda: nn.Embedding(0, 2), ValueError, r"Embedding: num_embeddings must be a positive int, got 0"),
    (lambda: nn.Embedding(4, 2, padding_idx=4), ValueError, r"padding_idx must be an int in \[-4, 4\), got 4"),
])
def test_bad_arguments_raise_one_clear_line(call, error, match):
    with pytest.raises(error, match=match) as info:
        call()
    assert "\n" not in str(info.value)


# ---- BatchNorm2d, Dropout, Flatten on images ------------------------------------------------------
def test_batchnorm2d_gradients_in_training_and_eval(float64):
    bn = nn.BatchNorm2d(2)
    bn.weight.data[...] = bn.weight.backend.asarray([1.5, -0.5])
    x = mg.tensor(np.random.default_rng(1).standard_normal((3, 2, 3, 2)), requires_grad=True)
    assert mg.gradcheck(lambda t, *_: bn(t), [x, bn.weight, bn.bias]) and mg.gradgradcheck(lambda t: bn(t), [x])
    bn.eval()
    assert mg.gradcheck(lambda t, *_: bn(t), [x, bn.weight, bn.bias])


def test_batchnorm2d_normalizes_each_channel_over_batch_and_pixels(backend):
    x = mg.randn(8, 3, 5, 5) * 3.0 + 2.0
    y = nn.BatchNorm2d(3)(x).numpy()
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1.0, rtol=1e-3)


def test_dropout_on_images_drops_elements_and_is_the_identity_in_eval(backend):
    """nn.Dropout zeroes single elements of 4-D input (PyTorch's Dropout, not Dropout2d's channels)."""
    mg.manual_seed(0)
    drop = nn.Dropout(0.5)
    x = mg.ones(4, 3, 8, 8)
    y = drop(x).numpy()
    assert y.shape == (4, 3, 8, 8) and set(np.unique(y)) <= {0.0, 2.0}
    assert 0.4 < (y == 0).mean() < 0.6
    per_channel = (y == 0).reshape(4, 3, -1).mean(axis=2)
    assert ((per_channel > 0) & (per_channel < 1)).all()  # elements, not whole channels
    drop.eval()
    assert drop(x).numpy().tolist() == x.numpy().tolist()


def test_flatten_and_unflatten_round_trip_images():
    x = mg.randn(2, 3, 4, 5, requires_grad=True)
    flat = nn.Flatten()(x)
    assert flat.shape == (2, 60)
    back = nn.Unflatten(1, (3, 4, 5))(flat)
    np.testing.assert_array_equal(back.numpy(), x.numpy())
    back.sum().backward()
    assert x.grad.shape == x.shape


# ---- Embedding ----------------------------------------------------------------------------------
def test_embedding_gradients_with_repeated_labels_and_padding(float64):
    idx = mg.tensor(np.array([[0, 2, 2], [3, 0, 1]]))
    emb = nn.Embedding(4, 3)
    fn = lambda w: F.embedding(idx, w)  # noqa: E731
    assert mg.gradcheck(fn, [emb.weight]) and mg.gradgradcheck(lambda w: fn(w) * fn(w), [emb.weight])
    r = mg.tensor(np.random.default_rng(0).standard_normal((2, 3, 3)))
    (full,) = mg.grad((fn(emb.weight) * r).sum(), [emb.weight])
    (padded,) = mg.grad((F.embedding(idx, emb.weight, padding_idx=2) * r).sum(), [emb.weight])
    expected = full.numpy().copy()
    expected[2] = 0.0  # the padding row gets no gradient (PyTorch's rule), every other row the true one
    np.testing.assert_array_equal(padded.numpy(), expected)
    np.testing.assert_array_equal(F.embedding(idx, emb.weight, padding_idx=2).numpy(), fn(emb.weight).numpy())
    emb(idx).sum().backward()
    assert emb.weight.grad.numpy()[0].tolist() == [2.0, 2.0, 2.0]  # label 0 twice: the gradients add up


def test_embedding_init_is_standard_normal_and_works_on_every_backend(backend):
    mg.manual_seed(0)
    emb = nn.Embedding(1000, 20)
    w = emb.weight.numpy()
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1.0) < 0.02
    y = emb(mg.tensor(np.array([3, 999, 3])))
    assert y.shape == (3, 20) and np.array_equal(y.numpy()[0], w[3])
    assert emb(mg.tensor(np.zeros((2, 0), dtype=np.int64))).shape == (2, 0, 20)


# ---- where the code lives ---------------------------------------------------------------------------
def test_conv_is_its_own_package_reachable_as_pytorch_spells_it():
    import minigan.conv as conv
    assert nn.Conv2d is conv.Conv2d and nn.ConvTranspose2d is conv.ConvTranspose2d and nn.Embedding is conv.Embedding
    assert F.conv2d is conv.conv2d and F.conv_transpose2d is conv.conv_transpose2d and F.embedding is conv.embedding
    for path in ("ops.py", "layers.py", "embedding.py", "batch_norm.py", "__init__.py"):
        source = open(os.path.join(os.path.dirname(conv.__file__), path)).read()
        assert "import minigan.nn\n" not in source and "from minigan.nn import" not in source  # only nn.module
        assert "cupy" not in source and "numpy" not in source  # the backend's namespace only
        assert len(source.splitlines()) <= 300


def test_im2col_and_col2im_are_adjoint():
    """<im2col(x), c> = <x, col2im(c)>: the identity that makes conv_transpose2d conv2d's input gradient."""
    rng = np.random.default_rng(5)
    for batch_last in (False, True):
        geometry = conv_ops.Geometry((2, 1), (1, 2), (1, 2), 1, batch_last)
        x = rng.standard_normal((2, 3, 6, 5))
        out_hw = tuple(conv_ops.conv_size(n, k, s, p, d) for n, k, s, p, d in
                       zip((6, 5), (3, 2), geometry.stride, geometry.padding, geometry.dilation))
        cols = conv_ops.im2col(np, x, (3, 2), geometry, out_hw)
        c = rng.standard_normal(cols.shape)
        back = conv_ops._col2im(np, c, (3, 2), 2, out_hw, (6, 5), geometry)
        assert math.isclose((cols * c).sum(), (x * back).sum(), rel_tol=1e-12)


def test_workspaces_are_reused_and_no_result_is_a_view_of_one():
    """im2col's padded image and the transposed convolution's products live in kept scratch buffers
    (minigan/conv/workspace.py); a result, or a saved matrix, that were a view of one would change
    under the next call. A 1x1 kernel over a padded image is the case where a reshape could have
    returned such a view."""
    from minigan.conv.workspace import workspace
    a = workspace(np, (2, 3), np.dtype("float64"), "test")
    assert np.shares_memory(a, workspace(np, (3,), np.dtype("float64"), "test"))
    assert workspace(np, (4, 4), np.dtype("float64"), "test").shape == (4, 4)   # grown
    mg.set_default_dtype("float64")
    rng = np.random.default_rng(6)
    w, x1, x2 = (mg.tensor(rng.standard_normal(s), requires_grad=True) for s in ((2, 2, 1, 1), (1, 2, 3, 3), (1, 2, 3, 3)))
    for op in (lambda x: F.conv2d(x, w, padding=1), lambda x: F.conv_transpose2d(x, w, padding=0)):
        y1 = op(x1)
        first = y1.numpy().copy()
        op(x2).sum().backward()   # the same workspaces again, other values
        np.testing.assert_array_equal(y1.numpy(), first)
        (gw,) = mg.grad(y1.sum(), [w])   # from the im2col matrix y1's Function saved
        (expected,) = mg.grad(op(x1).sum(), [w])
        np.testing.assert_array_equal(gw.numpy(), expected.numpy())
    # d sum(conv2d(x, w, padding=1)) / dw[o, c] = the sum of channel c of x: the saved matrix is x's
    (gw,) = mg.grad(F.conv2d(x1, w, padding=1).sum(), [w])
    np.testing.assert_allclose(gw.numpy()[:, :, 0, 0], np.tile(x1.numpy().sum(axis=(0, 2, 3)), (2, 1)), rtol=1e-12)
