"""The operations of minigan, as functions on Tensors, and Tensor's operators and methods.

Each primitive is one ``Function`` (forward on arrays, backward in Tensor ops) with its public
function right below it, in the submodule of its kind: ``elementwise``, ``select`` (ReLU, where,
maximum, clip: the ops whose gradient is a selection), ``activation``, ``reduce``, ``shape`` and
``linalg``; ``loss`` holds the fused binary cross entropies. Fused forwards and backwards call one
kernel of minigan.kernels each (``backend.kernel(name)``).

The table at the end of this file gives Tensor its operators and methods: ``x + y`` is ``add``,
``x.sum(dim=0)`` is ``sum``, and so on. It lives here, not in tensor.py, because the ops are built
on tensor.py: the engine never imports the ops, so the modules form no import cycle.
"""
from minigan.ops.activation import leaky_relu, log_sigmoid, log_softmax, sigmoid, softmax, softplus, tanh
from minigan.ops.coerce import as_tensor
from minigan.ops.elementwise import abs, add, clone, div, exp, log, mul, neg, pow, sqrt, sub, to_dtype
from minigan.ops.inplace import add_, clamp_, copy_, div_, fill_, mul_, setitem, sub_, zero_
from minigan.ops.linalg import linear, matmul
from minigan.ops.reduce import amax, amin, broadcast_to, max, mean, min, norm, std, sum, sum_to, var
from minigan.ops.select import argmax, argmin, clamp, clip, compare, mask, maximum, minimum, relu, where
from minigan.ops.shape import (cat, concatenate, flatten, getitem, permute, reshape, squeeze, stack, swapaxes,
                               transpose, unsqueeze, view)
from minigan.tensor import Tensor, is_grad_enabled


# ---- == and != against None are not elementwise: Python's answer (NotImplemented -> identity) ----
def _equal(a, b): return NotImplemented if b is None else compare(a, b, "equal")
def _not_equal(a, b): return NotImplemented if b is None else compare(a, b, "not_equal")


def _in_place(op, method):
    """``x += y``: in place (as in PyTorch) unless that would have to rewrite a recorded graph;
    then, for a tensor inside a graph, a new tensor (same values; only aliasing differs)."""
    def operator(a, b):
        records = is_grad_enabled() and (a.requires_grad or (isinstance(b, Tensor) and b.requires_grad))
        if records and not (a.is_leaf and a.requires_grad):
            return op(a, b)
        return getattr(a, method)(b)  # a leaf that requires grad raises PyTorch's error here
    return operator


_TENSOR_METHODS = {
    "__add__": add, "__radd__": add, "__sub__": sub, "__rsub__": lambda a, b: sub(b, a), "__mul__": mul,
    "__rmul__": mul, "__truediv__": div, "__rtruediv__": lambda a, b: div(b, a), "__neg__": neg, "__pow__": pow,
    "__rpow__": lambda a, base: pow(base, a), "__matmul__": matmul, "__rmatmul__": lambda a, b: matmul(b, a),
    "__getitem__": getitem, "__setitem__": setitem,
    "__iadd__": _in_place(add, "add_"), "__isub__": _in_place(sub, "sub_"), "__imul__": _in_place(mul, "mul_"),
    "__itruediv__": _in_place(div, "div_"), "__eq__": _equal, "__ne__": _not_equal,
    "__gt__": lambda a, b: compare(a, b, "greater"), "__ge__": lambda a, b: compare(a, b, "greater_equal"),
    "__lt__": lambda a, b: compare(a, b, "less"), "__le__": lambda a, b: compare(a, b, "less_equal"),
    "pow": pow, "exp": exp, "log": log, "sqrt": sqrt, "abs": abs, "clone": clone,
    "sigmoid": sigmoid, "tanh": tanh, "relu": relu, "softmax": softmax, "log_softmax": log_softmax,
    "clip": clip, "clamp": clamp, "maximum": maximum, "minimum": minimum, "argmax": argmax, "argmin": argmin,
    "sum": sum, "mean": mean, "var": var, "std": std, "max": max, "min": min, "amax": amax, "amin": amin,
    "norm": norm, "sum_to": sum_to, "broadcast_to": broadcast_to, "reshape": reshape, "view": view,
    "flatten": flatten, "squeeze": squeeze, "unsqueeze": unsqueeze, "transpose": transpose, "permute": permute,
    "swapaxes": swapaxes, "float": lambda a: to_dtype(a, "float32"), "double": lambda a: to_dtype(a, "float64"),
    "add_": add_, "sub_": sub_, "mul_": mul_, "div_": div_, "zero_": zero_, "fill_": fill_, "copy_": copy_,
    "clamp_": clamp_, "T": property(lambda a: transpose(a)), "mT": property(lambda a: swapaxes(a, -2, -1)),
}
for _name, _method in _TENSOR_METHODS.items():
    setattr(Tensor, _name, _method)
