"""The cache of large NumPy buffers (minigan/kernels/pool.py): a block is handed out again only once
nothing can reach its memory, results keep the memory order asked for, and a training step's
large arrays stop being mapped afresh (the page faults that were a fifth of a DCGAN step)."""
import resource

import numpy as np
import pytest

import minigan as mg
from minigan import nn
from minigan.kernels import pool

SHAPE = (256, 512)   # 512 KiB of float32: above pool.MIN_BYTES


def _address(a): return a.__array_interface__["data"][0]


@pytest.fixture(autouse=True)
def empty_cache():
    pool.clear()
    yield
    pool.clear()


def test_a_block_is_reused_once_dropped_and_never_while_any_view_or_buffer_reaches_it():
    a = pool.empty(np, SHAPE, np.float32)
    first = _address(a)
    del a
    b = pool.empty(np, SHAPE, np.float32)
    assert _address(b) == first                      # dropped: the same memory again
    view = b.T[::3][1:, ::2]                         # a view of a view of a view
    assert np.shares_memory(view, b)
    buffer = memoryview(pool.empty(np, SHAPE, np.float32))
    del b
    c = pool.empty(np, SHAPE, np.float32)
    assert _address(c) not in (first, _address(np.asarray(buffer)))
    view[...] = 1.0
    c[...] = 2.0
    assert (view == 1.0).all()                       # the kept view's memory was not handed out
    assert pool.empty(np, SHAPE, np.float64).shape == SHAPE   # another size: another block


def test_results_have_the_memory_order_of_like_and_small_or_foreign_requests_pass_through():
    channels_last = np.empty((64, 7, 7, 128), np.float32).transpose(0, 3, 1, 2)
    out = pool.empty(np, channels_last.shape, np.float32, like=channels_last)
    assert out.strides == channels_last.strides == np.empty_like(channels_last).strides
    small = pool.empty(np, (3, 4), np.float32)
    assert small.base is None and small.flags.owndata   # from the allocator, as before

    class Namespace:   # another array library (CuPy has its own caching allocator)
        def empty(self, shape, dtype): return ("xp.empty", shape, dtype)
    assert pool.empty(Namespace(), SHAPE, np.float32) == ("xp.empty", SHAPE, np.dtype(np.float32))


def test_the_cache_stops_growing_at_its_limit_and_clear_lets_go_of_free_blocks(monkeypatch):
    monkeypatch.setattr(pool, "MAX_BYTES", 3 * 512 * 1024)
    kept = [pool.empty(np, SHAPE, np.float32) for _ in range(5)]
    assert sum(a.base is not None for a in kept) == 3   # the last two came from the allocator
    assert pool.zeros(np, SHAPE, np.float32).sum() == 0 and pool._held[0] == 3 * 512 * 1024
    del kept
    pool.empty(np, (128, 512), np.float32)   # another size: the full cache drops its free blocks first
    assert pool._held[0] == 256 * 1024
    pool.clear()
    assert pool._held[0] == 0


def test_a_dcgan_step_maps_no_memory_afresh_once_warm():
    """Before the cache: ~25,000 page faults a step (every large array on fresh pages)."""
    from minigan.gan.dcgan import dcgan_discriminator, dcgan_generator
    mg.manual_seed(0)
    G, D = dcgan_generator(100, (28, 28)), dcgan_discriminator((28, 28))
    opt = mg.optim.Adam(list(G.parameters()) + list(D.parameters()), lr=1e-4)
    z = mg.randn(16, 100)

    def step():
        opt.zero_grad()
        D(G(z)).mean().backward()
        opt.step()
    for _ in range(2):
        step()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(3):
        step()
    assert resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults < 300
