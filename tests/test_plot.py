"""Plots: exact grid tiling, every save_* writes a readable PNG, input errors, no leaks in loops."""
import sys

import numpy as np
import pytest
from matplotlib.image import imread

from minigan import plot

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
STEPS = np.arange(0, 400, 2)
RNG = np.random.default_rng(0)


def _read_png(path):
    """The PNG's pixels (h, w, channels) after checking the signature bytes."""
    with open(path, "rb") as f:
        assert f.read(8) == PNG_SIGNATURE
    pixels = imread(path)
    assert pixels.ndim == 3 and pixels.shape[0] > 50 and pixels.shape[1] > 50
    return pixels


def _metrics(n=len(STEPS)):
    t = np.linspace(0, 1, n)
    return {"step": STEPS[:n], "d_loss": 1.4 - 0.2 * t + 0.05 * RNG.standard_normal(n),
            "g_loss": 0.7 + 0.3 * t, "d_real": 0.5 + 0.1 * t, "d_fake": 0.5 - 0.1 * t,
            "grad_norm_d": np.exp(RNG.standard_normal(n)), "grad_norm_g": np.full(n, 0.3)}


def _gaussian(x, mean, std):
    return np.exp(-0.5 * ((x - mean) / std) ** 2) / (std * np.sqrt(2 * np.pi))


def _panel(shift, title):
    x = np.linspace(-4, 4, 200)
    p_data, p_g = _gaussian(x, 1.0, 0.7), _gaussian(x, shift, 1.0)
    d_star = p_data / (p_data + p_g)
    return dict(x=x, p_data=p_data, p_g=p_g, d_values=np.clip(d_star + 0.05, 0, 1), d_star=d_star, title=title)


# ------------------------------------------------------------------ image_grid

def test_image_grid_places_each_image_at_its_offset():
    images = np.arange(5 * 2 * 3, dtype=np.float64).reshape(5, 2, 3) + 100
    grid = plot.image_grid(images, nrow=2, pad=1, pad_value=-7)
    assert grid.shape == (3 * 2 + 2, 2 * 3 + 1)           # 3 rows x 2 cols, separators between
    for k in range(5):
        r, c = divmod(k, 2)
        np.testing.assert_array_equal(grid[r * 3:r * 3 + 2, c * 4:c * 4 + 3], images[k])
    assert (grid[2, :] == -7).all() and (grid[5, :] == -7).all() and (grid[:, 3] == -7).all()
    assert (grid[6:, 4:] == -7).all()                      # the empty sixth slot


@pytest.mark.parametrize("n, expected_shape", [(1, (4, 4)), (4, (9, 9)), (9, (14, 14)), (10, (14, 19))])
def test_image_grid_is_near_square_and_pads_with_the_minimum(n, expected_shape):
    images = np.full((n, 4, 4), 3.0)
    images[0, 0, 0] = -2.0
    grid = plot.image_grid(images)
    assert grid.shape == expected_shape
    assert grid.min() == -2.0 and np.count_nonzero(grid == 3.0) == 16 * n - 1


def test_image_grid_without_padding_is_a_plain_reshape():
    images = RNG.standard_normal((6, 2, 2))
    grid = plot.image_grid(images, nrow=3, pad=0)
    np.testing.assert_array_equal(grid, images.reshape(2, 3, 2, 2).transpose(0, 2, 1, 3).reshape(4, 6))


@pytest.mark.parametrize("images, kwargs", [(np.zeros((4, 4)), {}), (np.zeros((0, 2, 2)), {}),
                                            (np.zeros((2, 2, 2)), {"nrow": 0}), (np.zeros((2, 2, 2)), {"pad": -1})])
def test_image_grid_rejects_bad_input(images, kwargs):
    with pytest.raises(ValueError):
        plot.image_grid(images, **kwargs)


# ------------------------------------------------------------------ every save_* writes a PNG

def test_save_image_grid(tmp_path):
    images = np.tanh(RNG.standard_normal((16, 8, 8)))
    path = plot.save_image_grid(tmp_path / "nested" / "dir" / "grid.png", images, title="step 10")
    pixels = _read_png(path)
    assert pixels.shape[0] > 150   # small images are blown up to a readable size


