"""An exponential moving average (EMA) of the generator's weights.

GAN generators oscillate around a good solution instead of settling on it (the game has no
downhill direction for both players at once). Averaging the weights over recent steps,

    theta_ema <- decay * theta_ema + (1 - decay) * theta,

sits near the centre of that oscillation and gives visibly sharper samples at no training cost
(Yazici et al. 2019, "The unusual effectiveness of averaging in GAN training"; used by
ProGAN, StyleGAN and BigGAN). The average is only ever *read*: training continues on theta.
"""
import contextlib

from minigan.tensor import no_grad


class GeneratorEMA:
    """Keeps averaged copies of ``module``'s parameters (buffers, e.g. BatchNorm's running
    statistics, are copied as they are). ``decay`` in [0, 1); 0.999 averages over ~1,000 steps.

    Early on the average would be dominated by the random initial weights, so the decay used at
    update t is min(decay, (1 + t) / (10 + t)), as TensorFlow's ExponentialMovingAverage does
    with ``num_updates``.
    """

    def __init__(self, module, decay):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA decay must be in [0, 1), got {decay}")
        self.decay = float(decay)
        self.num_updates = 0
        self.shadow = {name: t.data.copy() for name, t in module._named_state()}
        self.backend = module.parameters()[0].backend
        self._params = {name for name, _ in module.named_parameters()}

    def update(self, module):
        """One averaging step towards ``module``'s current weights (after each generator step)."""
        self.num_updates += 1
        decay = min(self.decay, (1.0 + self.num_updates) / (10.0 + self.num_updates))
        for name, t in module._named_state():
            shadow = self.shadow[name]
            if name in self._params:
                shadow *= decay
                shadow += (1.0 - decay) * t.data
            else:
                shadow[...] = t.data

    @contextlib.contextmanager
    def applied_to(self, module):
        """``with ema.applied_to(G): G(z)`` samples with the averaged weights, then puts the
        trained ones back (also when the block raises)."""
        named = dict(module._named_state())
        saved = {name: t.data.copy() for name, t in named.items()}
        with no_grad():
            try:
                for name, t in named.items():
                    t.copy_(self.shadow[name])  # copy_ bumps the version: old graphs cannot use it
                yield module
            finally:
                for name, t in named.items():
                    t.copy_(saved[name])

    def state_dict(self):
        """The averaged weights as a ``G.state_dict()`` (host arrays), so they load into a generator."""
        return {name: self.backend.to_numpy(a).copy() for name, a in self.shadow.items()}

    def load_state_dict(self, state, num_updates):
        missing = set(self.shadow) ^ set(state)
        if missing:
            raise KeyError(f"EMA state does not fit the generator: keys {sorted(missing)} differ")
        for name, value in state.items():
            self.shadow[name][...] = self.backend.asarray(value)
        self.num_updates = int(num_updates)
