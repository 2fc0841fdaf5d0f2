"""minigan: learn GANs by building one — a small NumPy/CuPy autograd engine and the GAN game."""
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
