"""Assignment A0: the engine — the three pieces of a backward pass, as in micrograd and needle.

Every Tensor made by an operation remembers the Function that made it: ``t._ctx`` (None for a
leaf, a Tensor you made yourself), whose ``t._ctx.inputs`` are the operation's input Tensors and
whose ``t._ctx.backward(grad)`` turns dL/d(output) into one dL/d(input) per input (None where an
input needs none). The ops are written (minigan.ops); what joins them is yours:

1. ``topological_order``: the order in which to visit the graph, each Tensor after its inputs;
2. ``unbroadcast``: ``a + b`` with ``b`` of shape (4,) and ``a`` of shape (3, 4) broadcast ``b``;
   its gradient comes back with shape (3, 4) and must be summed back to (4,);
3. ``backward``: walk the order backwards from the output, call each ``_ctx.backward``,
   unbroadcast, and *add up* the gradients of a Tensor used more than once (``x * x``).

Use Tensor operations (``.sum(axis=..., keepdims=True)``, ``.reshape``, ``+``), not minigan's own
engine (``mg.grad``, ``Tensor.backward``, ``Tensor.sum_to``): the grader checks that you do not.

Grade the file:  python -m minigan.grade A0 a0_engine.py
"""
import minigan as mg  # noqa: F401  (handy for experiments: mg.tensor, mg.grad to compare with)


def topological_order(root):
    """Every Tensor reachable from ``root`` through ``_ctx.inputs`` (only those that require grad),
    each exactly once and after all of its inputs; ``root`` comes last.

    Depth-first search with a set of visited ``id(tensor)``; done without recursion (a stack of
    (tensor, inputs_done) pairs), it works for graphs deeper than Python's recursion limit.
    """
    ### BEGIN SOLUTION
    raise NotImplementedError("topological_order: write your solution here")
    ### END SOLUTION


def unbroadcast(grad, shape):
    """``grad`` (a Tensor) summed back to ``shape``, undoing NumPy broadcasting: first sum away the
    leading axes that broadcasting added, then sum (keeping them) the axes where ``shape`` has 1."""
    ### BEGIN SOLUTION
    raise NotImplementedError("unbroadcast: write your solution here")
    ### END SOLUTION


def backward(root, leaves):
    """The gradients of the scalar ``root`` w.r.t. each Tensor of ``leaves``, as a list of Tensors
    (None for a leaf that ``root`` does not depend on).

    Start from dL/d(root) = 1 (``mg.ones_like(root)``); visit ``topological_order(root)`` in reverse;
    for a node with a ``_ctx``, pass its gradient to ``_ctx.backward`` and give each input that
    requires grad its share, ``unbroadcast`` to the input's shape and *added* to what it has.
    """
    ### BEGIN SOLUTION
    raise NotImplementedError("backward: write your solution here")
    ### END SOLUTION
