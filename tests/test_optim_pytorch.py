"""minigan.optim against PyTorch's optimizers and lr schedulers, without torch installed.

tests/reference/torch_reference_optim.npz holds PyTorch 2.13's float64 results (made by
tests/reference/make_torch_reference_optim.py, which documents the layout): parameter groups with
different hyper-parameters, AdamW, amsgrad, centered RMSprop, maximize, a 0-d parameter in every
case, missing gradients, and each scheduler's lr sequence across a state_dict round trip.
Tolerance: relative RTOL = 1e-10, absolute 0 (same formulas up to operation order agree to ~1e-15).
The second half tests parameter groups, state_dict round trips through checkpoints and error paths.
"""
import importlib.util
import json
import os

import numpy as np
import pytest

import minigan as mg
from minigan import optim
from minigan.gan import load_checkpoint, save_checkpoint
from minigan.optim import lr_scheduler

REF_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference")
with np.load(os.path.join(REF_DIR, "torch_reference_optim.npz"), allow_pickle=False) as _npz:
    REF = {k: _npz[k] for k in _npz.files}
META = json.loads(str(REF["meta"]))
RTOL = 1e-10
LAMBDAS = {"exp": lambda epoch: 0.9 ** epoch, "inverse": lambda epoch: 1.0 / (1.0 + epoch)}  # as in the script


def T(array, requires_grad=False):
    return mg.tensor(np.asarray(array), requires_grad=requires_grad, dtype="float64")


def check(actual, expected, what):
    actual = actual.numpy() if isinstance(actual, mg.Tensor) else np.asarray(actual)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, PyTorch {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=0, err_msg=f"{what} differs from PyTorch")


def _hyper(d):
    return {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}


def _make(case, params):
    spec = params if case["groups"] is None else \
        [dict(_hyper(g), params=[params[k] for k in ks]) for ks, g in case["groups"]]
    return getattr(optim, case["optimizer"])(spec, **_hyper(case["defaults"]))


def _initial_params():
    return [T(REF[f"optim.p{k}.init"], requires_grad=True) for k in range(len(META["param_shapes"]))]


def _replay(case, params, opt, steps, tmp_path=None, round_trip_at=None):
    """Feed the recorded gradients for ``steps``; optionally rebuild from a checkpoint mid-way."""
    present = REF[f"{case['name']}.grad_present"]
    for step in steps:
        if step == round_trip_at:
            save_checkpoint(tmp_path / "opt.npz", {"opt": opt.state_dict()})
            params = [T(p.numpy(), requires_grad=True) for p in params]
            opt = _make(case, params)
            opt.load_state_dict(load_checkpoint(tmp_path / "opt.npz")["opt"])
        for k, p in enumerate(params):
            p.grad = T(REF[f"optim.p{k}.grads"][step]) if present[step, k] else None
        opt.step()
        for k, p in enumerate(params):
            check(p, REF[f"{case['name']}.p{k}.traj"][step], f"{case['name']}: parameter {k} after step {step + 1}")
    return params, opt


OPT_CASES = [pytest.param(c, id=c["name"]) for c in META["optimizers"]]
SCHED_CASES = [pytest.param(c, id=c["name"]) for c in META["schedulers"]]


@pytest.mark.parametrize("case", OPT_CASES)
def test_trajectory_and_state_dict_match_pytorch(case):
    params = _initial_params()
    _, opt = _replay(case, params, _make(case, params), range(META["steps"]))
    sd = opt.state_dict()
    assert {str(i): sorted(s) for i, s in sd["state"].items()} == case["state_keys"]
    for i, buffers in sd["state"].items():
        for key, value in buffers.items():
            if key == "step":
                assert type(value) is int and value == case["step_counters"][str(i)], f"parameter {i} step"
            else:
                assert isinstance(value, np.ndarray)
                check(value, REF[f"{case['name']}.state.{i}.{key}"], f"state[{i}][{key!r}]")
    groups = [{k: list(v) if isinstance(v, tuple) else v for k, v in g.items()} for g in sd["param_groups"]]
    assert groups == case["param_groups"]


@pytest.mark.parametrize("case", OPT_CASES)
def test_checkpoint_round_trip_mid_way_continues_as_pytorch(case, tmp_path):
    params = _initial_params()
    _replay(case, params, _make(case, params), range(META["steps"]), tmp_path, round_trip_at=3)


