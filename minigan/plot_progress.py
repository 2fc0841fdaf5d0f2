"""The training-progress strip: the generator's answer to the same noise, step after step.

One row per sample point for images (the first few fixed-noise images side by side), one panel per
sample point for 1-D and 2-D data. At most ``MAX_FRAMES`` frames are drawn, evenly spread over the
run with the last one always included, so a long run still gives a picture one can read.
"""
import numpy as np

from minigan.plot import DATA_COLOR, GEN_COLOR, image_grid, new_figure, save_figure

MAX_FRAMES = 12


def _chosen(n):
    """Indices of at most MAX_FRAMES frames out of n, evenly spaced, first and last included."""
    if n <= MAX_FRAMES:
        return list(range(n))
    return sorted(set(np.linspace(0, n - 1, MAX_FRAMES).round().astype(int).tolist()))


def save_progress(path, steps, frames, kind, sample_shape=None, modes=None, title=None):
    """``frames[i]``: the samples after ``steps[i]`` generator steps ((n, d) arrays, model space)."""
    if len(steps) != len(frames) or not frames:
        raise ValueError(f"save_progress needs one frame per step, got {len(frames)} frames for {len(steps)} steps")
    chosen = _chosen(len(frames))
    if kind == "image":
        shape = tuple(sample_shape)
        hw = shape[1:] if len(shape) == 3 else shape
        rows = [np.asarray(frames[i]).reshape(-1, *hw) for i in chosen]
        per_row = min(len(r) for r in rows)
        grid = image_grid(np.concatenate([r[:per_row] for r in rows]), nrow=per_row, pad_value=0.0)  # mid-gray separators
        fig = new_figure(1.0 + 0.6 * per_row, 0.6 + 0.6 * len(rows))
        ax = fig.add_subplot()
        ax.imshow((grid + 1) / 2, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        cell = grid.shape[0] / len(rows)
        ax.set_yticks([(i + 0.5) * cell for i in range(len(rows))], [f"step {steps[i]}" for i in chosen],
                      fontsize="small")
        ax.set_xticks([])
    else:
        cols = min(len(chosen), 6)
        n_rows = -(-len(chosen) // cols)
        fig = new_figure(2.2 * cols, 2.3 * n_rows)
        for panel, i in enumerate(chosen):
            ax = fig.add_subplot(n_rows, cols, panel + 1)
            x = np.asarray(frames[i], dtype=np.float64)
            x = x[np.isfinite(x).all(axis=1)]
            if kind == "points":
                if modes is not None:
                    ax.scatter(modes[:, 0], modes[:, 1], s=30, marker="x", color=DATA_COLOR, linewidths=1)
                    # the same window in every panel, around the data: panels compare at a glance
                    lo, hi = modes.min(axis=0), modes.max(axis=0)
                    margin = 0.3 * float((hi - lo).max()) + 0.1
                    ax.set_xlim(lo[0] - margin, hi[0] + margin)
                    ax.set_ylim(lo[1] - margin, hi[1] + margin)
                ax.scatter(x[:, 0], x[:, 1], s=2, color=GEN_COLOR, alpha=0.5, linewidths=0)
                ax.set_aspect("equal")
            else:
                ax.hist(x[:, 0], bins=40, color=GEN_COLOR, alpha=0.7)
            ax.set_title(f"step {steps[i]}", fontsize="small")
            ax.tick_params(labelsize="x-small")
    fig.suptitle(title or "")
    return save_figure(fig, path)
