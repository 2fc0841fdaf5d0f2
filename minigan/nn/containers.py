"""Shape layers shaped like torch.nn: Flatten, Unflatten (built on Tensor.reshape)."""
from minigan.nn.module import Module


class Flatten(Module):
    """Merge dims start_dim..end_dim into one, as torch.nn.Flatten (default keeps the batch dim)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        s, e = self.start_dim % max(x.ndim, 1), self.end_dim % max(x.ndim, 1)
        merged = 1
        for n in x.shape[s:e + 1]:
            merged *= n
        return x.reshape(tuple(x.shape[:s]) + (merged,) + tuple(x.shape[e + 1:]))

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim into unflattened_size, as torch.nn.Unflatten."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x):
        d = self.dim % x.ndim
        return x.reshape(tuple(x.shape[:d]) + self.unflattened_size + tuple(x.shape[d + 1:]))

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
