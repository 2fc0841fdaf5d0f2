"""Record PyTorch's conv2d, conv_transpose2d, BatchNorm2d and Embedding on small float64 problems.

    python tests/reference/make_torch_reference_conv.py     # needs torch (pip install torch==2.13.0)

writes ``torch_reference_conv.npz``; tests/test_conv_pytorch.py replays every case with minigan,
without torch. The cases are the tables below (tests/test_conv.py checks gradients on the same
ones), and each case's inputs come from ``inputs(case)``, so the recording and the replay cannot
drift apart. Keys, for a convolution case ``c``: ``c.y`` (forward), ``c.gx``, ``c.gw``, ``c.gb``
(gradients of sum(r * y)), ``c.hx``, ``c.hw`` (second order: gradients of
sum(s_x * gx) + sum(s_w * gw), taken with create_graph=True). BatchNorm2d and Embedding keys are
described where they are written.
"""
import json
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_reference_conv.npz")

# (name, x shape, weight shape, keyword arguments): PyTorch layouts, weight (out, in / groups, kh, kw)
CONV_CASES = [
    ("basic_3x3", (2, 2, 5, 5), (3, 2, 3, 3), {}),
    ("stride2_pad1_odd", (2, 2, 7, 6), (2, 2, 3, 3), {"stride": 2, "padding": 1}),
    ("one_by_one", (2, 3, 4, 5), (2, 3, 1, 1), {}),
    ("stride_over_kernel", (1, 2, 7, 7), (2, 2, 2, 2), {"stride": 3}),
    ("dilation", (1, 2, 7, 6), (2, 2, 3, 2), {"dilation": (2, 1), "padding": (2, 1)}),
    ("asymmetric", (2, 1, 6, 5), (3, 1, 2, 3), {"stride": (2, 1), "padding": (0, 1)}),
    ("groups", (1, 4, 5, 5), (4, 2, 3, 3), {"stride": 2, "padding": 1, "groups": 2}),
    ("unread_rows", (1, 2, 6, 6), (2, 2, 3, 3), {"stride": 2}),  # the last row and column reach no window
    ("kernel_is_input", (2, 2, 3, 3), (2, 2, 3, 3), {}),
    ("more_out_channels", (2, 1, 5, 4), (6, 1, 2, 2), {"stride": 2, "padding": 1}),  # C kh kw < O: batch first
    ("dcgan_k4s2p1", (2, 2, 8, 8), (3, 2, 4, 4), {"stride": 2, "padding": 1}),
    ("padding_same", (1, 2, 5, 4), (2, 2, 3, 3), {"padding": "same"}),
    ("unbatched", (2, 5, 5), (2, 2, 3, 3), {"padding": 1}),
]
# (name, x shape, weight shape, keyword arguments): weight (in, out / groups, kh, kw)
CONV_T_CASES = [
    ("t_basic", (2, 2, 3, 4), (2, 3, 3, 3), {}),
    ("t_stride2_pad1_outpad1", (2, 2, 3, 3), (2, 2, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}),
    ("t_one_by_one_stride3", (1, 2, 3, 3), (2, 1, 1, 1), {"stride": 3, "output_padding": 2}),
    ("t_dilation_outpad", (1, 2, 3, 3), (2, 2, 2, 2), {"dilation": 2, "output_padding": 1}),  # output_padding >= stride
    ("t_groups", (1, 4, 3, 3), (4, 1, 3, 3), {"stride": 2, "groups": 2}),
    ("t_dcgan_k4s2p1", (2, 3, 3, 3), (3, 2, 4, 4), {"stride": 2, "padding": 1}),
    ("t_asymmetric", (1, 2, 3, 4), (2, 2, 2, 3), {"stride": (1, 2), "padding": (0, 1)}),
    ("t_few_out_channels", (2, 4, 3, 3), (4, 1, 2, 2), {"stride": 2}),  # C kh kw < O: batch first
    ("t_unbatched", (2, 3, 3), (2, 2, 3, 3), {"stride": 2}),
]
# (name, BatchNorm2d keyword arguments): three training batches, then eval
BN_CASES = [("bn2d", {}), ("bn2d_cma", {"momentum": None}), ("bn2d_notrack", {"track_running_stats": False}),
            ("bn2d_noaffine", {"affine": False, "momentum": 0.3})]
BN_SHAPE = (3, 2, 4, 5)
EMB_INDICES = np.array([[1, 4, 1], [0, 2, 4]])  # repeated labels: their gradients add up
EMB_CASES = [("emb", {}), ("emb_padding", {"padding_idx": 4}), ("emb_padding_negative", {"padding_idx": -4})]
EMB_SHAPE = (5, 3)
# (name, layer, arguments): layers whose fan_in (PyTorch's, from which the init bounds follow) is recorded
INIT_CASES = [("conv", "Conv2d", (6, 8, 3)), ("conv_groups", "Conv2d", (6, 8, (2, 3), 1, 0, 1, 2)),
              ("convT", "ConvTranspose2d", (8, 6, 4)), ("convT_groups", "ConvTranspose2d", (8, 6, 3, 1, 0, 0, 2))]


