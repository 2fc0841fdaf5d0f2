"""The Optimizer base class: parameter groups, per-parameter state and checkpoints, as in PyTorch.

``Optimizer(params, **defaults)``: ``params`` is an iterable of Tensors, or of dicts
``{"params": [...], "lr": ...}`` (parameter groups). Every group holds its own copy of every
hyper-parameter (the defaults fill what a group leaves out), so a subclass's update reads them
from ``group[...]`` and a scheduler changes them there.

Tensors are never compared with ``==`` or looked up in lists (``==`` is elementwise): parameters
are told apart by identity, ``id(p)``. ``optimizer.state`` is PyTorch's ``defaultdict(dict)`` keyed
by the parameters themselves: a Tensor hashes by identity, and a dict finds a key by hash and
identity, so no ``==`` is ever called (two live tensors never share a hash).

Flat groups: an optimizer moves each group's parameters into ONE contiguous buffer (``p.data``
becomes a view of it; a lone parameter keeps its own array) and gives each a gradient slot in a
second one, where backward accumulates (tensor.py); its buffers (Adam's moments...) are views too.
A step is then one fused kernel per group (minigan/kernels/optimizers.py), and the per-parameter
``state[p]`` and ``state_dict()`` are as before. A step where some parameter has no gradient, or
parameters' states differ, goes parameter by parameter over the same views; a ``p.data`` or
``p.grad`` that was replaced is copied into its view first (see minigan/kernels/flat.py).
"""
import collections
import math
import warnings

import numpy as np

from minigan.kernels.flat import FlatGroup
from minigan.tensor import Tensor


