"""A GPU random generator's state, saved in checkpoints so that a resumed run draws what a straight
one would (for CupyBackend in backend.py; plain functions of the bit generator, so that the CPU tests
can check the save/restore plumbing with a stand-in).

cuRAND's device generators keep one state per generator thread in one device array; CuPy 13 keeps
it in ``bit_generator._state`` and offers no public accessor, so this is the one place that knows.
"""
import numpy as np


def device_rng_state(bit_generator, to_numpy):
    """A cuRAND bit generator's state as host data for a checkpoint: its kind, and the device array
    of per-thread states (CuPy keeps it in ``_state``; no public accessor exists in CuPy 13)."""
    state = getattr(bit_generator, "_state", None)
    if state is None:
        raise RuntimeError(f"{type(bit_generator).__name__}: this CuPy keeps its random state where minigan "
                           "cannot read it, so the checkpoint could not resume bit-identically; "
                           "report your CuPy version")
    return {"bit_generator": type(bit_generator).__name__, "state": to_numpy(state).copy()}


def set_device_rng_state(bit_generator, saved, asarray):
    """Restore :func:`device_rng_state`'s output into ``bit_generator`` (same kind and size)."""
    if not isinstance(saved, dict) or not isinstance(saved.get("state"), np.ndarray):  # (NumPy's: a dict)
        raise ValueError("the checkpoint's random state is not a GPU generator's (it was saved on "
                         f"another backend: {sorted(saved) if isinstance(saved, dict) else type(saved).__name__}); "
                         "resume on the backend it was saved on")
    kind, state = saved.get("bit_generator"), saved["state"]
    own = bit_generator._state
    if kind != type(bit_generator).__name__ or state.shape != tuple(own.shape) or state.dtype != own.dtype:
        raise ValueError(f"the checkpoint's random state is a {kind} of {state.size} bytes, this GPU's generator a "
                         f"{type(bit_generator).__name__} of {own.size}; resume with the same minigan and CuPy")
    own[...] = asarray(state)
