"""Containers and shape layers shaped like torch.nn: Sequential, ModuleList, ModuleDict, Flatten, Unflatten."""
from minigan.nn.module import Module


class _Numbered(Module):
    """Children named "0", "1", ... (so parameters "0.weight", "1.bias", ...), in order."""

    def __init__(self, modules=()):
        super().__init__()
        self._set_items(modules)

    def _set_items(self, items):
        # children are found from instance attributes, so renumber them all after an insert
        for i in range(len(self)):
            delattr(self, str(i))
        for i, m in enumerate(items):
            if not isinstance(m, Module):
                raise TypeError(f"{type(self).__name__}: item {i} is a {type(m).__name__}, not a Module")
            setattr(self, str(i), m)

    def __len__(self): return len(self.children())
    def __iter__(self): return iter(self.children())

    def __getitem__(self, i):
        items = self.children()
        return type(self)().extend(items[i]) if isinstance(i, slice) else items[i]

    def append(self, module): return self.extend([module])

    def extend(self, modules):
        self._set_items(self.children() + list(modules))
        return self

    def insert(self, index, module):
        items = self.children()
        self._set_items(items[:index] + [module] + items[index:])


class Sequential(_Numbered):
    """Modules applied in order; their parameters are named "0.weight", "1.bias", ..."""

    def __init__(self, *modules): super().__init__(modules)

    def forward(self, x):
        for module in self.children():
            x = module(x)
        return x


class ModuleList(_Numbered):
    """A list of modules whose parameters are named "0.weight", "1.bias", ... as torch.nn.ModuleList."""


class ModuleDict(Module):
    """Modules by name, in insertion order; parameters named "name.weight" as torch.nn.ModuleDict."""

    def __init__(self, modules=None):
        super().__init__()
        for k, m in dict(modules or {}).items():
            self[k] = m

    def __setitem__(self, key, module):
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict: {key!r} is a {type(module).__name__}, not a Module")
        setattr(self, key, module)

    def __getitem__(self, key): return dict(self.named_children())[key]
    def __len__(self): return len(self.children())
    def __iter__(self): return iter(self.keys())
    def keys(self): return [k for k, _ in self.named_children()]
    def values(self): return self.children()
    def items(self): return list(self.named_children())


class Flatten(Module):
    """Merge dims start_dim..end_dim into one, as torch.nn.Flatten (default keeps the batch dim)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x): return x.flatten(self.start_dim, self.end_dim)
    def extra_repr(self): return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim into unflattened_size, as torch.nn.Unflatten."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x):
        d = self.dim % x.ndim
        return x.reshape(tuple(x.shape[:d]) + self.unflattened_size + tuple(x.shape[d + 1:]))

    def extra_repr(self): return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
