"""Scratch arrays that outlive the call using them: for the convolutions' large temporaries.

A fresh array of a few MB costs more than filling it here: the allocator hands memory back to the
system between training steps and takes it again, and each page touched anew is a page fault (24,000
a DCGAN step before this, ~10 us each on these virtual machines; a PyTorch step has none). A
temporary that never leaves the function making it -- the product that col2im sums, im2col's padded
image -- takes a view of one buffer per (namespace, dtype, slot) instead, grown to the largest size
asked for and kept. What a slot holds is overwritten by the next call with the same slot: a caller
uses it for arrays it drops before returning, and two arrays alive at once take two slots.
"""
import math

_BUFFERS = {}   # (xp, dtype, slot) -> flat array


def workspace(xp, shape, dtype, slot):
    """An uninitialized array of ``shape`` and ``dtype`` in the scratch buffer ``slot`` (see above)."""
    size, key = math.prod(shape), (xp, dtype, slot)
    buffer = _BUFFERS.get(key)
    if buffer is None or buffer.size < size:
        buffer = _BUFFERS[key] = xp.empty(size, dtype=dtype)
    return buffer[:size].reshape(shape)
