"""Theory lab: D*, V, JSD and Theorem 1 against closed forms and scipy; Proposition 1 with a trained
discriminator (and a test that an untrained one fails the same bound); the saturating gradient; the CLI."""
import math
import subprocess
import sys

import numpy as np
import pytest
from scipy import special, stats
from scipy.spatial.distance import jensenshannon

import minigan as mg
from minigan import theory
from minigan.theory.__main__ import main

DATA = stats.norm(2.0, 0.5)
GRID = np.linspace(-20.0, 20.0, 8001)
PAIRS = [(2.0, 0.5), (1.5, 0.5), (2.0, 0.25), (0.0, 1.0), (2.0, 2.0), (-3.0, 0.2)]
LOG_4 = math.log(4.0)


def _uniform(lo, hi):
    return stats.uniform(lo, hi - lo).pdf


def _discrete(seed, n=12):
    rng = np.random.default_rng(seed)
    p, q = rng.random(n), rng.random(n)
    p[rng.integers(n)] = 0.0  # a zero cell exercises 0 log 0
    return p, q


# ---------------------------------------------------------------- D*
def test_optimal_discriminator_is_one_half_for_equal_densities():
    x = np.array([-1e3, -3.0, 0.0, 2.0, 5.0, 1e3])  # the outer points: both densities are exactly 0
    d_star = theory.optimal_discriminator(DATA.pdf, DATA.pdf)
    assert callable(d_star)
    np.testing.assert_array_equal(d_star(x), 0.5)
    np.testing.assert_array_equal(theory.optimal_discriminator(DATA.pdf(x), DATA.pdf(x)), 0.5)


def test_optimal_discriminator_on_disjoint_supports():
    x = np.array([-1.0, 0.2, 0.7, 1.5, 2.3, 2.9, 4.0])
    expected = [0.5, 1.0, 1.0, 0.5, 0.0, 0.0, 0.5]  # data on (0, 1), generator on (2, 3), nothing elsewhere
    p, q = _uniform(0, 1), _uniform(2, 3)
    np.testing.assert_array_equal(theory.optimal_discriminator(p, q)(x), expected)
    np.testing.assert_array_equal(theory.optimal_discriminator(p(x), q(x)), expected)


def test_optimal_discriminator_formula_on_gaussians():
    gen = stats.norm(0.0, 1.0)
    x = np.linspace(-3, 5, 17)
    expected = DATA.pdf(x) / (DATA.pdf(x) + gen.pdf(x))
    np.testing.assert_allclose(theory.optimal_discriminator(DATA.pdf, gen.pdf)(x), expected, rtol=1e-14)
    np.testing.assert_allclose(theory.optimal_discriminator(DATA.pdf(x), gen.pdf(x)), expected, rtol=1e-14)
    assert float(theory.optimal_discriminator(DATA.pdf, gen.pdf)(2.0)) == pytest.approx(expected[10])


@pytest.mark.parametrize("p, q", [(DATA.pdf, np.ones(3)), (np.ones(3), DATA.pdf)])
def test_optimal_discriminator_refuses_a_callable_mixed_with_an_array(p, q):
    with pytest.raises(TypeError, match="both"):
        theory.optimal_discriminator(p, q)


# ---------------------------------------------------------------- Theorem 1
@pytest.mark.parametrize("mu, s", PAIRS)
def test_theorem_1_with_quad(mu, s):
    gen = stats.norm(mu, s)
    check = theory.check_theorem_1(DATA.pdf, gen.pdf)
    assert check.holds and check.error <= 1e-8
    assert check.criterion == pytest.approx(-LOG_4 + 2 * theory.jsd(DATA.pdf, gen.pdf), abs=1e-8)
    assert check.criterion >= -LOG_4 - 1e-12


@pytest.mark.parametrize("mu, s", PAIRS)
def test_theorem_1_on_a_grid_agrees_with_quad(mu, s):
    p, q = DATA.pdf(GRID), stats.norm.pdf(GRID, mu, s)
    check = theory.check_theorem_1(p, q, x=GRID)
    assert check.holds and check.error <= 1e-8
    assert check.criterion == pytest.approx(theory.virtual_training_criterion(DATA.pdf, stats.norm(mu, s).pdf),
                                            abs=1e-8)


@pytest.mark.parametrize("seed", range(3))
def test_theorem_1_for_discrete_distributions(seed):
    check = theory.check_theorem_1(*_discrete(seed))
    assert check.holds and check.error <= 1e-12


