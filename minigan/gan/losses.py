"""The losses of the GAN game, each one line of math.

Notation: D(x) is the discriminator's probability that x is real, G(z) a generated sample.
Every loss is written as a quantity to *minimize* (optimizers descend). Functions named
``*_logits`` take the discriminator's logit a (D = sigmoid(a)) and use
log sigmoid(a) = -softplus(-a) and log(1 - sigmoid(a)) = -softplus(a), exact for every a.
"""
from minigan import ops
from minigan.nn import functional as F
from minigan.tensor import grad as autograd
from minigan.creation import ones_like, zeros_like


# ---- the minimax game (Goodfellow et al. 2014, eq. 1) -----------------------------------------------
def d_minimax_loss(d_real, d_fake):
    """-[mean log D(x) + mean log(1 - D(G(z)))]: D maximizes V(D, G)."""
    return F.binary_cross_entropy(d_real, ones_like(d_real)) + \
        F.binary_cross_entropy(d_fake, zeros_like(d_fake))


def g_saturating_loss(d_fake):
    """mean log(1 - D(G(z))): G minimizes V directly. Its gradient vanishes when D rejects fakes."""
    return -F.binary_cross_entropy(d_fake, zeros_like(d_fake))


def g_nonsaturating_loss(d_fake):
    """-mean log D(G(z)): the paper's practical choice (Section 3), strong gradients early on."""
    return F.binary_cross_entropy(d_fake, ones_like(d_fake))


# (each the fused BCE-with-logits against a constant target: one kernel forward and one backward)
def d_minimax_loss_logits(a_real, a_fake):
    """d_minimax_loss from logits: mean softplus(-a_real) + mean softplus(a_fake)."""
    return F.binary_cross_entropy_with_logits(a_real, ones_like(a_real)) + \
        F.binary_cross_entropy_with_logits(a_fake, zeros_like(a_fake))


def g_saturating_loss_logits(a_fake):
    """mean log(1 - sigmoid(a)) = -mean softplus(a)."""
    return -F.binary_cross_entropy_with_logits(a_fake, zeros_like(a_fake))


def g_nonsaturating_loss_logits(a_fake):
    """-mean log sigmoid(a) = mean softplus(-a)."""
    return F.binary_cross_entropy_with_logits(a_fake, ones_like(a_fake))


# ---- Wasserstein GAN (Arjovsky et al. 2017; Gulrajani et al. 2017) -----------------------------------
def critic_wasserstein_loss(c_real, c_fake):
    """mean C(G(z)) - mean C(x): the critic maximizes the Kantorovich-Rubinstein estimate."""
    return c_fake.mean() - c_real.mean()


def g_wasserstein_loss(c_fake):
    """-mean C(G(z))."""
    return -c_fake.mean()


def clip_weights(module, clip_value):
    """WGAN's crude Lipschitz constraint: clamp every parameter to [-c, c], in place."""
    for p in module.parameters():
        xp = p.backend.xp
        xp.clip(p.data, -clip_value, clip_value, out=p.data)


def gradient_penalty(critic, real, fake, weight=10.0):
    """WGAN-GP: weight * mean_x̂ (||∇C(x̂)||₂ - 1)² on x̂ = εx + (1-ε)G(z), ε ~ U[0, 1] per sample.

    The gradient is taken with create_graph=True, so the penalty's own gradient w.r.t. the
    critic's weights flows through a second backward pass.
    """
    if real.shape != fake.shape:
        raise ValueError(f"gradient_penalty: real batch {real.shape} and fake batch {fake.shape} differ")
    eps = real.backend.rand((real.shape[0],) + (1,) * (real.ndim - 1), real.dtype)
    eps = ops.as_tensor(eps, real)
    g = input_gradient(critic, eps * real.detach() + (1.0 - eps) * fake.detach())
    # norm(), not sqrt(sum(g^2)): its gradient is 0, not NaN, where an input gradient is exactly 0
    norms = g.flatten(1).norm(dim=1)
    return ((norms - 1.0) ** 2).mean() * weight


def r1_penalty(discriminator, real, weight=1.0):
    """R1 (Mescheder et al. 2018): weight / 2 * mean_x ||∇_x D(x)||² on real samples only, D's logit.

    It pulls D's gradient to zero on the data, so D stops pushing G's samples once they sit on the
    data: the two players settle instead of circling (their Figure 1). A second backward pass, as
    for the gradient penalty.
    """
    g = input_gradient(discriminator, real)
    return (g * g).flatten(1).sum(1).mean() * (weight / 2)


def input_gradient(critic, x):
    """∇_x critic(x) per sample, at a detached copy of ``x``, with create_graph=True: the penalties
    built on it get their own gradient w.r.t. the critic's weights through a second backward pass."""
    x = x.detach()
    x.requires_grad_(True)
    (g,) = autograd(critic(x).sum(), [x], create_graph=True)
    return g
