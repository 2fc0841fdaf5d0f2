"""Figures for watching a GAN learn: sample grids, histograms, scatters, loss curves, D vs D*.

Host-side NumPy arrays in, a PNG out: each save_* creates missing directories and returns the path
(and, in a Jupyter kernel, also shows the PNG inline). Figures are plain ``Figure`` objects on the
Agg canvas (no display, no pyplot state), freed when their function returns, so a training loop
leaks nothing. Colours follow Goodfellow et al. (2014),
Figure 1: data black, generator green, discriminator blue.
"""
import math
import os
import pathlib
import sys
from collections.abc import Mapping

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

DATA_COLOR, GEN_COLOR, D_COLOR, D_STAR_COLOR = "black", "tab:green", "tab:blue", "tab:red"
SAMPLE_KINDS = ("image", "1d", "points")
STANDARD_KEYS = ("d_loss", "g_loss", "d_real", "d_fake", "grad_norm_d", "grad_norm_g")
_KEY_COLORS = {"d_loss": D_COLOR, "g_loss": GEN_COLOR, "d_real": DATA_COLOR, "d_fake": GEN_COLOR,
               "grad_norm_d": D_COLOR, "grad_norm_g": GEN_COLOR}
_OTHER_COLORS = ("tab:orange", "tab:purple", "tab:brown", "tab:pink", "tab:olive", "tab:cyan")
_PANEL_TITLES = {"loss": "losses", "d": "mean D output on real / fake (critic values for WGAN)",
                 "grad": "gradient norms (log scale)", "other": "other"}


def new_figure(width, height):
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)  # attach the Agg canvas explicitly: rendering never needs a display
    return fig


def save_figure(fig, path):
    """Write ``fig`` as a PNG (whatever the suffix), creating parent directories; in a Jupyter
    kernel, also show it inline."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    _show_inline(fig, path)
    return path


def _show_inline(fig, path):
    """Display the PNG just written at ``path`` when running in a Jupyter kernel; elsewhere nothing.

    IPython is looked up, never imported: a kernel has always imported it, a script never needs it.
    Figures pyplot manages (a caller's, drawn on through ``ax_list``) are left alone: the inline
    backend shows those when the cell ends, and showing them here too would show them twice.
    The saved bytes are shown, not the figure, so the notebook shows exactly what is on disk.
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if getattr(shell, "kernel", None) is None or fig.canvas.manager is not None:
        return
    from IPython.display import Image, display
    display(Image(data=path.read_bytes(), format="png"))


def _finite(values, name, dim):
    """Samples as float64 (n,) for dim 1 ((n, 1) accepted) or (n, 2) for dim 2, with the rows that
    hold NaN or inf dropped, so a diverging generator still gets its picture."""
    values = np.asarray(values, dtype=np.float64)
    if not ((values.ndim == 2 and values.shape[1] == dim) or values.ndim == dim == 1):
        raise ValueError(f"{name} must have shape {'(n, 2)' if dim == 2 else '(n,) or (n, 1)'}, got {values.shape}")
    values = values.reshape(len(values), dim)
    values = values[np.isfinite(values).all(axis=1)]
    if len(values) == 0:
        raise ValueError(f"{name} has no finite values")
    return values[:, 0] if dim == 1 else values


def _outside_legend(fig, handles, labels, ncols=4):
    """One legend for the whole figure, below the axes, so it never hides data."""
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), ncols), frameon=False,
               fontsize="small", markerscale=1.5)


# ------------------------------------------------------------------ samples

def image_grid(images, nrow=None, pad=1, pad_value=None):
    """Tile images (n, h, w) into one 2-D array with ``nrow`` images per row (default: near-square).

    Tiles are separated by ``pad`` pixels of ``pad_value`` (default: the data's minimum), which
    also fills empty slots in the last row; there is no outer border. Image k lands at
    ``grid[r*(h+pad) : r*(h+pad)+h, c*(w+pad) : c*(w+pad)+w]`` with ``r, c = divmod(k, nrow)``.
    """
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[0] == 0:
        raise ValueError(f"images must have shape (n, h, w) with n >= 1, got {images.shape}")
    n, h, w = images.shape
    ncol = math.ceil(math.sqrt(n)) if nrow is None else nrow
    if int(ncol) != ncol or ncol < 1 or int(pad) != pad or pad < 0:
        raise ValueError(f"nrow must be a positive, pad a non-negative integer; got nrow={nrow!r}, pad={pad!r}")
    ncol, pad = min(int(ncol), n), int(pad)
    nrows = math.ceil(n / ncol)
    fill = images.min() if pad_value is None else pad_value
    # every slot is an (h + pad, w + pad) tile with the image in its top-left corner
    tiles = np.full((nrows * ncol, h + pad, w + pad), fill, dtype=np.result_type(images, fill))
    tiles[:n, :h, :w] = images
    # (row, col, y, x) -> (row, y, col, x): rows of tiles become rows of pixels
    grid = tiles.reshape(nrows, ncol, h + pad, w + pad).transpose(0, 2, 1, 3)
    grid = grid.reshape(nrows * (h + pad), ncol * (w + pad))
    return grid[:grid.shape[0] - pad, :grid.shape[1] - pad]  # drop the trailing separator