@pytest.mark.parametrize("case", SCHED_CASES)
def test_scheduler_lr_sequence_and_round_trip(case, tmp_path):
    params = [T(np.zeros(2), requires_grad=True) for _ in case["lrs"]]

    def build():
        opt = optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, case["lrs"])], momentum=0.9)
        kwargs = dict(case["kwargs"])
        if case["scheduler"] == "LambdaLR":
            names = kwargs["lr_lambda"]
            kwargs["lr_lambda"] = [LAMBDAS[n] for n in names] if isinstance(names, list) else LAMBDAS[names]
        return opt, getattr(lr_scheduler, case["scheduler"])(opt, **kwargs)

    expected = REF[f"{case['name']}.lr"]
    opt, sched = build()
    rows = [[g["lr"] for g in opt.param_groups]]
    for step in range(1, META["sched_steps"] + 1):
        for p in params:
            p.grad = T(np.ones(2))
        opt.step()
        sched.step()
        assert sched.get_last_lr() == [g["lr"] for g in opt.param_groups]
        assert sched.last_epoch == step
        rows.append(sched.get_last_lr())
        if step == META["round_trip"]:
            state = sched.state_dict()
            torch_state = case["state_dict"]
            assert set(state) == set(torch_state) - {"_get_lr_called_within_step"}
            assert json.loads(json.dumps(state)) == {k: v for k, v in torch_state.items() if k in state}
            save_checkpoint(tmp_path / "ck.npz", {"opt": opt.state_dict(), "sched": state})
            saved = load_checkpoint(tmp_path / "ck.npz")
            opt, sched = build()
            opt.load_state_dict(saved["opt"])  # the optimizer first: it restores lr and initial_lr
            sched.load_state_dict(saved["sched"])
    check(np.array(rows), expected, f"{case['scheduler']} lr sequence")


