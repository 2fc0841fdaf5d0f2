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

``dcgan`` (minigan/gan/dcgan.py) is the convolutional model of Radford et al. 2016, for the
28x28 MNIST and 8x8 digits images.

``width`` (``--width``, a recipe setting) multiplies every hidden size of an MLP preset, or every
channel count of ``dcgan``: ``--model small --width 2`` is 256-512 / 512-256.

The generator's output is Tanh for images in [-1, 1] and linear for toy data; the
discriminator ends in Sigmoid (a probability) unless ``logits=True`` or it is a WGAN critic.
"""
from minigan import nn
from minigan.gan.dcgan import check_width, dcgan_discriminator, dcgan_generator

PRESETS = {
    # name: (G hidden, D hidden, G activation, batchnorm in G, dropout in D)
    "mlp": ((256, 512, 1024), (1024, 512, 256), "leaky_relu", False, 0.0),
    "mlp-bn": ((256, 512, 1024), (1024, 512, 256), "leaky_relu", True, 0.3),
    "small": ((128, 256), (256, 128), "leaky_relu", False, 0.0),
    "toy": ((128, 128, 128), (128, 128, 128), "relu", False, 0.0),
    "toy-wide": ((256, 256, 256), (256, 256, 256), "relu", False, 0.0),
}


MODELS = (*PRESETS, "dcgan")   # the MLP presets and the convolutional DCGAN (minigan/gan/dcgan.py)


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


def _preset(name, width=1):
    """The preset's row with its hidden sizes times ``width``."""
    if name not in PRESETS:
        raise ValueError(f"unknown model preset {name!r}; valid presets: {', '.join(PRESETS)}")
    check_width(width)
    g_hidden, d_hidden, *rest = PRESETS[name]
    return (tuple(width * n for n in g_hidden), tuple(width * n for n in d_hidden), *rest)


def make_generator(preset, latent_dim, data_dim, image=True, shape=None, width=1):
    """z (N, latent_dim) -> x (N, data_dim); Tanh output for images scaled to [-1, 1].
    ``dcgan`` needs the images' ``shape`` (28x28 or 8x8)."""
    if preset == "dcgan":
        return dcgan_generator(latent_dim, _image_shape(shape, data_dim), width=width)
    g_hidden, _, act, batchnorm, _ = _preset(preset, width)
    return mlp((latent_dim, *g_hidden, data_dim), act, batchnorm=batchnorm, output=nn.Tanh() if image else None)


def make_discriminator(preset, data_dim, output="probability", shape=None, width=1):
    """x (N, data_dim) -> (N, 1): a probability (Sigmoid), a logit, or a critic value.
    ``dcgan`` needs the images' ``shape``; ``data_dim`` a multiple of its size is packed samples."""
    if output not in ("probability", "logit", "critic"):
        raise ValueError(f"discriminator output must be 'probability', 'logit' or 'critic', got {output!r}")
    if preset == "dcgan":
        shape = _image_shape(shape, data_dim, packed=True)
        return dcgan_discriminator(shape, in_channels=data_dim // (shape[0] * shape[1]), output=output, width=width)
    _, d_hidden, _, _, dropout = _preset(preset, width)
    return mlp((data_dim, *d_hidden, 1), "leaky_relu", dropout=dropout,
               output=nn.Sigmoid() if output == "probability" else None)


def _image_shape(shape, data_dim, packed=False):
    if shape is None or len(shape) != 2 or (data_dim % (shape[0] * shape[1]) if packed else data_dim != shape[0] * shape[1]):
        raise ValueError(f"the dcgan preset is for images: give their shape (h, w) matching data_dim {data_dim}, "
                         f"got {shape}; use an MLP preset for this data set")
    return tuple(shape)
