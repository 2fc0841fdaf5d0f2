"""The convolutional and conditional GANs' chapter, after the core: convolutions and the label embedding.

``ops`` holds the three Functions (convolution, transposed convolution, weight gradient) whose
backwards are each other, and the public functions; ``layers`` the Modules; ``embedding`` the
lookup table of the conditional GAN's labels; ``batch_norm`` BatchNorm's training step as one
Function (F.batch_norm routes to it: composed of primitives it cost more than a convolution);
``workspace`` the convolutions' scratch buffers. They are reachable as PyTorch spells them:
``nn.Conv2d``, ``nn.ConvTranspose2d``, ``nn.Embedding``, ``F.conv2d``, ``F.conv_transpose2d``,
``F.embedding``. Only lower layers are imported here (tensor, ops, nn.module), never nn itself.
"""
from minigan.conv.embedding import Embedding, embedding
from minigan.conv.layers import Conv2d, ConvTranspose2d
from minigan.conv.ops import conv2d, conv_transpose2d

__all__ = ["Conv2d", "ConvTranspose2d", "Embedding", "conv2d", "conv_transpose2d", "embedding"]