def test_reference_file_is_up_to_date():
    pytest.importorskip("torch")
    spec = importlib.util.spec_from_file_location("mk", os.path.join(REF_DIR, "make_torch_reference_optim.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fresh = module.build_reference()
    assert sorted(fresh) == sorted(REF), "the recorded arrays changed: re-run make_torch_reference_optim.py"
    fresh_meta, stored_meta = json.loads(str(fresh.pop("meta"))), dict(META)
    fresh_meta.pop("torch_version"), stored_meta.pop("torch_version")
    assert fresh_meta == stored_meta
    for key, value in fresh.items():
        assert value.dtype == REF[key].dtype and value.shape == REF[key].shape, key
        np.testing.assert_allclose(value, REF[key], rtol=1e-12, atol=0, err_msg=key)


# --- 0-d parameters and the checkpoint round trip (the old load_state_dict made 0-d buffers ints) ---
ZERO_D = [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, maximize=True),
    lambda ps: optim.Adam(ps, lr=0.1),
    lambda ps: optim.AdamW(ps, lr=0.1, amsgrad=True),
    lambda ps: optim.RMSprop(ps, lr=0.01),
    lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
]


@pytest.mark.parametrize("make", ZERO_D)
def test_0d_parameter_updates_in_place_and_survives_a_checkpoint(make, tmp_path):
    def run(round_trip):
        p = T(1.5, requires_grad=True)
        storage, opt = p.data, make([p])
        for step in range(6):
            if step == 3 and round_trip:
                save_checkpoint(tmp_path / "ck.npz", {"opt": opt.state_dict()})
                p = T(p.numpy(), requires_grad=True)
                storage, opt = p.data, make([p])
                opt.load_state_dict(load_checkpoint(tmp_path / "ck.npz")["opt"])
            p.grad = T(0.7 - 0.3 * step)
            opt.step()
            assert p.data is storage and p.shape == ()
        for buffers in opt.state_dict()["state"].values():
            assert all(isinstance(v, int) if k == "step" else v.dtype == np.float64 for k, v in buffers.items())
        return p.item()

    assert run(round_trip=True) == run(round_trip=False)


def test_step_bumps_the_version_of_updated_parameters_only():
    a, b = T([1.0], requires_grad=True), T([2.0], requires_grad=True)
    opt = optim.SGD([a, b], lr=0.1)
    va, vb = getattr(a, "_version", 0), getattr(b, "_version", 0)
    a.grad = T([1.0])
    opt.step()
    assert (a._version, getattr(b, "_version", 0)) == (va + 1, vb)


# --- parameter groups ------------------------------------------------------------------------------
def test_param_groups_defaults_add_param_group_and_state_by_parameter():
    a, b, c = (T([1.0, 2.0], requires_grad=True) for _ in range(3))
    opt = optim.Adam([{"params": [a]}, {"params": b, "lr": 0.5, "betas": [0.5, 0.9]}], lr=0.1)
    assert opt.defaults == dict(lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5] and opt.param_groups[1]["betas"] == (0.5, 0.9)
    assert opt.param_groups[1]["params"][0] is b
    opt.add_param_group({"params": [c], "weight_decay": 0.1})
    assert opt.param_groups[2]["lr"] == 0.1 and opt.param_groups[2]["weight_decay"] == 0.1
    for p in (a, b, c):
        p.grad = T([1.0, -1.0])
    opt.step()
    assert len(opt.state) == 3 and all(p in opt.state for p in (a, b, c))
    assert opt.state[b]["step"] == 1 and set(opt.state[b]) == {"step", "exp_avg", "exp_avg_sq"}
    assert [s["params"] for s in opt.state_dict()["param_groups"]] == [[0], [1], [2]]
    opt.zero_grad(set_to_none=False)
    grad = a.grad
    assert grad is not None and not grad.numpy().any()
    opt.zero_grad()
    assert a.grad is None


def test_old_attribute_hyper_parameters_point_to_param_groups():
    opt = optim.Adam([T([1.0], requires_grad=True)])
    with pytest.raises(AttributeError, match=r"group\['lr'\] = "):
        opt.lr = 0.1


def test_group_errors():
    a, b = T([1.0], requires_grad=True), T([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        optim.SGD([{"params": [a, b]}, {"params": [b]}], lr=0.1)
    with pytest.warns(UserWarning, match="same parameter twice"):
        optim.SGD([a, a], lr=0.1)
    with pytest.raises(TypeError, match="got a Tensor"):
        optim.SGD(a, lr=0.1)
    with pytest.raises(TypeError, match="not a set"):
        optim.SGD([{"params": {a}}], lr=0.1)
    with pytest.raises(ValueError, match="learning rate must be a finite number >= 0"):
        optim.SGD([{"params": [a], "lr": -1.0}], lr=0.1)
    with pytest.raises(ValueError, match="betas must be in"):
        optim.AdamW([{"params": [a], "betas": (0.9, 1.0)}])
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum and zero dampening"):
        optim.SGD([a], lr=0.1, nesterov=True)


def test_load_state_dict_errors():
    a, b = T([1.0, 2.0], requires_grad=True), T([[1.0, 2.0]], requires_grad=True)
    opt = optim.Adam([a, b])
    a.grad, b.grad = T([1.0, 1.0]), T([[1.0, 1.0]])
    opt.step()
    state = opt.state_dict()
    with pytest.raises(ValueError, match="the state has 1 parameter groups, this optimizer 2"):
        optim.Adam([{"params": [a]}, {"params": [b]}]).load_state_dict(state)
    with pytest.raises(ValueError, match="parameter group 0 has 2 parameters in the state, 1 in this optimizer"):
        optim.Adam([a]).load_state_dict(state)
    c = T([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"buffer 'exp_avg' has shape \(2,\) in the state, the parameter has "
                                         r"shape \(3,\)$"):
        optim.Adam([c, b]).load_state_dict(state)


def test_load_state_dict_copies_and_restores_hyper_parameters():
    a = T([1.0, 2.0], requires_grad=True)
    opt = optim.Adam([a], lr=0.1, betas=(0.5, 0.9))
    a.grad = T([1.0, 1.0])
    opt.step()
    state = json.loads(json.dumps({"param_groups": opt.state_dict()["param_groups"]}))
    state["state"] = {"0": {k: v for k, v in opt.state_dict()["state"][0].items()}}
    other = optim.Adam([a], lr=1.0)
    other.load_state_dict(state)
    assert other.param_groups[0]["betas"] == (0.5, 0.9) and other.param_groups[0]["lr"] == 0.1
    assert other.param_groups[0]["params"][0] is a and other.state[a]["step"] == 1
    assert other.state[a]["exp_avg"] is not state["state"]["0"]["exp_avg"]  # never aliases the caller's


def test_old_layout_is_converted():
    """A checkpoint of the old layout (hyper / step_count / state list) resumes identically."""
    def fresh():
        p = T([1.0, -2.0], requires_grad=True)
        return p, optim.Adam([p], lr=0.1)

    p, opt = fresh()
    for g in ([1.0, 2.0], [-0.5, 0.3]):
        p.grad = T(g)
        opt.step()
    s = opt.state[p]
    old = {"hyper": {"lr": 0.1, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.0}, "step_count": 2,
           "state": [{"exp_avg": s["exp_avg"].copy(), "exp_avg_sq": s["exp_avg_sq"].copy(), "step": 2,
                      "scratch": np.zeros(2)}]}
    q, other = fresh()
    q.data[...] = p.data
    other.load_state_dict(old)
    for o, x in ((opt, p), (other, q)):
        x.grad = T([0.25, -1.0])
        o.step()
    np.testing.assert_array_equal(q.numpy(), p.numpy())


# --- schedulers: the rules around them ----------------------------------------------------------
def test_scheduler_initial_lr_and_resume_errors():
    a = T([1.0], requires_grad=True)
    opt = optim.SGD([a], lr=0.1)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(opt, step_size=2, last_epoch=3)
    first = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    first.step()
    lr_scheduler.LambdaLR(opt, lambda e: 1.0)  # a second scheduler keeps the first's initial_lr
    assert opt.param_groups[0]["initial_lr"] == 0.1 and opt.param_groups[0]["lr"] == 0.1
    with pytest.raises(ValueError, match="Expected 1 lr_lambdas, but got 2"):
        lr_scheduler.LambdaLR(opt, [lambda e: 1.0, lambda e: 2.0])
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        lr_scheduler.LinearLR(opt, start_factor=0.0)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.StepLR(object(), step_size=1)


def test_lambda_lr_state_dict_keeps_callable_objects_attributes():
    class Warmup:
        def __init__(self, n):
            self.n = n

        def __call__(self, epoch):
            return min(1.0, (epoch + 1) / self.n)

    opt = optim.SGD([{"params": [T([1.0], requires_grad=True)]}, {"params": [T([1.0], requires_grad=True)]}], lr=1.0)
    sched = lr_scheduler.LambdaLR(opt, [lambda e: 1.0, Warmup(4)])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [None, {"n": 4}] and "optimizer" not in state
    other = Warmup(10)
    lr_scheduler.LambdaLR(opt, [lambda e: 1.0, other]).load_state_dict(state)
    assert other.n == 4


# --- the GAN trainer's checkpoints carry the new layout; the old one is converted ------------------
def _old_layout(state, params):
    """What minigan's optimizers saved before parameter groups (one group, a list of states)."""
    (group,) = state["param_groups"]
    hyper = {k: v for k, v in group.items() if k not in ("params", "amsgrad", "maximize", "centered")}
    per_param = [dict(state["state"].get(i, {})) for i in range(len(params))]
    return {"hyper": hyper, "step_count": max((s.get("step", 0) for s in per_param), default=0), "state": per_param}


@pytest.mark.parametrize("loss", ["nonsaturating", "wgan"])  # Adam and RMSprop
@pytest.mark.parametrize("old", [False, True])
def test_trainer_resumes_from_a_checkpoint(tmp_path, loss, old):
    from minigan import gan

    def build():
        mg.manual_seed(0)
        data = mg.randn(64, 2)
        G = gan.make_generator("toy", 4, 2, image=False)
        D = gan.make_discriminator("toy", 2, gan.discriminator_output(loss))
        return gan.GANTrainer(G, D, lambda: data[:16], 4, loss=loss, d_steps=1)

    def run(split=None):
        trainer = build()
        for step in range(5):
            if step == split:
                state = trainer.state_dict()
                if old:
                    for key, net in (("opt_g", trainer.G), ("opt_d", trainer.D)):
                        state[key] = _old_layout(state[key], net.parameters())
                save_checkpoint(tmp_path / "ck.npz", {"trainer": state, "rng": mg.get_backend().get_rng_state()})
                saved = load_checkpoint(tmp_path / "ck.npz")
                trainer = build()  # (reseeds: the saved random state is set after it)
                trainer.load_state_dict(saved["trainer"])
                mg.get_backend().set_rng_state(saved["rng"])
            trainer.step()
        return [p.numpy() for p in trainer.G.parameters() + trainer.D.parameters()]

    for a, b in zip(run(), run(split=3)):
        np.testing.assert_array_equal(a, b)
