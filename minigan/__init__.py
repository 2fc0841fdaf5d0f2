"""minigan: learn GANs by building one — a small NumPy/CuPy autograd engine and the GAN game."""
from minigan.backend import get_backend, manual_seed, set_backend
from minigan.gradcheck import gradcheck, gradgradcheck
from minigan.ops import (abs, clip, concatenate, exp, leaky_relu, linear, log, log_sigmoid, matmul,
                         maximum, mean, minimum, relu, sigmoid, softplus, sqrt, stack, sum, tanh, where)
from minigan.autograd import grad
from minigan.creation import full, ones, ones_like, rand, randn, tensor, zeros, zeros_like
from minigan.tensor import (Tensor, enable_grad, get_default_dtype, is_grad_enabled, no_grad, set_default_dtype,
                            set_grad_enabled)

__version__ = "0.1.0"