def test_criterion_is_minimal_exactly_at_p_g_equal_p_data():
    assert theory.virtual_training_criterion(DATA.pdf, DATA.pdf) == pytest.approx(-LOG_4, abs=1e-10)
    assert theory.virtual_training_criterion(DATA.pdf(GRID), DATA.pdf(GRID), x=GRID) == pytest.approx(-LOG_4, abs=1e-10)
    for mu, s in PAIRS[1:]:
        assert theory.virtual_training_criterion(DATA.pdf, stats.norm(mu, s).pdf) > -LOG_4 + 1e-3
    # disjoint supports: C(G) = 0, the other end (JSD = log 2)
    disjoint = theory.virtual_training_criterion(_uniform(0, 1), _uniform(2, 3), bounds=(-1, 4))
    assert disjoint == pytest.approx(0, abs=1e-12)


# ---------------------------------------------------------------- KL and JSD
@pytest.mark.parametrize("m1, s1, m2, s2", [(2.0, 0.5, 0.0, 1.0), (0.0, 1.0, 2.0, 0.5), (1.0, 2.0, 1.0, 0.7)])
def test_kl_matches_the_gaussian_closed_form(m1, s1, m2, s2):
    exact = math.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5
    # q's pdf underflows to 0 beyond ~38 std (and p log(p / 0) = inf): stop at 30; p's mass is inside
    bounds = (m2 - 30 * s2, m2 + 30 * s2)
    assert theory.kl(stats.norm(m1, s1).pdf, stats.norm(m2, s2).pdf, bounds=bounds) == pytest.approx(exact, abs=1e-10)
    x = np.linspace(*bounds, 6001)
    p, q = stats.norm.pdf(x, m1, s1), stats.norm.pdf(x, m2, s2)
    assert theory.kl(p, q, x=x) == pytest.approx(exact, abs=1e-8)


def test_jsd_properties():
    gen = stats.norm(0.0, 1.0)
    assert theory.jsd(DATA.pdf, gen.pdf) == pytest.approx(theory.jsd(gen.pdf, DATA.pdf), abs=1e-12)
    assert theory.jsd(DATA.pdf, DATA.pdf) == 0.0
    assert 0.0 < theory.jsd(DATA.pdf, gen.pdf) < math.log(2)
    assert theory.jsd(_uniform(0, 1), _uniform(2, 3), bounds=(-1, 4)) == pytest.approx(math.log(2), abs=1e-12)
    # m = (p + q) / 2 would round a subnormal 5e-324 to 0 and give inf in the far tails
    assert theory.jsd(DATA.pdf(GRID), gen.pdf(GRID), x=GRID) == pytest.approx(theory.jsd(DATA.pdf, gen.pdf), abs=1e-10)


@pytest.mark.parametrize("seed", range(5))
def test_jsd_matches_scipy_jensenshannon_on_discrete_distributions(seed):
    p, q = _discrete(seed)
    assert theory.jsd(p, q) == pytest.approx(jensenshannon(p, q) ** 2, abs=1e-14)
    assert theory.jsd(p, q) == pytest.approx(theory.jsd(q, p), abs=1e-15)
    assert 0.0 <= theory.jsd(p, q) <= math.log(2)


# ---------------------------------------------------------------- V(D, G)
def _other_discriminators(gen):
    d_star = theory.optimal_discriminator(DATA.pdf, gen.pdf)
    return {
        "constant 1/2": lambda x: np.full(np.shape(x), 0.5),
        "a logistic regression": lambda x: special.expit(2.0 * (np.asarray(x) - 1.0)),
        "D* blurred": lambda x: 0.9 * d_star(x) + 0.05,
        "D* of another generator": theory.optimal_discriminator(DATA.pdf, stats.norm(0.5, 1.0).pdf),
    }


@pytest.mark.parametrize("name", ["constant 1/2", "a logistic regression", "D* blurred", "D* of another generator"])
def test_value_function_is_maximized_by_d_star(name):
    gen = stats.norm(0.0, 1.0)
    D = _other_discriminators(gen)[name]
    best = theory.value_function(theory.optimal_discriminator(DATA.pdf, gen.pdf), DATA.pdf, gen.pdf)
    assert theory.value_function(D, DATA.pdf, gen.pdf) < best - 1e-4
    p, q = DATA.pdf(GRID), gen.pdf(GRID)
    best = theory.value_function(theory.optimal_discriminator(p, q), p, q, x=GRID)
    assert theory.value_function(D(GRID), p, q, x=GRID) < best - 1e-4


def test_value_function_of_constant_half_is_minus_log_4():
    # V(1/2, G) = -log 4 for every G: what D* becomes at p_g = p_data
    gen = stats.norm(0.0, 1.0)
    assert theory.value_function(lambda x: 0.5, DATA.pdf, gen.pdf) == pytest.approx(-LOG_4, abs=1e-10)


