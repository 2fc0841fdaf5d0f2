"""Record PyTorch's optimizers and lr schedulers into ``torch_reference_optim.npz``.

    python tests/reference/make_torch_reference_optim.py      # needs torch (pip install torch==2.13.0)

tests/test_optim_pytorch.py replays every case with minigan.optim (no torch needed) and compares.
Inputs come from a seeded NumPy generator, never from torch's RNG, so re-running reproduces the
file. Everything is float64. Keep the file small (< 200 KB): it is committed.

Layout: one array per key; ``meta`` is a JSON string describing the cases.

* optimizer case NAME (meta["optimizers"]: class, defaults, groups = [[param indices], overrides]
  or null for one plain list): ``NAME.p{k}.traj`` parameter k after each step (fed the given
  gradients ``optim.p{k}.grads``, step s skipped for k where ``NAME.grad_present[s, k]`` is False);
  ``NAME.state.{i}.{buffer}`` PyTorch's final state_dict buffers; meta also holds its final
  state_dict's keys, "step" counters and param_groups (minus torch-only keys: foreach, fused, ...).
  torch runs with foreach=False (the plain per-tensor loop, the CPU default).
* scheduler case NAME (meta["schedulers"]): ``NAME.lr`` of shape (STEPS + 1, groups), the groups'
  lr after construction and after each step; at step ROUND_TRIP the optimizer and scheduler are
  rebuilt and their state_dicts loaded (optimizer first); meta holds the scheduler's state_dict then.
"""
import json
import os
import sys

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_reference_optim.npz")
STEPS = 6
PARAM_SHAPES = [(3, 4), (4,), (), (2, 3)]  # () : a 0-d parameter in every case
TORCH_ONLY_KEYS = {"foreach", "fused", "capturable", "differentiable", "decoupled_weight_decay"}

# (name, class, defaults, groups or None, missing gradient (step, param) or None)
OPTIMIZER_CASES = [
    ("sgd_groups", "SGD", dict(lr=0.1, momentum=0.5), [[[0, 1], dict(lr=0.05, momentum=0.9)], [[2, 3], {}]], None),
    ("sgd_nesterov_maximize", "SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01, maximize=True),
     None, None),
    ("sgd_dampening_missing", "SGD", dict(lr=0.1, momentum=0.8, dampening=0.25), None, (2, 2)),
    ("adam_groups", "Adam", dict(lr=1e-3), [[[0], dict(lr=1e-2)], [[1, 2, 3], dict(betas=(0.5, 0.999), eps=1e-6)]],
     None),
    ("adam_amsgrad", "Adam", dict(lr=1e-2, amsgrad=True), None, (2, 1)),
    ("adam_amsgrad_wd_maximize", "Adam", dict(lr=1e-2, weight_decay=0.1, amsgrad=True, maximize=True), None, None),
    ("adamw_default", "AdamW", dict(lr=1e-2), None, None),
    ("adamw_amsgrad", "AdamW", dict(lr=1e-2, betas=(0.5, 0.9), weight_decay=0.1, amsgrad=True), None, (3, 2)),
    ("adamw_maximize_groups", "AdamW", dict(lr=1e-2, maximize=True),
     [[[0, 2], dict(weight_decay=0.5)], [[1, 3], dict(lr=2e-3, weight_decay=0.0)]], None),
    ("rmsprop_centered", "RMSprop", dict(lr=1e-2, centered=True), None, (2, 1)),
    ("rmsprop_centered_momentum", "RMSprop", dict(lr=5e-3, alpha=0.9, centered=True, momentum=0.9,
                                                   weight_decay=0.05), None, None),
    ("rmsprop_maximize", "RMSprop", dict(lr=1e-2, momentum=0.5, maximize=True), None, None),
    ("rmsprop_groups", "RMSprop", dict(lr=1e-2), [[[0, 2], dict(centered=True)], [[1, 3], dict(momentum=0.9, lr=1e-3)]],
     None),
]

# schedulers: (name, class, arguments, lrs of the groups); LambdaLR's functions by name, the same
# table is in tests/test_optim_pytorch.py
SCHED_STEPS, ROUND_TRIP = 14, 6
LAMBDAS = {"exp": lambda epoch: 0.9 ** epoch, "inverse": lambda epoch: 1.0 / (1.0 + epoch)}
SCHEDULER_CASES = [
    ("lambda", "LambdaLR", dict(lr_lambda=["exp", "inverse"]), [0.1, 0.02]),
    ("lambda_one", "LambdaLR", dict(lr_lambda="exp"), [0.1, 0.02]),
    ("step", "StepLR", dict(step_size=3, gamma=0.5), [0.1, 0.02]),
    ("linear_warmup", "LinearLR", dict(start_factor=0.25, total_iters=4), [0.1, 0.02]),
    ("linear_decay", "LinearLR", dict(start_factor=1.0, end_factor=0.1, total_iters=8), [0.1, 0.02]),
    ("cosine", "CosineAnnealingLR", dict(T_max=5, eta_min=1e-4), [0.1, 0.02]),
]


