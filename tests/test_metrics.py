"""minigan.metrics against independent computations: direct formulas, closed forms, scipy."""
import tracemalloc

import numpy as np
import pytest
from scipy.stats import entropy, multivariate_normal

from minigan import metrics
from minigan.data import grid_modes, ring, ring_modes
from minigan.data import toy
from minigan.metrics import classifier as classifier_module


# --- Parzen window ---------------------------------------------------------------------------
def _direct_parzen(samples, test, sigma):
    """log mean_j N(x; mu_j, sigma^2 I), one scipy density per (x, mu_j) pair."""
    d = samples.shape[1]
    dens = np.array([[multivariate_normal(mu, sigma**2 * np.eye(d)).pdf(x) for mu in samples] for x in test])
    return np.log(dens.mean(axis=1))


def test_parzen_matches_the_direct_formula_and_batching_changes_nothing():
    rng = np.random.default_rng(0)
    samples, test = rng.normal(size=(30, 3)), rng.normal(size=(17, 3))
    for sigma in (0.3, 1.0):
        want = _direct_parzen(samples, test, sigma)
        for batch_size in (1, 4, 17, 1000):
            got = metrics.parzen_log_likelihood(samples, test, sigma, batch_size=batch_size)
            np.testing.assert_allclose(got, want, rtol=1e-10)


def test_parzen_stays_finite_far_from_every_sample():
    # the direct formula underflows to log(0) = -inf here; logsumexp keeps the exact value
    ll = metrics.parzen_log_likelihood(np.zeros((2, 1)), np.array([[100.0]]), sigma=0.1)
    np.testing.assert_allclose(ll, [-0.5 * 100**2 / 0.01 - np.log(0.1 * np.sqrt(2 * np.pi))])


def test_parzen_memory_stays_bounded_by_the_batch():
    rng = np.random.default_rng(1)
    samples, test = rng.random((2000, 100)), rng.random((2000, 100))
    tracemalloc.start()
    metrics.parzen_log_likelihood(samples, test, 0.2, batch_size=50)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # an (n_test, N, d) array would be 3.2 GB and even (n_test, N) 32 MB; batches need ~ 2 MB
    assert peak < 12e6, f"peak {peak / 1e6:.1f} MB"


def test_parzen_protocol_picks_the_best_validation_sigma_and_reports_the_standard_error():
    rng = np.random.default_rng(2)
    samples, valid, test = rng.normal(0, 0.4, (40, 2)), rng.normal(0, 0.4, (25, 2)), rng.normal(0, 0.4, (30, 2))
    result = metrics.parzen_protocol(samples, valid, test)
    valid_means = [_direct_parzen(samples, valid, s).mean() for s in np.logspace(-1, 0, 10)]
    assert result["sigma"] == pytest.approx(np.logspace(-1, 0, 10)[np.argmax(valid_means)])
    np.testing.assert_allclose(result["valid_mean"], valid_means, rtol=1e-10)
    ll = _direct_parzen(samples, test, result["sigma"])
    assert result["mean"] == pytest.approx(ll.mean(), rel=1e-10)
    assert result["se"] == pytest.approx(np.std(ll) / np.sqrt(30), rel=1e-10)
    assert (result["n_samples"], result["n_test"]) == (40, 30)


@pytest.mark.parametrize("call, message", [
    (lambda: metrics.parzen_log_likelihood(np.zeros((3, 2)), np.zeros((3, 3)), 1.0), "same"),
    (lambda: metrics.parzen_log_likelihood(np.zeros((3, 2)), np.zeros((3, 2)), 0.0), "positive"),
    (lambda: metrics.parzen_log_likelihood(np.zeros((3, 2)), np.zeros((3, 2)), [0.1, 1]), "one number"),
    (lambda: metrics.parzen_log_likelihood(np.zeros((0, 2)), np.zeros((3, 2)), 1.0), "samples must be"),
    (lambda: metrics.parzen_log_likelihood(np.zeros((3, 2)), np.zeros((3, 2)), 1.0, batch_size=0), "batch_size"),
])
def test_parzen_bad_input_is_a_clear_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- Fréchet distance --------------------------------------------------------------------------
def _rotation(d, seed):
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q