def test_value_function_takes_zero_log_zero_as_zero():
    x = np.linspace(-1, 4, 5001)
    p, q = _uniform(0, 1)(x), _uniform(2, 3)(x)
    d = theory.optimal_discriminator(p, q)  # exactly 1 on p's support, 0 on q's
    assert set(np.unique(d)) == {0.0, 0.5, 1.0}
    assert theory.value_function(d, p, q, x=x) == 0.0


def test_value_function_refuses_bad_inputs():
    p, q = DATA.pdf(GRID), stats.norm.pdf(GRID, 0, 1)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        theory.value_function(np.full(GRID.shape, 1.5), p, q, x=GRID)
    with pytest.raises(ValueError, match="non-negative"):
        theory.value_function(np.full(GRID.shape, 0.5), -p, q, x=GRID)
    with pytest.raises(ValueError, match="grid"):
        theory.value_function(np.full(GRID.shape, 0.5), p, q, x=GRID[::-1])
    with pytest.raises(TypeError):
        theory.value_function(np.full(GRID.shape, 0.5), DATA.pdf, DATA.pdf)


# ---------------------------------------------------------------- Proposition 1 with a trained D
def test_trained_discriminator_approaches_d_star():
    r = theory.proposition_1(0.0, 1.0, theory.QUICK)  # 300 steps; the CLI's full run reaches <= 0.02
    assert r.max_error <= 0.05
    assert abs(r.value - r.criterion) <= 0.01
    assert r.value <= r.criterion + 1e-9  # D* maximizes V: no trained D can beat it
    assert r.criterion == pytest.approx(theory.virtual_training_criterion(DATA.pdf, stats.norm(0, 1).pdf))
    # the region holds 99% of the mixture's mass
    mass = 0.5 * (DATA.cdf(r.x[-1]) - DATA.cdf(r.x[0]) + stats.norm.cdf(r.x[-1]) - stats.norm.cdf(r.x[0]))
    assert mass == pytest.approx(0.99, abs=1e-9)


def test_untrained_discriminator_fails_the_same_bound():
    r = theory.proposition_1(0.0, 1.0, theory.TrainConfig(steps=0))
    assert r.max_error > 0.05 and abs(r.value - r.criterion) > 0.01


def test_training_leaves_dtype_and_random_state_as_it_found_them():
    mg.set_default_dtype("float32")
    mg.manual_seed(123)
    expected = mg.randn(4).numpy()
    mg.manual_seed(123)
    D = theory.train_discriminator(lambda rng, n: rng.normal(2, 0.5, n), lambda rng, n: rng.normal(0, 1, n),
                                   theory.TrainConfig(steps=5, batch_size=16))
    assert mg.get_default_dtype() == np.float32
    np.testing.assert_array_equal(mg.randn(4).numpy(), expected)
    assert D(np.zeros((2, 3))).shape == (2, 3) and D(np.zeros((2, 3))).dtype == np.float64


def test_kde_variant_for_a_generator_of_unknown_density():
    r = theory.proposition_1_kde(lambda z: 0.0 + 1.0 * z, theory.QUICK, kde_samples=5000)
    exact = theory.optimal_discriminator(DATA.pdf(r.x), stats.norm.pdf(r.x))
    assert np.abs(r.d_star - exact).max() <= 0.05  # the KDE's own bias
    assert r.max_error <= 0.08
    assert abs(r.value - r.criterion) <= 0.01


# ---------------------------------------------------------------- the non-saturating argument
def test_generator_gradients_match_the_closed_forms():
    table = theory.saturation_table(np.arange(-10.0, 3.0))
    d = special.expit(table["a"])
    np.testing.assert_allclose(table["saturating"], -d, rtol=0, atol=1e-10)
    np.testing.assert_allclose(table["non_saturating"], -(1 - d), rtol=0, atol=1e-10)
    np.testing.assert_allclose(table["saturating"], -d, rtol=1e-10)  # relative: even the tiny ones
    assert abs(table["saturating"][0]) < 1e-4 and abs(table["non_saturating"][0]) > 0.9999  # a = -10
    assert "-10" in theory.format_saturation_table(table)


# ---------------------------------------------------------------- the CLI
def test_cli_quick_prints_the_numbers_and_writes_the_figures(tmp_path, capsys):
    assert main(["--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for text in ("Theorem 1", "max |D(x) - D*(x)|", "|V - C|", "KDE", "Figure 1", "non-saturating"):
        assert text in out
    for name in ("theorem1.png", "proposition1.png", "figure1_stages.png", "gradients.png"):
        with open(tmp_path / name, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert mg.get_default_dtype() == np.float32


def test_import_does_nothing_visible():
    done = subprocess.run([sys.executable, "-c", "import minigan.theory, minigan.theory.__main__"],
                          capture_output=True, text=True, check=True)
    assert done.stdout == "" and done.stderr == ""
