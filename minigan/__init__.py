"""minigan: learn GANs by building one — a small NumPy/CuPy autograd engine and the GAN game."""
from minigan.backend import get_backend, manual_seed, set_backend
from minigan.gradcheck import gradcheck, gradgradcheck
from minigan.ops import (abs, clip, concatenate, exp, leaky_relu, linear, log, log_sigmoid, matmul,
                         maximum, mean, minimum, relu, sigmoid, softplus, sqrt, stack, sum, tanh, where)
from minigan.tensor import (Tensor, enable_grad, full, get_default_dtype, grad, is_grad_enabled, no_grad,
                            ones, ones_like, rand, randn, set_default_dtype, set_grad_enabled, tensor,
                            zeros, zeros_like)

__version__ = "0.1.0"
