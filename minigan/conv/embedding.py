"""Embedding: a learned vector per label (the conditional GAN's y), shaped like torch.nn.Embedding.

It lives with the convolutions because both belong to the same later chapter (DCGAN and the
conditional GAN), outside the core a student reads first. Looking up ``weight[indices]`` is
indexing, whose backward (an index-add that sums repeated labels) and double backward the core
already has; this file adds only the checks, PyTorch's init and ``padding_idx``.
"""
from minigan.creation import randn
from minigan.nn.module import Module, Parameter
from minigan.ops import where
from minigan.tensor import Tensor


def embedding(input, weight, padding_idx=None):
    """PyTorch's F.embedding: the rows of ``weight`` (num_embeddings, embedding_dim) picked by the
    integer tensor ``input`` (any shape), giving input.shape + (embedding_dim,). The row at
    ``padding_idx`` gets no gradient (it stays what it is, zeros unless set otherwise)."""
    n = weight.shape[0]
    indices = input.data if isinstance(input, Tensor) else None
    if indices is None or indices.dtype.kind not in "iu":
        what = indices.dtype if indices is not None else type(input).__name__
        raise TypeError(f"embedding: indices must be an integer tensor (e.g. mg.tensor(labels)), got {what}")
    if indices.size and (bool((indices < 0).any()) or bool((indices >= n).any())):
        raise IndexError(f"embedding: indices must be in [0, {n}) for a weight of shape {weight.shape}, "
                         f"got values from {int(indices.min())} to {int(indices.max())}")
    rows = weight[indices]
    if padding_idx is None:
        return rows
    # the same values, but the padding positions read a detached weight: no gradient reaches that row
    return where((indices != padding_idx)[..., None], rows, weight.detach()[indices])


class Embedding(Module):
    """A lookup table of ``num_embeddings`` vectors of size ``embedding_dim``: weight
    (num_embeddings, embedding_dim), initialized N(0, 1) as in PyTorch, the ``padding_idx`` row zero."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None):
        super().__init__()
        for what, v in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"Embedding: {what} must be a positive int, got {v!r}")
        if padding_idx is not None:
            if not isinstance(padding_idx, int) or not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx must be an int in [-{num_embeddings}, {num_embeddings}), "
                                 f"got {padding_idx!r}")
            padding_idx %= num_embeddings  # PyTorch keeps a negative padding_idx as its positive twin
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        self.weight = Parameter(randn(num_embeddings, embedding_dim))
        if padding_idx is not None:
            self.weight.data[padding_idx] = 0.0

    def forward(self, input): return embedding(input, self.weight, self.padding_idx)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}" + (
            f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")