def save_image_grid(path, images, nrow=None, title=None, value_range=(-1, 1)):
    """Save images (n, h, w) as one grayscale grid: ``value_range`` maps to black..white
    (None: the data's min..max). Separators are mid-gray, visible on black and on white."""
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 3 or images.shape[0] == 0:
        raise ValueError(f"images must have shape (n, h, w) with n >= 1, got {images.shape}")
    if value_range is not None and (len(value_range) != 2 or not value_range[0] < value_range[1]):
        raise ValueError(f"value_range must be (low, high) with low < high, got {value_range!r}")
    lo, hi = (images.min(), images.max()) if value_range is None else map(float, value_range)
    grid = image_grid(images, nrow=nrow, pad=1, pad_value=(lo + hi) / 2)
    inch = max(1, 480 // max(grid.shape)) / 100  # per grid pixel: small grids (8x8 digits) are blown up
    fig = new_figure(max(2.0, grid.shape[1] * inch), max(2.0, grid.shape[0] * inch) + 0.3 * bool(title))
    ax = fig.add_subplot()
    ax.imshow(grid, cmap="gray", vmin=lo, vmax=hi if hi > lo else lo + 1, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(title or "")
    return save_figure(fig, path)


def save_histogram_1d(path, samples, data_samples=None, density=None, title=None, bins=60):
    """Histogram of 1-D generated samples (density=True, green) against the data: a histogram of
    ``data_samples`` (gray outline) and/or the true density curve ``density(x)`` (black dashed),
    on bins and a grid covering both."""
    samples = _finite(samples, "samples", 1)
    data = None if data_samples is None else _finite(data_samples, "data_samples", 1)
    both = samples if data is None else np.concatenate([samples, data])
    margin = 0.05 * (both.max() - both.min()) or 0.5
    edges = np.linspace(both.min() - margin, both.max() + margin, int(bins) + 1)
    fig = new_figure(6, 4)
    ax = fig.add_subplot()
    ax.hist(samples, bins=edges, density=True, color=GEN_COLOR, alpha=0.5, label=f"generated (n={samples.size})")
    if data is not None:
        ax.hist(data, bins=edges, density=True, histtype="step", color="0.35", lw=1.5, label=f"data (n={data.size})")
    if density is not None:
        xs = np.linspace(edges[0], edges[-1], 400)
        ys = np.asarray(density(xs), dtype=np.float64).reshape(-1)
        if ys.shape != xs.shape:
            raise ValueError(f"density(x) returned {ys.size} values for {xs.size} points")
        ax.plot(xs, ys, color=DATA_COLOR, ls="--", lw=1.5, label=r"true density $p_\mathrm{data}(x)$")
    ax.set(xlabel="x", ylabel="density", title=title or "")
    _outside_legend(fig, *ax.get_legend_handles_labels())
    return save_figure(fig, path)


def save_scatter_2d(path, samples, modes=None, data_samples=None, title=None):
    """Scatter of generated 2-D points (green) over the true modes (black x's) and, optionally,
    faint gray data points; equal aspect, so a ring looks like a ring."""
    samples = _finite(samples, "samples", 2)
    fig = new_figure(5, 5.4)
    ax = fig.add_subplot()
    if data_samples is not None:
        data = _finite(data_samples, "data_samples", 2)
        ax.scatter(data[:, 0], data[:, 1], s=5, color="0.5", alpha=0.35, linewidths=0, label="data")
    ax.scatter(samples[:, 0], samples[:, 1], s=6, color=GEN_COLOR, alpha=0.6, linewidths=0, label="generated")
    if modes is not None:
        modes = _finite(modes, "modes", 2)
        ax.scatter(modes[:, 0], modes[:, 1], s=70, marker="x", color=DATA_COLOR, linewidths=2, label="true modes")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_title(title or "")
    _outside_legend(fig, *ax.get_legend_handles_labels())
    return save_figure(fig, path)


def save_samples(path, samples, kind, sample_shape=None, modes=None, data_samples=None, density=None, title=None,
                 nrow=None):
    """Save generated samples the way their kind is read: "image" -> a grid of samples (n, prod(shape))
    reshaped to ``sample_shape`` ((h, w) or (1, h, w)), ``nrow`` per row; "1d" -> a histogram;
    "points" -> a scatter. Arguments that do not apply to ``kind`` are ignored."""
    if kind == "image":
        samples = np.asarray(samples)
        shape = samples.shape[1:] if sample_shape is None else tuple(int(s) for s in sample_shape)
        hw = shape[1:] if len(shape) == 3 and shape[0] == 1 else shape  # one channel: (1, h, w)
        if len(hw) != 2:
            raise ValueError(f"kind='image' needs sample_shape (h, w) or (1, h, w), got {sample_shape!r}")
        if samples.ndim == 0 or samples.size != len(samples) * hw[0] * hw[1]:
            raise ValueError(f"image samples of shape {samples.shape} do not match sample_shape {shape}")
        return save_image_grid(path, samples.reshape(len(samples), *hw), nrow=nrow, title=title)
    if kind == "1d":
        return save_histogram_1d(path, samples, data_samples=data_samples, density=density, title=title)
    if kind == "points":
        return save_scatter_2d(path, samples, modes=modes, data_samples=data_samples, title=title)
    raise ValueError(f"unknown kind {kind!r}; valid kinds: {', '.join(map(repr, SAMPLE_KINDS))}")


# ------------------------------------------------------------------ training curves

def read_metrics_csv(path):
    """Read a numeric CSV with a header row into {column: float64 array}; empty cells become NaN."""
    with open(path) as f:
        lines = [line for line in f if line.strip()]
    if len(lines) < 2:
        raise ValueError(f"{path} needs a header row and at least one data row")
    names = [name.strip() for name in lines[0].split(",")]
    table = np.genfromtxt(lines[1:], delimiter=",", dtype=np.float64, ndmin=2)
    return dict(zip(names, table.T, strict=True))


def _panel_of(key):
    """The panel a metric is drawn in: gradient norms, D outputs, losses or other."""
    return ("grad" if key.startswith("grad_norm") else "d" if key in ("d_real", "d_fake")
            else "loss" if "loss" in key else "other")


def _plot_smoothed(ax, x, y, color, label):
    """Raw values; past ~150 points they are drawn faint under a centred moving average."""
    window = len(y) // 50
    if window < 3:
        ax.plot(x, y, color=color, lw=1.2, label=label)
        return
    ax.plot(x, y, color=color, lw=0.6, alpha=0.25)
    smooth = np.convolve(y, np.ones(window) / window, mode="valid")
    ax.plot(x[(window - 1) // 2:][:smooth.size], smooth, color=color, lw=1.5, label=f"{label} (mean of {window})")


def save_loss_curves(path, metrics, keys=None, title=None):
    """Training curves from ``metrics`` (a dict name -> 1-D sequence, or a CSV path with a header);
    the x axis is ``metrics["step"]`` when present. Panels, only for keys present: losses
    (keys containing "loss"), D outputs (d_real, d_fake), gradient norms (grad_norm_*, log scale),
    and "other". ``keys`` defaults to those of STANDARD_KEYS found in ``metrics``.
    """
    if isinstance(metrics, (str, os.PathLike)):
        metrics = read_metrics_csv(metrics)
    keys = [k for k in STANDARD_KEYS if k in metrics] if keys is None else list(keys)
    if not keys or any(k not in metrics for k in keys):
        raise ValueError(f"nothing to plot: keys {keys or list(STANDARD_KEYS)} vs metrics {sorted(metrics)}")
    step = None if "step" not in metrics else np.asarray(metrics["step"], dtype=np.float64)
    panels = {}  # panel name -> [(key, values)]
    for k in keys:
        y = np.asarray(metrics[k], dtype=np.float64)
        if y.ndim != 1 or (step is not None and y.shape != step.shape):
            raise ValueError(f"metrics[{k!r}] has shape {y.shape}; expected 1-D, like metrics['step']")
        panels.setdefault(_panel_of(k), []).append((k, y))
    names = [p for p in _PANEL_TITLES if p in panels]
    fig = new_figure(7, 0.4 + 2.3 * len(names))
    axes = fig.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0]
    for ax, name in zip(axes, names):
        for i, (k, y) in enumerate(panels[name]):
            color = _KEY_COLORS.get(k, _OTHER_COLORS[i % len(_OTHER_COLORS)])
            _plot_smoothed(ax, np.arange(y.size) if step is None else step, y, color, k)
        if name == "d" and all(np.nanmin(y) >= 0 and np.nanmax(y) <= 1 for _, y in panels[name]):
            ax.axhline(0.5, color="0.5", lw=0.8, ls=":", label="1/2 (equilibrium)")  # probabilities, not critics
        if name == "grad":
            ax.set_yscale("log")
        ax.set_title(_PANEL_TITLES[name], loc="left", fontsize="medium")
        ax.legend(fontsize="small", loc="upper right")
    axes[-1].set_xlabel("step" if step is not None else "logged point")
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)


# ------------------------------------------------------------------ D versus D*

def _draw_discriminator(ax, x, p_data, p_g, d_values, d_star=None, title=None, left_label=True, right_label=True):
    """Goodfellow et al. (2014), Figure 1 on ``ax``: densities on its left axis, D on a twin right
    axis fixed to [0, 1]. Returns the legend entries (handles, labels) of both axes."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or x.size < 2:
        raise ValueError(f"x must be a 1-D grid of at least 2 points, got shape {x.shape}")
    given = {"p_data": p_data, "p_g": p_g, "d_values": d_values, "d_star": d_star}
    curves = {name: np.asarray(v, dtype=np.float64) for name, v in given.items() if v is not None}
    for name, values in curves.items():
        if values.size != x.size:
            raise ValueError(f"{name} has shape {values.shape} but x has shape {x.shape}")
        curves[name] = values.reshape(-1)  # (n, 1) model outputs are fine
    ax.plot(x, curves["p_data"], color=DATA_COLOR, ls=":", lw=2.5, label=r"data $p_\mathrm{data}(x)$")
    ax.plot(x, curves["p_g"], color=GEN_COLOR, lw=2, label=r"generator $p_g(x)$")
    ax.set(xlim=(x[0], x[-1]), xlabel="x", ylabel="density" if left_label else "", title=title or "")
    ax.set_ylim(bottom=0)
    d_ax = ax.twinx()
    d_ax.plot(x, curves["d_values"], color=D_COLOR, ls="--", lw=2, label=r"discriminator $D(x)$")
    if "d_star" in curves:
        d_ax.plot(x, curves["d_star"], color=D_STAR_COLOR, lw=1,
                  label=r"$D^*(x) = p_\mathrm{data} / (p_\mathrm{data} + p_g)$")
    d_ax.set_ylim(0, 1.05)
    d_ax.set_ylabel("D(x)" if right_label else "", color=D_COLOR)
    (handles, labels), (more_handles, more_labels) = (a.get_legend_handles_labels() for a in (ax, d_ax))
    return handles + more_handles, labels + more_labels


def save_discriminator_figure(path, x, p_data, p_g, d_values, d_star=None, title=None, ax_list=None):
    """One Figure-1-style plot: data density (black dotted), generator density (green), D(x) (blue
    dashed) and optionally D*(x) (thin red), all arrays on the grid ``x``.
    ``ax_list``: an existing Axes (or a sequence of Axes, the first is used) to draw on instead of
    a new figure; that figure stays the caller's: saved only if ``path`` is not None, never closed.
    """
    if ax_list is not None:
        ax = ax_list[0] if isinstance(ax_list, (list, tuple)) else ax_list
        ax.legend(*_draw_discriminator(ax, x, p_data, p_g, d_values, d_star, title), fontsize="small")
        return None if path is None else save_figure(ax.figure, path)
    panel = dict(x=x, p_data=p_data, p_g=p_g, d_values=d_values, d_star=d_star, title=title)
    return save_discriminator_panels(path, [panel])


def save_discriminator_panels(path, panels):
    """Several Figure-1-style plots side by side (e.g. stages of training): ``panels`` is a list of
    dicts with keys x, p_data, p_g, d_values and optionally d_star and title."""
    required, optional = {"x", "p_data", "p_g", "d_values"}, {"d_star", "title"}
    if not panels:
        raise ValueError("panels must be a non-empty list of dicts")
    for i, panel in enumerate(panels):
        if not isinstance(panel, Mapping) or not required <= set(panel) <= required | optional:
            got = sorted(panel) if isinstance(panel, Mapping) else type(panel).__name__
            raise ValueError(f"panel {i} must be a dict with keys {sorted(required)} (+ d_star, title), got {got}")
    fig = new_figure(3.4 * len(panels) + 0.6, 3.6) if len(panels) > 1 else new_figure(6, 4.2)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    entries = ([], [])
    for i, (ax, panel) in enumerate(zip(axes, panels)):  # y labels on the outer axes only
        drawn = _draw_discriminator(ax, **panel, left_label=i == 0, right_label=i == len(panels) - 1)
        entries = max(entries, drawn, key=lambda e: len(e[1]))  # D* may be drawn in some panels only
    _outside_legend(fig, *entries, ncols=4 if len(panels) > 1 else 2)
    return save_figure(fig, path)