def test_frechet_closed_form_for_gaussians_with_shared_axes():
    # S_a = R diag(a) R^T, S_b = R diag(b) R^T commute: the trace term is sum sqrt(a b), so
    # d^2 = |mu_a - mu_b|^2 + sum (sqrt a - sqrt b)^2
    a, b = np.array([1.0, 4.0, 0.25, 2.0]), np.array([9.0, 1.0, 0.25, 0.5])
    mu_a, mu_b = np.array([0.0, 1.0, 2.0, 3.0]), np.array([1.0, 1.0, 0.0, 3.0])
    want = np.sum((mu_a - mu_b) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    for rotation in (np.eye(4), _rotation(4, 0)):
        got = metrics.frechet_distance_gaussians(mu_a, rotation @ np.diag(a) @ rotation.T,
                                                 mu_b, rotation @ np.diag(b) @ rotation.T)
        assert got == pytest.approx(want, rel=1e-9)


def test_frechet_trace_term_matches_the_symmetric_form():
    # Tr (S_a S_b)^(1/2) = Tr (S_a^(1/2) S_b S_a^(1/2))^(1/2), the latter from eigh only
    rng = np.random.default_rng(3)
    fa, fb = rng.normal(size=(200, 5)) @ rng.normal(size=(5, 5)), rng.normal(size=(150, 5)) @ rng.normal(size=(5, 5))
    mu_a, cov_a, mu_b, cov_b = fa.mean(0), np.cov(fa.T), fb.mean(0), np.cov(fb.T)

    def psd_sqrt(m):
        w, v = np.linalg.eigh(m)
        return v @ np.diag(np.sqrt(np.clip(w, 0, None))) @ v.T

    root_a = psd_sqrt(cov_a)
    want = np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b) - 2 * np.trace(psd_sqrt(root_a @ cov_b @ root_a))
    assert metrics.frechet_distance(fa, fb) == pytest.approx(want, rel=1e-9)


def test_frechet_of_shifted_and_one_dimensional_features():
    x = np.random.default_rng(4).normal(size=(100, 3))
    assert metrics.frechet_distance(x, x) == pytest.approx(0, abs=1e-8)
    assert metrics.frechet_distance(x, x + [1.0, 2.0, 0.0]) == pytest.approx(5.0, rel=1e-9)
    u, v = x[:, :1], 3 * x[:50, 1:2] + 1
    want = (u.mean() - v.mean()) ** 2 + (u.std(ddof=1) - v.std(ddof=1)) ** 2
    assert metrics.frechet_distance(u, v) == pytest.approx(want, rel=1e-9)


def test_frechet_with_fewer_samples_than_features_is_finite():
    rng = np.random.default_rng(5)
    assert np.isfinite(metrics.frechet_distance(rng.normal(size=(5, 20)), rng.normal(size=(6, 20))))


@pytest.mark.parametrize("a, b, message", [
    (np.zeros((10, 3)), np.zeros((10, 4)), "same feature extractor"),
    (np.zeros((1, 3)), np.zeros((10, 3)), "n >= 2"),
    (np.zeros(10), np.zeros((10, 1)), r"\(n, d\)"),
    (np.full((4, 2), np.nan), np.zeros((4, 2)), "NaN"),
])
def test_frechet_bad_shapes_are_clear_errors(a, b, message):
    with pytest.raises(ValueError, match=message):
        metrics.frechet_distance(a, b)


# --- modes: coverage, histogram, reverse KL ------------------------------------------------------
def test_mode_coverage_is_the_toy_one():
    assert metrics.mode_coverage is toy.mode_coverage


def test_mode_histogram_and_reverse_kl_on_constructed_samples():
    modes = ring_modes(8)
    counts = np.array([5, 0, 3, 0, 0, 1, 1, 0])
    far = np.array([[0.0, 0.0], [3.0, 3.0]])    # near no mode: not high quality, not counted
    samples = np.concatenate([np.repeat(modes, counts, axis=0) + 0.02, far])  # 0.028 < 3 std
    np.testing.assert_array_equal(metrics.mode_histogram(samples, modes, 0.01), counts)
    want = entropy(counts / counts.sum(), np.full(8, 1 / 8))   # scipy's KL(p || q)
    assert metrics.reverse_kl(samples, modes, 0.01) == pytest.approx(want, rel=1e-12)
    assert metrics.mode_coverage(samples, modes, 0.01) == (4, 10 / 12)


