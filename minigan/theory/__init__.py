"""The theory of Goodfellow et al. (2014), Section 4, checked numerically.

For a fixed generator with density p_g, the value of the game is::

    V(D, G) = ∫ p_data(x) log D(x) + p_g(x) log(1 - D(x)) dx

* Proposition 1: it is maximized by D*(x) = p_data(x) / (p_data(x) + p_g(x)).
* Theorem 1: C(G) = max_D V(D, G) = V(D*, G) = -log 4 + 2 JSD(p_data ‖ p_g), whose minimum -log 4 is
  reached exactly when p_g = p_data (where D* = 1/2 everywhere).

``divergences`` computes these for densities given as callables (scipy.integrate.quad) or as arrays
on a grid (scipy.integrate.simpson); ``experiment`` trains a minigan discriminator against a frozen
generator and compares it with D*; ``saturation`` shows why the generator uses -log D(G(z)).
``python -m minigan.theory`` prints all the numbers and writes the figures.
"""
from minigan.theory.divergences import (LOG_4, Theorem1Check, check_theorem_1, jsd, kl, optimal_discriminator,
                                        value_function, virtual_training_criterion)
from minigan.theory.experiment import (QUICK, Proposition1Result, TrainConfig, TrainedDiscriminator,
                                       figure_1_stages, make_discriminator, mixture_region, proposition_1,
                                       proposition_1_kde, train_discriminator)
from minigan.theory.saturation import format_saturation_table, generator_gradients, saturation_table

__all__ = [
    "LOG_4", "Theorem1Check", "check_theorem_1", "jsd", "kl", "optimal_discriminator", "value_function",
    "virtual_training_criterion",
    "QUICK", "Proposition1Result", "TrainConfig", "TrainedDiscriminator", "figure_1_stages", "make_discriminator",
    "mixture_region", "proposition_1", "proposition_1_kde", "train_discriminator",
    "format_saturation_table", "generator_gradients", "saturation_table",
]
