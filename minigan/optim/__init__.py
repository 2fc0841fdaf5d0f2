"""Optimizers, written out by hand: SGD, Adam, AdamW and RMSprop, with PyTorch's update rules,
parameter groups and state_dict layout; learning-rate schedules in :mod:`minigan.optim.lr_scheduler`.

Each step updates the parameter arrays *in place* (``out=`` and augmented assignment), so a
training loop does not reallocate every parameter on every step; one scratch array per parameter
is allocated on its first step.
"""
from minigan.optim import lr_scheduler
from minigan.optim.adam import Adam, AdamW
from minigan.optim.optimizer import Optimizer
from minigan.optim.rmsprop import RMSprop
from minigan.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "lr_scheduler"]