def test_save_histogram_1d_with_data_and_density(tmp_path):
    samples, data = RNG.normal(3.0, 1.0, 500), RNG.normal(4.0, 0.5, 500)
    path = plot.save_histogram_1d(tmp_path / "h.png", samples[:, None], data_samples=data,
                                  density=lambda x: _gaussian(x, 4.0, 0.5), title="1-D")
    _read_png(path)
    _read_png(plot.save_histogram_1d(tmp_path / "h2.png", np.append(samples, np.nan)))


def test_save_scatter_2d(tmp_path):
    angles = 2 * np.pi * np.arange(8) / 8
    modes = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    data = modes[RNG.integers(0, 8, 400)] + 0.02 * RNG.standard_normal((400, 2))
    path = plot.save_scatter_2d(tmp_path / "s.png", 0.5 * RNG.standard_normal((300, 2)),
                                modes=modes, data_samples=data, title="ring")
    _read_png(path)


@pytest.mark.parametrize("kind, samples, extra", [
    ("image", np.zeros((9, 64)), {"sample_shape": (8, 8)}),
    ("image", np.zeros((9, 64)), {"sample_shape": (1, 8, 8)}),
    ("1d", RNG.standard_normal((100, 1)), {"density": lambda x: _gaussian(x, 0, 1)}),
    ("points", RNG.standard_normal((100, 2)), {"modes": np.zeros((1, 2))}),
])
def test_save_samples_dispatches(tmp_path, kind, samples, extra):
    _read_png(plot.save_samples(tmp_path / f"{kind}.png", samples, kind, title=kind, **extra))


def test_save_samples_errors(tmp_path):
    with pytest.raises(ValueError, match=r"'image', '1d', 'points'"):
        plot.save_samples(tmp_path / "x.png", np.zeros((4, 2)), "histogram")
    with pytest.raises(ValueError, match=r"\(4, 63\).*\(8, 8\)"):
        plot.save_samples(tmp_path / "x.png", np.zeros((4, 63)), "image", sample_shape=(8, 8))
    with pytest.raises(ValueError, match="sample_shape"):
        plot.save_samples(tmp_path / "x.png", np.zeros((4, 64)), "image")
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        plot.save_samples(tmp_path / "x.png", np.zeros((4, 3)), "points")
    assert not (tmp_path / "x.png").exists()


def test_save_loss_curves_from_a_dict(tmp_path):
    _read_png(plot.save_loss_curves(tmp_path / "loss.png", _metrics(), title="run"))
    only = plot.save_loss_curves(tmp_path / "few.png", {"d_loss": [1.0, 0.9, 0.8], "gp": [0.1, 0.2, 0.1]},
                                 keys=["d_loss", "gp"])
    _read_png(only)


def test_save_loss_curves_from_a_csv_file(tmp_path):
    metrics = _metrics(50)
    names = list(metrics)
    rows = np.stack([np.asarray(metrics[k], dtype=np.float64) for k in names], axis=1)
    csv_path = tmp_path / "metrics.csv"
    np.savetxt(csv_path, rows, delimiter=",", header=",".join(names), comments="")
    read = plot.read_metrics_csv(csv_path)
    assert list(read) == names
    np.testing.assert_allclose(read["d_loss"], metrics["d_loss"])
    _read_png(plot.save_loss_curves(tmp_path / "loss.png", str(csv_path)))


def test_save_loss_curves_errors(tmp_path):
    with pytest.raises(ValueError, match="nothing to plot"):
        plot.save_loss_curves(tmp_path / "x.png", {"step": [1, 2]})
    with pytest.raises(ValueError, match="d_loss"):
        plot.save_loss_curves(tmp_path / "x.png", {"step": [1, 2, 3], "d_loss": [1.0, 2.0]})
    (tmp_path / "empty.csv").write_text("step,d_loss\n")
    with pytest.raises(ValueError, match="header"):
        plot.save_loss_curves(tmp_path / "x.png", tmp_path / "empty.csv")


