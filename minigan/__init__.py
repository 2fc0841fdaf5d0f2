"""minigan: learn GANs by building one — a small NumPy/CuPy autograd engine and the GAN game."""
import sys as _sys

# NOTE: `python -m minigan.grade` puts the current folder first on sys.path; run from a folder of
# submissions, a student's numpy.py there would be imported by the grader itself (the next line
# imports numpy). The grader never needs the current folder on its path, so it is dropped first.
# (A student's own minigan/ folder there cannot be stopped from here: run the minigan-grade script.)
_m = _sys.orig_argv.index("-m") if "-m" in _sys.orig_argv else -1
if _m > 0 and _sys.orig_argv[_m + 1:_m + 2] == ["minigan.grade"]:
    _sys.path[:] = [_p for _p in _sys.path if _p not in ("", ".", __import__("os").getcwd())]
del _m
from minigan.backend import get_backend, manual_seed, set_backend
from minigan.tensor import Tensor, enable_grad, grad, is_grad_enabled, no_grad, set_grad_enabled
from minigan import ops  # gives Tensor its operators and methods
from minigan.ops import (abs, amax, amin, argmax, argmin, cat, clamp, clip, concatenate, exp, flatten,
                         leaky_relu, linear, log, log_sigmoid, log_softmax, matmul, max, maximum, mean, min,
                         minimum, norm, permute, relu, reshape, sigmoid, softmax, softplus, sqrt, squeeze,
                         stack, std, sum, tanh, transpose, unsqueeze, var, where)
from minigan.creation import get_default_dtype, set_default_dtype
from minigan.creation import empty, full, ones, ones_like, rand, randn, tensor, zeros, zeros_like
from minigan.gradcheck import gradcheck, gradgradcheck
from minigan import nn, optim

__version__ = "0.1.0"
