"""Checks of A1: for each op, forward against minigan's own op, backward against minigan's own
gradients, and backward differentiated once more (second derivatives), all computed by the
grader; the student's ops run on the strict backend, so NumPy arrays mixed into a device
computation raise as they would on a GPU. Forwards are worth 1 point, backwards 2 each.

The cases are a table: the op, its inputs' shapes (broadcasting included) and keyword arguments.
"""
import numpy as np

import minigan as mg
from minigan.assignments.checking import (Check, CheckFailed, analytic_gradients, array64, compare_gradients,
                                          expect_close, get)


def _sum_reference(a, axis=None, keepdims=False):
    return a.sum(axis=axis, keepdims=keepdims)


# op name -> (reference on minigan Tensors, input kind, cases: (input shapes, keyword arguments))
OPS = {
    "Mul": (lambda a, b: a * b, "normal", [(((3, 4), (3, 4)), {}), (((3, 4), (4,)), {}),
                                            (((2, 1, 3), (4, 1)), {})]),
    "Exp": (mg.exp, "normal", [(((3, 4),), {}), (((5,),), {})]),
    "Log": (mg.log, "positive", [(((3, 4),), {}), (((5,),), {})]),
    "Tanh": (mg.tanh, "normal", [(((3, 4),), {}), (((2, 3, 2),), {})]),
    "Sum": (_sum_reference, "normal", [(((3, 4, 2),), {}), (((3, 4, 2),), {"axis": 1}),
                                       (((3, 4, 2),), {"axis": -1, "keepdims": True}),
                                       (((3, 4, 2),), {"axis": (0, 2)})]),
    "MatMul": (mg.matmul, "normal", [(((3, 4), (4, 2)), {}), (((1, 3), (3, 1)), {})]),
}


def _inputs(kind, shapes, seed):
    rng = np.random.default_rng(seed)
    if kind == "positive":
        return [rng.uniform(0.5, 2.0, s) for s in shapes]
    return [rng.standard_normal(s) for s in shapes]


def _context(shapes, params):
    text = "input shapes " + ", ".join(str(tuple(s)) for s in shapes)
    return text + "".join(f", {k}={v!r}" for k, v in params.items())


def _forward_probe(op):
    """The student's forward on the strict backend (a GPU stand-in: NumPy arrays mixed in raise)."""
    _, kind, cases = OPS[op]

    def probe(student, cache):
        cls = get(student, op)
        mg.set_backend("strict")
        be, outputs = mg.get_backend(), []
        for n, (shapes, params) in enumerate(cases):
            arrays = [be.asarray(a) for a in _inputs(kind, shapes, seed=n)]
            out = cls(be).forward(*arrays, **params)
            if isinstance(out, mg.Tensor) or not isinstance(out, be.array_type):
                raise CheckFailed(f"{op}.forward must return an array of the backend (compute on the raw arrays "
                                  f"it receives, with self.xp), got a {type(out).__name__}")
            outputs.append(be.to_numpy(out))
        return {"outputs": outputs}
    return probe


def _forward_judge(op):
    reference, kind, cases = OPS[op]

    def judge(data):
        outputs = data.get("outputs") if isinstance(data, dict) else None
        if not isinstance(outputs, list) or len(outputs) != len(cases):
            raise CheckFailed(f"{op}.forward: the result lacks one output per case")
        for n, (shapes, params) in enumerate(cases):
            arrays = _inputs(kind, shapes, seed=n)
            expected = reference(*[mg.tensor(a, dtype="float64") for a in arrays], **params).numpy()
            expect_close(f"{op}.forward", outputs[n], expected, rtol=1e-10, atol=1e-12,
                         context=_context(shapes, params))
    return judge


def _backward_structure(op, cls, tensors, params, context):
    """backward must return one Tensor (or None) per input, each of the input's shape (or, for an
    input that was broadcast, of the output's shape)."""
    out = cls.apply(*tensors, **params)
    result = out._ctx.backward(mg.ones_like(out))
    n = len(tensors)
    if isinstance(result, mg.Tensor) or not isinstance(result, (tuple, list)):
        raise CheckFailed(f"{op}.backward must return a tuple with one gradient per input ({n}), e.g. "
                          f"`return (grad * ...,)`; it returned a {type(result).__name__}")
    if len(result) != n:
        raise CheckFailed(f"{op}.backward returned {len(result)} gradients for {n} input(s)")
    for i, (g, t) in enumerate(zip(result, tensors)):
        if g is None:
            raise CheckFailed(f"{op}.backward returned None for input {i}, which requires a gradient [{context}]")
        if not isinstance(g, mg.Tensor):
            raise CheckFailed(f"{op}.backward returned a {type(g).__name__} for input {i}: return Tensors built "
                              "with Tensor operations (grad * ...), so the gradient stays differentiable")
        if g.shape != t.shape and not (g.shape == out.shape and _broadcasts_to(t.shape, out.shape)):
            raise CheckFailed(f"{op}.backward: wrong output shape: the gradient for input {i} has shape {g.shape}, "
                              f"but input {i} has shape {t.shape} [{context}]")


def _broadcasts_to(shape, target):
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


def _tensors(kind, shapes, seed):
    return [array64(a) for a in _inputs(kind, shapes, seed)]


def _backward_probe(op, order):
    """The gradients of a random projection through the student's op (order 1), or through its
    backward once more (order 2), on the strict backend."""
    _, kind, cases = OPS[op]

    def probe(student, cache):
        cls = get(student, op)
        mg.set_backend("strict")
        results = []
        for n, (shapes, params) in enumerate(cases):
            tensors = _tensors(kind, shapes, seed=n)
            _backward_structure(op, cls, tensors, params, _context(shapes, params))
            results.append(analytic_gradients(lambda *xs: cls.apply(*xs, **params), tensors, order=order))
        return {"gradients": results}
    return probe


def _backward_judge(op, order):
    reference, kind, cases = OPS[op]

    def judge(data):
        results = data.get("gradients") if isinstance(data, dict) else None
        if not isinstance(results, list) or len(results) != len(cases):
            raise CheckFailed(f"{op}.backward: the result lacks the gradients of each case")
        for n, (shapes, params) in enumerate(cases):
            expected = analytic_gradients(lambda *xs: reference(*xs, **params), _tensors(kind, shapes, seed=n),
                                          order=order)
            got = [np.asarray(g, dtype=np.float64) for g in results[n]]
            compare_gradients(f"{op}.backward", got, expected, order=order, context=_context(shapes, params))
    return judge


CHECKS = []
for _op in OPS:
    CHECKS += [
        Check(f"{_op}.forward", _forward_probe(_op), _forward_judge(_op), points=1, uses=(_op,)),
        Check(f"{_op}.backward", _backward_probe(_op, 1), _backward_judge(_op, 1), points=2,
              needs=(f"{_op}.forward",), uses=(_op,)),
        Check(f"{_op}.backward is differentiable (double backward)", _backward_probe(_op, 2),
              _backward_judge(_op, 2), points=2, needs=(f"{_op}.backward",), uses=(_op,)),
    ]
