"""Conv2d and ConvTranspose2d, shaped like torch.nn's: layouts, defaults, init and state_dict keys."""
import math

from minigan.conv.ops import as_pair, check_output_padding, conv2d, conv_transpose2d, make_geometry, transposed_size
from minigan.creation import rand
from minigan.nn.module import Module, Parameter


def _uniform(shape, bound):
    """A Parameter of ``shape`` drawn from U(-bound, bound) with the current backend's generator."""
    return Parameter(rand(*shape) * (2.0 * bound) - bound)


class _ConvNd(Module):
    """What Conv2d and ConvTranspose2d share: arguments, parameters, PyTorch's init and repr.

    Init as PyTorch's reset_parameters: weight ~ kaiming_uniform(a = sqrt(5)), which is
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and bias from the same bound, where fan_in =
    weight.shape[1] * kh * kw: in_channels / groups for Conv2d, but out_channels / groups for
    ConvTranspose2d, whose weight is (in, out / groups, kh, kw) (PyTorch computes it this way too).
    """

    transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode):
        super().__init__()
        name = type(self).__name__
        for what, n in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(n, int) or isinstance(n, bool) or n < 1:
                raise ValueError(f"{name}: {what} must be a positive int, got {n!r}")
        if padding_mode != "zeros":
            raise ValueError(f"{name}: padding_mode={padding_mode!r} is not supported; only 'zeros' is")
        kernel = as_pair(kernel_size, "kernel_size", name, 1)
        self.geometry = make_geometry(name, kernel, stride, padding, dilation, groups)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: groups={groups} must divide in_channels={in_channels} and "
                             f"out_channels={out_channels}")
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel
        self.stride, self.padding, self.dilation = self.geometry.stride, self.geometry.padding, self.geometry.dilation
        self.groups, self.padding_mode = groups, padding_mode
        shape = (in_channels, out_channels // groups) if self.transposed else (out_channels, in_channels // groups)
        bound = 1.0 / math.sqrt(shape[1] * kernel[0] * kernel[1])
        self.weight = _uniform(shape + kernel, bound)
        self.bias = _uniform((out_channels,), bound) if bias else None

    def extra_repr(self):
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        defaults = {"padding": (0, 0), "output_padding": (0, 0), "dilation": (1, 1), "groups": 1}
        for key, default in defaults.items():
            if getattr(self, key, default) != default:
                text += f", {key}={getattr(self, key)}"
        return text + (", bias=False" if self.bias is None else "")


class Conv2d(_ConvNd):
    """2-D convolution (cross-correlation) over (N, C_in, H, W) or (C_in, H, W) input; weight
    (out_channels, in_channels / groups, kh, kw), bias (out_channels,).

    H_out = floor((H + 2 padding - dilation (kernel_size - 1) - 1) / stride) + 1.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros"):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode)

    def forward(self, x):
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class ConvTranspose2d(_ConvNd):
    """The transposed convolution (the gradient of Conv2d with respect to its input), which
    upsamples; weight (in_channels, out_channels / groups, kh, kw), bias (out_channels,).

    H_out = (H - 1) stride - 2 padding + dilation (kernel_size - 1) + output_padding + 1; a stride-s
    Conv2d maps s different sizes to one, and output_padding (or ``forward(x, output_size)``)
    picks which of them to give back.
    """

    transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros"):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode)
        self.output_padding = check_output_padding(type(self).__name__, output_padding, self.geometry)

    def forward(self, x, output_size=None):
        extra = self.output_padding if output_size is None else self._output_padding(x, output_size)
        return conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding, extra, self.groups,
                                self.dilation)

    def _output_padding(self, x, output_size):
        """The output_padding that gives ``output_size`` ((H, W), or a full shape ending in it)."""
        wanted = tuple(output_size)[-2:]
        smallest = [transposed_size(n, k, s, p, d, 0) for n, k, s, p, d in
                    zip(x.shape[-2:], self.kernel_size, self.stride, self.padding, self.dilation)]
        extra = tuple(w - n for w, n in zip(wanted, smallest))
        if len(wanted) != 2 or any(not 0 <= e < max(s, d) for e, s, d in zip(extra, self.stride, self.dilation)):
            largest = [n + max(s, d) - 1 for n, s, d in zip(smallest, self.stride, self.dilation)]
            raise ValueError(f"ConvTranspose2d: output_size {tuple(output_size)} is not reachable from input of "
                             f"shape {x.shape}; each side must be between {tuple(smallest)} and {tuple(largest)}")
        return extra

