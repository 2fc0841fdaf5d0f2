"""Modules, layers and losses: PyTorch-like behaviour, gradients checked to second order."""
import pathlib

import numpy as np
import pytest

import minigan as mg
import minigan.nn.functional as F
from minigan import nn


def _x(shape, seed=0):
    return mg.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


# ---- Module ---------------------------------------------------------------------------------------
class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Dropout(0.5))
        self.head = nn.Linear(3, 1, bias=False)

    def forward(self, x):
        return self.head(self.body(x))


def test_parameters_found_from_attributes_with_pytorch_keys():
    model = TwoLayer()
    names = [n for n, _ in model.named_parameters()]
    assert names == ["body.0.weight", "body.0.bias", "body.1.weight", "body.1.bias", "head.weight"]
    assert len(model.parameters()) == 5
    assert list(model.state_dict()) == [  # the same keys, in the same order, as PyTorch
        "body.0.weight", "body.0.bias", "body.1.weight", "body.1.bias", "body.1.running_mean",
        "body.1.running_var", "body.1.num_batches_tracked", "head.weight"]


def test_parameter_of_a_tensor_takes_its_array_like_pytorch():
    t = mg.ones(3)
    p = nn.Parameter(t)
    assert isinstance(p, mg.Tensor) and p.requires_grad and p.data is t.data and p.backend is t.backend
    assert not nn.Parameter(mg.zeros(2), requires_grad=False).requires_grad


def test_train_eval_propagate():
    model = TwoLayer()
    model.eval()
    assert all(not m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_state_dict_round_trip_and_errors():
    a, b = TwoLayer(), TwoLayer()
    b.load_state_dict(a.state_dict())
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=name)
    state = a.state_dict()
    state["head.weight"] = np.zeros((2, 3), dtype=np.float32)
    with pytest.raises(ValueError, match=r"'head.weight' has shape \(2, 3\) in the state but \(1, 3\)"):
        b.load_state_dict(state)
    with pytest.raises(RuntimeError, match="missing keys \\['head.weight'\\]"):
        b.load_state_dict({k: v for k, v in a.state_dict().items() if k != "head.weight"})
    weight_array = b.head.weight.data
    b.load_state_dict(a.state_dict())
    assert b.head.weight.data is weight_array  # loaded in place


def test_state_dict_is_a_host_copy():
    layer = nn.Linear(2, 2)
    state = layer.state_dict()
    state["weight"][...] = 7.0
    assert not np.any(layer.weight.numpy() == 7.0)
    assert type(state["weight"]) is np.ndarray


def test_zero_grad_and_freeze():
    model = TwoLayer()
    model(mg.randn(5, 4)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())


def test_repr_reads_like_pytorch():
    text = repr(nn.Sequential(nn.Linear(784, 1024), nn.LeakyReLU(0.2), nn.Dropout(0.3), nn.BatchNorm1d(8), nn.Sigmoid()))
    assert text.splitlines() == [
        "Sequential(",
        "  (0): Linear(in_features=784, out_features=1024, bias=True)",
        "  (1): LeakyReLU(negative_slope=0.2)",
        "  (2): Dropout(p=0.3)",
        "  (3): BatchNorm1d(8, eps=1e-05, momentum=0.1)",
        "  (4): Sigmoid()",
        ")",
    ]


def test_sequential_rejects_non_modules():
    with pytest.raises(TypeError, match="item 1 is a function"):
        nn.Sequential(nn.ReLU(), lambda x: x)


# ---- Linear -----------------------------------------------------------------------------------------
def test_linear_layout_and_pytorch_initialization():
    mg.manual_seed(0)
    layer = nn.Linear(400, 300)
    assert layer.weight.shape == (300, 400) and layer.bias.shape == (300,)
    w = layer.weight.numpy()
    bound = 1 / np.sqrt(400)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.01 * bound  # U(-b, b) has std b / sqrt(3)
    assert abs(w.mean()) < 0.01 * bound


def test_linear_shape_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"Linear\(784, 10\): input of shape \(2, 100\) .* \(10, 784\).*\(\*, 784\)"):
        nn.Linear(784, 10)(mg.ones((2, 100)))
    with pytest.raises(ValueError, match="sizes must be positive"):
        nn.Linear(0, 3)


