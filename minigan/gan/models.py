"""MLP generators and discriminators, with presets for the classic setups.

Presets (hidden sizes from the input side):

=============  ===========================  ===========================================
preset         generator                    discriminator
=============  ===========================  ===========================================
mlp            256-512-1024, LeakyReLU 0.2  1024-512-256, LeakyReLU 0.2 (MNIST classic)
mlp-bn         same + BatchNorm1d           same + Dropout(0.3)
small          128-256                      256-128 (the 8x8 digits, about a minute on a CPU)
toy            128-128-128, ReLU            128-128-128, LeakyReLU 0.2 (1-D and 2-D data)
toy-wide       256-256-256, ReLU            256-256-256, LeakyReLU 0.2 (the 25-mode grid)
=============  ===========================  ===========================================

The generator's output is Tanh for images in [-1, 1] and linear for toy data; the
discriminator ends in Sigmoid (a probability) unless ``logits=True`` or it is a WGAN critic.
"""
from minigan import nn

PRESETS = {
    # name: (G hidden, D hidden, G activation, batchnorm in G, dropout in D)
    "mlp": ((256, 512, 1024), (1024, 512, 256), "leaky_relu", False, 0.0),
    "mlp-bn": ((256, 512, 1024), (1024, 512, 256), "leaky_relu", True, 0.3),
    "small": ((128, 256), (256, 128), "leaky_relu", False, 0.0),
    "toy": ((128, 128, 128), (128, 128, 128), "relu", False, 0.0),
    "toy-wide": ((256, 256, 256), (256, 256, 256), "relu", False, 0.0),
}


def _activation(name):
    return nn.LeakyReLU(0.2) if name == "leaky_relu" else nn.ReLU()


def mlp(sizes, activation="leaky_relu", batchnorm=False, dropout=0.0, output=None):
    """Linear layers of the given sizes, each hidden one followed by [BatchNorm1d], activation, [Dropout]."""
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            if batchnorm:
                layers.append(nn.BatchNorm1d(n_out))  # NOTE: positional argument 2 would be eps
            layers.append(_activation(activation))
            if dropout:
                layers.append(nn.Dropout(dropout))
    if output is not None:
        layers.append(output)
    return nn.Sequential(*layers)


def _preset(name):
    if name not in PRESETS:
        raise ValueError(f"unknown model preset {name!r}; valid presets: {', '.join(PRESETS)}")
    return PRESETS[name]


def make_generator(preset, latent_dim, data_dim, image=True):
    """z (N, latent_dim) -> x (N, data_dim); Tanh output for images scaled to [-1, 1]."""
    g_hidden, _, act, batchnorm, _ = _preset(preset)
    return mlp((latent_dim, *g_hidden, data_dim), act, batchnorm=batchnorm, output=nn.Tanh() if image else None)


def make_discriminator(preset, data_dim, output="probability"):
    """x (N, data_dim) -> (N, 1): a probability (Sigmoid), a logit, or a critic value."""
    if output not in ("probability", "logit", "critic"):
        raise ValueError(f"discriminator output must be 'probability', 'logit' or 'critic', got {output!r}")
    _, d_hidden, _, _, dropout = _preset(preset)
    return mlp((data_dim, *d_hidden, 1), "leaky_relu", dropout=dropout,
               output=nn.Sigmoid() if output == "probability" else None)
