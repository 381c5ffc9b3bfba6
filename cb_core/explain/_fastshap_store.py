"""An explainer's flat arrays and pattern tables kept beside its model (``fastshap_tables.npz``).

:func:`parse_booster` walks every node of ``dump_model()`` in Python and tabulates the leaves in
numba; a process that explains once pays that on each start. :func:`save_forest` writes the result
into the model folder (atomically, private like the other state files); :func:`load_forest` reads
it back in milliseconds, only when it is provably this booster's: the file holds the sha256 of
``booster.txt``, the format and the table limits it was built with, and a sha256 of its own
content. Anything that does not match, or does not read, is ignored (the caller builds again and
rewrites it); nothing from a file that fails a check is used. A folder that cannot be written
(read-only) keeps the explainer in memory only.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from ..diskio import write_bytes_atomic
from ..errors import StorageError
from ._fastshap_parse import Forest

#: The file beside ``booster.txt`` and ``card.json``.
TABLES_FILE = "fastshap_tables.npz"
#: Bumped whenever :class:`Forest` or the meaning of its arrays changes: older files are rebuilt.
FORMAT = 1

_SCALARS = ("n_features", "feature_names", "bias", "max_nodes", "max_depth")
_FLOAT = {"thr", "node_count", "leaf_value", "leaf_count", "e_coef", "tables"}
#: dtype and number of dimensions of each array (every one the kernels read is checked).
_ARRAYS: dict[str, tuple[np.dtype, int]] = {
    f.name: (np.dtype(np.float64) if f.name in _FLOAT else np.dtype(np.bool_) if f.name == "default_left"
             else np.dtype(np.uint8) if f.name == "cat_mask" else np.dtype(np.int64), 2 if f.name == "cat_mask" else 1)
    for f in dataclasses.fields(Forest) if f.name not in _SCALARS}

log = logging.getLogger(__name__)


def booster_digest(booster_text: str) -> str:
    """sha256 of the booster's model text (what ``booster.txt`` holds)."""
    return hashlib.sha256(booster_text.encode("utf-8")).hexdigest()


def _content_digest(meta: bytes, arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256(meta)
    for name in sorted(arrays):
        a = arrays[name]
        h.update(f"{name}:{a.dtype.str}:{a.shape}".encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def _meta(forest: Forest, booster_text: str, limits: tuple[int, int]) -> dict[str, Any]:
    return {"format": FORMAT, "booster_sha256": booster_digest(booster_text), "max_table_features": limits[0],
            "max_table_values": limits[1], "n_features": forest.n_features, "feature_names": forest.feature_names,
            "bias": forest.bias.hex(), "max_nodes": forest.max_nodes, "max_depth": forest.max_depth}


def save_forest(folder: Path, booster_text: str, forest: Forest, limits: tuple[int, int]) -> bool:
    """Write ``forest`` into ``folder`` (:data:`TABLES_FILE`, 0600); False when the folder cannot be
    written (read-only, full disk) or is gone (a folder is never created here): the explainer then
    lives in memory only."""
    if not Path(folder).is_dir():
        return False
    meta = json.dumps(_meta(forest, booster_text, limits), sort_keys=True).encode("utf-8")
    arrays = {name: getattr(forest, name) for name in _ARRAYS}
    buffer = io.BytesIO()
    np.savez(buffer, meta=np.frombuffer(meta, dtype=np.uint8),
             digest=np.frombuffer(_content_digest(meta, arrays).encode("ascii"), dtype=np.uint8), **arrays)
    try:
        write_bytes_atomic(Path(folder) / TABLES_FILE, buffer.getvalue(), "the explainer's tables", private=True)
    except StorageError as exc:
        log.info("explainer tables not kept beside the model: %s", exc)
        return False
    return True


def load_forest(folder: Path, booster_text: str, limits: tuple[int, int]) -> Forest | None:
    """The forest kept in ``folder`` when it is this booster's, built with these ``limits``
    (``max_table_features``, ``max_table_values``) and whole; else None."""
    path = Path(folder) / TABLES_FILE
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            if set(npz.files) != {"meta", "digest", *_ARRAYS}:
                raise ValueError(f"members {sorted(npz.files)}")
            meta_bytes = npz["meta"].tobytes()
            meta = json.loads(meta_bytes.decode("utf-8"))
            expected = {"format": FORMAT, "booster_sha256": booster_digest(booster_text),
                        "max_table_features": limits[0], "max_table_values": limits[1]}
            if any(meta.get(k) != v for k, v in expected.items()):
                raise ValueError("another booster, format or table limits")
            arrays = {name: npz[name] for name in _ARRAYS}
            digest = npz["digest"].tobytes().decode("ascii")
        for name, (dtype, ndim) in _ARRAYS.items():
            if arrays[name].dtype != dtype or arrays[name].ndim != ndim:
                raise ValueError(f"{name}: {arrays[name].dtype} {arrays[name].shape}")
        if digest != _content_digest(meta_bytes, arrays):
            raise ValueError("content digest differs")
        return Forest(n_features=int(meta["n_features"]), feature_names=[str(n) for n in meta["feature_names"]],
                      bias=float.fromhex(meta["bias"]), max_nodes=int(meta["max_nodes"]),
                      max_depth=int(meta["max_depth"]), **arrays)
    except Exception as exc:  # noqa: BLE001 - whatever is wrong with the file, it is rebuilt, never used
        log.info("explainer tables in %s not used (%s: %s); building them again", path, type(exc).__name__, exc)
        return None
