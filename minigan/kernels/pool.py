"""A cache of large NumPy buffers, each reused once nothing refers to it any more.

Why: the allocator hands freed memory back to the system between training steps and takes it again,
and each page touched anew is a page fault. A DCGAN step on MNIST made ~25,000 of them (~100 MB
mapped afresh, about a fifth of the step's time on these machines; a PyTorch step made none).
The twins of minigan/kernels and the convolutions take their large outputs from here instead.

How: a request for n bytes takes a free block of exactly n bytes, or makes one. A block is free
when the cache holds the only reference to it: every NumPy view of a block (a reshape, a transpose,
a slice of any of them) refers to the block itself as its ``base``, so while any array can reach
the memory, the block's reference count says so (CPython's counts are exact; elsewhere nothing is
cached). Only NumPy arrays are cached: CuPy has a caching allocator of its own, and other
namespaces (the strict test backend) get ``xp.empty``. Small arrays come from the allocator as
before; at MAX_BYTES the cache lets go of its free blocks, then stops growing (``clear()`` does the first).
"""
import math
import sys

import numpy as np

MIN_BYTES, MAX_BYTES = 1 << 18, 1 << 30
_CACHING = sys.implementation.name == "cpython"
_blocks = {}   # nbytes -> [uint8 arrays]
_held = [0]    # bytes in _blocks


def _free_block(nbytes):
    blocks = _blocks.setdefault(nbytes, [])
    for i in range(len(blocks)):
        if sys.getrefcount(blocks[i]) == 2:   # the list's reference and getrefcount's argument: unused
            return blocks[i]
    if _held[0] + nbytes > MAX_BYTES:
        clear()   # free blocks of other sizes (shapes of the past) make room first
        if _held[0] + nbytes > MAX_BYTES:
            return None
        blocks = _blocks.setdefault(nbytes, [])
    _held[0] += nbytes
    blocks.append(np.empty(nbytes, np.uint8))
    return blocks[-1]


def empty(xp, shape, dtype, like=None):
    """An uninitialized array of ``shape`` and ``dtype``, in the memory order of the array ``like``
    if given (as ``empty_like`` keeps it), from the cache where it applies (see above)."""
    dtype, shape = np.dtype(dtype), tuple(shape)
    nbytes = math.prod(shape) * dtype.itemsize
    block = _free_block(nbytes) if xp is np and _CACHING and nbytes >= MIN_BYTES else None
    if block is None:
        return xp.empty(shape, dtype=dtype) if like is None else xp.empty_like(like, dtype=dtype, shape=shape)
    flat = block.view(dtype)
    if like is None or like.flags.c_contiguous or like.shape != shape:
        return flat.reshape(shape)
    order = sorted(range(len(shape)), key=lambda axis: -abs(like.strides[axis]))   # outermost axis first
    return flat.reshape([shape[axis] for axis in order]).transpose([order.index(axis) for axis in range(len(shape))])


def empty_like(a, dtype=None):
    """``empty_like(a)`` for a NumPy array ``a`` (a twin's output), from the cache."""
    return empty(np, a.shape, a.dtype if dtype is None else dtype, like=a)


def zeros(xp, shape, dtype):
    out = empty(xp, shape, dtype)
    out[...] = 0
    return out


def clear():
    """Let go of the free blocks (those in use stay, to be reused once free)."""
    for nbytes, blocks in _blocks.items():
        _blocks[nbytes] = [b for b in blocks if sys.getrefcount(b) > 3]   # the list, b, the argument
    _held[0] = sum(nbytes * len(blocks) for nbytes, blocks in _blocks.items())
