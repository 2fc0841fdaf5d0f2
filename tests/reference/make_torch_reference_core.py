"""Record PyTorch's answers on the core's edge cases and PyTorch-named methods.

    python tests/reference/make_torch_reference_core.py     # needs torch (pip install torch==2.13.0)

writes ``torch_reference_core.npz``; tests/test_core_pytorch.py replays every case with minigan,
without torch. The cases are written once, below, as functions of a namespace ``L`` (``torch`` or
``minigan``, with the few spellings that differ in ``torch_namespace``) and tensors: the same
expression runs in both libraries, so a test cannot drift from what was recorded.
Keys: ``<case>.value``, ``<case>.grad`` (d sum(r * f) / dx for a fixed r), ``<case>.grad2``
(d sum(s * grad) / dx, second order, with create_graph=True).
"""
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_reference_core.npz")
INF, NAN = np.inf, np.nan
EDGES = np.array([-INF, -2.0, 0.0, 0.5, 3.0, INF])  # where masks meet inf, zeros and ties
ROWS = np.array([[-INF, -2.0, 0.0], [0.0, 0.0, -1.0], [0.5, 3.0, INF]])  # max rows: a tie, a 0 maximum
ZEROS = np.array([[0.0, 0.0], [3.0, 4.0], [0.0, -2.0]])  # norms of exact zeros
A = np.random.default_rng(7).standard_normal((3, 4))
V = np.random.default_rng(8).standard_normal(4)

# (name, input, f(L, x)): masking ops where the incoming gradient is inf (sqrt at 0) or the input is
# +-inf. PyTorch selects, so dropped places get exactly 0 (a 0/1 multiply would give NaN).
EDGE_CASES = [
    ("relu_sqrt", EDGES, lambda L, x: x.relu().sqrt()),
    ("relu_value_nan", np.array([NAN, -INF, INF, -0.0]), lambda L, x: x.relu()),
    ("leaky_relu_0_sqrt", EDGES, lambda L, x: L.leaky_relu(x, 0.0).sqrt()),
    ("leaky_relu_inf", EDGES, lambda L, x: L.leaky_relu(x, 0.2)),
    ("where_sqrt", EDGES, lambda L, x: L.where(x > 0, x, L.zeros_like(x)).sqrt()),
    ("maximum_sqrt", EDGES, lambda L, x: L.maximum(x, L.zeros_like(x)).sqrt()),
    ("minimum_sqrt", EDGES, lambda L, x: (-L.minimum(x, L.zeros_like(x))).sqrt()),
    ("clamp_sqrt", EDGES, lambda L, x: x.clamp(min=0.0, max=2.0).sqrt()),
    ("clip_min_sqrt", EDGES, lambda L, x: x.clip(min=0.0).sqrt()),
    ("max_dim_sqrt", ROWS, lambda L, x: x.max(dim=1).values.sqrt()),
    ("min_dim_sqrt", ROWS, lambda L, x: (-x.min(dim=0).values).clamp(min=0.0).sqrt()),
    ("amax_sqrt", ROWS, lambda L, x: x.amax(dim=1).clamp(min=0.0).sqrt()),
    ("max_all_ties", np.array([1.0, 5.0, 5.0]), lambda L, x: x.max() * 2.0),
    ("norm_at_zero", ZEROS, lambda L, x: x.norm(dim=1)),
    ("pow0_at_zero", np.array([0.0, 2.0, -3.0]), lambda L, x: x ** 0),
    ("pow_tensor_zero_base", np.array([0.0, 2.0]), lambda L, x: x ** L.tensor_like(x, [0.0, 2.0])),
    ("rpow", np.array([-1.0, 0.0, 2.0]), lambda L, x: 2.0 ** x),
]

