"""Convolutions (a later chapter than the core): conv2d, conv_transpose2d and their layers.

``ops`` holds the three Functions (convolution, transposed convolution, weight gradient) whose
backwards are each other, and the public functions; ``layers`` the Modules. They are also
reachable as PyTorch spells them: ``nn.Conv2d``, ``nn.ConvTranspose2d``, ``F.conv2d``.
"""
from minigan.conv.layers import Conv2d, ConvTranspose2d
from minigan.conv.ops import conv2d, conv_transpose2d

__all__ = ["Conv2d", "ConvTranspose2d", "conv2d", "conv_transpose2d"]
