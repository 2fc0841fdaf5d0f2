"""Flat optimizers (minigan/kernels/flat.py): a group's parameters, gradients and buffers are views of
contiguous buffers and a step is one fused kernel -- with PyTorch's semantics kept: per-parameter
state and state_dict, zero_grad(set_to_none=...), missing gradients, and p.data / p.grad replaced
behind the optimizer's back (copied into the views, never silently lost).
"""
import numpy as np
import pytest

import minigan as mg
from minigan import nn, optim
from minigan.strict import count_calls

MAKERS = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-2),
    "sgd_plain": lambda ps: optim.SGD(ps, lr=0.05, maximize=True),
    "adam": lambda ps: optim.Adam(ps, lr=0.01, betas=(0.5, 0.999), amsgrad=True, weight_decay=1e-3),
    "adamw": lambda ps: optim.AdamW(ps, lr=0.01),
    "rmsprop": lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
}


def _model(seed=0):
    mg.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))


def _loss(model, step):
    x = mg.tensor(np.linspace(-1.0, 1.0, 6).reshape(2, 3) * (1 + step))
    return (model(x) ** 2).sum()


def _per_parameter(opt):
    """The same optimizer, stepping parameter by parameter (the path before flat groups)."""
    opt._flat = [None] * len(opt._flat)
    return opt


def _train(opt, model, steps, between=None):
    for step in range(steps):
        opt.zero_grad()
        _loss(model, step).backward()
        if between is not None:
            between(step, model)
        opt.step()
    return [p.numpy() for p in model.parameters()]


