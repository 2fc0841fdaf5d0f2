"""The three Functions of 2-D convolution, whose backwards are each other.

With ``A(x, w)`` the convolution (PyTorch's conv2d, a cross-correlation), ``T(g, w)`` its adjoint in x
(conv_transpose2d) and ``B(x, g)`` its adjoint in w (the weight gradient), all three bilinear:

    A(x, w):  dx = T(g, w)    dw = B(x, g)
    T(g, w):  dg = A(h, w)    dw = B(h, g)      (h: the gradient of T's output)
    B(x, g):  dx = T(g, h)    dg = A(x, h)      (h: the gradient of B's output)

so every backward is written with these Functions, and double backward (WGAN-GP's penalty
through a convolutional critic) needs nothing more. Forwards work on arrays of the backend's
namespace ``xp``: im2col as a strided view of the windows (copied once, into the matrix), one
matrix product per group, and col2im as kh * kw strided adds (a loop over the kernel, never
over pixels).

Shapes: x (N, C, H, W); A's weight (O, C / groups, kh, kw); T's weight (C_in, C_out / groups,
kh, kw), PyTorch's layouts. ``geometry`` is a Geometry of (stride, padding, dilation) pairs and
``groups``; ``out_hw`` is the spatial size the caller wants (a backward knows it from the tensor
whose gradient it computes, which settles the rows a strided convolution never reads).
"""
import collections

from minigan.conv.workspace import workspace
from minigan.kernels.pool import empty, zeros
from minigan.tensor import Function

Geometry = collections.namedtuple("Geometry", ["stride", "padding", "dilation", "groups", "batch_last"])


def conv_size(size, kernel, stride, padding, dilation):
    """Output length of a convolution: floor((size + 2 p - d (k - 1) - 1) / s) + 1."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


# NOTE: inside these Functions an image is held channel first, as (C, N, H, W), or, with
# ``geometry.batch_last``, as (C, H, W, N); a matrix column is a pixel (n, y, x) or (y, x, n).
# The strided copies of im2col and col2im run along the last axis: over one row of a small image
# (7 or 14 values) channel first, over the N images of the batch batch last, 2-4x faster here at
# DCGAN's sizes. But moving N to the end of a (N, C, H, W) array is a full transpose, ~5x slower
# than moving C to the front, so batch_last pays only where the im2col matrix (C kh kw rows) is
# larger than the images of the other side (O rows): conv2d and conv_transpose2d choose so.
# Results are (N, C, H, W) views of the internal arrays, not copied back: elementwise ops keep
# their memory order, so a gradient arriving in it makes channel_rows a free reshape, and im2col
# reads any strides.
def _to_internal(geometry): return (1, 2, 3, 0) if geometry.batch_last else (1, 0, 2, 3)
def _to_nchw(geometry): return (3, 0, 1, 2) if geometry.batch_last else (1, 0, 2, 3)


def _internal_shape(geometry, n, c, h, w): return (c, h, w, n) if geometry.batch_last else (c, n, h, w)


def _at(geometry, rows, cols):
    """The index of the (rows, cols) slices of the spatial axes of an internal image."""
    return (slice(None), rows, cols, slice(None)) if geometry.batch_last else (slice(None), slice(None), rows, cols)


def channel_rows(xp, a, geometry):
    """(N, C, H, W) -> the (C, N H W) matrix with one row per channel (a transposed copy, unless free)."""
    rows = a.transpose(_to_internal(geometry))
    if not rows.flags.c_contiguous:
        rows, internal = empty(xp, rows.shape, a.dtype), rows
        rows[...] = internal
    return rows.reshape(a.shape[1], -1)


def im2col(xp, x, kernel, geometry, out_hw, scratch=False):
    """The (C kh kw, N Ho Wo) matrix of input patches: row (c, i, j), column (n, y, x) holds
    x_padded[n, c, y s + i d, x s + j d]. One copy into a padded internal image (a workspace; none
    without padding), a read-only strided view of its windows, and one copy of those into the
    matrix: a new array, or with ``scratch`` a workspace the caller drops before returning."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, geometry.stride, geometry.padding, geometry.dilation
    n, c, h, w = x.shape
    image = x.transpose(_to_internal(geometry))
    if ph or pw:
        image = workspace(xp, _internal_shape(geometry, n, c, h + 2 * ph, w + 2 * pw), x.dtype, "padded")
        image[...] = 0
        image[_at(geometry, slice(ph, ph + h), slice(pw, pw + w))] = x.transpose(_to_internal(geometry))
    windows = xp.lib.stride_tricks.sliding_window_view(image, (dh * (kh - 1) + 1, dw * (kw - 1) + 1),
                                                        axis=(1, 2) if geometry.batch_last else (2, 3))
    every_stride = _at(geometry, slice(None, sh * (out_hw[0] - 1) + 1, sh), slice(None, sw * (out_hw[1] - 1) + 1, sw))
    windows = windows[every_stride + (slice(None, None, dh), slice(None, None, dw))].transpose(0, 4, 5, 1, 2, 3)
    cols = workspace(xp, windows.shape, x.dtype, "cols") if scratch else empty(xp, windows.shape, x.dtype)
    cols[...] = windows   # always a copy: a reshape could return a view of the padded workspace
    return cols.reshape(c * kh * kw, -1)


