"""Array backends: the ONLY module that knows which array library is in use.

A backend bundles everything device-specific:

* ``xp``            the array namespace (``numpy`` or ``cupy``; both speak the NumPy API),
* the random generator (seeded with :func:`manual_seed`, state saved/restored for checkpoints),
* ``asarray`` / ``to_numpy``, the one way onto and the one way off the device,
* ``synchronize`` (a no-op on the CPU) and ``index_add`` (scatter-add, spelled differently on GPUs),
* ``kernel(name)``: a fused kernel of :mod:`minigan.kernels` (its NumPy twin here, one CUDA kernel on CuPy).

Everything else in minigan asks for ``tensor.backend.xp`` or ``get_backend().xp`` and never
imports an array library's device code itself.
"""
import numpy as np

from minigan.kernels import KERNELS
from minigan.kernels.device_rng import device_rng_state, set_device_rng_state


class Backend:
    """The NumPy backend; other backends override the few device-specific methods."""

    name = "numpy"

    def __init__(self):
        self.xp = np
        self.array_type = np.ndarray
        self.manual_seed(0)

    # --- moving data on and off the device -------------------------------------------------
    def asarray(self, data, dtype=None):
        """Host data (NumPy array, list, scalar) -> a new array of this backend."""
        return self.xp.array(data, dtype=dtype)

    def to_numpy(self, array):
        """Device array -> NumPy array on the host (the single conversion point)."""
        return np.asarray(array)

    def is_array(self, obj): return isinstance(obj, self.array_type)

    def synchronize(self):
        """Wait for queued device work (nothing to wait for on the CPU)."""

    # --- kernels that differ between libraries ------------------------------------------------
    def index_add(self, target, index, values):
        """target[index] += values, adding repeated indices up (unlike plain ``+=``)."""
        np.add.at(target, index, values)

    def kernel(self, name):
        """The fused kernel ``name`` of minigan.kernels, callable on this backend's arrays."""
        return KERNELS[name].twin

    # --- randomness --------------------------------------------------------------------------
    def manual_seed(self, seed): self.rng = np.random.Generator(np.random.PCG64(seed))
    def randn(self, shape, dtype): return self.rng.standard_normal(shape, dtype=dtype)

    def rand(self, shape, dtype):
        """Uniform on [0, 1)."""
        return self.rng.random(shape, dtype=dtype)

    def get_rng_state(self): return self.rng.bit_generator.state
    def set_rng_state(self, state): self.rng.bit_generator.state = state
    def __repr__(self): return f"<minigan backend {self.name!r}>"


class CupyBackend(Backend):
    """CuPy on an NVIDIA GPU. Constructed only when asked for, so CPU users never import cupy."""

    name = "cupy"

    def __init__(self):
        try:
            import cupy
        except ImportError as err:
            raise RuntimeError(f"backend 'cupy' needs CuPy, which is not installed ({err}); "
                               'install it with: pip install "minigan[cuda12]"') from None
        n_gpus, reason = 0, "no CUDA device found"
        try:
            n_gpus = cupy.cuda.runtime.getDeviceCount()
        except Exception as err:  # the driver/runtime raises several types; the message is what matters
            reason = f"{type(err).__name__}: {err}"
        if n_gpus == 0:
            raise RuntimeError(f"backend 'cupy': CuPy is installed but no usable GPU was found ({reason}); "
                               f"use set_backend('numpy') or --backend numpy on this machine")
        self.cupy = self.xp = cupy
        self.array_type = cupy.ndarray
        self._kernels = {}
        self.manual_seed(0)

    def to_numpy(self, array): return self.cupy.asnumpy(array)
    def synchronize(self): self.cupy.cuda.get_current_stream().synchronize()

    def index_add(self, target, index, values):
        import cupyx  # part of the cupy distribution
        cupyx.scatter_add(target, index, values)

    def kernel(self, name):
        """The CUDA side of minigan.kernels' ``name``: one cupy.ElementwiseKernel (ReductionKernel for a
        reduction), compiled on first use."""
        if name not in self._kernels:
            spec = KERNELS[name]
            make = self.cupy.ElementwiseKernel if spec.reduce is None else self.cupy.ReductionKernel
            self._kernels[name] = make(spec.in_params, spec.out_params, spec.operation, *(spec.reduce or ()),
                                       f"minigan_{name}")
        return self._kernels[name]

    # randomness: cuRAND's XORWOW through cupy.random.Generator, whose whole state is one device array
    # (one curandState per generator thread), so a checkpoint can hold it and a resumed run continue
    # bit-identically. RNG_THREADS bounds that state (~48 bytes a thread) and the threads drawing.
    RNG_THREADS = 1 << 14

    def manual_seed(self, seed):
        self.rng = self.cupy.random.Generator(self.cupy.random.XORWOW(seed, size=self.RNG_THREADS))

    # randn and rand: Backend's (cupy.random.Generator has NumPy's methods)
    def get_rng_state(self): return device_rng_state(self.rng.bit_generator, self.to_numpy)
    def set_rng_state(self, state):
        if set(state) == {"seed"}:  # a checkpoint of minigan before device states: reseeded, as then
            return self.manual_seed(state["seed"])
        set_device_rng_state(self.rng.bit_generator, state, self.cupy.asarray)


# name -> constructor. Other backends (a test-only one, say) add themselves with register_backend:
# this module never names them.
_FACTORIES = {"numpy": Backend, "cupy": CupyBackend}
_instances = {}
_current = None


def register_backend(name, factory):
    """Make ``set_backend(name)`` construct ``factory()`` (on first use)."""
    _FACTORIES[name] = factory


def backend_by_name(name):
    """The backend called ``name`` (created on first use), without making it the current one."""
    if name not in _FACTORIES:
        raise ValueError(f"unknown backend {name!r}; valid names: {', '.join(_FACTORIES)}")
    if name not in _instances:
        _instances[name] = _FACTORIES[name]()
    return _instances[name]


def created_backends():
    """The backends used so far in this process (to recognize an array's origin)."""
    return tuple(_instances.values())


def set_backend(name):
    """Select the array backend for new tensors: "numpy" (default), "cupy", or a registered one."""
    global _current
    _current = backend_by_name(name)
    return _current


def get_backend():
    """The backend new tensors are created on."""
    return _current if _current is not None else set_backend("numpy")


def backend_of_array(data):
    """The backend whose array type ``data`` is (the current one first), or a clear TypeError."""
    current = get_backend()
    for instance in (current,) + created_backends():
        if instance.is_array(data):
            return instance
    raise TypeError(f"Tensor data must be an array of the current backend ({current.name!r}), "
                    f"got {type(data).__name__}; create tensors with minigan.tensor(...)")


def common_backend(op_name, tensors):
    """The one backend all ``tensors`` live on; mixing two is an error naming the fix."""
    backend = tensors[0].backend
    for t in tensors[1:]:
        if t.backend is not backend:
            raise RuntimeError(f"{op_name}: tensors live on different backends "
                               f"({backend.name!r} and {t.backend.name!r}); move one with .to({backend.name!r})")
    return backend


def manual_seed(seed):
    """Seed the current backend's generator (used by randn/rand, Dropout, Linear init...)."""
    get_backend().manual_seed(seed)