@pytest.mark.parametrize("make, shape", [
    (lambda: nn.Linear(3, 2), (4, 3)),
    (lambda: nn.Sequential(nn.Linear(3, 4), nn.LeakyReLU(0.2), nn.Linear(4, 1), nn.Sigmoid()), (5, 3)),
    (lambda: nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.ReLU()), (5, 3)),
    (lambda: nn.BatchNorm1d(3), (6, 3)),
    (lambda: nn.BatchNorm1d(3).eval(), (6, 3)),
])
def test_layers_pass_first_and_second_order_gradchecks(backend, float64, make, shape):
    mg.manual_seed(3)
    layer = make()
    x = _x(shape)
    params = layer.parameters()

    def run(x, *weights):
        for p, w in zip(params, weights):
            p.data = w.data
        return layer(x)

    assert mg.gradcheck(run, [x] + params)
    assert mg.gradgradcheck(run, [x] + params)


def test_dropout_with_fixed_mask_passes_gradchecks(backend, float64):
    layer = nn.Dropout(0.4)
    x = _x((6, 5))

    def fixed_mask_dropout(x):
        mg.manual_seed(11)  # the same mask on every call
        return layer(x)

    assert mg.gradcheck(fixed_mask_dropout, [x])
    assert mg.gradgradcheck(fixed_mask_dropout, [x])


# ---- BatchNorm1d and Dropout behaviour ---------------------------------------------------------------
def test_batchnorm_training_and_running_statistics(float64):
    bn = nn.BatchNorm1d(3, momentum=0.1)
    data = np.random.default_rng(0).normal(5.0, 2.0, (8, 3))
    y = bn(mg.tensor(data)).numpy()
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=0), data.var(axis=0) / (data.var(axis=0) + 1e-5), rtol=1e-10)
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.1 * data.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.9 + 0.1 * data.var(axis=0, ddof=1), rtol=1e-12)
    bn.eval()
    z = bn(mg.tensor(data)).numpy()
    expected = (data - bn.running_mean.numpy()) / np.sqrt(bn.running_var.numpy() + 1e-5)
    np.testing.assert_allclose(z, expected, rtol=1e-12)


def test_batchnorm_argument_checks():
    with pytest.raises(ValueError, match="eps=0.8 looks wrong"):
        nn.BatchNorm1d(16, 0.8)  # the classic bug: 0.8 meant as momentum
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(mg.ones((1, 3)))
    with pytest.raises(ValueError, match=r"input \(4, 5\) has 5 features but the running statistics have shape \(3,\)"):
        nn.BatchNorm1d(3)(mg.ones((4, 5)))


def test_dropout_is_inverted_and_identity_in_eval():
    layer = nn.Dropout(0.3)
    x = mg.ones((200, 100))
    y = layer(x).numpy()
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
    assert layer.eval()(x) is x
    assert np.all(nn.Dropout(1.0)(x).numpy() == 0)
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\], got 1.5"):
        nn.Dropout(1.5)


# ---- losses -----------------------------------------------------------------------------------------
def _bce(p, t):
    return -(t * np.maximum(np.log(p), -100) + (1 - t) * np.maximum(np.log(1 - p), -100))


@pytest.mark.parametrize("reduction, reduce", [("mean", np.mean), ("sum", np.sum), ("none", lambda a: a)])
def test_losses_values_and_reductions(backend, float64, reduction, reduce):
    rng = np.random.default_rng(0)
    p, t, z = rng.uniform(0.05, 0.95, (4, 1)), rng.integers(0, 2, (4, 1)).astype(float), rng.normal(0, 3, (4, 1))
    np.testing.assert_allclose(F.binary_cross_entropy(mg.tensor(p), mg.tensor(t), reduction).numpy(),
                               reduce(_bce(p, t)), rtol=1e-12)
    np.testing.assert_allclose(F.binary_cross_entropy_with_logits(mg.tensor(z), mg.tensor(t), reduction).numpy(),
                               reduce(_bce(1 / (1 + np.exp(-z)), t)), rtol=1e-10)
    np.testing.assert_allclose(F.mse_loss(mg.tensor(p), mg.tensor(t), reduction).numpy(), reduce((p - t) ** 2), rtol=1e-12)


@pytest.mark.parametrize("loss", [F.binary_cross_entropy, F.mse_loss,
                                  lambda p, t: F.binary_cross_entropy_with_logits(p * 4 - 2, t)])
def test_losses_pass_gradchecks_in_both_arguments(backend, float64, loss):
    rng = np.random.default_rng(1)
    p = mg.tensor(rng.uniform(0.1, 0.9, (5, 1)), requires_grad=True)
    t = mg.tensor(rng.uniform(0.0, 1.0, (5, 1)), requires_grad=True)
    assert mg.gradcheck(loss, [p, t])
    assert mg.gradgradcheck(loss, [p, t])


