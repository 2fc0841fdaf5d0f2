"""Backends: selection, errors, seeding, the strict GPU stand-in, and the one-importer rule."""
import ast
import builtins
import pathlib

import numpy as np
import pytest

import minigan as mg
from minigan import backend as backend_module
from minigan.strict import MixedArrayError, StrictArray

PACKAGE = pathlib.Path(mg.__file__).parent


def test_unknown_backend_lists_valid_names():
    with pytest.raises(ValueError, match="unknown backend 'torch'; valid names: numpy, cupy, strict"):
        mg.set_backend("torch")


def test_cupy_missing_says_how_to_install(monkeypatch):
    real_import = builtins.__import__

    def no_cupy(name, *args, **kwargs):
        if name == "cupy" or name.startswith("cupy."):
            raise ImportError("No module named 'cupy'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_cupy)
    with pytest.raises(RuntimeError, match=r"CuPy, which is not installed.*pip install \"minigan\[cuda12\]\""):
        backend_module.CupyBackend()


def test_cupy_without_gpu_says_so(monkeypatch):
    import sys
    import types

    class FakeRuntime:
        @staticmethod
        def getDeviceCount():
            raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")

    fake = types.ModuleType("cupy")
    fake.cuda = types.SimpleNamespace(runtime=FakeRuntime)
    monkeypatch.setitem(sys.modules, "cupy", fake)
    with pytest.raises(RuntimeError, match="installed but no usable GPU.*cudaErrorNoDevice.*backend numpy"):
        backend_module.CupyBackend()


def test_get_backend_and_default():
    assert mg.get_backend().name == "numpy"
    assert mg.set_backend("strict") is mg.get_backend()


def test_manual_seed_makes_draws_reproducible(backend):
    mg.manual_seed(123)
    a = mg.randn(4, 3).numpy()
    mg.manual_seed(123)
    np.testing.assert_array_equal(a, mg.randn(4, 3).numpy())
    assert a.dtype == np.float32 and a.shape == (4, 3)
    u = mg.rand(1000).numpy()
    assert 0.0 <= u.min() and u.max() < 1.0


def test_rng_state_round_trip():
    be = mg.get_backend()
    state = be.get_rng_state()
    a = mg.randn(5).numpy()
    be.set_rng_state(state)
    np.testing.assert_array_equal(a, mg.randn(5).numpy())


def test_numpy_always_returns_host_arrays(backend):
    t = mg.tensor([1.0, 2.0])
    assert type(t.numpy()) is np.ndarray
    assert type(t.sum().numpy()) is np.ndarray


def test_tensors_of_different_backends_never_mix():
    a = mg.tensor([1.0])
    mg.set_backend("strict")
    b = mg.tensor([1.0])
    with pytest.raises(RuntimeError, match="different backends \\('numpy' and 'strict'\\).*to\\('numpy'\\)"):
        a + b
    np.testing.assert_array_equal((a + b.to("numpy")).numpy(), [2.0])
    assert mg.get_backend().name == "strict"  # .to() did not switch the global backend


def test_strict_backend_refuses_host_arrays_like_cupy():
    be = mg.set_backend("strict")
    device = be.xp.ones(3)
    assert isinstance(device, StrictArray)
    with pytest.raises(MixedArrayError, match="NumPy array of shape \\(3,\\) was mixed"):
        device + np.ones(3)
    with pytest.raises(MixedArrayError):
        be.xp.concatenate([device, np.ones(3)])
    with pytest.raises(MixedArrayError, match="implicit conversion"):
        np.asarray(device)
    assert isinstance(device.sum(), StrictArray)  # reductions stay on the device, as in CuPy
    t = mg.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="current backend is 'strict'"):
        t * np.ones(2)


def test_only_the_backend_module_imports_cupy():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n == "cupy" or n.startswith(("cupy.", "cupyx")) for n in names) and path.name != "backend.py":
                offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []


def test_importing_minigan_imports_no_cupy_and_prints_nothing():
    import subprocess
    import sys
    code = "import sys, minigan, minigan.nn, minigan.optim; print(any(m.startswith('cupy') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "False\n" and out.stderr == ""
