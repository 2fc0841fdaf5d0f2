"""Assignment A4: the WGAN-GP gradient penalty (Gulrajani et al. 2017), by double backward.

A Wasserstein critic must be 1-Lipschitz. WGAN-GP asks for it softly: it penalizes the critic's
gradient norm for straying from 1 at random points between real and generated samples,

    penalty = lambda * mean over i of (||grad_x C(x_hat_i)||_2 - 1)^2,
    x_hat_i = eps_i * x_i + (1 - eps_i) * G(z_i),      eps_i ~ U[0, 1], one per sample.

The penalty contains a gradient, and the critic is trained on the penalty, so training needs the
gradient *of a gradient* w.r.t. the critic's weights. In minigan that is
``mg.grad(outputs, [inputs], create_graph=True)``: the returned gradient is itself a Tensor with a
graph, and calling backward on anything built from it differentiates through the first backward.

Grade the file:  python -m minigan.grade A4 a4_gradient_penalty.py
"""
import minigan as mg


def gradient_penalty(critic, real, fake, weight=10.0, eps=None):
    """WGAN-GP's penalty  weight * mean_i (||grad C(x_hat_i)||_2 - 1)^2  as a scalar Tensor.

    critic: a callable (an nn.Module) mapping a batch of shape (N, ...) to scores of shape (N, 1).
    real, fake: Tensors of the same shape (N, ...): a batch of data and one of generated samples.
    eps: the interpolation weights, a Tensor of shape (N, 1, ..., 1) (one per sample, with as many
        axes as ``real`` so it broadcasts); None draws them from U[0, 1] with minigan's generator
        (``mg.rand``). (The grader passes its own, to compare with minigan's penalty.)

    The result must be differentiable w.r.t. the critic's parameters (they get gradients when you
    call ``.backward()`` on it); real and fake get no gradient from it (use ``.detach()``).

    Hints: x_hat is a new leaf: build it from the detached batches, detach it, then
    ``.requires_grad_()``. The gradient of the *sum* of the scores w.r.t. x_hat gives each
    sample's own gradient (samples do not interact). The norm runs over every axis but the batch
    axis (``g.flatten(1)`` or ``reshape(N, -1)``, then ``.sum(axis=1)`` and ``.sqrt()``).
    """
    ### BEGIN SOLUTION
    raise NotImplementedError("gradient_penalty: write your solution here")
    ### END SOLUTION
