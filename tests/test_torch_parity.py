"""minigan against PyTorch, step for step, without torch installed.

tests/reference/torch_reference.npz holds PyTorch 2.13's float64 results on small problems (made
by tests/reference/make_torch_reference.py, which also documents the file's layout). Each row of
the tables below replays one recorded case with minigan in float64 and compares:

* optimizers: the parameters after every step, fed the recorded gradient sequence;
* nn.Linear and BatchNorm1d: forward values, running statistics and backward gradients;
* losses: value and input gradient for every reduction, at p = 0 and 1 and at huge logits;
* activations: value and derivative at extreme inputs.

Tolerances are rounding-level: relative RTOL = 1e-10 (the observed differences are <= 3e-13),
absolute 0, except binary_cross_entropy_with_logits, where PyTorch's own formula cancels and its
reference is only good to a few ulp of the operands (see _loss_atol). A failure here is a
disagreement with PyTorch, not noise. The disagreements found so far are listed in KNOWN_* as
strict xfails with the numbers, so that fixing one makes its row fail until it is removed.
If torch happens to be installed, one extra test regenerates the reference and compares it to
the stored file (so a stale or hand-edited .npz is caught).
"""
import importlib.util
import json
import os

import numpy as np
import pytest

import minigan as mg
from minigan import nn, optim
from minigan.nn import functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
REF_DIR = os.path.join(HERE, "reference")
REF_PATH = os.path.join(REF_DIR, "torch_reference.npz")

with np.load(REF_PATH, allow_pickle=False) as _npz:
    REF = {k: _npz[k] for k in _npz.files}
META = json.loads(str(REF["meta"]))

RTOL = 1e-10  # float64 with the same formulas up to operation order agrees to ~1e-15


@pytest.fixture(autouse=True)
def _float64_default():
    """Every test here runs in float64 and leaves the default dtype at float32."""
    previous = mg.get_default_dtype()
    mg.set_default_dtype("float64")
    yield
    mg.set_default_dtype(previous)


def T(array, requires_grad=False):
    return mg.tensor(np.asarray(array), requires_grad=requires_grad, dtype="float64")


def check(actual, expected, what, rtol=RTOL, atol=0.0):
    """|actual - expected| <= atol + rtol |expected| elementwise (atol may be an array)."""
    actual = actual.numpy() if isinstance(actual, mg.Tensor) else np.asarray(actual)
    assert actual.dtype == np.float64, f"{what}: dtype {actual.dtype}, expected float64"
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, expected {expected.shape}"
    with np.errstate(invalid="ignore", over="ignore"):
        ok = (np.abs(actual - expected) <= atol + rtol * np.abs(expected)) | (actual == expected)
    ok |= np.isnan(actual) & np.isnan(expected)
    if not ok.all():
        actual, expected, bad = np.atleast_1d(actual), np.atleast_1d(expected), ~np.atleast_1d(ok)
        rows = []
        for idx in zip(*np.nonzero(bad)):
            a, e = float(actual[idx]), float(expected[idx])
            rel = abs(a - e) / abs(e) if e else float("inf")
            rows.append(f"  at {tuple(int(i) for i in idx)}: minigan {a!r}, PyTorch {e!r}, "
                        f"relative difference {rel:.3g}")
        pytest.fail(f"{what} differs from PyTorch (rtol={rtol:g}, atol={np.max(atol):g}) "
                    f"in {bad.sum()} of {bad.size} elements:\n" + "\n".join(rows[:10]), pytrace=False)


# --- optimizers ------------------------------------------------------------------------------------
# Disagreements with PyTorch beyond rounding, found by this file and reported; a strict xfail
# turns into a failure (to be removed from here) once minigan matches PyTorch.
KNOWN_OPTIMIZER = {}  # adam_missing_grad was here until Adam counted steps per parameter
OPTIMIZER_ROWS = [pytest.param(case, id=case["name"],
                               marks=[pytest.mark.xfail(strict=True, reason=KNOWN_OPTIMIZER[case["name"]])]
                               if case["name"] in KNOWN_OPTIMIZER else [])
                  for case in META["optimizers"]]