def test_reverse_kl_limits():
    modes = grid_modes()
    assert metrics.reverse_kl(modes, modes, 0.05) == pytest.approx(0, abs=1e-12)           # one per mode
    assert metrics.reverse_kl(np.repeat(modes[:1], 7, 0), modes, 0.05) == pytest.approx(np.log(25))
    assert np.isnan(metrics.reverse_kl(np.full((4, 2), 10.0), modes, 0.05))                  # no HQ sample
    real = ring(4000, seed=0)
    assert metrics.reverse_kl(real.x, real.modes, real.std) < 0.01   # true samples: near uniform


def test_mode_histogram_bad_modes():
    with pytest.raises(ValueError, match="modes"):
        metrics.mode_histogram(np.zeros((3, 2)), np.zeros((0, 2)), 0.1)


# --- class-probability scores ----------------------------------------------------------------
def test_inception_score_limits():
    assert metrics.inception_score(np.full((100, 10), 0.1))[0] == pytest.approx(1.0)
    one_hot = np.eye(10)[np.arange(100) % 10]      # every part of 10 rows holds each class once
    mean, std = metrics.inception_score(one_hot, splits=10)
    assert (mean, std) == (pytest.approx(10.0), pytest.approx(0, abs=1e-12))
    assert metrics.inception_score(np.eye(10)[np.zeros(50, int)], splits=5)[0] == pytest.approx(1.0)


def test_inception_score_matches_the_direct_formula():
    probs = np.random.default_rng(6).dirichlet(np.full(5, 0.3), size=60)
    marginal = probs.mean(axis=0)
    want = np.exp(np.mean([entropy(p, marginal) for p in probs]))
    assert metrics.inception_score(probs, splits=1)[0] == pytest.approx(want, rel=1e-10)
    parts = [np.exp(np.mean([entropy(p, part.mean(0)) for p in part])) for part in np.split(probs, 3)]
    assert metrics.inception_score(probs, splits=3) == (pytest.approx(np.mean(parts)), pytest.approx(np.std(parts)))


def test_class_balance_and_confident_share():
    probs = np.array([[0.95, 0.05, 0], [0.2, 0.7, 0.1], [0.05, 0.93, 0.02], [0.1, 0.85, 0.05]])
    np.testing.assert_allclose(metrics.class_balance(probs), [0.25, 0.75, 0])
    assert metrics.confident_share(probs) == 0.5


@pytest.mark.parametrize("probs, kwargs, message", [
    (np.full((4, 3), 0.5), {}, "summing to 1"),
    (np.array([[1.5, -0.5]]), {}, "non-negative"),
    (np.full((4,), 0.25), {}, r"\(n, classes\)"),
    (np.full((4, 2), 0.5), {"splits": 5}, "splits"),
])
def test_inception_score_bad_input(probs, kwargs, message):
    with pytest.raises(ValueError, match=message):
        metrics.inception_score(probs, **kwargs)


# --- the minigan classifier ------------------------------------------------------------------
TINY = dict(classifier_module.RECIPE, epochs=1, hidden=16)


def test_classifier_is_trained_once_cached_and_retrained_for_another_recipe(tmp_path, monkeypatch):
    first = metrics.load_classifier("digits", cache_dir=tmp_path, log=None)   # the real recipe: 0.4 s
    assert (tmp_path / "minigan-classifier-digits.npz").exists()
    assert first.fd_label == "FD (minigan digits classifier)" and first.accuracy > 0.95  # 0.986 measured
    x = np.random.default_rng(0).uniform(-1, 1, (7, 64)).astype(np.float32)
    probs, feats = first.probs(x), first.features(x)
    assert probs.shape == (7, 10) and feats.shape == (7, 256)
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-12)

    def no_training(*args, **kwargs):
        raise AssertionError("the cached classifier should have been used")
    monkeypatch.setattr(classifier_module, "train_classifier", no_training)
    second = metrics.load_classifier("digits", cache_dir=tmp_path, log=None)
    np.testing.assert_allclose(second.probs(x), probs, rtol=1e-6)
    with pytest.raises(AssertionError, match="cached"):   # another recipe: the cache is stale
        metrics.load_classifier("digits", cache_dir=tmp_path, recipe=TINY, log=None)


def test_classifier_cache_dir_from_the_environment_and_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGAN_CACHE_DIR", str(tmp_path))
    assert classifier_module.cache_path("digits") == tmp_path / "minigan-classifier-digits.npz"
    (tmp_path / "minigan-classifier-digits.npz").write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="delete .*minigan-classifier-digits.npz"):
        metrics.load_classifier("digits", recipe=TINY, log=None)
    with pytest.raises(ValueError, match="image sets"):
        metrics.load_classifier("ring")
