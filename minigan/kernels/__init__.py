"""Fused kernels: each a NumPy function (the readable reference, and what runs on the CPU) beside the
CUDA body that CuPy compiles from it into one ``ElementwiseKernel`` (or ``ReductionKernel``).

On a GPU a small MLP is bound by kernel launches, not arithmetic: ``sigmoid`` written as NumPy calls
is seven launches, an Adam step twelve per parameter. Each kernel here is ONE launch on CuPy. On the
CPU a twin makes the passes NumPy would, into ``out=`` buffers instead of fresh temporaries.

The ops ask for a kernel by name, ``backend.kernel("sigmoid")(x)``; backend.py (the only module that
imports CuPy) compiles the CUDA side. A twin and its CUDA body take the same arguments in the same
order (arrays and scalars, then the arrays they update in place) and return the same outputs. The
twins are checked against the unfused ops in tests/test_kernels.py; the CUDA bodies against the twins
by benchmarks/bench_gpu.py on a GPU. Twins get raw NumPy arrays (the strict test backend unwraps).

Kept outside the core a student reads first (tests/test_core_second_pass.py counts its lines): the
core's ops and optimizers say *what* they compute; these say how, in one pass. ``flat`` lays an
optimizer's parameters out in one buffer, for its kernel; ``device_rng`` saves a GPU generator's state.
"""
from minigan.kernels import activations, normalization, optimizers  # noqa: F401  (each registers its kernels)
from minigan.kernels.registry import KERNELS, Kernel

__all__ = ["KERNELS", "Kernel"]