def _col2im(xp, cols, kernel, n, in_hw, out_hw, geometry):
    """The adjoint of im2col: the (C kh kw, N H W) matrix added back into a zero-padded internal
    image (overlapping patches sum); returns it as an (N, C, H_out, W_out) view without the padding."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, geometry.stride, geometry.padding, geometry.dilation
    (h, w), (ho, wo) = in_hw, out_hw
    c = cols.shape[0] // (kh * kw)
    cols = cols.reshape((c, kh, kw) + _internal_shape(geometry, n, 1, h, w)[1:])
    image = zeros(xp, _internal_shape(geometry, n, c, ho + 2 * ph, wo + 2 * pw), cols.dtype)
    for i in range(kh):
        for j in range(kw):
            image[_at(geometry, slice(i * dh, i * dh + sh * (h - 1) + 1, sh),
                      slice(j * dw, j * dw + sw * (w - 1) + 1, sw))] += cols[:, i, j]
    return image[_at(geometry, slice(ph, ph + ho), slice(pw, pw + wo))].transpose(_to_nchw(geometry))


def _add_bias(out, bias):
    """out += bias per channel, in place (out is a fresh array, or a view of one)."""
    if bias is not None:
        out += bias.reshape(1, -1, 1, 1)
    return out


def _grouped(a, groups):
    """(rows, cols) -> (groups, rows / groups, cols): one matrix product per group, batched."""
    return a.reshape(groups, a.shape[0] // groups, -1)


def _bias_grad(grad, needs): return grad.sum(axis=(0, 2, 3)) if len(needs) > 2 and needs[2] else None


# NOTE: the copies into matrix form cost the most after the matrix products: im2col (a gather of
# C kh kw N Ho Wo values) and channel_rows (a transposed copy). Each Function keeps the matrices it made of
# its inputs, and each backward makes those of the gradient once and hands them on (``cols=``,
# ``rows=``) to the Functions that need the same ones, so a training step builds each matrix
# once, as a hand-written implementation would; the graph holds them until it is freed.
class Conv2d(Function):
    """A(x, w) + bias: out[n, o, y, x] = sum over c, i, j of w[o, c, i, j] x_padded[n, c, y s + i d, x s + j d].
    ``cols``: im2col of x, if the caller has it."""

    def forward(self, x, w, bias=None, *, geometry, out_hw, cols=None):
        self.geometry, n, o, g = geometry, x.shape[0], w.shape[0], geometry.groups
        self.cols = im2col(self.xp, x, w.shape[2:], geometry, out_hw) if cols is None else cols
        weight, cols = _grouped(w.reshape(o, -1), g), _grouped(self.cols, g)   # (groups, O / groups, N Ho Wo):
        out = self.xp.matmul(weight, cols, out=empty(self.xp, weight.shape[:2] + cols.shape[2:], x.dtype))
        return _add_bias(out.reshape(_internal_shape(geometry, n, o, *out_hw)).transpose(_to_nchw(geometry)), bias)

    def backward(self, grad):
        x, w = self.inputs[:2]
        needs, geometry = self.needs_input_grad, self.geometry
        grad_rows = channel_rows(self.xp, grad.data, geometry) if needs[0] or needs[1] else None
        grad_x = ConvTranspose2d.apply(grad, w, geometry=geometry, out_hw=x.shape[2:], rows=grad_rows) \
            if needs[0] else None
        grad_w = Conv2dWeight.apply(x, grad, geometry=geometry, kernel=w.shape[2:], cols=self.cols, rows=grad_rows) \
            if needs[1] else None
        return grad_x, grad_w, _bias_grad(grad, needs)


class ConvTranspose2d(Function):
    """T(x, w) + bias, the adjoint of A in its input: each input pixel adds w[c] times itself into
    the output (overlaps sum), i.e. col2im of the product of weight and input. ``rows``: channel_rows(x)."""

    def forward(self, x, w, bias=None, *, geometry, out_hw, rows=None):
        self.geometry = geometry
        (n, c_in, h, wd), (kh, kw), g = x.shape, w.shape[2:], geometry.groups
        self.rows = channel_rows(self.xp, x, geometry) if rows is None else rows
        # (groups, C_out / groups kh kw, N H W): one product per group of weight rows and input rows
        weight = _grouped(w.reshape(c_in, -1), g).transpose(0, 2, 1)
        cols = self.xp.matmul(weight, _grouped(self.rows, g), out=workspace(
            self.xp, weight.shape[:2] + (self.rows.shape[1],), x.dtype, "products"))   # summed by col2im, then dropped
        out = _col2im(self.xp, cols.reshape(-1, cols.shape[-1]), (kh, kw), n, (h, wd), out_hw, geometry)
        return _add_bias(out, bias)

    def backward(self, grad):
        x, w = self.inputs[:2]
        needs, geometry = self.needs_input_grad, self.geometry
        cols = im2col(self.xp, grad.data, w.shape[2:], geometry, x.shape[2:]) if needs[0] or needs[1] else None
        grad_x = Conv2d.apply(grad, w, geometry=geometry, out_hw=x.shape[2:], cols=cols) if needs[0] else None
        grad_w = Conv2dWeight.apply(grad, x, geometry=geometry, kernel=w.shape[2:], cols=cols, rows=self.rows) \
            if needs[1] else None
        return grad_x, grad_w, _bias_grad(grad, needs)


class Conv2dWeight(Function):
    """B(x, g), the adjoint of A in its weight: dw[o, c, i, j] = sum over n, y, x of
    g[n, o, y, x] x_padded[n, c, y s + i d, x s + j d], of shape (O, C / groups, kh, kw).
    ``cols``: im2col of x; ``rows``: channel_rows(g)."""

    def forward(self, x, g, *, geometry, kernel, cols=None, rows=None):
        self.geometry, groups, c = geometry, geometry.groups, x.shape[1]
        self.cols = im2col(self.xp, x, kernel, geometry, g.shape[2:]) if cols is None else cols
        self.rows = channel_rows(self.xp, g, geometry) if rows is None else rows
        out = self.xp.matmul(_grouped(self.rows, groups), _grouped(self.cols, groups).transpose(0, 2, 1))
        return out.reshape(g.shape[1], c // groups, *kernel)

    def backward(self, grad):
        x, g = self.inputs
        needs, geometry = self.needs_input_grad, self.geometry
        grad_x = ConvTranspose2d.apply(g, grad, geometry=geometry, out_hw=x.shape[2:], rows=self.rows) \
            if needs[0] else None
        grad_g = Conv2d.apply(x, grad, geometry=geometry, out_hw=g.shape[2:], cols=self.cols) if needs[1] else None
        return grad_x, grad_g


# ---- the public functions: arguments checked here, once; the Functions trust them ----------------
def as_pair(value, name, op, minimum):
    """(v, v) for an int v, the pair itself for a pair; each an int >= minimum, or one clear error."""
    pair = (value, value) if isinstance(value, int) else tuple(value) if isinstance(value, (tuple, list)) else ()
    if len(pair) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) and v >= minimum for v in pair):
        raise ValueError(f"{op}: {name} must be an int >= {minimum} or a pair of them, got {value!r}")
    return pair


def make_geometry(op, kernel, stride, padding, dilation, groups, batch_last=False):
    """Geometry from PyTorch's arguments (ints or pairs; padding also 'valid', or 'same' at stride 1)."""
    stride, dilation = as_pair(stride, "stride", op, 1), as_pair(dilation, "dilation", op, 1)
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise ValueError(f"{op}: padding must be ints, 'valid' or 'same', got {padding!r}")
        total = [0 if padding == "valid" else d * (k - 1) for k, d in zip(kernel, dilation)]
        if padding == "same" and (stride != (1, 1) or any(t % 2 for t in total)):
            raise ValueError(f"{op}: padding='same' needs stride 1 and an odd (dilated) kernel here, got stride "
                             f"{stride} and kernel {tuple(kernel)}; give the padding as ints")
        padding = (total[0] // 2, total[1] // 2)
    return Geometry(stride, as_pair(padding, "padding", op, 0), dilation, groups, batch_last)


def _check(op, x, weight, bias, groups, transposed):
    """One clear error for each way input, weight and bias can fail to fit together."""
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: expected input of shape (N, C, H, W) or (C, H, W), got shape {x.shape}")
    if weight.ndim != 4 or 0 in weight.shape:
        raise ValueError(f"{op}: weight must be 4-D with no empty axis, got shape {weight.shape}")
    if not isinstance(groups, int) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    # weight: conv2d's (out, in / groups, kh, kw), conv_transpose2d's (in, out / groups, kh, kw)
    grouped, first = weight.shape[1] * groups, weight.shape[0]
    in_channels, out_channels = (first, grouped) if transposed else (grouped, first)
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"{op}: groups={groups} must divide both channel counts, got {in_channels} in and "
                         f"{out_channels} out (weight of shape {weight.shape})")
    if x.shape[-3] != in_channels:
        raise ValueError(f"{op}: input of shape {x.shape} has {x.shape[-3]} channels but weight of shape "
                         f"{weight.shape} (groups={groups}) expects {in_channels}")
    if bias is not None and bias.shape != (out_channels,):
        raise ValueError(f"{op}: bias of shape {bias.shape} does not fit weight of shape {weight.shape}; "
                         f"expected ({out_channels},)")
    if x.dtype != weight.dtype:
        raise TypeError(f"{op}: input is {x.dtype} but weight is {weight.dtype}; convert one (.float() or .double())")