@pytest.mark.parametrize("case", OPTIMIZER_ROWS)
def test_optimizer_trajectory(case):
    name = case["name"]
    n_params = len(META["param_shapes"])
    params = [T(REF[f"optim.p{k}.init"], requires_grad=True) for k in range(n_params)]
    hyper = {k: tuple(v) if isinstance(v, list) else v for k, v in case["hyper"].items()}
    opt = getattr(optim, case["optimizer"])(params, **hyper)
    present = REF[f"{name}.grad_present"]
    for step in range(META["steps"]):
        for k, p in enumerate(params):
            p.grad = T(REF[f"optim.p{k}.grads"][step]) if present[step, k] else None
        opt.step()
        for k, p in enumerate(params):
            check(p, REF[f"{name}.p{k}.traj"][step], f"{name}: parameter {k} after step {step + 1}")


# --- layers ----------------------------------------------------------------------------------------
def test_linear_forward_backward():
    lin = nn.Linear(3, 2)
    lin.load_state_dict({"weight": REF["linear.weight"], "bias": REF["linear.bias"]})
    x = T(REF["linear.x"], requires_grad=True)
    y = lin(x)
    (y * T(REF["linear.r"])).sum().backward()
    check(y, REF["linear.y"], "Linear output")
    check(x.grad, REF["linear.grad_x"], "Linear dL/dx")
    check(lin.weight.grad, REF["linear.grad_weight"], "Linear dL/dW")
    check(lin.bias.grad, REF["linear.grad_bias"], "Linear dL/db")


def _batchnorm():
    bn = nn.BatchNorm1d(5, eps=1e-5, momentum=0.1)
    state = bn.state_dict()  # fresh running statistics (zeros, ones), as in PyTorch's
    state.update(weight=REF["batchnorm.weight"], bias=REF["batchnorm.bias"])
    bn.load_state_dict(state)
    return bn


def test_batchnorm_training_passes_and_eval():
    bn = _batchnorm().train()
    for i, xb in enumerate(REF["batchnorm.train_x"]):
        y = bn(T(xb))
        check(y, REF["batchnorm.train_y"][i], f"BatchNorm1d training output, pass {i + 1}")
        check(bn.running_mean, REF["batchnorm.running_mean"][i], f"BatchNorm1d running_mean after pass {i + 1}")
        check(bn.running_var, REF["batchnorm.running_var"][i], f"BatchNorm1d running_var after pass {i + 1}")
    bn.eval()
    with mg.no_grad():
        check(bn(T(REF["batchnorm.eval_x"])), REF["batchnorm.eval_y"], "BatchNorm1d eval output")


def test_batchnorm_backward():
    bn = _batchnorm().train()
    x = T(REF["batchnorm.train_x"][0], requires_grad=True)
    (bn(x) * T(REF["batchnorm.r"])).sum().backward()
    check(x.grad, REF["batchnorm.grad_x"], "BatchNorm1d dL/dx")
    check(bn.weight.grad, REF["batchnorm.grad_weight"], "BatchNorm1d dL/dweight")
    check(bn.bias.grad, REF["batchnorm.grad_bias"], "BatchNorm1d dL/dbias")


# --- losses ----------------------------------------------------------------------------------------
EPS64 = np.finfo(np.float64).eps


def _loss_atol(key, reduction, part):
    """Absolute tolerance: 0, except where PyTorch's own formula cancels.

    For binary_cross_entropy_with_logits PyTorch computes, in effect, (1 - t) z - log_sigmoid(z) and the
    gradient sigmoid(z) - t: operands of size |z| and 1 + |t| cancel, so its reference value is
    only good to a few ulp of those operands (loss at z = -50, t = 0: PyTorch 0, exact 1.93e-22;
    gradient at z = 50, t = 1: PyTorch 0, exact -1.93e-22). minigan's cancellation-free forms
    get the exact values; the tolerance is the reference's own rounding error, 4 ulp of the operands.
    """
    if not key.startswith("bce_logits"):
        return 0.0
    z, t = REF[f"{key}.input"], REF[f"{key}.target"]
    per_element = 4 * EPS64 * ((1.0 + np.abs(z)) if part == "loss" else (1.0 + np.abs(t)))
    if reduction == "none":
        return per_element
    if part == "loss":
        return per_element.sum() / (z.size if reduction == "mean" else 1)
    return per_element / (z.size if reduction == "mean" else 1)


