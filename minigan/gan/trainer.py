"""Training the GAN: Algorithm 1 of Goodfellow et al. (2014) and its Wasserstein variants.

One call of :meth:`GANTrainer.step` is one generator update, preceded by ``d_steps``
discriminator (critic) updates, each on its own real minibatch and its own noise::

    for d_steps:   maximize  log D(x) + log(1 - D(G(z)))   over D   (G fixed, fakes detached)
    once:          minimize  log(1 - D(G(z)))  [or -log D(G(z))]  over G   (D frozen)
"""
import collections.abc
import math

import numpy as np  # host side only: the metrics once they are read back

from minigan import ops
from minigan import optim
from minigan.gan.conditional import ConditionalDiscriminator, ConditionalGenerator
from minigan.gan.ema import GeneratorEMA
from minigan.gan.recipes import LOSS_DEFAULTS
from minigan.kernels.flat import flat_grads
from minigan.optim import lr_scheduler
from minigan.gan import losses as L
from minigan.nn import BatchNorm1d
from minigan.creation import randn
from minigan.tensor import no_grad

# loss name -> (discriminator loss, generator loss, from logits?, discriminator output kind)
LOSSES = {
    "minimax": (L.d_minimax_loss, L.g_saturating_loss),
    "nonsaturating": (L.d_minimax_loss, L.g_nonsaturating_loss),
    "wgan": (L.critic_wasserstein_loss, L.g_wasserstein_loss),
    "wgan-gp": (L.critic_wasserstein_loss, L.g_wasserstein_loss),
}
LOGIT_LOSSES = {
    "minimax": (L.d_minimax_loss_logits, L.g_saturating_loss_logits),
    "nonsaturating": (L.d_minimax_loss_logits, L.g_nonsaturating_loss_logits),
}
METRICS = ("d_loss", "g_loss", "d_real", "d_fake", "grad_norm_d", "grad_norm_g")


def discriminator_output(loss, logits=False):
    """What the discriminator's last layer must produce for this loss."""
    if loss.startswith("wgan"):
        return "critic"
    return "logit" if logits else "probability"


