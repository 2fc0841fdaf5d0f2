"""Why the non-saturating generator loss exists (Goodfellow et al. 2014, Section 3), in numbers.

Write the discriminator's verdict on a fake as D(G(z)) = sigmoid(a), a its logit. Early in
training D rejects fakes confidently (a << 0), and the generator's gradient through a is::

    saturating      d/da  log(1 - sigmoid(a)) = -sigmoid(a)         -> 0 as a -> -inf
    non-saturating  d/da -log sigmoid(a)      = -(1 - sigmoid(a))   -> -1

Both losses push a (and so D(G(z))) up, but the saturating one has almost nothing to push with.
"""
import numpy as np
from scipy import special

import minigan as mg
from minigan.nn import functional as F

DEFAULT_LOGITS = np.arange(-10.0, 3.0)


def generator_gradients(logits):
    """(d saturating / da, d non-saturating / da) at each logit a, by minigan's autograd in float64.

    The losses are the ones of ``minigan.gan.losses`` (binary cross entropy with target 0 and 1),
    summed, so each entry is the derivative of its own sample's loss. (BCE floors p(1 - p) at 1e-12
    in its gradient, like PyTorch, so the results are exact for |a| < 27.)
    """
    logits = np.asarray(logits, dtype=np.float64)
    a = mg.tensor(logits, requires_grad=True, dtype=np.float64)
    zeros, ones = (mg.tensor(np.full(logits.shape, t), dtype=np.float64) for t in (0.0, 1.0))
    saturating = -F.binary_cross_entropy(a.sigmoid(), zeros, reduction="sum")      # sum log(1 - D(G(z)))
    non_saturating = F.binary_cross_entropy(a.sigmoid(), ones, reduction="sum")    # -sum log D(G(z))
    (g_saturating,) = mg.grad(saturating, [a])
    (g_non_saturating,) = mg.grad(non_saturating, [a])
    return g_saturating.numpy(), g_non_saturating.numpy()


def saturation_table(logits=DEFAULT_LOGITS):
    """Rows (a, D(G(z)), autograd and closed form of both gradients) as a dict of 1-D arrays."""
    logits = np.asarray(logits, dtype=np.float64)
    saturating, non_saturating = generator_gradients(logits)
    d = special.expit(logits)
    return {"a": logits, "d_fake": d,
            "saturating": saturating, "saturating_exact": -d,
            "non_saturating": non_saturating, "non_saturating_exact": -(1.0 - d)}


def format_saturation_table(table):
    """The table as text, one line per logit."""
    lines = ["     a    D(G(z))   d/da log(1-D)   (-sigmoid a)   d/da -log D   (-(1-sigmoid a))",
             "  ----  ---------   -------------   ------------   -----------   ----------------"]
    for i in range(len(table["a"])):
        lines.append(f"  {table['a'][i]:4.0f}  {table['d_fake'][i]:9.2e}   {table['saturating'][i]:13.4e}   "
                     f"{table['saturating_exact'][i]:12.4e}   {table['non_saturating'][i]:11.6f}   "
                     f"{table['non_saturating_exact'][i]:16.6f}")
    return "\n".join(lines)