def test_bce_is_finite_when_the_discriminator_is_certain():
    p = mg.tensor([[0.0], [1.0], [0.0], [1.0]], requires_grad=True)
    t = mg.tensor([[0.0], [1.0], [1.0], [0.0]])
    loss = F.binary_cross_entropy(p, t, reduction="none")
    np.testing.assert_allclose(loss.numpy().ravel(), [0.0, 0.0, 100.0, 100.0])
    loss.sum().backward()
    assert np.all(np.isfinite(p.grad.numpy()))


def test_bce_with_logits_is_exact_for_huge_logits():
    z = mg.tensor([[-1000.0], [1000.0], [60.0]], requires_grad=True, dtype="float64")
    t = mg.tensor([[1.0], [0.0], [1.0]], dtype="float64")
    loss = F.binary_cross_entropy_with_logits(z, t, reduction="none")
    np.testing.assert_allclose(loss.numpy().ravel(), [1000.0, 1000.0, np.log1p(np.exp(-60.0))], rtol=1e-12)
    loss.sum().backward()
    np.testing.assert_allclose(z.grad.numpy().ravel(), [-1.0, 1.0, -np.exp(-60.0) / (1 + np.exp(-60.0))], rtol=1e-10)


@pytest.mark.parametrize("loss", [F.binary_cross_entropy, F.binary_cross_entropy_with_logits, F.mse_loss])
def test_losses_reject_mismatched_shapes_and_bad_reduction(loss):
    with pytest.raises(ValueError, match=r"input shape \(64, 1\) and target shape \(64,\) differ"):
        loss(mg.full((64, 1), 0.5), mg.ones((64,)))
    with pytest.raises(ValueError, match="reduction must be one of"):
        loss(mg.full((2, 1), 0.5), mg.ones((2, 1)), reduction="avg")


def test_functional_forms_match_modules():
    x = _x((3, 4))
    np.testing.assert_array_equal(nn.LeakyReLU(0.2)(x).numpy(), F.leaky_relu(x, 0.2).numpy())
    np.testing.assert_array_equal(nn.Sigmoid()(x).numpy(), F.sigmoid(x).numpy())
    np.testing.assert_array_equal(nn.Tanh()(x).numpy(), F.tanh(x).numpy())
    np.testing.assert_array_equal(nn.ReLU()(x).numpy(), F.relu(x).numpy())


def test_log_softmax_and_cross_entropy(backend, float64):
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((5, 4)) * 3
    labels = np.array([0, 3, 1, 1, 2])
    reference = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(F.log_softmax(mg.tensor(logits)).numpy(), reference, rtol=1e-12)
    y = mg.tensor(labels)
    np.testing.assert_allclose(F.cross_entropy(mg.tensor(logits), y).numpy(), -reference[np.arange(5), labels].mean())
    x = mg.tensor(logits, requires_grad=True)
    assert mg.gradcheck(lambda t: F.cross_entropy(t, y), [x])
    assert mg.gradgradcheck(lambda t: F.cross_entropy(t, y), [x])
    big = F.log_softmax(mg.tensor([[1000.0, 0.0]])).numpy()
    np.testing.assert_allclose(big, [[0.0, -1000.0]])
    with pytest.raises(ValueError, match=r"logits of shape \(5, 4\) need labels of shape \(5,\), got \(3,\)"):
        F.cross_entropy(x, mg.tensor([1, 2, 3]))


def test_flatten_unflatten_shapes():
    import numpy as np
    from minigan import nn
    from minigan.tensor import Tensor
    x = Tensor(np.arange(120.0).reshape(2, 3, 4, 5))
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    assert nn.Unflatten(1, (2, 30))(nn.Flatten()(x)).shape == (2, 2, 30)
    np.testing.assert_array_equal(nn.Flatten()(x).numpy(), x.numpy().reshape(2, 60))


def test_linear_on_leading_dims_and_1d():
    lin = nn.Linear(4, 3)
    x = mg.ones((2, 5, 4))
    y = lin(x)
    assert y.shape == (2, 5, 3)
    np.testing.assert_allclose(y.numpy()[1, 2], lin(mg.ones((1, 4))).numpy()[0], rtol=1e-12)
    assert lin(mg.ones((4,))).shape == (3,)


