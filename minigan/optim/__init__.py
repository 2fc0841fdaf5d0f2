"""Optimizers, written out by hand: SGD, Adam, AdamW and RMSprop, with PyTorch's update rules,
parameter groups and state_dict layout; learning-rate schedules in :mod:`minigan.optim.lr_scheduler`.

Each step updates the parameter arrays *in place*, so a training loop does not reallocate every
parameter on every step. An optimizer lays each group's parameters, gradients and buffers out in
one buffer each (minigan/kernels/flat.py): a step is one fused kernel (minigan/kernels/optimizers.py).
"""
from minigan.optim import lr_scheduler
from minigan.optim.adam import Adam, AdamW
from minigan.optim.optimizer import Optimizer
from minigan.optim.rmsprop import RMSprop
from minigan.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "lr_scheduler"]
