"""Record PyTorch 2.13 BatchNorm1d on (N, C, L) input (momentum 0.1, momentum=None, track_running_stats=False)
into torch_reference_batchnorm3d.npz: outputs and input gradients over three training batches, the
weight gradient, running statistics, eval output and state_dict keys. Replayed by tests/test_nn.py.

    python tests/reference/make_torch_reference_batchnorm3d.py     # needs torch
"""
import numpy as np, torch
rng=np.random.default_rng(3)
out={}
xs=[rng.standard_normal((4,3,5)) for _ in range(3)]
r=rng.standard_normal((4,3,5))
for name, kw in [("bn3d",dict()),("bn3d_cma",dict(momentum=None)),("bn3d_notrack",dict(track_running_stats=False))]:
    bn=torch.nn.BatchNorm1d(3, **kw).double()
    with torch.no_grad(): bn.weight.copy_(torch.tensor([1.5,-0.5,2.0], dtype=torch.float64)); bn.bias.copy_(torch.tensor([0.1,0.2,-0.3], dtype=torch.float64))
    for i,x in enumerate(xs):
        t=torch.tensor(x,requires_grad=True); y=bn(t); (y*torch.tensor(r)).sum().backward()
        out[f"{name}.y{i}"]=y.detach().numpy(); out[f"{name}.gx{i}"]=t.grad.numpy()
    out[f"{name}.gw"]=bn.weight.grad.numpy()
    bn.eval(); out[f"{name}.eval"]=bn(torch.tensor(xs[0])).detach().numpy()
    if bn.running_mean is not None: out[f"{name}.rm"]=bn.running_mean.numpy(); out[f"{name}.rv"]=bn.running_var.numpy()
    out[f"{name}.keys"]=np.array(list(bn.state_dict().keys()))
np.savez_compressed(__file__.replace("make_torch_reference_batchnorm3d.py", "torch_reference_batchnorm3d.npz"), **out)
print(len(out))