def test_modulelist_moduledict_naming():
    ml = nn.ModuleList([nn.Linear(2, 3)])
    ml.append(nn.Linear(3, 1)).insert(0, nn.ReLU())
    assert len(ml) == 3 and isinstance(ml[0], nn.ReLU)
    assert list(ml.state_dict()) == ["1.weight", "1.bias", "2.weight", "2.bias"]
    md = nn.ModuleDict({"enc": nn.Linear(2, 3)})
    md["dec"] = nn.Linear(3, 2)
    assert md.keys() == ["enc", "dec"] and "dec" in md and len(md) == 2
    assert list(md.state_dict()) == ["enc.weight", "enc.bias", "dec.weight", "dec.bias"]


def test_load_state_dict_returns_missing_and_unexpected_keys_like_pytorch():
    a = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    state = a.state_dict()
    assert tuple(a.load_state_dict(state)) == ([], [])
    state["extra"] = state.pop("1.bias")
    before = a[1].bias.numpy().copy()
    result = a.load_state_dict(state, strict=False)
    assert result.missing_keys == ["1.bias"] and result.unexpected_keys == ["extra"]
    assert (a[1].bias.numpy() == before).all() and a[0].weight._version == 2


def test_apply_visits_children_first_and_buffers_lists_them():
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    seen = []
    assert model.apply(lambda m: seen.append(type(m).__name__)) is model
    assert seen == ["Linear", "BatchNorm1d", "Sequential"]
    assert [b.shape for b in model.buffers()] == [(2,), (2,), ()]


@pytest.mark.parametrize("name, kwargs", [("bn3d", {}), ("bn3d_cma", {"momentum": None}),
                                          ("bn3d_notrack", {"track_running_stats": False})])
def test_batchnorm1d_on_n_c_l_inputs_matches_recorded_pytorch(backend, name, kwargs):
    """PyTorch 2.13's numbers (tests/reference/make_torch_reference_batchnorm3d.py), float64."""
    mg.set_default_dtype("float64")
    path = pathlib.Path(__file__).parent / "reference" / "torch_reference_batchnorm3d.npz"
    with np.load(path) as npz:
        ref = {k: npz[k] for k in npz.files}
    rng = np.random.default_rng(3)
    xs = [rng.standard_normal((4, 3, 5)) for _ in range(3)]
    r = mg.tensor(rng.standard_normal((4, 3, 5)))
    bn = nn.BatchNorm1d(3, **kwargs)
    bn.weight.data[...] = backend.asarray([1.5, -0.5, 2.0])
    bn.bias.data[...] = backend.asarray([0.1, 0.2, -0.3])
    for i, x in enumerate(xs):
        t = mg.tensor(x, requires_grad=True)
        y = bn(t)
        (y * r).sum().backward()
        np.testing.assert_allclose(y.numpy(), ref[f"{name}.y{i}"], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(t.grad.numpy(), ref[f"{name}.gx{i}"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(bn.weight.grad.numpy(), ref[f"{name}.gw"], rtol=1e-10, atol=1e-12)
    bn.eval()
    np.testing.assert_allclose(bn(mg.tensor(xs[0])).numpy(), ref[f"{name}.eval"], rtol=1e-10, atol=1e-12)
    if f"{name}.rm" in ref:
        np.testing.assert_allclose(bn.running_mean.numpy(), ref[f"{name}.rm"], rtol=1e-10)
        np.testing.assert_allclose(bn.running_var.numpy(), ref[f"{name}.rv"], rtol=1e-10)
    assert list(bn.state_dict()) == ref[f"{name}.keys"].tolist()


def test_batchnorm1d_on_n_c_l_gradchecks(float64):
    bn = nn.BatchNorm1d(2)
    x = mg.tensor(np.random.default_rng(0).standard_normal((3, 2, 4)), requires_grad=True)
    assert mg.gradcheck(lambda t: bn(t), [x]) and mg.gradgradcheck(lambda t: bn(t), [x])


def test_module_to_moves_parameters_and_buffers_to_another_backend():
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    before = model.state_dict()
    assert model.to("strict") is model
    strict = mg.get_backend().__class__  # the current backend stays numpy
    assert all(t.backend.name == "strict" for _, t in model._named_state()) and strict.name == "numpy"
    mg.set_backend("strict")
    out = model.eval()(mg.tensor(np.ones((4, 2))))  # eval: the running statistics stay as they were
    assert out.backend.name == "strict"
    assert all((before[k] == v).all() for k, v in model.to("numpy").state_dict().items())
