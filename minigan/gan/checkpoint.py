"""Checkpoints: nested state (dicts, lists, arrays, numbers, RNG states) in one .npz file.

Arrays become npz entries; everything else goes into one JSON string, so loading never needs
pickle. Files are written atomically — a temporary file in the same folder, fsync, rename —
so an interrupted save never destroys the previous checkpoint.
"""
import json
import os
import pathlib

import numpy as np


def _split(obj, arrays, path):
    """Replace every array in ``obj`` by {"__array__": key} and collect the arrays by key."""
    if isinstance(obj, np.ndarray):
        arrays[path] = obj
        return {"__array__": path}
    if isinstance(obj, dict):
        return {str(k): _split(v, arrays, f"{path}/{k}") for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_split(v, arrays, f"{path}/{i}") for i, v in enumerate(obj)]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def _join(obj, arrays):
    if isinstance(obj, dict):
        if set(obj) == {"__array__"}:
            return arrays[obj["__array__"]]
        return {k: _join(v, arrays) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_join(v, arrays) for v in obj]
    return obj


def save_checkpoint(path, state):
    """Write ``state`` (nested dicts/lists of arrays and JSON values) to ``path`` atomically."""
    path = pathlib.Path(path)
    arrays = {}
    meta = _split(state, arrays, "")
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as f:
            np.savez(f, __meta__=np.array(json.dumps(meta)), **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:   # a full disk or a second Ctrl-C: no half-written temp file left to fill the disk
        tmp.unlink(missing_ok=True)
        raise


def load_checkpoint(path):
    """The state saved by :func:`save_checkpoint`; a clear error for a damaged file."""
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except FileNotFoundError:
        raise
    except Exception as err:
        raise ValueError(f"checkpoint {path} is unreadable or truncated ({type(err).__name__}: {err})") from None
    if "__meta__" not in arrays:
        raise ValueError(f"checkpoint {path} is not a minigan checkpoint (no __meta__ entry)")
    return _join(json.loads(str(arrays.pop("__meta__"))), arrays)
