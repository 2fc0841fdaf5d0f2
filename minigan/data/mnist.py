"""MNIST from the original IDX files (gzipped or not), checked against known checksums.

The IDX format (LeCun et al.) stores one n-d array; every integer in it is big-endian::

    bytes 0-1   0x00 0x00
    byte  2     element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3     number of dimensions d
    then        d uint32 sizes, then prod(sizes) elements in row-major order

so a well-formed file is exactly ``4 + 4 d + prod(sizes) * itemsize`` bytes long. Anything else
(a truncated download, an HTML error page saved under the right name) raises :class:`DataError`.

Pixels are scaled to the range of a tanh generator: ``x = pixel / 127.5 - 1``, so 0 -> -1, 255 -> 1.

Missing files are downloaded from public mirrors by :func:`fetch`, the only function in minigan
that touches the network (tests monkeypatch it).
"""
import gzip
import io
import hashlib
import http.client
import math
import os
import sys
import tempfile
import urllib.error
import urllib.request
import zlib

import numpy as np


class DataError(ValueError):
    """A data file is missing, corrupt, truncated or does not match its checksum."""


# split -> (images file, labels file), without the ".gz"
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

# name -> (sha256 of the original .gz, md5 of the decompressed bytes). Some mirrors re-gzip the
# files, which changes the .gz checksum but not the content, so either one is accepted.
CHECKSUMS = {
    "train-images-idx3-ubyte": ("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                                "6bbc9ace898e44ae57da46a324031adb"),
    "train-labels-idx1-ubyte": ("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                                "a25bea736e30d166cdddb491f175f624"),
    "t10k-images-idx3-ubyte": ("8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                               "2646ac647ad5339dbf082846283269ea"),
    "t10k-labels-idx1-ubyte": ("f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                               "27ae3e4e09519cfbb04c329615203637"),
}

MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

_IDX_DTYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
               0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def default_data_dir(data_dir=None):
    """``data_dir`` if given, else $MINIGAN_DATA_DIR if set, else ``data/`` (relative to the cwd)."""
    return os.fspath(data_dir or os.environ.get("MINIGAN_DATA_DIR") or "data")


# --- reading IDX files -------------------------------------------------------------------------
def parse_idx(buf, name="IDX data"):
    """The bytes of one (decompressed) IDX file -> a NumPy array in native byte order."""
    if len(buf) < 4:
        raise DataError(f"{name}: only {len(buf)} bytes, too short for an IDX header")
    magic = buf[:4].hex()
    if buf[0] != 0 or buf[1] != 0:
        raise DataError(f"{name}: bad IDX magic number 0x{magic} (must start with 0x0000); not an IDX file")
    if buf[2] not in _IDX_DTYPES:
        raise DataError(f"{name}: bad IDX magic number 0x{magic}: unknown element type 0x{buf[2]:02x}")
    ndim, dtype = buf[3], _IDX_DTYPES[buf[2]]
    if ndim == 0:
        raise DataError(f"{name}: bad IDX magic number 0x{magic}: zero dimensions")
    header = 4 + 4 * ndim
    if len(buf) < header:
        raise DataError(f"{name}: truncated IDX header ({len(buf)} bytes, {ndim} dims need {header})")
    dims = tuple(int(d) for d in np.frombuffer(buf, ">u4", count=ndim, offset=4))
    expected = header + math.prod(dims) * dtype.itemsize
    if len(buf) != expected:
        what = "truncated" if len(buf) < expected else "too long"
        raise DataError(f"{name}: {what}: header says {dtype.name} array of shape {dims} "
                        f"({expected} bytes in all), file has {len(buf)} bytes")
    # astype copies: the result is writable and no longer tied to the bytes object
    return np.frombuffer(buf, dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def read_idx(path, verify=True):
    """Read an IDX file (``.gz`` or raw). With ``verify`` the file must match :data:`CHECKSUMS`.

    ``verify=False`` is for IDX files with no known checksum (your own, tiny test files): their
    structure is still checked by :func:`parse_idx`.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        raw = f.read()
    data = _gunzip(raw, path) if path.endswith(".gz") else raw
    if verify:
        check_checksum(os.path.basename(path), raw, data, label=path)
    return parse_idx(data, path)


MAX_IDX_BYTES = 64 * 2**20   # the largest MNIST file is 47 MB decompressed


def _gunzip(raw, label, limit=MAX_IDX_BYTES):
    """Decompress at most ``limit`` bytes: a small file that inflates without end (a gzip bomb)
    is refused after ``limit`` bytes, not after it has filled the memory."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as f:
            data = f.read(limit + 1)
    except (OSError, EOFError, zlib.error) as err:  # BadGzipFile is an OSError; EOFError = cut short
        raise DataError(f"{label}: truncated or corrupt gzip data ({err}); "
                        "delete it and download it again") from None
    if len(data) > limit:
        raise DataError(f"{label}: decompresses to more than {limit // 2**20} MiB, larger than any MNIST file "
                        f"(sha256 {hashlib.sha256(raw).hexdigest()}); delete it and download it again")
    return data


def check_checksum(filename, raw, data, label=None):
    """Accept the file if sha256(raw .gz) or md5(decompressed) matches the reference, else raise."""
    name = filename[:-3] if filename.endswith(".gz") else filename
    label = label or filename
    if name not in CHECKSUMS:
        raise DataError(f"{label}: no reference checksum for {name!r}; "
                        "pass verify=False to load it checking only its IDX structure")
    want_sha, want_md5 = CHECKSUMS[name]
    got_md5 = hashlib.md5(data).hexdigest()
    if got_md5 == want_md5:
        return
    if filename.endswith(".gz"):
        got_sha = hashlib.sha256(raw).hexdigest()
        if got_sha == want_sha:
            return
        raise DataError(f"{label}: checksum mismatch: expected sha256 {want_sha} (or md5 {want_md5} "
                        f"decompressed), got sha256 {got_sha} (md5 {got_md5}); "
                        "the file is corrupt or incomplete: delete it and download it again")
    raise DataError(f"{label}: checksum mismatch: expected md5 {want_md5}, got md5 {got_md5}; "
                    "the file is corrupt or incomplete: delete it and download it again")


# --- the public loader -------------------------------------------------------------------------
def load_mnist(split="train", data_dir=None, verify=True, download=True):
    """MNIST ``split`` ("train": 60,000 images, "test": 10,000) from ``data_dir``.

    Returns ``(x, y)``: ``x`` float32 of shape (n, 784) with ``x = pixel / 127.5 - 1`` in [-1, 1],
    ``y`` int64 labels 0-9. Missing files are downloaded (when ``download``) into ``data_dir``.
    """
    if split not in FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    data_dir = default_data_dir(data_dir)
    paths = {name: _find(data_dir, name) for name in FILES[split]}
    missing = [name for name, path in paths.items() if path is None]
    if missing:
        paths.update(_download_missing(missing, data_dir, download))
    images_path, labels_path = (paths[name] for name in FILES[split])
    images = read_idx(images_path, verify)
    labels = read_idx(labels_path, verify)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(f"{images_path}: expected uint8 images of shape (n, 28, 28), "
                        f"got {images.dtype} {images.shape}")
    if labels.dtype != np.uint8 or labels.shape != images.shape[:1]:
        raise DataError(f"{labels_path}: expected {len(images)} uint8 labels to match the images, "
                        f"got {labels.dtype} {labels.shape}")
    if labels.size and labels.max() > 9:
        raise DataError(f"{labels_path}: labels must be digits 0-9, found {labels.max()}")
    # dividing by the float32 127.5 keeps float32 and maps 255 to exactly 1.0
    x = images.reshape(len(images), -1).astype(np.float32) / np.float32(127.5) - np.float32(1)
    return x, labels.astype(np.int64)


def _find(data_dir, name):
    for candidate in (name + ".gz", name):
        path = os.path.join(data_dir, candidate)
        if os.path.isfile(path):
            return path
    return None


# --- downloading -------------------------------------------------------------------------------
def fetch(url, dest, timeout=30):
    """Write the body at ``url`` into the binary file ``dest``, with a progress bar on stderr.

    Raises URLError/OSError when offline. Tests replace this function so that they never touch
    the network.
    """
    with urllib.request.urlopen(url, timeout=timeout) as response:
        total = int(response.headers.get("Content-Length") or 0)
        done = 0
        while chunk := response.read(1 << 16):
            dest.write(chunk)
            done += len(chunk)
            _progress(url.rsplit("/", 1)[-1], done, total)
    sys.stderr.write("\n")


def _progress(name, done, total, width=30):
    if total:
        filled = width * done // total
        bar = f"[{'#' * filled}{'.' * (width - filled)}] {100 * done // total:3d}%"
    else:
        bar = "[size unknown]"
    sys.stderr.write(f"\r{name} {bar} {done / 1e6:.1f} MB")
    sys.stderr.flush()


def download_mnist(data_dir=None, splits=("train", "test")):
    """Fetch the MNIST files of ``splits`` that ``data_dir`` lacks; returns the data dir."""
    data_dir = default_data_dir(data_dir)
    names = [n for split in splits for n in FILES[split] if _find(data_dir, n) is None]
    if names:
        _download_missing(names, data_dir, download=True)
    return data_dir


def _download_missing(names, data_dir, download):
    """{name: path} for each file fetched; one DataError naming every file that is still missing."""
    found, reason = {}, "download=False"
    for name in names if download else ():
        path, reason = _download(name, data_dir)
        if path is None:
            break  # no mirror had it (offline?): trying the other files would only wait longer
        found[name] = path
    still_missing = [n + ".gz" for n in names if n not in found]
    if still_missing:
        where = os.path.abspath(data_dir)
        raise DataError(f"MNIST files missing from {where}: {', '.join(still_missing)} (not downloaded: "
                        f"{reason}); copy them into {where} or set MINIGAN_DATA_DIR to a folder that has them")
    return found


def _download(name, data_dir):
    """Try each mirror: download to a temp file, verify, rename. Returns (path, None) or (None, why)."""
    final, reason = os.path.join(data_dir, name + ".gz"), "no mirror"
    for mirror in MIRRORS:
        url = mirror + name + ".gz"
        tmp = None
        try:
            os.makedirs(data_dir, exist_ok=True)
            # the temp file sits next to the target so that os.replace is an atomic rename:
            # an interrupted download never leaves a half-written file under the real name
            fd, tmp = tempfile.mkstemp(prefix=name + ".", suffix=".part", dir=data_dir)
            with os.fdopen(fd, "wb") as f:
                fetch(url, f)
            with open(tmp, "rb") as f:
                raw = f.read()
            check_checksum(name + ".gz", raw, _gunzip(raw, url), label=url)
            os.replace(tmp, final)
            return final, None
        except DataError as err:  # a bad download (its message names the url)
            reason = str(err)
        except (OSError, http.client.HTTPException) as err:  # URLError and timeouts are OSErrors
            reason = f"{url}: {err}"
        finally:
            if tmp is not None and os.path.exists(tmp):
                os.remove(tmp)
    return None, reason
