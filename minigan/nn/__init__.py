"""Neural-network building blocks, shaped like torch.nn."""
# a later chapter, in its own package:
from minigan.conv.embedding import Embedding
from minigan.conv.layers import Conv2d, ConvTranspose2d
from minigan.nn import functional
from minigan.nn.containers import Flatten, ModuleDict, ModuleList, Sequential, Unflatten
from minigan.nn.layers import BatchNorm1d, BatchNorm2d, Dropout, LeakyReLU, Linear, ReLU, Sigmoid, Tanh
from minigan.nn.module import Module, Parameter

__all__ = ["functional", "Module", "Parameter", "Linear", "ReLU", "LeakyReLU", "Sigmoid", "Tanh",
           "BatchNorm1d", "Dropout", "Sequential", "Flatten", "Unflatten", "ModuleList", "ModuleDict",
           "Conv2d", "ConvTranspose2d", "BatchNorm2d", "Embedding"]
