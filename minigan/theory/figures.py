"""The theory lab's own figures (Figure-1-style panels come from ``minigan.plot``): C(G) against
-log 4 + 2 JSD along a family of generators, and the two generator gradients against the logit."""
import numpy as np
from scipy import stats

from minigan.plot import D_COLOR, DATA_COLOR, GEN_COLOR
from minigan.plot import new_figure as _figure
from minigan.plot import save_figure as _save
from minigan.theory.divergences import LOG_4, jsd, virtual_training_criterion


def save_theorem_1_curves(path, mu_data, s_data, stds=(0.25, 0.5, 1.0, 2.0), means=np.linspace(-2.0, 6.0, 81)):
    """C(G) = V(D*, G) (lines) and -log 4 + 2 JSD (dots) for p_g = N(mu_g, s_g²) as mu_g sweeps;
    the minimum -log 4 is touched only at p_g = p_data. Integrals with Simpson on a fine grid."""
    x = np.linspace(min(means) - 12 * max(stds), max(means) + 12 * max(stds), 8001)
    p_data = stats.norm.pdf(x, mu_data, s_data)
    fig = _figure(8.5, 4.2)
    ax = fig.add_subplot()
    colors = ("tab:purple", GEN_COLOR, D_COLOR, "tab:orange")
    for s_g, color in zip(stds, colors):
        p_gs = [stats.norm.pdf(x, mu, s_g) for mu in means]
        c = [virtual_training_criterion(p_data, p_g, x=x) for p_g in p_gs]
        predicted = [-LOG_4 + 2 * jsd(p_data, p_g, x=x) for p_g in p_gs[::4]]
        ax.plot(means, c, color=color, lw=1.5, label=f"C(G), $s_g$ = {s_g}")
        ax.plot(means[::4], predicted, "o", color=color, ms=4, mfc="none")
    ax.plot([], [], "o", color="0.3", mfc="none", label=r"$-\log 4 + 2\,\mathrm{JSD}(p_\mathrm{data} \| p_g)$")
    ax.axhline(-LOG_4, color=DATA_COLOR, ls=":", lw=1, label=r"$-\log 4$ (reached at $p_g = p_\mathrm{data}$)")
    ax.axvline(mu_data, color="0.6", lw=0.8)
    ax.set(xlabel=r"generator mean $\mu_g$", ylabel="C(G) = max$_D$ V(D, G)",
           title=rf"Theorem 1, $p_\mathrm{{data}} = N({mu_data:g}, {s_data:g}^2)$, $p_g = N(\mu_g, s_g^2)$")
    fig.legend(*ax.get_legend_handles_labels(), loc="outside right center", fontsize="small", frameon=False)
    return _save(fig, path)


def save_gradient_curves(path, table):
    """|d loss / da| of the saturating and non-saturating generator losses against the logit a."""
    fig = _figure(6.5, 4.2)
    ax = fig.add_subplot()
    a = np.linspace(table["a"].min(), table["a"].max(), 400)
    d = 1.0 / (1.0 + np.exp(-a))
    ax.semilogy(a, d, color="tab:red", lw=1.5, label=r"saturating $|\partial_a \log(1 - D)| = \sigma(a)$")
    ax.semilogy(a, 1.0 - d, color=GEN_COLOR, lw=1.5, label=r"non-saturating $|\partial_a (-\log D)| = 1 - \sigma(a)$")
    ax.semilogy(table["a"], np.abs(table["saturating"]), "o", color="tab:red", ms=5, mfc="none")
    ax.semilogy(table["a"], np.abs(table["non_saturating"]), "o", color=GEN_COLOR, ms=5, mfc="none")
    ax.plot([], [], "o", color="0.3", mfc="none", label="minigan autograd")
    ax.set(xlabel=r"logit $a$ of $D(G(z)) = \sigma(a)$   (left: D confidently rejects the fakes)",
           ylabel="|gradient w.r.t. a|", title="Why the generator maximizes log D(G(z))")
    ax.legend(fontsize="small", loc="lower right")
    return _save(fig, path)
