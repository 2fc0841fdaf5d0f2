"""The GPU backend's random state in checkpoints, and its kernel compilation -- checked on the CPU
against a stand-in ``cupy`` module (what it stands in for is named on each piece). On a real GPU the
same path is exercised by the CuPy-parametrized tests and benchmarks/bench_gpu.py.

cuRAND's generators keep one state per generator thread in a device array (CuPy's
``bit_generator._state``); a checkpoint carries a host copy of it, and restoring writes it back in
place, so a resumed run draws what a straight one would. The NumPy path is checked as it runs.
"""
import sys
import types

import numpy as np
import pytest

import minigan as mg
from minigan import backend as backend_module
from minigan.gan import load_checkpoint, save_checkpoint
from minigan.kernels import KERNELS
from minigan.kernels.device_rng import device_rng_state, set_device_rng_state


class XORWOW:
    """Stands in for cupy.random.XORWOW: its whole state is ``_state``, an int8 array (per-thread
    states on a GPU), which every draw reads and advances."""

    def __init__(self, seed=None, *, size=-1):
        self.size = size
        self._state = np.random.default_rng(seed).integers(-128, 128, 48 * 4, dtype=np.int8)


class Generator:
    """Stands in for cupy.random.Generator: draws determined by, and advancing, the bit generator's state."""

    def __init__(self, bit_generator):
        self.bit_generator = bit_generator

    def _rng(self):
        state = self.bit_generator._state
        rng = np.random.default_rng(list(state.view(np.uint8)))
        state[...] = rng.integers(-128, 128, state.shape, dtype=np.int8)   # advanced in place
        return rng

    def standard_normal(self, shape, dtype):
        return self._rng().standard_normal(shape, dtype=dtype)

    def random(self, shape, dtype):
        return self._rng().random(shape, dtype=dtype)


@pytest.fixture
def fake_cupy(monkeypatch):
    compiled = []
    cupy = types.ModuleType("cupy")
    cupy.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=lambda: 1))
    cupy.random = types.SimpleNamespace(XORWOW=XORWOW, Generator=Generator)
    cupy.ndarray, cupy.asnumpy, cupy.asarray = np.ndarray, np.array, np.asarray
    cupy.ElementwiseKernel = lambda *args: compiled.append(("elementwise", args)) or len(compiled)
    cupy.ReductionKernel = lambda *args: compiled.append(("reduction", args)) or len(compiled)
    cupy.compiled = compiled
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    return cupy


def test_a_gpu_run_resumed_from_a_checkpoint_draws_what_a_straight_one_would(fake_cupy, tmp_path):
    be = backend_module.CupyBackend()
    assert be.rng.bit_generator.size == be.RNG_THREADS   # a bounded state: ~48 bytes per generator thread
    be.manual_seed(7)
    straight = [be.randn((3, 2), np.float32) for _ in range(4)]
    be.manual_seed(7)
    first = [be.randn((3, 2), np.float32) for _ in range(2)]
    save_checkpoint(tmp_path / "ck.npz", {"rng": be.get_rng_state()})
    be.manual_seed(12345)   # a fresh process, seeded anew before the checkpoint is loaded
    be.set_rng_state(load_checkpoint(tmp_path / "ck.npz")["rng"])
    resumed = first + [be.randn((3, 2), np.float32) for _ in range(2)]
    for a, b in zip(straight, resumed):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(straight[0], straight[1])   # the draws do move on


def test_a_gpu_checkpoint_of_minigan_before_device_states_is_reseeded(fake_cupy):
    be = backend_module.CupyBackend()
    be.set_rng_state({"seed": 3})
    a = be.rand((4,), np.float32)
    be.manual_seed(3)
    np.testing.assert_array_equal(a, be.rand((4,), np.float32))


def test_restoring_a_state_that_does_not_fit_says_why():
    gen = XORWOW(1)
    with pytest.raises(ValueError, match="saved on another backend.*resume on the backend it was saved on"):
        set_device_rng_state(gen, mg.get_backend().get_rng_state(), np.asarray)   # NumPy's PCG64 state
    small = XORWOW(1)
    small._state = small._state[:10]
    with pytest.raises(ValueError, match="a XORWOW of 10 bytes, this GPU's generator a XORWOW of 192"):
        set_device_rng_state(gen, device_rng_state(small, np.asarray), np.asarray)
    with pytest.raises(RuntimeError, match="cannot read it"):
        device_rng_state(object(), np.asarray)


def test_the_state_is_copied_out_and_written_back_in_place():
    gen = XORWOW(5)
    own = gen._state
    saved = device_rng_state(gen, np.asarray)
    assert saved["bit_generator"] == "XORWOW" and saved["state"] is not own
    own[...] = 0
    set_device_rng_state(gen, saved, np.asarray)
    assert gen._state is own and np.array_equal(own, saved["state"]) and own.any()


def test_kernels_are_compiled_once_each_from_their_cuda_bodies(fake_cupy):
    be = backend_module.CupyBackend()
    assert be.kernel("sigmoid") is be.kernel("sigmoid") and be.kernel("bce_sum") == 2
    (kind, args), (kind2, args2) = fake_cupy.compiled
    spec = KERNELS["sigmoid"]
    assert kind == "elementwise" and args == (spec.in_params, spec.out_params, spec.operation, "minigan_sigmoid")
    spec = KERNELS["bce_sum"]   # ReductionKernel(in, out, map_expr, reduce_expr, post_map_expr, identity, name)
    assert kind2 == "reduction" and args2 == (spec.in_params, spec.out_params, spec.operation, *spec.reduce,
                                              "minigan_bce_sum")


def test_numpy_resume_through_a_checkpoint_is_bit_identical(tmp_path):
    be = mg.get_backend()
    mg.manual_seed(3)
    straight = [mg.randn(5).numpy() for _ in range(3)]
    mg.manual_seed(3)
    first = mg.randn(5).numpy()
    save_checkpoint(tmp_path / "ck.npz", {"rng": be.get_rng_state()})
    mg.manual_seed(99)
    be.set_rng_state(load_checkpoint(tmp_path / "ck.npz")["rng"])
    for a, b in zip(straight, [first, mg.randn(5).numpy(), mg.randn(5).numpy()]):
        np.testing.assert_array_equal(a, b)