# Disagreements with PyTorch beyond rounding, found by this file and reported; each row is a
# strict xfail, so it turns into a failure (to be removed from here) once minigan matches.
KNOWN = {
    **{("bce_edges", reduction, "grad"): (
        "PyTorch clamps the gradient's denominator p (1 - p) at float32(1e-12) = 9.999999960041972e-13 "
        "even in float64, minigan at 1e-12: at p = 0, t = 1 (reduction sum or none) PyTorch gives "
        "-1.0000000039958029e12, minigan -1e12 (relative 4.0e-9); the same at every p in {0, 1} with "
        "t != p") for reduction in ("mean", "sum", "none")},
    # ("bce_near_edges", "none", "loss") was here until log(1 - p) was computed with log1p
}

LOSS_ROWS = []
for _key in META["losses"]:
    for _reduction in META["reductions"]:
        for _part in ("loss", "grad"):
            _known = KNOWN.get((_key, _reduction, _part))
            LOSS_ROWS.append(pytest.param(_key, _reduction, _part, id=f"{_key}-{_reduction}-{_part}",
                                          marks=[pytest.mark.xfail(strict=True, reason=_known)] if _known else []))


@pytest.mark.parametrize("key, reduction, part", LOSS_ROWS)
def test_loss(key, reduction, part):
    """Value (part="loss") or input gradient (part="grad"; of the loss, or of sum(loss) for "none")."""
    x = T(REF[f"{key}.input"], requires_grad=True)
    loss = getattr(F, META["losses"][key])(x, T(REF[f"{key}.target"]), reduction=reduction)
    what = f"{META['losses'][key]} {key} (reduction={reduction})"
    if part == "loss":
        check(loss, REF[f"{key}.{reduction}.loss"], f"{what} value", atol=_loss_atol(key, reduction, part))
    else:
        loss.sum().backward()
        check(x.grad, REF[f"{key}.{reduction}.grad"], f"{what} input gradient", atol=_loss_atol(key, reduction, part))


# --- activations -----------------------------------------------------------------------------------
ACTIVATIONS = {"sigmoid": mg.sigmoid, "tanh": mg.tanh, "softplus": mg.softplus,
               "log_sigmoid": mg.log_sigmoid, "leaky_relu_0.2": lambda x: mg.leaky_relu(x, 0.2)}


@pytest.mark.parametrize("name", META["activations"])
def test_activation_value_and_derivative(name):
    x = T(REF["act.x"], requires_grad=True)
    y = ACTIVATIONS[name](x)
    y.sum().backward()
    check(y, REF[f"act.{name}.y"], f"{name}(x) at x = {REF['act.x'].tolist()}")
    check(x.grad, REF[f"act.{name}.grad"], f"{name}'(x) at x = {REF['act.x'].tolist()}")


# --- the stored file is what the script makes (only where torch is installed) --------------------
def test_reference_file_is_up_to_date():
    pytest.importorskip("torch")
    script = os.path.join(REF_DIR, "make_torch_reference.py")
    spec = importlib.util.spec_from_file_location("make_torch_reference", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fresh = module.build_reference()
    assert sorted(fresh) == sorted(REF), "the set of recorded arrays changed: re-run make_torch_reference.py"
    fresh_meta = json.loads(str(fresh.pop("meta")))
    stored_meta = dict(META)
    fresh_meta.pop("torch_version"), stored_meta.pop("torch_version")
    assert fresh_meta == stored_meta
    for key, value in fresh.items():
        # inputs come from seeded NumPy generators: identical; torch's outputs to rounding (its
        # BLAS and vector kernels may differ between machines in the last bits)
        assert value.dtype == REF[key].dtype and value.shape == REF[key].shape, key
        if value.dtype == bool:
            np.testing.assert_array_equal(value, REF[key], err_msg=key)
        else:
            np.testing.assert_allclose(value, REF[key], rtol=1e-12, atol=1e-15 * np.max(np.abs(REF[key])), err_msg=key)
