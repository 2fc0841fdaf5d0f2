"""Minibatches of a data set that lives on the device.

The whole data set is uploaded once, when the loader is built. Each epoch draws one permutation on
the host (with the loader's own seeded NumPy Generator), uploads it once, and every batch is then
gathered on the device: ``batch = take(data, index[i : i + batch_size])``. So a GPU run pays one
small host->device copy per epoch instead of one per batch.

For a checkpoint, :meth:`DataLoader.state_dict` records the epoch, the position in it and the
generator state *at the start of the epoch*; :meth:`DataLoader.load_state_dict` redraws the same
permutation and continues from the same position, so a resumed run sees the same batches.
"""
import copy

import numpy as np  # host side only: the permutation and validating what we are given

from minigan import backend as _backend
from minigan.creation import tensor
from minigan.tensor import Tensor


class DataLoader:
    """``DataLoader(x, batch_size)`` yields Tensors; ``DataLoader((x, y), ...)`` yields tuples.

    ``for batch in loader`` runs through the *rest of the current epoch* (a whole epoch unless the
    loop was left early or the state was restored mid-epoch); :meth:`sample_batch` never runs dry.
    The last batch of an epoch is smaller unless ``drop_last``. The arrays are copied onto the
    backend that is current when the loader is built, floating ones in the default dtype
    (float32), integer ones (labels) keeping theirs.
    """

    def __init__(self, arrays, batch_size, shuffle=True, drop_last=False, seed=0):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        self._single = not isinstance(arrays, (tuple, list))
        arrays = (arrays,) if self._single else tuple(arrays)
        if not arrays:
            raise ValueError("DataLoader needs at least one array")
        self.backend = _backend.get_backend()
        # the one upload of the data set; batches are gathered from these device arrays
        self._data = tuple(tensor(a).data for a in arrays)
        if any(d.ndim == 0 for d in self._data):
            raise ValueError("DataLoader arrays must have a first (sample) dimension, got a scalar")
        sizes = sorted({d.shape[0] for d in self._data})
        if len(sizes) != 1:
            raise ValueError(f"DataLoader arrays must have the same first dimension, got {sizes}")
        self.n_samples = sizes[0]
        if self.n_samples == 0:
            raise ValueError("DataLoader got an empty data set (0 samples)")
        if drop_last and batch_size > self.n_samples:
            raise ValueError(f"batch_size {batch_size} > {self.n_samples} samples with drop_last=True "
                             "gives no batches at all")
        self.batch_size, self.shuffle, self.drop_last = int(batch_size), bool(shuffle), bool(drop_last)
        self.seed = seed
        self._rng = np.random.Generator(np.random.PCG64(seed))
        self._epoch, self._position = 0, 0
        self._epoch_rng_state = self._rng.bit_generator.state
        self._index = None  # this epoch's device index array, drawn at its first batch

    def __len__(self):
        """Batches per epoch."""
        full, rest = divmod(self.n_samples, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    @property
    def epoch(self):
        """How many epochs have been completed."""
        return self._epoch

    def __iter__(self):
        while (batch := self._next_batch()) is not None:
            yield batch

    def sample_batch(self):
        """The next batch, starting a new epoch when one runs out (for training loops like
        GAN's Algorithm 1, where every discriminator step draws its own real minibatch)."""
        batch = self._next_batch()
        return batch if batch is not None else self._next_batch()

    def _next_batch(self):
        if self._index is None:
            # drawn even when the epoch turns out to be over (a state restored at its very end),
            # so the generator always moves past this epoch's permutation before the next one
            self._index = self.backend.asarray(self._permutation())  # one upload per epoch
        remaining = self.n_samples - self._position
        if remaining == 0 or (self.drop_last and remaining < self.batch_size):
            self._epoch, self._position, self._index = self._epoch + 1, 0, None
            self._epoch_rng_state = self._rng.bit_generator.state  # next epoch's permutation starts here
            return None
        stop = self._position + min(self.batch_size, remaining)
        rows = self._index[self._position:stop]
        self._position = stop
        # xp.take, not data[rows]: it goes through the array API, so the "strict" test backend
        # catches a host index sneaking in (CuPy would refuse one too)
        xp = self.backend.xp
        batch = tuple(Tensor(xp.take(d, rows, axis=0), _backend=self.backend) for d in self._data)
        return batch[0] if self._single else batch

    def _permutation(self):
        """This epoch's order, always drawn from the state saved at the epoch's start."""
        if not self.shuffle:
            return np.arange(self.n_samples)
        self._rng.bit_generator.state = self._epoch_rng_state
        return self._rng.permutation(self.n_samples)

    # --- checkpointing -----------------------------------------------------------------------
    def state_dict(self):
        """Everything needed to continue with the same batches: a dict of plain Python values."""
        return {"epoch": self._epoch, "position": self._position, "n_samples": self.n_samples,
                "rng_state": copy.deepcopy(self._epoch_rng_state)}

    def load_state_dict(self, state):
        if state["n_samples"] != self.n_samples:
            raise ValueError(f"loader state is for {state['n_samples']} samples, this loader has {self.n_samples}")
        if not 0 <= state["position"] <= self.n_samples:
            raise ValueError(f"loader state position {state['position']} is outside 0..{self.n_samples}")
        self._epoch, self._position = int(state["epoch"]), int(state["position"])
        self._epoch_rng_state = copy.deepcopy(state["rng_state"])
        self._index = None  # redrawn from the restored state at the next batch

    def __repr__(self):
        return (f"DataLoader(n_samples={self.n_samples}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, seed={self.seed}, backend={self.backend.name!r})")
