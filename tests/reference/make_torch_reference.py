"""Record PyTorch's results on small float64 problems into ``torch_reference.npz``.

    python tests/reference/make_torch_reference.py      # needs torch (pip install torch==2.13.0)

tests/test_torch_parity.py replays every case with minigan and compares, so CI checks parity with
PyTorch without having torch installed. All inputs come from NumPy generators with fixed seeds
(never from torch's RNG), so re-running this script reproduces the file.

Layout of the .npz: one array per key, keys are ``<case>.<field>``; the key ``meta`` holds a JSON
string listing the cases with their hyper-parameters (see ``build_reference``). Optimizer cases
feed *given* gradients (not computed ones), so only the update rule is compared; torch runs them
with foreach=False (its plain per-tensor loop, the CPU default). Not recorded: Linear's default
initialization (the two libraries' generators differ; only its distribution could be compared).
Keep the file small (< 200 KB): it is committed.
"""
import json
import os
import sys

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_reference.npz")
STEPS = 5
F64 = np.float64

# --- optimizer cases: (name, optimizer class, hyper-parameters) -------------------------------------
OPTIMIZER_CASES = [
    ("sgd_plain", "SGD", dict(lr=0.1)),
    ("sgd_momentum", "SGD", dict(lr=0.1, momentum=0.9)),
    ("sgd_nesterov", "SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("sgd_momentum_dampening", "SGD", dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ("sgd_weight_decay", "SGD", dict(lr=0.1, weight_decay=0.05)),
    ("sgd_momentum_weight_decay", "SGD", dict(lr=0.1, momentum=0.5, weight_decay=0.01)),
    ("adam_default", "Adam", dict(lr=1e-3)),
    ("adam_gan_betas", "Adam", dict(lr=2e-4, betas=(0.5, 0.999))),
    ("adam_weight_decay", "Adam", dict(lr=1e-2, betas=(0.9, 0.99), eps=1e-6, weight_decay=0.1)),
    ("rmsprop_default", "RMSprop", dict(lr=1e-2)),
    ("rmsprop_momentum", "RMSprop", dict(lr=5e-3, alpha=0.9, momentum=0.9)),
    ("rmsprop_weight_decay", "RMSprop", dict(lr=1e-2, weight_decay=0.1)),
    # one parameter gets no gradient at step 3 (grad None, as after zero_grad(set_to_none=True)
    # when a parameter was not used): PyTorch skips it and keeps a per-parameter step count
    ("sgd_momentum_missing_grad", "SGD", dict(lr=0.1, momentum=0.9)),
    ("adam_missing_grad", "Adam", dict(lr=1e-2, betas=(0.5, 0.999))),
    ("rmsprop_missing_grad", "RMSprop", dict(lr=1e-2, momentum=0.5)),
]
PARAM_SHAPES = [(3, 4), (4,), (2, 2, 3)]
MISSING = {"sgd_momentum_missing_grad", "adam_missing_grad", "rmsprop_missing_grad"}  # param 1, step 2

# --- elementwise activations: x values at the extremes, slope of leaky_relu ---------------------
ACT_X = np.array([-1000.0, -50.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 50.0, 1000.0])
ACTIVATIONS = ["sigmoid", "tanh", "softplus", "log_sigmoid", "leaky_relu_0.2"]

REDUCTIONS = ["mean", "sum", "none"]
# loss case -> the torch.nn.functional (and minigan.nn.functional) function it exercises
LOSS_CASES = {
    "bce_interior": "binary_cross_entropy",
    "bce_edges": "binary_cross_entropy",
    "bce_near_edges": "binary_cross_entropy",
    "bce_logits_moderate": "binary_cross_entropy_with_logits",
    "bce_logits_large": "binary_cross_entropy_with_logits",
    "mse": "mse_loss",
}


def _torch_activation(F, name):
    if name == "leaky_relu_0.2":
        return lambda x: F.leaky_relu(x, 0.2)
    import torch
    return {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "softplus": F.softplus,
            "log_sigmoid": F.logsigmoid}[name]


def _inputs():
    """Every input array, from fixed NumPy seeds (independent of torch)."""
    rng = np.random.default_rng(20240607)
    data = {}
    # optimizers: shared initial parameters and gradient sequences; gradients of mixed scales,
    # one exact zero, so moment buffers see small and large values
    for k, shape in enumerate(PARAM_SHAPES):
        data[f"optim.p{k}.init"] = rng.standard_normal(shape)
        g = rng.standard_normal((STEPS,) + shape) * np.exp(rng.uniform(-3, 1, (STEPS,) + shape))
        g.reshape(STEPS, -1)[1, 0] = 0.0
        data[f"optim.p{k}.grads"] = g
    # Linear(3 -> 2) on a batch of 4
    data["linear.x"] = rng.standard_normal((4, 3))
    data["linear.weight"] = rng.standard_normal((2, 3))
    data["linear.bias"] = rng.standard_normal(2)
    data["linear.r"] = rng.standard_normal((4, 2))
    # BatchNorm1d(5): three training batches of 8 (each feature its own scale and shift), one eval
    data["batchnorm.weight"] = rng.uniform(0.5, 2.0, 5)
    data["batchnorm.bias"] = rng.standard_normal(5)
    scale, shift = np.exp(rng.uniform(-2, 2, 5)), rng.uniform(-5, 5, 5)
    data["batchnorm.train_x"] = rng.standard_normal((3, 8, 5)) * scale + shift
    data["batchnorm.eval_x"] = rng.standard_normal((6, 5)) * scale + shift
    data["batchnorm.r"] = rng.standard_normal((8, 5))
    # binary_cross_entropy, in three regimes (each a case of its own, so a difference in one
    # regime cannot hide behind the values of another in the mean/sum reductions):
    # interior probabilities; p exactly 0 and 1 (each log clamped at -100, the gradient's
    # denominator p (1 - p) clamped); p within 1e-12 .. 1e-6 of an edge, where the loss is tiny
    bce = {
        "bce_interior": ([0.3, 0.5, 0.7, 0.05, 0.9, 0.01], [0.0, 1.0, 0.25, 0.9, 0.5, 1.0]),
        "bce_edges": ([0.0, 0.0, 0.0, 1.0, 1.0, 1.0], [0.0, 1.0, 0.5, 0.0, 1.0, 0.5]),
        "bce_near_edges": ([1e-12, 1e-10, 1e-9, 1e-6, 1 - 1e-9, 1 - 1e-6], [0.0, 0.0, 0.0, 0.0, 1.0, 1.0]),
    }
    # binary_cross_entropy_with_logits: moderate logits, and large |logits| with each target
    bce_logits = {
        "bce_logits_moderate": ([0.0, 0.0, 1.5, -2.5, 3.0, -0.5], [0.0, 1.0, 0.3, 0.8, 1.0, 0.0]),
        "bce_logits_large": ([-1000.0, -1000.0, -1000.0, -50.0, -50.0, -50.0, 50.0, 50.0, 50.0, 1000.0, 1000.0, 1000.0],
                             [0.0, 1.0, 0.5, 0.0, 1.0, 0.5, 0.0, 1.0, 0.5, 0.0, 1.0, 0.5]),
    }
    for key, (x, t) in {**bce, **bce_logits}.items():
        data[f"{key}.input"], data[f"{key}.target"] = np.array(x, dtype=F64), np.array(t, dtype=F64)
    # mse_loss on a (3, 4) batch
    data["mse.input"] = rng.standard_normal((3, 4))
    data["mse.target"] = rng.standard_normal((3, 4))
    data["act.x"] = ACT_X.copy()
    return data


def build_reference():
    """All inputs and PyTorch's outputs, as a dict of NumPy arrays (the file's content)."""
    import torch
    import torch.nn.functional as F

    def T(a, grad=False):
        return torch.tensor(np.asarray(a, dtype=F64), dtype=torch.float64, requires_grad=grad)

    def N(t):
        return t.detach().numpy().astype(F64).copy()

    data = _inputs()
    meta = {"torch_version": torch.__version__, "steps": STEPS, "optimizers": [],
            "param_shapes": PARAM_SHAPES, "activations": ACTIVATIONS, "reductions": REDUCTIONS, "losses": LOSS_CASES}

    # --- optimizers ----------------------------------------------------------------------------
    for name, cls_name, hyper in OPTIMIZER_CASES:
        params = [T(data[f"optim.p{k}.init"], grad=True) for k in range(len(PARAM_SHAPES))]
        kwargs = dict(hyper, foreach=False)  # the plain per-tensor loop (no foreach/fused kernels)
        opt = getattr(torch.optim, cls_name)(params, **kwargs)
        present = np.ones((STEPS, len(params)), dtype=bool)
        if name in MISSING:
            present[2, 1] = False
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
        meta["optimizers"].append({"name": name, "optimizer": cls_name,
                                   "hyper": {k: (list(v) if isinstance(v, tuple) else v) for k, v in hyper.items()}})

    # --- Linear ----------------------------------------------------------------------------------
    lin = torch.nn.Linear(3, 2).double()
    with torch.no_grad():
        lin.weight.copy_(T(data["linear.weight"]))
        lin.bias.copy_(T(data["linear.bias"]))
    x = T(data["linear.x"], grad=True)
    y = lin(x)
    (y * T(data["linear.r"])).sum().backward()
    data["linear.y"], data["linear.grad_x"] = N(y), N(x.grad)
    data["linear.grad_weight"], data["linear.grad_bias"] = N(lin.weight.grad), N(lin.bias.grad)

    # --- BatchNorm1d ---------------------------------------------------------------------------
    bn = torch.nn.BatchNorm1d(5, eps=1e-5, momentum=0.1).double()
    with torch.no_grad():
        bn.weight.copy_(T(data["batchnorm.weight"]))
        bn.bias.copy_(T(data["batchnorm.bias"]))
    bn.train()
    outs, means, vars_ = [], [], []
    for i, xb in enumerate(data["batchnorm.train_x"]):
        x = T(xb, grad=(i == 0))
        y = bn(x)
        if i == 0:  # gradients of L = sum(y * r) for the first training pass
            (y * T(data["batchnorm.r"])).sum().backward()
            data["batchnorm.grad_x"] = N(x.grad)
            data["batchnorm.grad_weight"], data["batchnorm.grad_bias"] = N(bn.weight.grad), N(bn.bias.grad)
        outs.append(N(y))
        means.append(N(bn.running_mean))
        vars_.append(N(bn.running_var))
    data["batchnorm.train_y"] = np.stack(outs)
    data["batchnorm.running_mean"] = np.stack(means)
    data["batchnorm.running_var"] = np.stack(vars_)
    bn.eval()
    with torch.no_grad():
        data["batchnorm.eval_y"] = N(bn(T(data["batchnorm.eval_x"])))

    # --- losses: value and input gradient for each reduction ----------------------------------
    # the gradient is of the loss itself (mean, sum) or of sum(loss) (none)
    for key, fn_name in LOSS_CASES.items():
        fn = getattr(F, fn_name)
        for reduction in REDUCTIONS:
            x = T(data[f"{key}.input"], grad=True)
            loss = fn(x, T(data[f"{key}.target"]), reduction=reduction)
            loss.sum().backward()
            data[f"{key}.{reduction}.loss"] = N(loss)
            data[f"{key}.{reduction}.grad"] = N(x.grad)

    # --- activations: value and derivative (gradient of sum(f(x))) ----------------------------
    for name in ACTIVATIONS:
        x = T(data["act.x"], grad=True)
        y = _torch_activation(F, name)(x)
        y.sum().backward()
        data[f"act.{name}.y"], data[f"act.{name}.grad"] = N(y), N(x.grad)

    data["meta"] = np.array(json.dumps(meta, sort_keys=True))
    return data


def main(path=OUT):
    data = build_reference()
    np.savez_compressed(path, **data)
    version = json.loads(str(data["meta"]))["torch_version"]
    print(f"wrote {path} ({os.path.getsize(path)} bytes, {len(data)} arrays, torch {version})")


if __name__ == "__main__":
    main(*sys.argv[1:])
