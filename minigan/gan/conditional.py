"""The conditional GAN (Mirza & Osindero 2014): both players are told the class label y.

    G(z, y) = G'([z, e_G(y)])          D(x, y) = D'([x, e_D(y)])

``e`` is a learned label embedding (``nn.Embedding``; the paper fed one-hot vectors, which is
an embedding fixed to the identity). For a vector input the embedding is concatenated to it;
for an image (N, C, H, W) it is broadcast over the pixels and stacked as extra channels, so a
convolutional D sees the label at every position. The value function is Algorithm 1's, with
every D(.) and G(.) conditioned on the same y.
"""
import numpy as np  # host side: the labels asked for

from minigan import nn
from minigan import ops


def _with_label(x, label_vectors):
    """[x, e(y)]: side by side for vectors (N, d); as extra channels for images (N, C, H, W)."""
    if x.ndim == 2:
        return ops.concatenate([x, label_vectors], axis=1)
    if x.ndim == 4:
        n, _, h, w = x.shape
        maps = ops.broadcast_to(label_vectors.reshape(n, -1, 1, 1), (n, label_vectors.shape[1], h, w))
        return ops.concatenate([x, maps], axis=1)
    raise ValueError(f"a conditional model takes (N, d) vectors or (N, C, H, W) images, got shape {tuple(x.shape)}")


class _Conditional(nn.Module):
    def __init__(self, body, n_classes, embed_dim):
        super().__init__()
        if n_classes < 2:
            raise ValueError(f"a conditional GAN needs at least 2 classes, got {n_classes}")
        self.n_classes, self.embed_dim = int(n_classes), int(embed_dim)
        self.embed = nn.Embedding(self.n_classes, self.embed_dim)
        self.body = body

    def forward(self, x, y):
        if y is None or len(y) != len(x):
            raise ValueError(f"{type(self).__name__} needs one label per sample: got {len(x)} samples and "
                             f"{'no labels' if y is None else f'{len(y)} labels'}")
        return self.body(_with_label(x, self.embed(y)))


class ConditionalGenerator(_Conditional):
    """G(z, y): ``body`` maps (N, latent_dim + embed_dim) noise-and-label vectors to samples."""


class ConditionalDiscriminator(_Conditional):
    """D(x, y): ``body`` takes x with ``embed_dim`` more features (vectors), or, with ``image_shape``
    (h, w), flat rows seen as (N, 1, h, w) images with ``embed_dim`` more channels (a conv D)."""

    def __init__(self, body, n_classes, embed_dim, image_shape=None):
        super().__init__(body, n_classes, embed_dim)
        self.image_shape = None if image_shape is None else tuple(image_shape)

    def forward(self, x, y):
        if self.image_shape is not None:
            x = x.reshape(len(x), 1, *self.image_shape)
        return super().forward(x, y)


def class_labels(n, n_classes, label=None):
    """Labels for n conditional samples: all ``label``, or classes 0, 0, ..., 1, 1, ... in
    ``n_classes`` equal runs (as equal as n allows), so a grid of n // n_classes per row has a class per row."""
    if label is not None:
        if not 0 <= label < n_classes:
            raise ValueError(f"label {label} is not a class of this model: choose 0..{n_classes - 1}")
        return np.full(n, label, dtype=np.int64)
    return (np.arange(n) * n_classes // n).astype(np.int64)