def _inputs():
    """Initial parameters and gradient sequences (mixed scales, one exact zero), seeded NumPy."""
    rng = np.random.default_rng(20261202)
    data = {}
    for k, shape in enumerate(PARAM_SHAPES):
        data[f"optim.p{k}.init"] = rng.standard_normal(shape)
        g = rng.standard_normal((STEPS,) + shape) * np.exp(rng.uniform(-3, 1, (STEPS,) + shape))
        g.reshape(STEPS, -1)[1, 0] = 0.0
        data[f"optim.p{k}.grads"] = g
    return data


def _jsonable(value):
    return list(value) if isinstance(value, tuple) else value


def build_reference():
    import torch

    def T(a, grad=False):
        return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64, requires_grad=grad)

    def N(t):
        return t.detach().numpy().astype(np.float64).copy()

    data = _inputs()
    meta = {"torch_version": torch.__version__, "steps": STEPS, "param_shapes": PARAM_SHAPES,
            "optimizers": [], "schedulers": [], "sched_steps": SCHED_STEPS, "round_trip": ROUND_TRIP}

    for name, cls_name, defaults, groups, missing in OPTIMIZER_CASES:
        params = [T(data[f"optim.p{k}.init"], grad=True) for k in range(len(PARAM_SHAPES))]
        spec = params if groups is None else [dict(g, params=[params[k] for k in ks]) for ks, g in groups]
        opt = getattr(torch.optim, cls_name)(spec, **defaults, foreach=False)
        present = np.ones((STEPS, len(params)), dtype=bool)
        if missing:
            present[missing] = False
        traj = [[] for _ in params]
        for step in range(STEPS):
            for k, p in enumerate(params):
                p.grad = T(data[f"optim.p{k}.grads"][step]) if present[step, k] else None
            opt.step()
            for k, p in enumerate(params):
                traj[k].append(N(p))
        for k in range(len(params)):
            data[f"{name}.p{k}.traj"] = np.stack(traj[k])
        data[f"{name}.grad_present"] = present
        sd = opt.state_dict()
        state_keys, counters = {}, {}
        for i, buffers in sd["state"].items():
            state_keys[str(i)] = sorted(buffers)
            for key, value in buffers.items():
                if key == "step":
                    counters[str(i)] = int(value.item())
                else:
                    data[f"{name}.state.{i}.{key}"] = N(value)
        param_groups = [{k: _jsonable(v) for k, v in g.items() if k not in TORCH_ONLY_KEYS} for g in sd["param_groups"]]
        meta["optimizers"].append({
            "name": name, "optimizer": cls_name, "defaults": {k: _jsonable(v) for k, v in defaults.items()},
            "groups": None if groups is None else [[ks, {k: _jsonable(v) for k, v in g.items()}] for ks, g in groups],
            "state_keys": state_keys, "step_counters": counters, "param_groups": param_groups})

    for name, cls_name, kwargs, lrs in SCHEDULER_CASES:
        cls = getattr(torch.optim.lr_scheduler, cls_name)
        params = [T(np.zeros(2), grad=True) for _ in lrs]

        def build():
            opt = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, lrs)], momentum=0.9)
            args = dict(kwargs)
            if cls_name == "LambdaLR":
                names = args["lr_lambda"]
                args["lr_lambda"] = [LAMBDAS[n] for n in names] if isinstance(names, list) else LAMBDAS[names]
            return opt, cls(opt, **args)

        opt, sched = build()
        rows = [[g["lr"] for g in opt.param_groups]]
        saved = None
        for step in range(1, SCHED_STEPS + 1):
            for p in params:  # a real optimizer step first (momentum buffers in the state_dict)
                p.grad = T(np.ones(2))
            opt.step()
            sched.step()
            assert sched.get_last_lr() == [g["lr"] for g in opt.param_groups]
            rows.append(sched.get_last_lr())
            if step == ROUND_TRIP:
                opt_state, sched_state = opt.state_dict(), sched.state_dict()
                saved = {k: _jsonable(v) for k, v in sched_state.items()}
                opt, sched = build()
                opt.load_state_dict(opt_state)
                sched.load_state_dict(sched_state)
        data[f"{name}.lr"] = np.array(rows, dtype=np.float64)
        meta["schedulers"].append({"name": name, "scheduler": cls_name, "kwargs": kwargs, "lrs": lrs,
                                   "state_dict": saved})

    data["meta"] = np.array(json.dumps(meta, sort_keys=True))
    return data


def main(path=OUT):
    data = build_reference()
    np.savez_compressed(path, **data)
    version = json.loads(str(data["meta"]))["torch_version"]
    print(f"wrote {path} ({os.path.getsize(path)} bytes, {len(data)} arrays, torch {version})")


if __name__ == "__main__":
    main(*sys.argv[1:])