# (name, f(L, x, v)) on A (3, 4) and V (4,): PyTorch's meaning of PyTorch's names
METHOD_CASES = [
    ("var_default", lambda L, x, v: x.var()),
    ("var_dim0", lambda L, x, v: x.var(0)),
    ("var_unbiased_false", lambda L, x, v: x.var(dim=1, unbiased=False)),
    ("var_correction2", lambda L, x, v: x.var(dim=1, correction=2, keepdim=True)),
    ("std_keepdim", lambda L, x, v: x.std(dim=0, keepdim=True)),
    ("transpose_0_1", lambda L, x, v: x.transpose(0, 1) * L.tensor_like(x, np.arange(3.0))),
    ("permute", lambda L, x, v: x.permute(1, 0)),
    ("mT", lambda L, x, v: x.reshape(2, 3, 2).mT),
    ("T", lambda L, x, v: x.T),
    ("sum_dim_empty", lambda L, x, v: x.sum(dim=())),
    ("sum_dim_tuple", lambda L, x, v: x.sum(dim=(0, 1), keepdim=True)),
    ("mean_dim", lambda L, x, v: x.mean(dim=1)),
    ("squeeze_keeps_non1", lambda L, x, v: x.unsqueeze(1).squeeze(0).squeeze(1)),
    ("unsqueeze_neg", lambda L, x, v: x.unsqueeze(-1)),
    ("flatten_default", lambda L, x, v: x.reshape(3, 2, 2).flatten()),
    ("flatten_1", lambda L, x, v: x.reshape(3, 2, 2).flatten(1)),
    ("view", lambda L, x, v: x.view(2, 6)),
    ("max_dim_values", lambda L, x, v: x.max(dim=1).values),
    ("min_dim_keepdim", lambda L, x, v: x.min(dim=0, keepdim=True).values),
    ("softmax", lambda L, x, v: x.softmax(dim=0)),
    ("log_softmax", lambda L, x, v: x.log_softmax(1)),
    ("norm_all", lambda L, x, v: x.norm()),
    ("norm_dim0", lambda L, x, v: x.norm(dim=0)),
    ("norm_p1", lambda L, x, v: x.norm(1)),
    ("clamp", lambda L, x, v: x.clamp(-0.5, 0.5)),
    ("clone", lambda L, x, v: x.clone() * 3.0),
    ("rpow_int_base", lambda L, x, v: 2 ** x),
    ("pow_tensor", lambda L, x, v: x.abs() ** (v.abs() + 0.5)),
    ("matmul_mat_vec", lambda L, x, v: x @ v),
    ("matmul_vec_vec", lambda L, x, v: (x[0] * 1.0) @ v),
    ("matmul_vec_mat", lambda L, x, v: v[:3] @ x),
    ("eq_ne", lambda L, x, v: L.where(x == x.clamp(max=0.0), x, x * 2.0) + L.where(x != 0.5, x, x)),
]
# (name, f(x)) on A: integer or shape results, no gradient
INDEX_CASES = [
    ("max_dim_indices", lambda x: x.max(dim=1).indices),
    ("min_dim_indices", lambda x: x.min(dim=0).indices),
    ("argmax_flat", lambda x: x.argmax()),
    ("argmax_dim", lambda x: x.argmax(dim=1)),
    ("argmin_keepdim", lambda x: x.argmin(dim=0, keepdim=True)),
    ("size", lambda x: list(x.size())),
    ("size_1", lambda x: x.size(1)),
    ("numel", lambda x: x.numel()),
    ("dim", lambda x: x.dim()),
    ("float_dtype", lambda x: str(x.float().dtype).replace("torch.", "")),
    ("double_dtype", lambda x: str(x.float().double().dtype).replace("torch.", "")),
]


def sgd_momentum_0d(L, make_param, optim):
    """SGD(lr=0.1, momentum=0.9) on a 0-d parameter, loss p * p from 1.0, three steps."""
    p = make_param(1.0)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    for _ in range(3):
        opt.zero_grad()
        (p * p).backward()
        opt.step()
    return p


def relu_critic_penalty(L, x, weight, bias, form):
    """A WGAN-GP penalty on the critic ReLU -> Linear(2, 1): one sample's input gradient is 0."""
    x = x.detach().requires_grad_(True)
    score = (x.relu() @ weight.T + bias).sum()
    (g,) = L.grad(score, [x], create_graph=True)
    norm = g.pow(2).sum(1).sqrt() if form == "sqrt" else g.norm(dim=1)
    return ((norm - 1) ** 2).mean()


CRITIC_X = np.array([[-1.0, -2.0], [1.0, 0.5]])
CRITIC_W, CRITIC_B = np.array([[0.3, -0.7]]), np.array([0.1])


def projections(shape, seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape), rng.standard_normal(shape)


def main():
    import torch

    class TorchNamespace:
        where, maximum, minimum, zeros_like = torch.where, torch.maximum, torch.minimum, torch.zeros_like
        leaky_relu = staticmethod(torch.nn.functional.leaky_relu)

        @staticmethod
        def tensor_like(x, values):
            return torch.tensor(np.asarray(values), dtype=x.dtype)

        @staticmethod
        def grad(out, inputs, create_graph=False):
            return torch.autograd.grad(out, inputs, create_graph=create_graph)

    L, out = TorchNamespace, {}

    def record(name, fn, *arrays):
        xs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
        y = fn(*xs)
        r, s = projections(y.shape, len(name))
        out[f"{name}.value"] = y.detach().numpy()
        (g,) = torch.autograd.grad((y * torch.tensor(r)).sum(), xs[0], create_graph=True)
        out[f"{name}.grad"] = g.detach().numpy(force=True)
        if g.requires_grad:
            (h,) = torch.autograd.grad((g * torch.tensor(projections(g.shape, len(name) + 1)[1])).sum(), xs[0],
                                       allow_unused=True)
            out[f"{name}.grad2"] = np.zeros(g.shape) if h is None else h.numpy(force=True)
        else:
            out[f"{name}.grad2"] = np.zeros(g.shape)

    for name, x, fn in EDGE_CASES:
        record(name, lambda t: fn(L, t), x)
    for name, fn in METHOD_CASES:
        record(name, lambda t, u: fn(L, t, u), A, V)
    for name, fn in INDEX_CASES:
        value = fn(torch.tensor(A))
        out[f"{name}.index"] = np.asarray(value.numpy() if isinstance(value, torch.Tensor) else value)
    p = sgd_momentum_0d(L, lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True), torch.optim)
    out["sgd_momentum_0d.value"] = p.detach().numpy()
    for form in ("sqrt", "norm"):
        w = torch.tensor(CRITIC_W, requires_grad=True)
        b = torch.tensor(CRITIC_B, requires_grad=True)
        relu_critic_penalty(L, torch.tensor(CRITIC_X), w, b, form).backward()
        out[f"critic_{form}.weight_grad"] = w.grad.numpy()
        out[f"critic_{form}.bias_has_grad"] = np.array(b.grad is not None)  # the penalty does not use b
    out["meta.torch_version"] = np.array(torch.__version__)
    np.savez_compressed(OUT, **out)
    print(f"wrote {len(out)} arrays to {OUT}")


if __name__ == "__main__":
    main()
