"""minigan.data: IDX parsing and checksums, MNIST/digits loading, toy samplers, the DataLoader.

No test touches the network: an autouse fixture replaces ``mnist.fetch`` with one that fails like
an offline machine, and the download tests install their own fake ``fetch``.
"""
import gzip
import hashlib
import pickle
import struct
import subprocess
import sys
import urllib.error
from pathlib import Path

import numpy as np
import pytest

import minigan as mg
from minigan.data import (DataError, DataLoader, load_dataset, load_digits, load_mnist, mnist, mode_coverage,
                          parse_idx, read_idx, toy)
from minigan.strict import MixedArrayError

SHARED_MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"
needs_t10k = pytest.mark.skipif(not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").exists(),
                                reason="the MNIST test split is not in ../shared/data/mnist")


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """Every test runs as if offline; records the URLs that were tried."""
    tried = []

    def fail(url, dest, timeout=30):
        tried.append(url)
        raise urllib.error.URLError("network disabled in tests")

    monkeypatch.setattr(mnist, "fetch", fail)
    return tried


# --- IDX files ------------------------------------------------------------------------------------
IDX_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D, np.float64: 0x0E}


def idx_bytes(array):
    """The IDX encoding of ``array``, written independently of the parser under test."""
    header = struct.pack(">BBBB", 0, 0, IDX_CODES[array.dtype.type], array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path, array, gz=False):
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def tiny_mnist(folder, split="train", n=5, gz=False):
    """n random 28x28 images with labels, written under MNIST's file names."""
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    images[0, 0, :2] = (0, 255)  # make sure both ends of the pixel range are there
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    suffix = ".gz" if gz else ""
    images_name, labels_name = mnist.FILES[split]
    write_idx(folder / (images_name + suffix), images, gz)
    write_idx(folder / (labels_name + suffix), labels, gz)
    return images, labels


@pytest.mark.parametrize("dtype", list(IDX_CODES))
@pytest.mark.parametrize("shape", [(5,), (2, 3), (2, 3, 4)])
def test_parse_idx_round_trip(dtype, shape):
    array = (np.arange(np.prod(shape)) - 3).astype(dtype).reshape(shape)
    out = parse_idx(idx_bytes(array))
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative and out.shape == shape
    np.testing.assert_array_equal(out, array)


@pytest.mark.parametrize("gz", [False, True])
def test_tiny_files_load_with_verify_false(tmp_path, gz):
    images, labels = tiny_mnist(tmp_path, "train", gz=gz)
    x, y = load_mnist("train", tmp_path, verify=False, download=False)
    assert x.dtype == np.float32 and x.shape == (5, 784) and y.dtype == np.int64
    assert x.min() == -1.0 and x.max() == 1.0
    np.testing.assert_allclose(x, images.reshape(5, -1) / 127.5 - 1, atol=1e-6)
    np.testing.assert_array_equal(y, labels)


def test_data_dir_from_environment(tmp_path, monkeypatch):
    tiny_mnist(tmp_path, "test", n=3)
    monkeypatch.setenv("MINIGAN_DATA_DIR", str(tmp_path))
    assert load_mnist("test", verify=False, download=False)[0].shape == (3, 784)
    monkeypatch.delenv("MINIGAN_DATA_DIR")
    assert mnist.default_data_dir() == "data"


VALID = idx_bytes(np.arange(24, dtype=np.uint8).reshape(2, 3, 4))
# (what is wrong, the file's bytes, words the error must contain)
CORRUPT = [
    ("truncated payload", VALID[:-5], "truncated: header says uint8 array of shape (2, 3, 4)"),
    ("trailing bytes", VALID + b"\0", "too long"),
    ("wrong magic number", b"\x01\x00" + VALID[2:], "bad IDX magic number 0x01000803"),
    ("unknown element type", VALID[:2] + b"\x07" + VALID[3:], "unknown element type 0x07"),
    ("zero dimensions", VALID[:3] + b"\x00", "zero dimensions"),
    ("truncated header", VALID[:9], "truncated IDX header"),
    ("shorter than a header", VALID[:2], "too short for an IDX header"),
    ("HTML error page", b"<html>404 Not Found</html>", "bad IDX magic number"),
]