def inputs(case, transposed):
    """x, weight, bias, the output projection r and the second-order projections (s_x, s_w) of a case."""
    name, x_shape, w_shape, kwargs = case
    rng = np.random.default_rng(sum(map(ord, name)))
    out_channels = w_shape[1] * kwargs.get("groups", 1) if transposed else w_shape[0]
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(out_channels)
    return x, w, b, rng, rng.standard_normal(x_shape), rng.standard_normal(w_shape)


def bn_batches():
    rng = np.random.default_rng(11)
    return [rng.standard_normal(BN_SHAPE) * 2.0 + 0.5 for _ in range(3)], rng.standard_normal(BN_SHAPE)


BN_WEIGHT, BN_BIAS = np.array([1.5, -0.5]), np.array([0.1, -0.3])
EMB_WEIGHT = np.random.default_rng(12).standard_normal(EMB_SHAPE)
EMB_R = np.random.default_rng(13).standard_normal(EMB_INDICES.shape + (EMB_SHAPE[1],))


def main():
    import torch
    import torch.nn.functional as F

    out = {}
    for transposed, table, fn in ((False, CONV_CASES, F.conv2d), (True, CONV_T_CASES, F.conv_transpose2d)):
        for case in table:
            name, kwargs = case[0], case[3]
            x, w, b, rng, s_x, s_w = inputs(case, transposed)
            tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
            y = fn(tx, tw, tb, **kwargs)
            r = torch.tensor(rng.standard_normal(tuple(y.shape)))
            gx, gw, gb = torch.autograd.grad((y * r).sum(), [tx, tw, tb], create_graph=True)
            hx, hw = torch.autograd.grad((gx * torch.tensor(s_x)).sum() + (gw * torch.tensor(s_w)).sum(), [tx, tw])
            for key, value in (("y", y), ("gx", gx), ("gw", gw), ("gb", gb), ("hx", hx), ("hw", hw)):
                out[f"{name}.{key}"] = value.detach().numpy()

    # BatchNorm2d: per batch i, the output y{i} and input gradient gx{i} of sum(r * y); after three
    # batches the accumulated weight/bias gradients, running statistics, eval output and state_dict keys
    xs, r = bn_batches()
    for name, kwargs in BN_CASES:
        bn = torch.nn.BatchNorm2d(2, **kwargs).double()
        if bn.weight is not None:
            with torch.no_grad():
                bn.weight.copy_(torch.tensor(BN_WEIGHT))
                bn.bias.copy_(torch.tensor(BN_BIAS))
        for i, x in enumerate(xs):
            t = torch.tensor(x, requires_grad=True)
            y = bn(t)
            (y * torch.tensor(r)).sum().backward()
            out[f"{name}.y{i}"], out[f"{name}.gx{i}"] = y.detach().numpy(), t.grad.numpy()
        if bn.weight is not None:
            out[f"{name}.gw"], out[f"{name}.gb"] = bn.weight.grad.numpy(), bn.bias.grad.numpy()
        bn.eval()
        out[f"{name}.eval"] = bn(torch.tensor(xs[0])).detach().numpy()
        if bn.running_mean is not None:
            out[f"{name}.rm"], out[f"{name}.rv"] = bn.running_mean.numpy(), bn.running_var.numpy()
            out[f"{name}.nbt"] = bn.num_batches_tracked.numpy()
        out[f"{name}.keys"] = np.array(list(bn.state_dict().keys()))

    # Embedding with weight EMB_WEIGHT (the padding row as given): output, weight gradient of
    # sum(EMB_R * out), the padding_idx PyTorch keeps, and the state_dict keys
    for name, kwargs in EMB_CASES:
        emb = torch.nn.Embedding(*EMB_SHAPE, **kwargs).double()
        with torch.no_grad():
            emb.weight.copy_(torch.tensor(EMB_WEIGHT))
        y = emb(torch.tensor(EMB_INDICES))
        (y * torch.tensor(EMB_R)).sum().backward()
        out[f"{name}.y"], out[f"{name}.gw"] = y.detach().numpy(), emb.weight.grad.numpy()
        out[f"{name}.padding_idx"] = np.array(-1 if emb.padding_idx is None else emb.padding_idx)
        out[f"{name}.keys"] = np.array(list(emb.state_dict().keys()))
    fresh = torch.nn.Embedding(5, 3, padding_idx=2)
    out["emb_fresh_padding_row"] = fresh.weight.detach().numpy()[2]

    # layers: fan_in as PyTorch computes it for the init bound, weight/bias shapes, state_dict keys
    for name, layer, args in INIT_CASES:
        module = getattr(torch.nn, layer)(*args)
        fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(module.weight)
        out[f"{name}.fan_in"] = np.array(fan_in)
        out[f"{name}.weight_shape"] = np.array(module.weight.shape)
        out[f"{name}.keys"] = np.array(list(module.state_dict().keys()))
    out["conv_nobias.keys"] = np.array(list(torch.nn.Conv2d(2, 3, 3, bias=False).state_dict().keys()))
    out["meta"] = np.array(json.dumps({"torch": torch.__version__}))
    np.savez_compressed(OUT, **out)
    print(f"wrote {len(out)} arrays to {OUT}")


if __name__ == "__main__":
    main()