class GANTrainer:
    """Trains ``generator`` against ``discriminator`` on minibatches from ``sample_real()``.

    ``sample_real`` returns a Tensor batch of real data on the current backend each call.
    ``d_steps`` is Algorithm 1's k (default 1; 5 critic steps for the Wasserstein losses).
    ``pack`` (PacGAN, Lin et al. 2018): D judges ``pack`` samples at once, concatenated into one
    input of ``pack`` times the size, so a batch of m samples is m / pack inputs to D; D must be
    built for that input size. ``ema``: keep a :class:`GeneratorEMA` of G with this decay (see
    :meth:`generate`). ``lr_lambda(step)``: a factor on both learning rates after ``step``
    generator steps (a LambdaLR schedule, stepped once per generator step). ``r1_weight``: add
    :func:`~minigan.gan.losses.r1_penalty` with this gamma to D's loss (a logit or critic D only).
    """

    def __init__(self, generator, discriminator, sample_real, latent_dim, loss="nonsaturating",
                 d_steps=None, lr_g=None, lr_d=None, betas=None, logits=False, clip_value=None, gp_weight=None,
                 pack=1, ema=None, lr_lambda=None, r1_weight=None):
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; valid losses: {', '.join(LOSSES)}")
        if logits and loss not in LOGIT_LOSSES:
            raise ValueError(f"loss {loss!r} has no logit form: its critic outputs unbounded scores already")
        defaults = LOSS_DEFAULTS[loss]   # the papers' settings (see recipes.py)
        self.G, self.D, self.sample_real, self.latent_dim = generator, discriminator, sample_real, latent_dim
        self.loss_name, self.logits = loss, logits
        self.d_loss_fn, self.g_loss_fn = (LOGIT_LOSSES if logits else LOSSES)[loss]
        self.d_steps = defaults["d_steps"] if d_steps is None else int(d_steps)
        if self.d_steps < 1:
            raise ValueError(f"the number of discriminator steps per generator step must be >= 1, got {self.d_steps}")
        self.clip_value = clip_value if clip_value is not None else defaults.get("clip_value")
        self.gp_weight = gp_weight if gp_weight is not None else defaults.get("gp_weight")
        self.r1_weight = r1_weight or None
        if self.r1_weight and discriminator_output(loss, logits) == "probability":
            raise ValueError("r1_weight penalizes the discriminator's logit, but this D outputs probabilities; "
                             "use logits=True (--logits)")
        lr_g = defaults["lr_g"] if lr_g is None else lr_g
        lr_d = defaults["lr_d"] if lr_d is None else lr_d
        if loss == "wgan":
            self.opt_g = optim.RMSprop(generator.parameters(), lr=lr_g)
            self.opt_d = optim.RMSprop(discriminator.parameters(), lr=lr_d)
        else:
            betas = tuple(betas or defaults["betas"])
            self.opt_g = optim.Adam(generator.parameters(), lr=lr_g, betas=betas)
            self.opt_d = optim.Adam(discriminator.parameters(), lr=lr_d, betas=betas)
        # One D pass over [real; fake] does the same work in bigger, faster products — but
        # only when D has no BatchNorm, whose batch statistics would mix the two halves.
        self.concat_batches = not any(isinstance(m, BatchNorm1d) for m in discriminator.modules())
        self.backend = discriminator.parameters()[0].backend
        self.step_count = 0
        if int(pack) != pack or pack < 1:
            raise ValueError(f"pack must be a positive integer (samples per discriminator input), got {pack}")
        self.pack = int(pack)
        self.ema = GeneratorEMA(generator, ema) if ema else None
        self.conditional = isinstance(generator, ConditionalGenerator)
        if self.conditional != isinstance(discriminator, ConditionalDiscriminator):
            raise ValueError("a conditional GAN needs a conditional generator AND discriminator "
                             "(minigan.gan.conditional); got only one of them")
        if self.conditional and self.pack > 1:
            raise ValueError("pack > 1 with a conditional GAN: a packed D would judge samples of different labels "
                             "at once; use one of them")
        self.schedulers = [] if lr_lambda is None else [lr_scheduler.LambdaLR(o, lr_lambda) for o in (self.opt_d, self.opt_g)]

    def noise(self, n):
        """z ~ N(0, I), shape (n, latent_dim), from the backend's seeded generator."""
        return randn(n, self.latent_dim)

    def _pack(self, x):
        """PacGAN's packing: (m, d) -> (m / pack, pack * d), each row ``pack`` samples side by side."""
        if self.pack == 1:
            return x
        if len(x) % self.pack:
            raise ValueError(f"the batch of {len(x)} samples does not split into packs of {self.pack}; "
                             f"choose a batch size that is a multiple of {self.pack}")
        return x.reshape(len(x) // self.pack, -1)

    def _real_batch(self):
        """(x, y) from ``sample_real``: y is the labels of a conditional GAN, else None."""
        batch = self.sample_real()
        return batch if self.conditional else (batch, None)

    def _G(self, z, y):
        return self.G(z, y) if self.conditional else self.G(z)

    def _D(self, x, y):
        return self.D(x, y) if self.conditional else self.D(x)

    def _discriminate(self, real, fake, y=None):
        if self.concat_batches:
            labels = None if y is None else ops.concatenate([y, y], axis=0)
            out = self._D(ops.concatenate([real, fake], axis=0), labels)
            return out[:len(real)], out[len(real):]
        return self._D(real, y), self._D(fake, y)

    def _probability(self, out):
        """Mean D output for the record (an array): a probability, or the raw critic value for WGANs."""
        return (out.sigmoid() if self.logits else out).data.mean()

    def step(self):
        """One generator update after ``d_steps`` discriminator updates; returns its metrics as a
        :class:`StepMetrics`, a dict that stays on the device until read (no host sync in the step)."""
        for _ in range(self.d_steps):
            real, y = self._real_batch()
            with no_grad():                      # fakes are constants in the D step
                fake = self._G(self.noise(len(real)), y)
            real, fake = self._pack(real), self._pack(fake)
            # maximize log D(x) + log(1 - D(G(z)))  (Wasserstein: maximize C(x) - C(G(z)))
            out_real, out_fake = self._discriminate(real, fake, y)
            d_loss = self.d_loss_fn(out_real, out_fake)
            critic = self.D if y is None else (lambda x: self.D(x, y))   # what the penalties differentiate
            if self.gp_weight:
                d_loss = d_loss + L.gradient_penalty(critic, real, fake, self.gp_weight)
            if self.r1_weight:
                d_loss = d_loss + L.r1_penalty(critic, real, self.r1_weight)
            self.opt_d.zero_grad()
            d_loss.backward()
            grad_sq_d = _grad_sq_norm(self.opt_d, self.D)
            self.opt_d.step()
            if self.clip_value:
                L.clip_weights(self.D, self.clip_value)

        # minimize log(1 - D(G(z))) or -log D(G(z)) over G, with D frozen: no D weight gradients
        self.D.requires_grad_(False)
        try:
            out_gen = self._D(self._pack(self._G(self.noise(len(real) * self.pack), y)), y)
            g_loss = self.g_loss_fn(out_gen)
            self.opt_g.zero_grad()
            g_loss.backward()
            grad_sq_g = _grad_sq_norm(self.opt_g, self.G)
            self.opt_g.step()
        finally:
            self.D.requires_grad_(True)
        self.step_count += 1
        if self.ema:
            self.ema.update(self.G)
        for scheduler in self.schedulers:
            scheduler.step()
        with no_grad():   # one device array; no transfer here (see StepMetrics)
            values = [d_loss.data, g_loss.data, self._probability(out_real), self._probability(out_fake),
                      grad_sq_d, grad_sq_g]
            return StepMetrics(self.step_count, self.backend.xp.stack([v.reshape(()) for v in values]), self.backend)

    def generate(self, z, y=None):
        """G(z) (a conditional G: G(z, y)) for looking at: eval mode, no graph, and the EMA weights
        when there is an EMA."""
        if self.conditional and y is None:
            raise ValueError("a conditional generator needs the labels y to generate for")
        self.G.eval()
        try:
            with no_grad():
                if self.ema is None:
                    return self._G(z, y)
                with self.ema.applied_to(self.G):
                    return self._G(z, y)
        finally:
            self.G.train()

    # --- checkpoints -------------------------------------------------------------------------
    def state_dict(self):
        state = {"G": self.G.state_dict(), "D": self.D.state_dict(), "opt_g": self.opt_g.state_dict(),
                 "opt_d": self.opt_d.state_dict(), "step": self.step_count}
        if self.ema:
            state.update(G_ema=self.ema.state_dict(), ema_updates=self.ema.num_updates)
        return state

    def load_state_dict(self, state):
        """Restore :meth:`state_dict` (also after a checkpoint's JSON round trip). The optimizers'
        states have PyTorch's layout; minigan's older layout is converted by Optimizer.load_state_dict."""
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        for opt, key in ((self.opt_g, "opt_g"), (self.opt_d, "opt_d")):
            # the checkpoint brings the optimizer's *state* (moments, step counts); its settings
            # (lr, betas, ...) stay this trainer's, so a resumed run uses the lr it is given
            settings = [{k: v for k, v in group.items() if k != "params"} for group in opt.param_groups]
            opt.load_state_dict(state[key])
            for group, mine in zip(opt.param_groups, settings):
                group.update(mine)
        self.step_count = int(state["step"])
        if self.ema:
            if "G_ema" not in state:
                raise KeyError("the checkpoint has no generator EMA (G_ema); resume without --ema")
            self.ema.load_state_dict(state["G_ema"], state["ema_updates"])
        for scheduler in self.schedulers:  # the schedule is a function of the step: replay it
            scheduler.last_epoch = self.step_count - 1
            scheduler.step()


def _grad_sq_norm(optimizer, module):
    """The sum of squared gradient entries of the module's parameters, on the device: one reduction
    over each flat gradient buffer of the optimizer when backward wrote every gradient there."""
    xp, flat = module.parameters()[0].backend.xp, flat_grads(optimizer)  # (over the module's parameters)
    grads = flat if flat is not None else [p.grad.data for p in module.parameters() if p.grad is not None]
    total = None
    for g in grads:
        sq = xp.vdot(g, g)  # one BLAS pass, no temporary g * g
        total = sq if total is None else total + sq
    return total if total is not None else xp.full((), math.nan, dtype=module.parameters()[0].dtype)


class StepMetrics(collections.abc.MutableMapping):
    """One step's metrics (``step`` and METRICS), a dict once read: until then the row is on the
    device, and reading one value moves it to the host (one transfer, a synchronization on a GPU).
    The run loop reads many steps' rows in one transfer instead (:func:`metrics_to_host`)."""

    def __init__(self, step, row, backend):
        self.step, self.row, self.backend, self._host = step, row, backend, None

    def _values(self):
        if self._host is None:
            metrics_to_host([self])
        return self._host

    def __getitem__(self, key): return self._values()[key]
    def __setitem__(self, key, value): self._values()[key] = value
    def __delitem__(self, key): del self._values()[key]
    def __iter__(self): return iter(self._values())
    def __len__(self): return len(self._values())
    def __repr__(self): return f"StepMetrics({self._values()})"


def metrics_to_host(rows):
    """The metrics of several steps (StepMetrics) as dicts of floats, in ONE device -> host transfer.
    The gradient norms travel squared and are square-rooted here, on the host."""
    unread = [r for r in rows if r._host is None]
    if unread:
        be = unread[0].backend
        rows_on_device = be.xp.stack([r.row for r in unread]) if len(unread) > 1 else unread[0].row.reshape(1, -1)
        host = np.array(be.to_numpy(rows_on_device))   # a copy: NumPy's to_numpy hands out the array itself
        host[:, 4:] = np.sqrt(host[:, 4:])
        for r, values in zip(unread, host.tolist()):
            r._host = {"step": r.step, **dict(zip(METRICS, values))}
    return [r._host for r in rows]
