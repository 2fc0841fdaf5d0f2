"""DCGAN (Radford, Metz & Chintala 2016) sized for 28x28 MNIST and the 8x8 digits.

Their architecture guidelines, followed here:

* strided convolutions in D and fractionally strided ones (ConvTranspose2d) in G, no pooling;
* BatchNorm in both networks, except at D's input and G's output;
* ReLU in G (Tanh at the output), LeakyReLU(0.2) in D;
* weights from N(0, 0.02) (BatchNorm's scale from N(1, 0.02)), trained with Adam 2e-4, betas (0.5, 0.999).

For images this small the projection of z and the last layer of D are fully connected, as in
PyTorch's and most courses' MNIST DCGANs. Data sets hold flat rows (N, h*w): G ends with a
Flatten and D starts with an Unflatten, so the trainer, packing and sampling are unchanged.

    28x28: z -> Linear -> (128, 7, 7) -> ConvT 4/2/1 -> (64, 14, 14) -> ConvT 4/2/1 -> (1, 28, 28)
           x -> Conv 4/2/1 -> (64, 14, 14) -> Conv 4/2/1 -> (128, 7, 7) -> Linear -> 1
     8x8:  the same with (64, 2, 2) -> (32, 4, 4) -> (16, 8, 8) -> Conv 3/1/1 -> (1, 8, 8), and D's
           32 and 64 channels (the last convolution smooths ConvT's checkerboard: see _to_pixels_smoothed)
"""
from minigan import nn
from minigan.creation import randn
from minigan.tensor import no_grad

# image side -> (side of G's first feature map, channels of the two feature maps, largest first;
# at 8x8, G's last ConvT makes a third map of half the second's channels: see _to_pixels_smoothed).
# ``width`` multiplies every channel count; the digits recipe row (recipes.py) trains at width 2,
# which lifted its confident samples from 79.2% to 81.7% (mean of 5 seeds).
SIZES = {28: (7, (128, 64)), 8: (2, (64, 32))}


def _sizes(shape, width):
    side = shape[-1]
    if len(shape) != 2 or shape[0] != side or side not in SIZES:
        raise ValueError(f"the dcgan preset is built for square 28x28 or 8x8 images, got sample shape {tuple(shape)}; "
                         "use an MLP preset (e.g. --model mlp) for this data set")
    check_width(width)
    start, channels = SIZES[side]
    return side, start, tuple(width * c for c in channels)


def check_width(width):
    """A model's width multiplier (dcgan: the channel counts; MLP presets: the hidden sizes)."""
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ValueError(f"width must be a positive integer (it multiplies the model's hidden sizes or channels), "
                         f"got {width!r}")


def dcgan_generator(latent_dim, shape, width=1):
    """z (N, latent_dim) -> images flattened to (N, h * w) in [-1, 1]; ``width`` times SIZES' channels."""
    side, start, (c0, c1) = _sizes(shape, width)
    G = nn.Sequential(
        nn.Linear(latent_dim, c0 * start * start, bias=False), nn.BatchNorm1d(c0 * start * start), nn.ReLU(),
        nn.Unflatten(1, (c0, start, start)),
        nn.ConvTranspose2d(c0, c1, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(c1), nn.ReLU(),
        *(_to_pixels(c1) if side == 28 else _to_pixels_smoothed(c1)), nn.Tanh(),
        nn.Flatten())
    return init_weights(G)


def _to_pixels(channels):
    return (nn.ConvTranspose2d(channels, 1, 4, stride=2, padding=1),)


def _to_pixels_smoothed(channels):
    # NOTE: on 8x8 digits a ConvTranspose 4/2/1 straight to the pixels left a checkerboard speckle
    # (neighbouring output pixels are made by different taps of its kernel); a 3x3 convolution at
    # full resolution after it smooths that: 68.5% -> 73.8% of samples above 0.9 confidence
    # (seed 0, 15,000 steps, batch 64). At 28x28 the strokes are wide enough without it.
    return (nn.ConvTranspose2d(channels, channels // 2, 4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(channels // 2), nn.ReLU(), nn.Conv2d(channels // 2, 1, 3, padding=1))


def dcgan_discriminator(shape, in_channels=1, output="probability", unflatten=True, width=1):
    """Flat rows (N, in_channels * h * w) -> (N, 1): a probability (Sigmoid), a logit or a critic value.

    ``in_channels`` > 1: PacGAN's packed samples, or a conditional D's label maps, as channels;
    ``unflatten=False`` for input that arrives as images already (N, in_channels, h, w);
    ``width`` times SIZES' channels."""
    side, start, (c0, c1) = _sizes(shape, width)
    layers = [nn.Unflatten(1, (in_channels, side, side))] if unflatten else []
    layers += [nn.Conv2d(in_channels, c1, 4, stride=2, padding=1), nn.LeakyReLU(0.2),   # no BN at the input
               nn.Conv2d(c1, c0, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(c0), nn.LeakyReLU(0.2),
               nn.Flatten(), nn.Linear(c0 * start * start, 1)]
    if output not in ("probability", "logit", "critic"):
        raise ValueError(f"discriminator output must be 'probability', 'logit' or 'critic', got {output!r}")
    if output == "probability":
        layers.append(nn.Sigmoid())
    return init_weights(nn.Sequential(*layers))


def init_weights(model):
    """Radford et al.'s init: conv and linear weights ~ N(0, 0.02), BatchNorm scale ~ N(1, 0.02), biases 0."""
    with no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                m.weight.data = (randn(*m.weight.shape) * 0.02).data
            elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.weight.data = (randn(*m.weight.shape) * 0.02 + 1.0).data
            else:
                continue
            if getattr(m, "bias", None) is not None:
                m.bias.data = m.bias.data * 0
    return model
