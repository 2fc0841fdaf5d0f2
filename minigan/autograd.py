"""The backward pass: topological order, gradient accumulation, and ``grad()``.

Broadcasting is handled here, in one place: a Function's backward may return a gradient of the
broadcast (output) shape, and :func:`run_backward` sums it back to its input's shape.
"""
from minigan import ops
from minigan.creation import ones_like
from minigan.tensor import Tensor, set_grad_enabled


def _topological_order(roots):
    """Tensors reachable from ``roots`` through recorded Functions, inputs before outputs.

    Iterative depth-first search: a graph thousands of operations deep must not hit Python's
    recursion limit.
    """
    order, expanded = [], set()
    stack = [(root, False) for root in reversed(roots)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)  # post-order: after everything it depends on
            continue
        if id(node) in expanded:
            continue
        expanded.add(id(node))
        stack.append((node, True))
        ctx = node._ctx
        if ctx is None:
            continue
        if ctx.inputs is None:
            raise RuntimeError("backward through a graph a second time, but its buffers have been freed; "
                               "pass retain_graph=True to the first backward() or grad() call")
        for parent in ctx.inputs:
            if parent.requires_grad and id(parent) not in expanded:
                stack.append((parent, False))
    return order


def run_backward(outputs, grad_outputs, create_graph=False, retain_graph=None, inputs=None):
    """Backpropagate. Accumulates into leaves' ``.grad``, or returns grads of ``inputs`` if given."""
    if retain_graph is None:
        retain_graph = create_graph
    grads = {}
    for out, g in zip(outputs, grad_outputs):
        if g is None:
            if out.size != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs, got shape "
                                   f"{out.shape}; pass grad= (or grad_outputs=) of that shape")
            g = ones_like(out)
        elif not isinstance(g, Tensor):
            g = Tensor(out.backend.asarray(g, dtype=out.dtype), _backend=out.backend)
        if g.shape != out.shape:
            raise ValueError(f"backward: gradient shape {g.shape} does not match output shape {out.shape}")
        _accumulate(grads, out, g)

    wanted = None if inputs is None else {id(t) for t in inputs}
    results = {}
    with set_grad_enabled(create_graph):
        for node in reversed(_topological_order(outputs)):
            grad = grads.pop(id(node), None)
            if grad is None:
                continue
            if wanted is not None and id(node) in wanted:
                results[id(node)] = grad
            ctx = node._ctx
            if ctx is None:
                if wanted is None:  # a leaf: accumulate like PyTorch until zero_grad()
                    node.grad = grad if node.grad is None else _detached_sum(node.grad, grad, create_graph)
                continue
            input_grads = ctx.backward(grad)
            for parent, parent_grad in zip(ctx.inputs, input_grads):
                if parent_grad is None or not parent.requires_grad:
                    continue
                if parent_grad.shape != parent.shape:
                    parent_grad = ops.sum_to(parent_grad, parent.shape)
                _accumulate(grads, parent, parent_grad)
            if not retain_graph:
                ctx.inputs = None  # free the saved tensors; a second backward raises clearly
    return results


def _accumulate(grads, tensor_, grad):
    previous = grads.get(id(tensor_))
    grads[id(tensor_)] = grad if previous is None else previous + grad


def _detached_sum(old, new, create_graph):
    return old + new if create_graph else Tensor(old.data + new.data, _backend=old.backend)


def grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None, allow_unused=False):
    """d(outputs)/d(inputs) as a tuple of Tensors, without touching any ``.grad``.

    With ``create_graph=True`` the returned gradients are themselves differentiable.
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    for out in outputs:
        if not out.requires_grad:
            raise RuntimeError("grad(): an output does not require grad (no graph connects it to the inputs)")
    results = run_backward(outputs, grad_outputs, create_graph, retain_graph, inputs=inputs)
    found = []
    for i, t in enumerate(inputs):
        g = results.get(id(t))
        if g is None and not allow_unused:
            raise RuntimeError(f"grad(): input {i} (shape {t.shape}) was not used to compute the outputs; "
                               "pass allow_unused=True to get None for it")
        found.append(g)
    return tuple(found)