def _batch_last(weight, groups):
    """The layout rule of the NOTE above: batch last where the im2col matrix has more rows
    (C kh kw) than the images on the weight's other side have channels (O, in conv2d's terms)."""
    return weight.shape[1] * groups * weight.shape[2] * weight.shape[3] > weight.shape[0]


def _apply(op, cls, x, weight, bias, geometry, out_hw):
    """cls applied to (N, C, H, W), or to (C, H, W) as a batch of one (PyTorch's unbatched input)."""
    if min(out_hw) < 1:
        raise ValueError(f"{op}: input of shape {x.shape} with weight of shape {weight.shape}, stride "
                         f"{geometry.stride}, padding {geometry.padding} and dilation {geometry.dilation} gives an "
                         f"output of size {tuple(out_hw)}; each side must be at least 1 (use a smaller kernel or more "
                         "padding)")
    batch = x if x.ndim == 4 else x.reshape((1,) + x.shape)
    out = cls.apply(*((batch, weight) if bias is None else (batch, weight, bias)), geometry=geometry, out_hw=out_hw)
    return out if x.ndim == 4 else out.reshape(out.shape[1:])


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """PyTorch's F.conv2d: input (N, C, H, W), weight (O, C / groups, kh, kw), bias (O,) or None."""
    _check("conv2d", input, weight, bias, groups, transposed=False)
    geometry = make_geometry("conv2d", weight.shape[2:], stride, padding, dilation, groups, _batch_last(weight, groups))
    out_hw = tuple(conv_size(n, k, s, p, d) for n, k, s, p, d in zip(
        input.shape[-2:], weight.shape[2:], geometry.stride, geometry.padding, geometry.dilation))
    return _apply("conv2d", Conv2d, input, weight, bias, geometry, out_hw)


