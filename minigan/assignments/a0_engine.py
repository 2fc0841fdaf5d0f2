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
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        if node._ctx is not None:
            stack += [(parent, False) for parent in node._ctx.inputs if parent.requires_grad]
    return order
    ### END SOLUTION


def unbroadcast(grad, shape):
    """``grad`` (a Tensor) summed back to ``shape``, undoing NumPy broadcasting: first sum away the
    leading axes that broadcasting added, then sum (keeping them) the axes where ``shape`` has 1."""
    ### BEGIN SOLUTION
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad
    ### END SOLUTION


def backward(root, leaves):
    """The gradients of the scalar ``root`` w.r.t. each Tensor of ``leaves``, as a list of Tensors
    (None for a leaf that ``root`` does not depend on).

    Start from dL/d(root) = 1 (``mg.ones_like(root)``); visit ``topological_order(root)`` in reverse;
    for a node with a ``_ctx``, pass its gradient to ``_ctx.backward`` and give each input that
    requires grad its share, ``unbroadcast`` to the input's shape and *added* to what it has.
    """
    ### BEGIN SOLUTION
    grads = {id(root): mg.ones_like(root)}
    for node in reversed(topological_order(root)):
        grad = grads.get(id(node))
        if grad is None or node._ctx is None:
            continue
        for parent, parent_grad in zip(node._ctx.inputs, node._ctx.backward(grad)):
            if parent_grad is None or not parent.requires_grad:
                continue
            parent_grad = unbroadcast(parent_grad, parent.shape)
            previous = grads.get(id(parent))
            grads[id(parent)] = parent_grad if previous is None else previous + parent_grad
    return [grads.get(id(leaf)) for leaf in leaves]
    ### END SOLUTION
