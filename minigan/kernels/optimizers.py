"""The optimizers' fused kernels (see minigan/kernels/__init__.py): one in-place update each of SGD,
Adam/AdamW and RMSprop, PyTorch's rules, for one parameter or for a whole flat buffer of them.

The optimizer classes (minigan/optim) compute the scalars on the host: every ``1 - beta`` is
passed in, never recomputed in float32 on the device (1 - 0.999f is 0.00099998713, 1.3e-5 off).
The twins update ``param`` and the buffers in place through the scratch array ``tmp`` (the CUDA
bodies need none). A buffer an option does not use (amsgrad's maximum, a momentum buffer) is passed
as ``tmp`` and never touched by either side. Each twin makes exactly the passes minigan's
optimizers made parameter by parameter, so trajectories are unchanged to the last bit on NumPy.
"""
import numpy as np

from minigan.kernels.registry import kernel

_FOLLOWED = """T g = maximize ? -grad : grad;
if (l2 != (T)0) g = g + l2 * param;
"""


def _followed(grad, param, maximize, l2):
    """The gradient an update follows: negated if ``maximize``, plus l2 * param (weight decay as L2)."""
    g = -grad if maximize else grad
    return g + l2 * param if l2 else g


@kernel("T grad, T lr, T momentum, T damp_c, T l2, int32 nesterov, int32 maximize, int32 first",
        "T param, T buf, T tmp", _FOLLOWED + """if (momentum != (T)0) {
    T b = first ? g : buf * momentum + g * damp_c;
    buf = b;
    g = nesterov ? b * momentum + g : b;
}
param -= g * lr;""")
def sgd(grad, lr, momentum, damp_c, l2, nesterov, maximize, first, param, buf, tmp):
    """b = g on the first step, then momentum b + (1 - dampening) g; p -= lr (g + momentum b if nesterov
    else b), or p -= lr g without momentum. ``damp_c`` = 1 - dampening."""
    g = _followed(grad, param, maximize, l2)
    if momentum:
        if first:                          # PyTorch's rule: the buffer starts as the first gradient
            np.add(g, 0.0, out=buf)
        else:
            buf *= momentum
            np.multiply(g, damp_c, out=tmp)
            buf += tmp
        if nesterov:
            np.multiply(buf, momentum, out=tmp)
            tmp += g
            g = tmp
        else:
            g = buf
    np.multiply(g, lr, out=tmp)
    param -= tmp


@kernel("T grad, T b1, T c1, T b2, T c2, T step_size, T eps_hat, T decay, T l2, int32 maximize, int32 amsgrad",
        "T param, T m, T v, T vmax, T tmp", """if (decay != (T)1) param *= decay;
""" + _FOLLOWED + """m = m * b1 + g * c1;
v = v * b2 + (g * g) * c2;
T w = v;
if (amsgrad) { vmax = max(vmax, v); w = vmax; }
param -= (m / (sqrt(w) + eps_hat)) * step_size;""")
def adam(grad, b1, c1, b2, c2, step_size, eps_hat, decay, l2, maximize, amsgrad, param, m, v, vmax, tmp):
    """m = b1 m + c1 g, v = b2 v + c2 g^2 (c = 1 - b), p -= step_size * m / (sqrt(v) + eps_hat), with
    both bias corrections folded into step_size and eps_hat by the caller; ``decay`` = 1 - lr wd (AdamW)."""
    if decay != 1.0:
        param *= decay
    g = _followed(grad, param, maximize, l2)
    m *= b1
    np.multiply(g, c1, out=tmp)
    m += tmp
    np.multiply(g, g, out=tmp)
    v *= b2
    tmp *= c2
    v += tmp
    if amsgrad:                            # the denominator never shrinks
        v = np.maximum(vmax, v, out=vmax)
    np.sqrt(v, out=tmp)
    tmp += eps_hat
    np.divide(m, tmp, out=tmp)
    tmp *= step_size
    param -= tmp


@kernel("T grad, T lr, T alpha, T c_alpha, T eps, T l2, T momentum, int32 maximize, int32 centered",
        "T param, T s, T a, T buf, T tmp", _FOLLOWED + """s = s * alpha + (g * g) * c_alpha;
T d;
if (centered) { a = a + (g - a) * c_alpha; d = sqrt(s - a * a); } else { d = sqrt(s); }
T u = g / (d + eps);
if (momentum != (T)0) { buf = buf * momentum + u; u = buf; }
param -= u * lr;""")
def rmsprop(grad, lr, alpha, c_alpha, eps, l2, momentum, maximize, centered, param, s, a, buf, tmp):
    """s = alpha s + c g^2 (c = 1 - alpha); d = sqrt(s - a^2) + eps with a = a + c (g - a) if centered,
    else sqrt(s) + eps; p -= lr b with b = momentum b + g / d, or p -= lr g / d without momentum."""
    g = _followed(grad, param, maximize, l2)
    np.multiply(g, g, out=tmp)
    s *= alpha
    tmp *= c_alpha
    s += tmp
    if centered:                           # a += (1 - alpha)(g - a): PyTorch's lerp
        np.subtract(g, a, out=tmp)
        tmp *= c_alpha
        a += tmp
        np.multiply(a, a, out=tmp)
        np.subtract(s, tmp, out=tmp)
        np.sqrt(tmp, out=tmp)
    else:
        np.sqrt(s, out=tmp)
    tmp += eps
    np.divide(g, tmp, out=tmp)
    if momentum:
        buf *= momentum
        buf += tmp
        np.multiply(buf, lr, out=tmp)
    else:
        tmp *= lr
    param -= tmp