class Optimizer:
    """Base class. A subclass sets ``defaults`` via ``super().__init__(params, lr=..., ...)`` and
    writes :meth:`_update` (one parameter's in-place step) and, if it keeps buffers, :meth:`_init_state`."""

    def __init__(self, params, **defaults):
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(f"{name}: params should be an iterable of Tensors or dicts, but got a Tensor")
        self.defaults = defaults
        self.state = collections.defaultdict(dict)  # p -> its buffers, created empty on first use
        self.param_groups, self._flat = [], []      # and each group's FlatGroup (None: cannot be flat)
        groups = list(params)
        if not groups:
            raise ValueError(f"{name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        """Append a group; hyper-parameters it does not set are taken from ``defaults``."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a parameter group must be a dict, got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(f"{name}: parameters must be an ordered collection, not a set (the order "
                            "decides the indices of state_dict())")
        params = list(params)
        offset = sum(len(g["params"]) for g in self.param_groups)
        for i, p in enumerate(params):
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise TypeError(f"{name}: parameter {offset + i} is not a Tensor that requires grad")
        ids = [id(p) for p in params]
        if len(set(ids)) != len(ids):
            warnings.warn(f"{name}: a parameter group contains the same parameter twice "
                          "(it will be updated twice per step)", UserWarning, stacklevel=2)
        taken = {id(p) for g in self.param_groups for p in g["params"]}
        if taken.intersection(ids):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        group = {**self.defaults, **_settings(param_group), "params": params}
        self._check_group(group)
        self.param_groups.append(group)
        self._flat.append(FlatGroup.of(params))

    def _check_group(self, group):
        """Raise ValueError for hyper-parameters out of range (subclasses add their own)."""
        if not (group["lr"] >= 0.0 and math.isfinite(group["lr"])):   # also catches NaN
            raise ValueError(f"{type(self).__name__}: learning rate must be a finite number >= 0, got {group['lr']}")

    def zero_grad(self, set_to_none=True):
        """Forget the gradients: drop them (default, as PyTorch), or zero them in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.data[...] = 0

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = closure() if closure is not None else None
        for group, flat in zip(self.param_groups, self._flat):
            state = flat.gather(self.state) if flat is not None else None
            if state is None:   # parameter by parameter (see the module docstring)
                self._step_each(group)
                continue
            if not state:
                self._init_state(flat.data, state, group, flat.backend.xp)
            self._update(flat.data, flat.grad, state, flat.scratch(), group, flat.backend)
            flat.scatter(state, self.state)
        return loss

    def _step_each(self, group):
        for p in group["params"]:
            if p.grad is None:  # unused this step: no update, its state does not age
                continue
            state = self.state[p]
            if not state:
                self._init_state(p.data, state, group, p.backend.xp)
            # a scratch array for this step only: steps go group by group (FlatGroup.scratch) but for exceptions
            self._update(p.data, p.grad.data, state, p.backend.xp.empty_like(p.data), group, p.backend)
            # the data changed in place: a graph that saved p must notice (engine's version counter)
            p._version += 1

    def _init_state(self, param, state, group, xp):
        """Fill a parameter's empty state before its first update (buffers, counters)."""

    def _update(self, param, grad, state, tmp, group, backend):
        """Update the array ``param`` (one parameter's, or a whole flat group's) in place from ``grad``
        with one fused kernel of ``backend``; ``tmp`` is a scratch array of its shape."""
        raise NotImplementedError

    def __setattr__(self, name, value):
        # the old API's ``opt.lr = ...`` would now change nothing: say where the lr lives instead
        if name in self.__dict__.get("defaults", ()):
            raise AttributeError(f"{type(self).__name__}: hyper-parameters live in the parameter groups; "
                                 f"write: for group in optimizer.param_groups: group[{name!r}] = ...")
        super().__setattr__(name, value)

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            hyper = ", ".join(f"{k}={v}" for k, v in group.items() if k != "params")
            lines.append(f"  group {i}: {len(group['params'])} parameters, {hyper}")
        return "\n".join(lines + [")"])

    # --- checkpoints -----------------------------------------------------------------------------
    def state_dict(self):
        """PyTorch's layout, with host NumPy copies of the buffers::

            {"state": {index: {"exp_avg": array, "step": int, ...}},   # only parameters with state
             "param_groups": [{"lr": ..., ..., "params": [index, ...]}, ...]}

        Parameters are numbered 0, 1, ... through the groups in order.
        """
        index, groups = {}, []
        for group in self.param_groups:
            params = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append({**_settings(group), "params": params})
        state = {index[id(p)]: {k: _to_host(p, k, v) for k, v in s.items()} for p, s in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore :meth:`state_dict`'s output, also after a JSON round trip (string keys, lists).

        The layout of minigan before parameter groups (keys hyper / step_count / state list) is
        converted: one group, its hyper-parameters, the buffers without the old scratch array.
        """
        name = f"{type(self).__name__}.load_state_dict"
        if "hyper" in state_dict and "param_groups" not in state_dict:
            state_dict = _convert_old_layout(state_dict, self)
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}: the state has {len(saved_groups)} parameter groups, "
                             f"this optimizer {len(self.param_groups)}")
        restored, by_index = [], {}  # checked in full before anything changes
        for i, (saved, own) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(own["params"]):
                raise ValueError(f"{name}: parameter group {i} has {len(saved['params'])} parameters in "
                                 f"the state, {len(own['params'])} in this optimizer")
            unknown = set(saved) - set(own) - {"initial_lr"}   # a scheduler's base lr may be saved too
            if unknown:  # a crafted or foreign file must not set arbitrary attributes (params=[] ...)
                raise ValueError(f"{name}: parameter group {i} has unknown settings {sorted(unknown)}")
            by_index.update(zip((int(k) for k in saved["params"]), own["params"]))
            group = {**own, **_settings(saved)}
            self._check_group(group)
            restored.append(group)
        new_state = collections.defaultdict(dict)
        for key, buffers in state_dict["state"].items():
            p = by_index.get(int(key))
            if p is None:
                raise ValueError(f"{name}: the state has buffers for parameter {key}, which no group lists")
            new_state[p] = {k: _from_host(p, k, v, f"{name}: parameter {key}") for k, v in buffers.items()}
        for own, group in zip(self.param_groups, restored):
            own.update(group)
        self.state = new_state


def _settings(group):
    """A group's hyper-parameters without its params; lists (betas given as a list, or read back from
    JSON) become tuples."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in group.items() if k != "params"}


def _to_host(param, key, value): return int(value) if key == "step" else param.backend.to_numpy(value).copy()


def _from_host(param, key, value, where):
    """A saved buffer -> a fresh array of the parameter's backend; counters stay Python ints."""
    if key == "step":  # a counter by name, whatever its form (int, float, 0-d array)
        return int(value)
    value = np.asarray(value)  # a 0-d buffer may come back from JSON as a plain number
    if tuple(value.shape) != tuple(param.shape):
        raise ValueError(f"{where}: buffer {key!r} has shape {tuple(value.shape)} in the state, "
                         f"the parameter has shape {tuple(param.shape)}")
    return param.backend.asarray(value, dtype=param.dtype)  # a copy: never aliases the caller's dict


def _convert_old_layout(old, optimizer):
    """{"hyper", "step_count", "state": [per parameter]} (one group) -> PyTorch's layout."""
    params = [p for g in optimizer.param_groups for p in g["params"]]
    if len(old["state"]) != len(params):
        raise ValueError(f"{type(optimizer).__name__}.load_state_dict: the state has {len(old['state'])} "
                         f"parameters, this optimizer {len(params)}")
    group = {**optimizer.param_groups[0], **old["hyper"], "params": list(range(len(params)))}
    state = {i: {k: v for k, v in buffers.items() if k != "scratch"} for i, buffers in enumerate(old["state"])}
    state = {i: buffers for i, buffers in state.items() if buffers}
    if type(optimizer).__name__ != "SGD":  # RMSprop had no per-parameter count: it equals the optimizer's
        for buffers in state.values():
            buffers.setdefault("step", old["step_count"])
    return {"state": state, "param_groups": [group]}
