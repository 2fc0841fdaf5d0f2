"""Checks of A0: the student's topological order must be a valid one of a graph the grader knows
(it builds the same graph), unbroadcast must match NumPy's sums, and backward must give the
gradients minigan's own engine gives, through shared nodes and broadcasting. The student's code
only walks graphs built from minigan's ops; while it runs, minigan's own backward is switched off."""
import importlib

import numpy as np

import minigan as mg
from minigan.assignments.checking import Check, CheckFailed, compare_gradients, expect_close, get

# the graph: (name, recipe over earlier names); leaves first. `h` uses `x` twice and `b` is broadcast.
GRAPH = [
    ("a", None), ("b", None), ("c", None),
    ("x", lambda t: t["a"] * t["b"]),          # (3, 4) * (4,)
    ("y", lambda t: t["x"] + t["c"]),          # (3, 4) + (3, 1)
    ("h", lambda t: t["x"] * t["y"].tanh()),   # x reused
    ("s", lambda t: t["h"].sum() + (t["a"] * t["a"]).sum()),
]
PARENTS = {"x": ("a", "b"), "y": ("x", "c"), "h": ("x", "tanh(y)"), "tanh(y)": ("y",), "a*a": ("a",),
           "sum(h)": ("h",), "sum(a*a)": ("a*a",), "s": ("sum(h)", "sum(a*a)")}
SHAPES = {"a": (3, 4), "b": (4,), "c": (3, 1)}
engine = importlib.import_module("minigan.tensor")  # the module (the name mg.tensor is the function)


def _build():
    """The graph's tensors by name, the same in the child and in the grader."""
    rng = np.random.default_rng(0)
    t = {name: mg.tensor(rng.standard_normal(shape), dtype="float64", requires_grad=True)
         for name, shape in SHAPES.items()}
    for name, recipe in GRAPH:
        if recipe is not None:
            t[name] = recipe(t)
    return t


def _names(t):
    """id -> name for every tensor of the graph, the unnamed intermediates named by their role."""
    names = {id(v): k for k, v in t.items()}
    s = t["s"]
    sum_h, sum_aa = s._ctx.inputs
    names.update({id(sum_h): "sum(h)", id(sum_aa): "sum(a*a)", id(sum_aa._ctx.inputs[0]): "a*a",
                  id(t["h"]._ctx.inputs[1]): "tanh(y)"})
    return names


class _EngineOff:
    """minigan's own backward raises while the student's code runs: A0 is the engine itself."""

    def __enter__(self):
        self.saved = engine.run_backward

        def refuse(*args, **kwargs):
            raise CheckFailed("your code called minigan's own backward (Tensor.backward or mg.grad); "
                              "A0 asks you to write it")
        engine.run_backward = refuse

    def __exit__(self, *exc):
        engine.run_backward = self.saved


def probe_order(student, cache):
    t = _build()
    names = _names(t)
    with _EngineOff():
        order = list(get(student, "topological_order")(t["s"]))
    return [names.get(id(node), "?") for node in order]


def judge_order(data):
    if not isinstance(data, list) or not all(isinstance(n, str) for n in data):
        raise CheckFailed("topological_order must return a list of Tensors")
    expected = set(PARENTS) | set(SHAPES)
    if "?" in data:
        raise CheckFailed("topological_order returned something that is not a Tensor of the graph")
    if len(data) != len(set(data)):
        twice = next(n for n in data if data.count(n) > 1)
        raise CheckFailed(f"topological_order lists the tensor {twice!r} twice: remember the visited ones (by id)")
    if set(data) != expected:
        raise CheckFailed(f"topological_order misses {sorted(expected - set(data))} of the graph")
    position = {n: i for i, n in enumerate(data)}
    for node, parents in PARENTS.items():
        for parent in parents:
            if position[parent] > position[node]:
                raise CheckFailed(f"topological_order puts {node!r} before its input {parent!r}: each tensor "
                                  "must come after everything it is computed from")
    if data[-1] != "s":
        raise CheckFailed("topological_order must end with the root")


DEPTH = 5000


def probe_deep(student, cache):
    x = mg.tensor(np.ones(2), dtype="float64", requires_grad=True)
    y = x
    for _ in range(DEPTH):
        y = y * 1.0
    with _EngineOff():
        return len(get(student, "topological_order")(y.sum()))


def judge_deep(data):
    if data != DEPTH + 2:
        raise CheckFailed(f"topological_order of a chain of {DEPTH} ops gave {data} tensors, expected {DEPTH + 2}")


CASES = [((3, 4), (4,)), ((2, 3, 4), (3, 1)), ((5,), (1,)), ((2, 3), (2, 3)), ((4, 1, 3), (1, 1, 3)),
         ((2, 5), ())]


def probe_unbroadcast(student, cache):
    rng, outputs = np.random.default_rng(1), []
    fn = get(student, "unbroadcast")
    with _EngineOff():
        for big, shape in CASES:
            out = fn(mg.tensor(rng.standard_normal(big), dtype="float64"), shape)
            if not isinstance(out, mg.Tensor):
                raise CheckFailed(f"unbroadcast returned a {type(out).__name__}; return a Tensor")
            outputs.append(out.numpy())
    return outputs


def judge_unbroadcast(data):
    rng = np.random.default_rng(1)
    if not isinstance(data, list) or len(data) != len(CASES):
        raise CheckFailed("the result sent by your code's process is malformed")
    for got, (big, shape) in zip(data, CASES):
        g = rng.standard_normal(big)
        expected = g.sum(axis=tuple(range(len(big) - len(shape))))
        expected = expected.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)
        expect_close("unbroadcast", got, expected.reshape(shape), context=f"gradient of shape {big} to {shape}")


def probe_backward(student, cache):
    t = _build()
    with _EngineOff():
        grads = get(student, "backward")(t["s"], [t[n] for n in SHAPES])
    if not isinstance(grads, (list, tuple)) or len(grads) != len(SHAPES):
        raise CheckFailed(f"backward must return a list of {len(SHAPES)} gradients, one per leaf")
    return [np.zeros(SHAPES[n]) if g is None else g.numpy() for n, g in zip(SHAPES, grads)]


def judge_backward(data):
    t = _build()
    expected = [g.numpy() for g in mg.grad(t["s"], [t[n] for n in SHAPES])]
    got = [np.asarray(g, dtype=np.float64) for g in data] if isinstance(data, list) else []
    compare_gradients("backward", got, expected, input_names=[f"{n} {SHAPES[n]}" for n in SHAPES],
                      zero_hint="is the root's gradient started at 1, and passed to each _ctx.backward?")
    # a leaf used twice (a in x and in a*a): forgetting to add up gives one of the two contributions


ALL = ("topological_order", "unbroadcast", "backward")
CHECKS = [
    Check("topological_order: each tensor after its inputs", probe_order, judge_order, points=2,
          uses=("topological_order",)),
    Check(f"topological_order of a chain {DEPTH} ops deep (no recursion limit)", probe_deep, judge_deep,
          uses=("topological_order",), needs=("topological_order: each tensor after its inputs",)),
    Check("unbroadcast sums gradients back to the input's shape", probe_unbroadcast, judge_unbroadcast, points=2,
          uses=("unbroadcast",)),
    Check("backward: gradients through shared nodes and broadcasting match minigan's", probe_backward,
          judge_backward, points=3, uses=ALL),
]