@pytest.mark.parametrize("what, data, message", CORRUPT, ids=[c[0] for c in CORRUPT])
def test_corrupt_idx_raises_data_error(tmp_path, what, data, message):
    path = tmp_path / "broken-idx3-ubyte"
    path.write_bytes(data)
    with pytest.raises(DataError, match=r"^\S*broken-idx3-ubyte: ") as err:
        read_idx(path, verify=False)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert isinstance(err.value, ValueError)


def test_truncated_gzip_raises_data_error(tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(VALID)[:-8])
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz: truncated or corrupt gzip data"):
        read_idx(path, verify=False)


def test_checksum_mismatch_names_expected_and_actual(tmp_path):
    gz = write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(10, np.uint8), gz=True)
    actual = hashlib.sha256(gz.read_bytes()).hexdigest()
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz: checksum mismatch") as err:
        read_idx(gz)
    assert mnist.CHECKSUMS["t10k-labels-idx1-ubyte"][0] in str(err.value) and actual in str(err.value)

    raw = write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(10, np.uint8))
    actual = hashlib.md5(raw.read_bytes()).hexdigest()
    with pytest.raises(DataError, match=f"expected md5 {mnist.CHECKSUMS['t10k-labels-idx1-ubyte'][1]}, "
                                        f"got md5 {actual}"):
        read_idx(raw)
    assert read_idx(raw, verify=False).shape == (10,)  # the structure alone is fine


def test_unknown_file_needs_verify_false(tmp_path):
    path = write_idx(tmp_path / "my-own-idx1-ubyte", np.zeros(3, np.uint8))
    with pytest.raises(DataError, match="no reference checksum.*verify=False"):
        read_idx(path)


def test_offline_missing_files_give_one_clear_message(tmp_path, offline):
    folder = tmp_path / "nowhere"
    with pytest.raises(DataError) as err:
        load_mnist("test", folder)
    message = str(err.value)
    assert "\n" not in message and str(folder) in message and "MINIGAN_DATA_DIR" in message
    assert "t10k-images-idx3-ubyte.gz" in message and "t10k-labels-idx1-ubyte.gz" in message
    assert "network disabled in tests" in message
    assert offline == [m + "t10k-images-idx3-ubyte.gz" for m in mnist.MIRRORS]  # gave up after one file

    offline.clear()
    with pytest.raises(DataError, match="not downloaded: download=False"):
        load_mnist("test", folder, download=False)
    assert offline == []