def transposed_size(size, kernel, stride, padding, dilation, output_padding):
    """Output length of a transposed convolution: (size - 1) s - 2 p + d (k - 1) + output_padding + 1."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def check_output_padding(op, output_padding, geometry):
    """output_padding as a pair, each smaller than the stride or the dilation (PyTorch's rule: any
    more would add rows that no input pixel reaches)."""
    extra = as_pair(output_padding, "output_padding", op, 0)
    if any(e >= max(s, d) for e, s, d in zip(extra, geometry.stride, geometry.dilation)):
        raise ValueError(f"{op}: output_padding {extra} must be smaller than stride {geometry.stride} or "
                         f"dilation {geometry.dilation} (PyTorch's rule)")
    return extra


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """PyTorch's F.conv_transpose2d (note its argument order: groups before dilation): input
    (N, C_in, H, W), weight (C_in, C_out / groups, kh, kw), bias (C_out,) or None."""
    op = "conv_transpose2d"
    _check(op, input, weight, bias, groups, transposed=True)
    geometry = make_geometry(op, weight.shape[2:], stride, padding, dilation, groups, _batch_last(weight, groups))
    extra = check_output_padding(op, output_padding, geometry)
    out_hw = tuple(transposed_size(n, k, s, p, d, e) for n, k, s, p, d, e in zip(
        input.shape[-2:], weight.shape[2:], geometry.stride, geometry.padding, geometry.dilation, extra))
    return _apply(op, ConvTranspose2d, input, weight, bias, geometry, out_hw)