def test_save_discriminator_figure_and_panels(tmp_path):
    panel = _panel(-1.0, "start")
    path = plot.save_discriminator_figure(tmp_path / "d.png", **panel)
    assert _read_png(path).shape[1] > _read_png(path).shape[0]
    stages = [_panel(shift, title) for shift, title in [(-1.0, "(a)"), (0.0, "(b)"), (1.0, "(c)")]]
    del stages[2]["d_star"]
    wide = _read_png(plot.save_discriminator_panels(tmp_path / "panels.png", stages))
    assert wide.shape[1] > 2 * wide.shape[0]


def test_save_discriminator_figure_onto_a_callers_axes(tmp_path):
    from matplotlib.figure import Figure
    fig = Figure(figsize=(8, 3))
    left, right = fig.subplots(1, 2)
    assert plot.save_discriminator_figure(None, **_panel(0.0, "left"), ax_list=[left]) is None
    path = plot.save_discriminator_figure(tmp_path / "mine.png", **_panel(1.0, "right"), ax_list=right)
    assert left.get_title() == "left" and len(left.lines) == 2 and _read_png(path).shape[:2] == (300, 800)


def test_save_discriminator_errors(tmp_path):
    panel = _panel(0.0, "t")
    with pytest.raises(ValueError, match=r"p_g has shape \(199,\) but x has shape \(200,\)"):
        plot.save_discriminator_figure(tmp_path / "d.png", **{**panel, "p_g": panel["p_g"][:-1]})
    with pytest.raises(ValueError, match="panel 1"):
        plot.save_discriminator_panels(tmp_path / "p.png", [panel, {**panel, "d_value": 0}])


def test_saving_in_a_loop_leaves_no_figures_open(tmp_path):
    import matplotlib.pyplot as plt  # only to check that nothing registered with pyplot
    images = np.zeros((4, 8, 8))
    for i in range(30):
        plot.save_image_grid(tmp_path / "loop.png", images)
    assert plt.get_fignums() == []
    _read_png(tmp_path / "loop.png")


# ------------------------------------------------------------------ inline display in a Jupyter kernel

class _KernelShell:
    kernel = object()  # what tells a Jupyter kernel's shell from a terminal IPython's


def _displayed(monkeypatch, shell):
    """Route IPython.display.display into a list, with ``shell`` as the running IPython."""
    IPython = pytest.importorskip("IPython")
    import IPython.display
    shown = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    return shown


def test_in_a_kernel_every_save_shows_the_saved_png_once(tmp_path, monkeypatch):
    shown = _displayed(monkeypatch, _KernelShell())
    paths = [plot.save_image_grid(tmp_path / "grid.png", np.zeros((4, 8, 8))),
             plot.save_loss_curves(tmp_path / "curves.png", _metrics()),
             plot.save_discriminator_panels(tmp_path / "panels.png", [_panel(0.0, "a"), _panel(1.0, "b")])]
    assert [image.data for image in shown] == [p.read_bytes() for p in paths]
    assert all(image.format == "png" for image in shown)


def test_outside_a_kernel_nothing_is_shown_and_ipython_is_not_imported(tmp_path, monkeypatch):
    shown = _displayed(monkeypatch, None)  # IPython imported but not running (a plain script)
    plot.save_image_grid(tmp_path / "a.png", np.zeros((4, 8, 8)))
    _displayed(monkeypatch, object())  # a terminal IPython: its shell has no kernel
    plot.save_image_grid(tmp_path / "b.png", np.zeros((4, 8, 8)))
    assert shown == []
    monkeypatch.delitem(sys.modules, "IPython")  # restored afterwards by monkeypatch
    plot.save_image_grid(tmp_path / "c.png", np.zeros((4, 8, 8)))
    assert "IPython" not in sys.modules


def test_in_a_kernel_a_pyplot_figure_is_left_to_the_inline_backend(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()  # pyplot shows it when the cell ends; showing it here too would double it
    shown = _displayed(monkeypatch, _KernelShell())  # after pyplot has looked for IPython's hooks
    try:
        plot.save_discriminator_figure(tmp_path / "mine.png", **_panel(0.0, "t"), ax_list=ax)
    finally:
        plt.close(fig)
    assert shown == [] and (tmp_path / "mine.png").exists()