def _same_state(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert sa["param_groups"] == sb["param_groups"] and sa["state"].keys() == sb["state"].keys()
    for i, buffers in sa["state"].items():
        assert buffers.keys() == sb["state"][i].keys()
        for key, value in buffers.items():
            np.testing.assert_array_equal(value, sb["state"][i][key], err_msg=f"state[{i}][{key!r}]")


def test_parameters_gradients_and_buffers_are_views_of_one_buffer_each(backend):
    model = _model()
    opt = optim.Adam(model.parameters(), lr=0.01)
    flat = opt._flat[0]
    flat.data[...] = 0.5
    assert all(np.all(p.numpy() == 0.5) for p in model.parameters())
    _loss(model, 0).backward()
    for p, slot in zip(model.parameters(), flat.views(flat.grad)):
        assert p.grad.data is slot   # written there by backward: nothing to gather before the step
    opt.step()   # the first step allocates the moments
    _loss(model, 1).backward()
    with count_calls() as count:
        opt.step()
    if backend.name == "strict":
        assert count.calls == {"kernel adam": 1} and count.to_host == 0   # one launch for the whole model
    flat.buffers["exp_avg"][...] = 7.0
    assert all(np.all(backend.to_numpy(opt.state[p]["exp_avg"]) == 7.0) for p in model.parameters())


@pytest.mark.parametrize("name", MAKERS)
def test_flat_steps_equal_parameter_by_parameter_steps_bit_for_bit(name):
    flat_model, each_model = _model(), _model()
    flat_opt, each_opt = MAKERS[name](flat_model.parameters()), _per_parameter(MAKERS[name](each_model.parameters()))
    for a, b in zip(_train(flat_opt, flat_model, 5), _train(each_opt, each_model, 5)):
        np.testing.assert_array_equal(a, b)
    _same_state(flat_opt, each_opt)


def test_a_replaced_p_data_is_copied_in_and_p_data_becomes_its_view_again():
    def replace(step, model):
        if step == 2:
            w = model[0].weight
            w.data = w.data * 0.5   # a new array: the optimizer's buffer no longer holds the weight
    flat_model, each_model = _model(), _model()
    flat_opt = optim.Adam(flat_model.parameters(), lr=0.01)
    each_opt = _per_parameter(optim.Adam(each_model.parameters(), lr=0.01))
    for a, b in zip(_train(flat_opt, flat_model, 4, replace), _train(each_opt, each_model, 4, replace)):
        np.testing.assert_array_equal(a, b)
    flat = flat_opt._flat[0]
    assert flat_model[0].weight.data is flat.views(flat.data)[0]


def test_a_p_data_of_another_shape_goes_parameter_by_parameter():
    p = mg.tensor(np.ones((2, 2)), requires_grad=True)
    q = mg.tensor(np.ones(3), requires_grad=True)
    opt = optim.SGD([p, q], lr=0.1)
    p.data = mg.ones(5, dtype="float64").data   # reshaped by hand before any step
    p.grad, q.grad = mg.ones(5, dtype="float64"), mg.ones(3, dtype="float64")
    opt.step()
    assert p.shape == (5,) and np.allclose(p.numpy(), 0.9) and np.allclose(q.numpy(), 0.9)


def test_a_replaced_p_grad_is_the_gradient_the_step_follows():
    p, q = mg.tensor(np.zeros(2), requires_grad=True), mg.tensor(np.zeros(3), requires_grad=True)
    opt = optim.SGD([p, q], lr=1.0)
    p.grad, q.grad = mg.tensor([1.0, 2.0]), mg.tensor([3.0, 4.0, 5.0])
    opt.step()
    assert p.numpy().tolist() == [-1.0, -2.0] and q.numpy().tolist() == [-3.0, -4.0, -5.0]


def test_missing_gradients_step_parameter_by_parameter_and_states_return_to_the_buffers():
    """A step without q's gradient leaves q alone (PyTorch); SGD's momentum buffers then differ in
    keys, so steps go parameter by parameter until both have one -- then flat again."""
    def run(flat):
        p, q = mg.tensor(np.ones(2), requires_grad=True), mg.tensor(np.ones(3), requires_grad=True)
        opt = optim.SGD([p, q], lr=0.1, momentum=0.9)
        opt = opt if flat else _per_parameter(opt)
        for step in range(4):
            opt.zero_grad()
            p.grad = mg.tensor([1.0, -1.0]) * (step + 1)
            q.grad = None if step == 0 else mg.tensor([0.5, 0.5, 0.5])
            opt.step()
        return p, q, opt
    p, q, opt = run(flat=True)
    p2, q2, opt2 = run(flat=False)
    np.testing.assert_array_equal(p.numpy(), p2.numpy())
    np.testing.assert_array_equal(q.numpy(), q2.numpy())
    _same_state(opt, opt2)
    flat = opt._flat[0]
    assert opt.state[q]["momentum_buffer"] is flat.views(flat.buffers["momentum_buffer"])[1]


def test_load_state_dict_buffers_are_gathered_into_the_flat_buffers():
    model = _model()
    opt = optim.Adam(model.parameters(), lr=0.01)
    _train(opt, model, 2)
    state, weights = opt.state_dict(), model.state_dict()
    other_model = _model(seed=1)
    other_model.load_state_dict(weights)
    other = optim.Adam(other_model.parameters(), lr=0.01)
    other.load_state_dict(state)
    for a, b in zip(_train(opt, model, 2), _train(other, other_model, 2)):
        np.testing.assert_array_equal(a, b)
    flat = other._flat[0]
    assert other.state[other_model[0].weight]["exp_avg"] is flat.views(flat.buffers["exp_avg"])[0]


def test_zero_grad_and_accumulation_keep_pytorchs_semantics():
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    w = model[0].weight
    _loss(model, 0).backward()
    first = w.grad.numpy().copy()
    _loss(model, 1).backward()   # no zero_grad: gradients add up (in the slot, in place)
    second = w.grad.numpy() - first
    kept = w.grad
    opt.zero_grad()              # set_to_none: .grad is None; a gradient kept by the caller keeps its values
    assert w.grad is None
    _loss(model, 1).backward()
    np.testing.assert_allclose(kept.numpy(), first + second)
    np.testing.assert_allclose(w.grad.numpy(), second, rtol=1e-6)
    assert w.grad is not kept
    del kept
    opt.zero_grad(set_to_none=False)
    assert w.grad is not None and not w.grad.numpy().any()
    _loss(model, 0).backward()
    np.testing.assert_allclose(w.grad.numpy(), first, rtol=1e-6)


def test_grad_and_create_graph_leave_the_slots_alone_and_the_step_still_follows_the_gradient():
    mg.set_default_dtype("float64")
    model = _model()
    opt = optim.SGD(model.parameters(), lr=1.0)
    flat = opt._flat[0]
    params = model.parameters()
    grads = mg.grad(_loss(model, 0), params)
    assert all(p.grad is None for p in params) and not flat.grad.any()
    assert not any(g.data is slot for g, slot in zip(grads, flat.views(flat.grad)))
    _loss(model, 0).backward(create_graph=True)   # a gradient with a graph of its own: not in the slot
    assert not any(p.grad.data is slot for p, slot in zip(params, flat.views(flat.grad)))
    before = [p.numpy().copy() for p in params]
    opt.step()
    for p, b, g in zip(params, before, grads):
        np.testing.assert_allclose(p.numpy(), b - g.numpy(), rtol=1e-12)


def test_two_optimizers_over_the_same_parameters_both_step_them():
    p = [mg.tensor(np.ones(2), requires_grad=True), mg.tensor(np.ones(3), requires_grad=True)]
    first, second = optim.SGD(p, lr=0.1), optim.SGD(p, lr=0.2)   # the second moved p.data into its buffer
    for opt in (first, second, first):
        for t in p:
            t.grad = mg.ones(t.shape, dtype="float64")
        opt.step()
    assert np.allclose(p[0].numpy(), 0.6) and np.allclose(p[1].numpy(), 0.6)


def test_a_group_of_mixed_dtypes_is_not_flattened_and_steps_as_before():
    a, b = mg.tensor([1.0], requires_grad=True), mg.tensor([1.0], requires_grad=True, dtype="float64")
    storage = a.data
    opt = optim.Adam([a, b], lr=0.1)
    assert opt._flat == [None] and a.data is storage
    a.grad, b.grad = mg.tensor([1.0]), mg.tensor([1.0], dtype="float64")
    opt.step()
    assert a.item() == pytest.approx(0.9) and b.item() == pytest.approx(0.9)


def test_a_layer_used_twice_in_one_graph_gets_the_sum_of_both_gradients():
    """The first Linear backward writes its weight gradient straight into the slot; the second must not
    overwrite it (the slot is held), so the leaf gets the sum."""
    mg.set_default_dtype("float64")
    layer, other = nn.Linear(3, 3), nn.Linear(3, 3)
    other.load_state_dict(layer.state_dict())
    optim.SGD(layer.parameters(), lr=0.1)   # gives the layer's parameters gradient slots
    x = mg.tensor(np.linspace(-1.0, 1.0, 6).reshape(2, 3))
    (layer(layer(x).tanh()) ** 2).sum().backward()
    (other(other(x).tanh()) ** 2).sum().backward()   # no optimizer, no slots: the plain engine
    for p, q in zip(layer.parameters(), other.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-14)
        assert p.grad.data is p._grad_slot


def test_a_model_moved_to_another_backend_after_the_optimizer_was_made_still_trains():
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    model.to("strict")
    assert all(p._grad_slot is None for p in model.parameters())   # the old backend's slots are left behind
    before = [p.numpy().copy() for p in model.parameters()]
    x = mg.set_backend("strict") and mg.tensor(np.ones((2, 3)))
    (model(x) ** 2).sum().backward()
    opt.step()   # the flat buffers are on the old backend: parameter by parameter
    assert all(not np.array_equal(p.numpy(), b) for p, b in zip(model.parameters(), before))
