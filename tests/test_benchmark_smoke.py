"""Smoke tests of benchmarks/bench_gan_iteration.py and bench_conv.py: they run, and their correctness cross-checks pass.

No timing is asserted: times on shared machines drift too much to be a test.
"""
import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_gan_iteration.py"


def _load(name):
    """A benchmark script as a module (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, SCRIPT.parent / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    return _load("bench_gan_iteration")


def test_quick_run_exits_cleanly_and_cross_check_passes(bench, capsys):
    # --no-torch: PyTorch's cross-check is exercised by the real run; here it would only add seconds
    assert bench.main(["--quick", "--no-torch", "--batch-sizes", "8", "--repeats", "1", "--check-batch", "8",
                       "--memory-iters", "2"]) == 0
    out = capsys.readouterr().out
    assert "cross-check passed: minigan matches numpy" in out
    assert "minigan/numpy" in out and "memory: minigan" in out


def test_cross_check_catches_a_wrong_reference(bench, monkeypatch):
    """The check is not vacuous: a reference with a slightly wrong LeakyReLU slope fails it."""

    class WrongSlope(bench.NumpyGAN):
        def step(self, real, z):
            monkeypatch.setattr(bench, "SLOPE", 0.21)  # read by FlatMLP.forward, the reference only
            try:
                return super().step(real, z)
            finally:
                monkeypatch.setattr(bench, "SLOPE", 0.2)

    with pytest.raises(AssertionError, match="cross-check FAILED"):
        bench.cross_check([WrongSlope, bench.MiniganGAN], batch=8, iters=1)



@pytest.fixture(scope="module")
def bench_conv():
    return _load("bench_conv")


def test_conv_benchmark_quick_run_prints_a_ratio_per_layer(bench_conv, capsys):
    bench_conv.main(["--quick", "--repeats", "1"])
    out = capsys.readouterr().out
    assert "minigan/ref" in out and all(name in out for name, *_ in bench_conv.LAYERS)


def test_conv_benchmark_cross_check_catches_a_wrong_reference(bench_conv):
    """The check is not vacuous: the reference with its weight gradient off by 1e-4 fails it."""
    layer, x, dy = bench_conv.make_layer(False, 2, 3, 6, 2, 0)
    y, dx, dw, db = bench_conv.reference_conv(x, layer.weight.numpy(), layer.bias.numpy(), dy)
    got = [t.numpy() for t in bench_conv.minigan_step(layer, bench_conv.mg.tensor(x, requires_grad=True),
                                                      bench_conv.mg.tensor(dy))]
    bench_conv.cross_check("ok", got, (y, dx, dw, db))
    with pytest.raises(SystemExit, match="cross-check FAILED: wrong dw"):
        bench_conv.cross_check("wrong", got, (y, dx, dw * (1 + 1e-4), db))


# --- benchmarks/bench_gpu.py: its gates, run on the CPU with NumPy standing in for the GPU side -----
@pytest.fixture(scope="module")
def bench_gpu():
    return _load("bench_gpu")


def test_bench_gpu_kernel_gate_has_inputs_for_every_kernel_and_catches_a_wrong_one(bench_gpu):
    import types

    import numpy as np

    import minigan as mg
    host = types.SimpleNamespace(asarray=np.array, asnumpy=np.asarray)   # "device" arrays: NumPy copies
    numpy_backend = mg.get_backend()
    bench_gpu.gate_kernels(host, numpy_backend)   # the twins against themselves: every kernel runs

    class OneWrong:
        def kernel(self, name):
            twin = numpy_backend.kernel(name)
            return (lambda g, t: twin(g, t) * 1.001) if name == "tanh_backward" else twin
    with pytest.raises(AssertionError, match="kernel gate FAILED: tanh_backward"):
        bench_gpu.gate_kernels(host, OneWrong())


def test_bench_gpu_step_gate_runs_on_the_strict_stand_in(bench_gpu, capsys):
    bench_gpu.gate_numpy_vs("strict", batch=8, iters=1)
    assert "step gate passed: strict matches numpy" in capsys.readouterr().out
