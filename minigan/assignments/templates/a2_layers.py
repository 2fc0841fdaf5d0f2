"""Assignment A2: a Linear layer, binary cross entropy and one Adam step, written by hand.

These three are what a GAN is trained with: the discriminator and the generator are stacks of
Linear layers, the discriminator's loss is binary cross entropy, and both players follow Adam.
minigan has its own versions (nn.Linear, nn.functional.binary_cross_entropy, optim.Adam); the
grader compares yours with them on random inputs and checks gradients against finite differences.

Build everything from minigan Tensor operations (``x @ w``, ``w.T``, ``+``, ``.log()``, ``.mean()``,
``mg.maximum``); their backward passes are already written, so your layer and loss get correct,
differentiable gradients for free. Adam works on plain NumPy arrays.

Grade the file:  python -m minigan.grade A2 a2_layers.py
"""
import math

import numpy as np

import minigan as mg
from minigan import nn


def uniform(shape, bound):
    """An array (of the current backend, in the default dtype) of the given shape drawn from
    U(-bound, bound) with minigan's generator, so ``mg.manual_seed`` makes it reproducible."""
    return (mg.rand(*shape) * (2.0 * bound) - bound).data


class Linear(nn.Module):
    """y = x @ W^T + b, for x of shape (N, in_features) and y of shape (N, out_features).

    ``weight`` has shape (out_features, in_features) and ``bias`` shape (out_features,), the layout
    of PyTorch, so weights move between the two unchanged. Both are initialized like PyTorch's:
    from U(-1/sqrt(in_features), 1/sqrt(in_features)). With ``bias=False`` there is no bias
    (``self.bias = None``) and y = x @ W^T.
    """

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        # Create the parameters with nn.Parameter(array) and assign them as attributes: the
        # Module finds parameters by looking at its attributes (self.parameters()).
        ### BEGIN SOLUTION
        raise NotImplementedError("Linear.__init__: write your solution here")
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        raise NotImplementedError("Linear.forward: write your solution here")
        ### END SOLUTION


def binary_cross_entropy(p, target):
    """The mean over all elements of  -[t log p + (1 - t) log(1 - p)].

    ``p`` holds probabilities (a discriminator's output), ``target`` the labels t (1 real, 0 fake,
    or anything in between), both Tensors of the same shape. The result is a scalar Tensor.

    As in PyTorch, each log is clamped at -100, so p = 0 or p = 1 gives a finite loss (and a
    finite gradient) instead of inf or NaN. Note log(p) >= -100 exactly when p >= e^-100: clamping
    the argument is clamping the log, and ``mg.maximum(p, c)`` passes the gradient only where p
    wins (so p = 0 gets gradient 0, not 0 * inf = NaN).
    """
    ### BEGIN SOLUTION
    raise NotImplementedError("binary_cross_entropy: write your solution here")
    ### END SOLUTION


def adam_step(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    """One Adam update (Kingma & Ba 2015), *in place* on the NumPy arrays ``param``, ``m``, ``v``.

    ``grad`` is the gradient at ``param``, ``m`` and ``v`` the running first and second moments
    (zeros before the first step), ``t`` the number of this step, counting from 1::

        m     = b1 m + (1 - b1) g                  v     = b2 v + (1 - b2) g^2
        m_hat = m / (1 - b1^t)                     v_hat = v / (1 - b2^t)      (bias correction)
        param = param - lr * m_hat / (sqrt(v_hat) + eps)

    The bias corrections matter early: m and v start at zero, so without them the first steps are
    far too small (m ~ (1 - b1) g). Update the arrays in place (``param -= ...``, ``m *= ...``,
    ``m += ...`` or ``m[...] = ...``): rebinding a name (``m = b1 * m + ...``) changes nothing
    outside this function. Returns nothing.
    """
    ### BEGIN SOLUTION
    raise NotImplementedError("adam_step: write your solution here")
    ### END SOLUTION