# --- the real MNIST test split ----------------------------------------------------------------------
@needs_t10k
def test_real_t10k_loads_with_checksums():
    x, y = load_mnist("test", SHARED_MNIST, download=False)
    assert x.shape == (10000, 784) and x.dtype == np.float32
    assert x.min() == -1.0 and x.max() == 1.0
    assert y.dtype == np.int64 and y.shape == (10000,) and set(np.unique(y)) == set(range(10))
    np.testing.assert_array_equal(y[:10], [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
    ds = load_dataset("mnist_test", data_dir=SHARED_MNIST, n=100)
    assert ds.x.shape == (100, 784) and ds.shape == (28, 28) and ds.kind == "image" and ds.y.shape == (100,)


@needs_t10k
def test_raw_and_regzipped_copies_pass_the_md5_check(tmp_path):
    labels = gzip.decompress((SHARED_MNIST / "t10k-labels-idx1-ubyte.gz").read_bytes())
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(labels)
    (tmp_path / "regzipped").mkdir()
    (tmp_path / "regzipped" / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(labels, compresslevel=1))
    for path in (tmp_path / "t10k-labels-idx1-ubyte", tmp_path / "regzipped" / "t10k-labels-idx1-ubyte.gz"):
        assert read_idx(path).shape == (10000,)


@needs_t10k
def test_download_verifies_and_renames(tmp_path, monkeypatch):
    tried = []

    def fake_fetch(url, dest, timeout=30):  # first mirror serves garbage, second the real file
        tried.append(url)
        name = url.rsplit("/", 1)[-1]
        dest.write(b"garbage" if url.startswith(mnist.MIRRORS[0]) else (SHARED_MNIST / name).read_bytes())

    monkeypatch.setattr(mnist, "fetch", fake_fetch)
    x, y = load_mnist("test", tmp_path)
    assert x.shape == (10000, 784) and len(tried) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


def test_download_of_bad_files_keeps_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist, "fetch", lambda url, dest, timeout=30: dest.write(gzip.compress(b"\0" * 50)))
    with pytest.raises(DataError, match="checksum mismatch") as err:
        load_mnist("test", tmp_path)
    assert "t10k-images-idx3-ubyte.gz" in str(err.value)
    assert list(tmp_path.iterdir()) == []  # no half-verified file or .part left behind


# --- digits ----------------------------------------------------------------------------------------
def test_digits():
    pytest.importorskip("sklearn")
    x, y = load_digits()
    assert x.shape == (1797, 64) and x.dtype == np.float32 and x.min() == -1.0 and x.max() == 1.0
    assert y.dtype == np.int64 and set(np.unique(y)) == set(range(10))
    ds = load_dataset("digits", n=100, seed=3)
    assert ds.shape == (8, 8) and ds.kind == "image" and ds.dim == 64 and ds.x.shape == (100, 64)
    np.testing.assert_array_equal(ds.x, load_dataset("digits", n=100, seed=3).x)
    pixels = ds.to_data_space(ds.x)
    assert pixels.min() == 0.0 and pixels.max() == 1.0
    np.testing.assert_allclose(pixels * 16, np.round(pixels * 16), atol=1e-5)  # counts 0..16 again


def test_digits_read_without_importing_sklearn_equals_sklearns_own_loader(monkeypatch, tmp_path):
    pytest.importorskip("sklearn")
    from minigan.data import digits
    from sklearn.datasets import load_digits as sklearn_load_digits
    assert digits._read_bundled_file() is not None   # the fast path is taken where scikit-learn is installed
    bunch = sklearn_load_digits()
    x, y = load_digits()
    np.testing.assert_array_equal(x, bunch.data.astype(np.float32) / np.float32(8) - np.float32(1))
    np.testing.assert_array_equal(y, bunch.target)
    # a truncated, a foreign and a missing file are not read (scikit-learn's loader takes over)
    truncated, foreign = tmp_path / "digits.csv.gz", tmp_path / "other.csv"
    truncated.write_bytes(gzip.compress(b"0,1,2\n" * 100)[:40])
    foreign.write_text("0,1,2\n3,4,5\n")
    for path in (truncated, foreign, tmp_path / "missing.csv.gz"):
        assert digits._read_bundled_file(str(path)) is None
    monkeypatch.setattr(digits, "_read_bundled_file", lambda: None)
    x2, y2 = load_digits()
    np.testing.assert_array_equal(x2, x)
    np.testing.assert_array_equal(y2, y)
    # ... and without scikit-learn at all, the one-line error says how to install it
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        load_digits()


def test_reading_the_digits_does_not_import_sklearn():
    pytest.importorskip("sklearn")
    code = "import sys; from minigan.data import load_digits; load_digits(); print('sklearn' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


# --- toy distributions -----------------------------------------------------------------------------
# (sampler, dimension, number of modes, std)
TOY = [
    (toy.gaussian_1d, 1, 1, 0.5),
    (toy.mixture_1d, 1, 2, 0.5),
    (toy.ring, 2, 8, 0.01),
    (toy.grid, 2, 25, 0.05),
]


@pytest.mark.parametrize("sampler, d, k, std", TOY, ids=[t[0].__name__ for t in TOY])
def test_toy_samplers(sampler, d, k, std):
    sample = sampler(20000, seed=1)
    assert sample.x.dtype == np.float32 and sample.x.shape == (20000, d) and sample.modes.shape == (k, d)
    np.testing.assert_array_equal(sample.x, sampler(20000, seed=1).x)  # seeded
    assert not np.array_equal(sample.x, sampler(20000, seed=2).x)
    assert sampler(0).x.shape == (0, d)
    # distance to the nearest mode has the given std in every coordinate
    nearest = np.argmin(((sample.x[:, None, :] - sample.modes[None]) ** 2).sum(-1), axis=1)
    residual = sample.x - sample.modes[nearest]
    np.testing.assert_allclose(residual.std(axis=0), std, rtol=0.03)
    np.testing.assert_allclose(np.bincount(nearest, minlength=k) / 20000, 1 / k, atol=0.02)  # equal weights


def test_ring_has_eight_distinct_angles():
    modes = toy.ring_modes()
    angles = np.mod(np.arctan2(modes[:, 1], modes[:, 0]), 2 * np.pi)
    np.testing.assert_allclose(np.sort(angles), 2 * np.pi * np.arange(8) / 8, atol=1e-6)
    np.testing.assert_allclose(np.hypot(*modes.T), 1.0)
    gaps = np.linalg.norm(modes[:, None] - modes[None], axis=-1) + 10 * np.eye(8)
    assert gaps.min() > 0.76  # neighbours are 2 sin(pi/8) = 0.765 apart: no mode is repeated


def test_grid_means():
    modes = toy.grid_modes()
    assert {tuple(m) for m in modes} == {(a, b) for a in (-4, -2, 0, 2, 4) for b in (-4, -2, 0, 2, 4)}


def test_densities():
    from scipy.stats import norm
    xs = np.linspace(-10, 10, 4001)
    sample = toy.gaussian_1d(10)
    np.testing.assert_allclose(sample.pdf(xs), norm.pdf(xs, 4.0, 0.5), rtol=1e-10, atol=1e-300)
    mixture = toy.mixture_1d(10, weights=[0.25, 0.75])
    np.testing.assert_allclose(np.trapezoid(mixture.pdf(xs), xs), 1.0, rtol=1e-6)
    np.testing.assert_allclose(mixture.pdf([3.0]), 0.75 * norm.pdf(0, 0, 0.5) + 0.25 * norm.pdf(6, 0, 0.5))


def test_mode_coverage():
    ring = toy.ring(5000, seed=0)
    covered, quality = mode_coverage(ring.x, ring.modes, ring.std)
    assert covered == 8 and quality > 0.97  # 2-D: P(|z| <= 3) = 1 - exp(-9/2) = 0.989
    grid = toy.grid(5000, seed=0)
    assert mode_coverage(mg.tensor(grid.x), grid.modes, grid.std)[0] == 25  # Tensors work too
    collapsed = ring.modes[3] + 0.01 * np.random.default_rng(0).standard_normal((1000, 2))
    covered, quality = mode_coverage(collapsed, ring.modes, 0.01)
    assert covered == 1 and quality > 0.97
    assert mode_coverage(np.zeros((100, 2)), ring.modes, 0.01) == (0, 0.0)  # all far from every mode


@pytest.mark.parametrize("bad", [-1, 2.5])
def test_toy_bad_n(bad):
    with pytest.raises(ValueError, match="non-negative integer"):
        toy.ring(bad)


def test_load_dataset_registry():
    ring = load_dataset("ring", n=100)
    assert ring.x.shape == (100, 2) and ring.shape == (2,) and ring.kind == "points" and ring.std == 0.01
    assert ring.modes.shape == (8, 2)
    np.testing.assert_array_equal(ring.to_data_space(ring.x), ring.x)
    assert load_dataset("grid").x.shape == (10000, 2)
    one_d = load_dataset("gauss1d", n=50)
    assert one_d.kind == "1d" and one_d.shape == (1,) and one_d.x.shape == (50, 1)
    with pytest.raises(ValueError, match="unknown data set 'cifar'; valid names: digits, mnist, .*ring"):
        load_dataset("cifar")


# --- DataLoader ------------------------------------------------------------------------------------
def epoch_values(loader):
    return [b.numpy()[:, 0].astype(int).tolist() for b in loader]


def test_loader_covers_every_sample_once_per_epoch(backend):
    x = np.arange(50, dtype=np.float64).reshape(50, 1)
    loader = DataLoader(x, batch_size=7, seed=0)
    assert len(loader) == 8
    epochs = [epoch_values(loader) for _ in range(2)]
    for batches in epochs:
        assert [len(b) for b in batches] == [7] * 7 + [1]
        assert sorted(sum(batches, [])) == list(range(50))
    assert epochs[0] != epochs[1] and loader.epoch == 2  # reshuffled
    batch = next(iter(loader))
    assert isinstance(batch, mg.Tensor) and batch.dtype == np.float32 and isinstance(batch.data, backend.array_type)
    assert sum(epoch_values(DataLoader(x, 7, shuffle=False)), []) == list(range(50))


def test_loader_pairs_arrays_and_drop_last(backend):
    x = np.arange(50, dtype=np.float32).reshape(50, 1)
    loader = DataLoader((x, np.arange(50)), batch_size=7, drop_last=True)
    assert len(loader) == 7
    seen = set()
    for _ in range(3):
        batches = list(loader)
        assert len(batches) == 7 and all(len(xb) == 7 for xb, _ in batches)
        for xb, yb in batches:
            np.testing.assert_array_equal(xb.numpy()[:, 0], yb.numpy())  # rows stay aligned
            seen.update(yb.numpy().tolist())
    assert len(seen) > 49  # a different remainder is dropped each epoch


def test_loader_is_seeded(backend):
    x = np.arange(30, dtype=np.float32).reshape(30, 1)
    run = lambda seed: [epoch_values(loader) for loader in [DataLoader(x, 8, seed=seed)] for _ in range(3)]
    assert run(0) == run(0) and run(0) != run(1)


@pytest.mark.parametrize("steps", [0, 3, 8, 11])  # 8 batches per epoch: 8 ends exactly on the boundary
def test_loader_resume_gives_the_same_batches(backend, steps):
    x = np.arange(50, dtype=np.float32).reshape(50, 1)
    original = DataLoader(x, 7, seed=5)
    for _ in range(steps):
        original.sample_batch()
    state = pickle.loads(pickle.dumps(original.state_dict()))
    expected = [original.sample_batch().numpy() for _ in range(20)]
    resumed = DataLoader(x, 7, seed=123)  # the seed comes from the state
    resumed.load_state_dict(state)
    for want in expected:
        np.testing.assert_array_equal(resumed.sample_batch().numpy(), want)
    assert resumed.epoch == original.epoch


def test_sample_batch_cycles_epochs():
    loader = DataLoader(np.zeros((10, 2)), 4)
    sizes = [len(loader.sample_batch()) for _ in range(9)]
    assert sizes == [4, 4, 2] * 3 and loader.epoch == 2


def test_strict_backend_refuses_a_host_index(backend):
    """The loader's gather goes through xp.take so that a host index would be caught here."""
    if backend.name != "strict":
        pytest.skip("only the strict backend refuses NumPy operands")
    data = backend.asarray(np.zeros((5, 2)))
    with pytest.raises(MixedArrayError):
        backend.xp.take(data, np.arange(3), axis=0)


BAD_ARGS = [
    (dict(arrays=np.zeros((5, 2)), batch_size=0), "batch_size must be an integer >= 1, got 0"),
    (dict(arrays=np.zeros((5, 2)), batch_size=2.5), "batch_size must be an integer >= 1"),
    (dict(arrays=np.zeros((5, 2)), batch_size="8"), "batch_size must be an integer >= 1"),
    (dict(arrays=np.zeros((5, 2)), batch_size=True), "batch_size must be an integer >= 1"),
    (dict(arrays=(np.zeros((5, 2)), np.zeros(4)), batch_size=2), r"same first dimension, got \[4, 5\]"),
    (dict(arrays=(), batch_size=2), "at least one array"),
    (dict(arrays=np.zeros((0, 2)), batch_size=2), "empty data set"),
    (dict(arrays=np.float32(1), batch_size=2), "first \\(sample\\) dimension"),
    (dict(arrays=np.zeros((5, 2)), batch_size=6, drop_last=True), "gives no batches"),
]


@pytest.mark.parametrize("kwargs, message", BAD_ARGS)
def test_loader_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DataLoader(**kwargs)


def test_loader_rejects_a_state_of_another_data_set():
    state = DataLoader(np.zeros((5, 1)), 2).state_dict()
    with pytest.raises(ValueError, match="loader state is for 5 samples, this loader has 6"):
        DataLoader(np.zeros((6, 1)), 2).load_state_dict(state)
