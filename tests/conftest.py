"""Shared fixtures: backends as a pytest parameter, float64 for gradient checks."""
import pytest

import minigan as mg
from minigan import backend as backend_module
import minigan.strict  # noqa: F401  registers the "strict" test backend


def _cupy_usable():
    try:
        backend_module.CupyBackend()
    except Exception:
        return False
    return True


CUPY = pytest.param("cupy", marks=[pytest.mark.gpu, pytest.mark.skipif(not _cupy_usable(), reason="needs CuPy and a GPU")])
# "strict" behaves like CuPy (refuses NumPy arrays and implicit conversion) without a GPU
BACKENDS = ["numpy", "strict", CUPY]


@pytest.fixture(autouse=True)
def _reset_global_state():
    """Every test starts on NumPy, float32, grad mode on, seed 0 — and leaves it that way."""
    mg.set_backend("numpy")
    mg.set_default_dtype("float32")
    mg.manual_seed(0)
    yield
    mg.set_backend("numpy")
    mg.set_default_dtype("float32")


@pytest.fixture(params=BACKENDS)
def backend(request):
    be = mg.set_backend(request.param)
    be.manual_seed(0)
    return be


@pytest.fixture
def float64():
    mg.set_default_dtype("float64")
