"""The explainer's tables kept beside the model (cb_core/explain/_fastshap_store.py): read back only when
they are the booster's and whole, equal to the in-memory build array for array; anything else is
rebuilt and rewritten; a folder that cannot be written keeps the explainer in memory."""
from __future__ import annotations

import dataclasses
import errno
import io
import os
import shutil
import stat
from collections import OrderedDict

import numpy as np
import pytest

from cb_core.explain import FastTreeShap, explainer_for
from cb_core.explain import _fastshap_store as store
from cb_core.explain import fastshap
from cb_core.features import current_snapshot
from cb_core.model import load_model


@pytest.fixture
def model_dir(trained, tmp_path, monkeypatch):
    """A fresh model folder of the trained model, and an empty in-process explainer cache."""
    monkeypatch.setattr(fastshap, "_CACHE", OrderedDict())
    return trained[0].save(tmp_path / "model")


@pytest.fixture(scope="module")
def rows(trained, small_book):
    return trained[0].matrix(current_snapshot(small_book))


def _in_memory(model):
    return FastTreeShap(model.trees)


def _limits():
    return (fastshap.MAX_TABLE_FEATURES, fastshap.MAX_TABLE_VALUES)


def _assert_same_forest(a, b):
    for field in dataclasses.fields(a):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and np.array_equal(x, y), field.name
        else:
            assert x == y, field.name


def _no_parse(monkeypatch):
    """Building the explainer from the booster fails from here on: only a kept file can serve."""
    def refuse(*args, **kwargs):
        raise AssertionError("the explainer was built, not read from the model folder")

    monkeypatch.setattr(fastshap, "parse_booster", refuse)


def test_tables_are_kept_private_and_read_back_equal(model_dir, rows, monkeypatch):
    model = load_model(model_dir)
    assert model.folder == model_dir
    want = _in_memory(model)
    first = explainer_for(model)  # builds, then keeps the tables beside the model
    path = model_dir / store.TABLES_FILE
    assert path.is_file() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert np.array_equal(first.contributions(rows), want.contributions(rows))

    monkeypatch.setattr(fastshap, "_CACHE", OrderedDict())  # as a new process
    _no_parse(monkeypatch)
    again = load_model(model_dir)
    kept = explainer_for(again)
    _assert_same_forest(kept._forest, want._forest)
    assert np.array_equal(kept.contributions(rows), want.contributions(rows))
    assert np.array_equal(kept.margins(rows), want.margins(rows))
    assert (kept.n_trees, kept.n_table_trees, kept.table_values) == (want.n_trees, want.n_table_trees,
                                                                     want.table_values)


def test_tables_of_another_booster_are_rebuilt(model_dir, rows):
    model = load_model(model_dir)
    want = _in_memory(model)
    wrong = dataclasses.replace(want._forest, tables=want._forest.tables * 2.0)  # other values
    assert store.save_forest(model_dir, model.booster_text + "\n", wrong, _limits())
    assert store.load_forest(model_dir, model.booster_text, _limits()) is None  # not this booster's
    got = explainer_for(model)
    assert np.array_equal(got.contributions(rows), want.contributions(rows))
    # rewritten as this booster's
    _assert_same_forest(store.load_forest(model_dir, model.booster_text, _limits()), want._forest)


def test_tables_built_with_other_limits_are_not_used(model_dir):
    model = load_model(model_dir)
    assert store.save_forest(model_dir, model.booster_text, _in_memory(model)._forest, _limits())
    assert store.load_forest(model_dir, model.booster_text, _limits()) is not None
    features, values = _limits()
    assert store.load_forest(model_dir, model.booster_text, (features - 1, values)) is None
    assert store.load_forest(model_dir, model.booster_text, (features, values // 2)) is None


@pytest.mark.parametrize("damage", ["truncated", "flipped table byte", "whole zip, other tables", "not a zip",
                                    "empty"])
def test_a_corrupt_tables_file_is_rebuilt(model_dir, rows, damage):
    model = load_model(model_dir)
    want = _in_memory(model)
    explainer_for(model)
    path = model_dir / store.TABLES_FILE
    data = path.read_bytes()
    if damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "flipped table byte":  # the zip is stored uncompressed: the tables' bytes are in it
        at = data.index(want._forest.tables.tobytes()[:64]) + 40
        data = data[:at] + bytes([data[at] ^ 0x10]) + data[at + 1:]
    elif damage == "whole zip, other tables":  # members rewritten (their CRCs fit), meta and digest kept
        with np.load(path) as npz:
            members = {name: npz[name] for name in npz.files}
        members["tables"] = members["tables"] + 1e-12
        buffer = io.BytesIO()
        np.savez(buffer, **members)
        data = buffer.getvalue()
    elif damage == "not a zip":
        data = b"tables" * 100
    else:
        data = b""
    path.write_bytes(data)
    assert store.load_forest(model_dir, model.booster_text, _limits()) is None
    fastshap._CACHE.clear()
    got = explainer_for(model)
    assert np.array_equal(got.contributions(rows), want.contributions(rows))
    _assert_same_forest(store.load_forest(model_dir, model.booster_text, _limits()), want._forest)


def test_a_read_only_model_folder_keeps_the_explainer_in_memory(model_dir, rows, monkeypatch):
    model = load_model(model_dir)
    want = _in_memory(model).contributions(rows)
    before = sorted(p.name for p in model_dir.iterdir())
    os.chmod(model_dir, 0o555)
    try:
        if os.geteuid() == 0:  # root writes through 0555: the disk refuses as a read-only mount would
            real_replace = os.replace

            def read_only(src, dst, *args, **kwargs):
                if str(dst).startswith(str(model_dir)):
                    raise OSError(errno.EROFS, "Read-only file system", str(dst))
                return real_replace(src, dst, *args, **kwargs)

            monkeypatch.setattr(os, "replace", read_only)
        got = explainer_for(model)
        assert np.array_equal(got.contributions(rows), want)
        assert sorted(p.name for p in model_dir.iterdir()) == before  # nothing written, nothing left over
    finally:
        os.chmod(model_dir, 0o755)


def test_a_model_not_loaded_from_a_folder_writes_nothing(trained, tmp_path, rows, monkeypatch):
    monkeypatch.setattr(fastshap, "_CACHE", OrderedDict())
    monkeypatch.chdir(tmp_path)
    model = trained[0]
    assert model.folder is None
    assert np.array_equal(explainer_for(model).contributions(rows), _in_memory(model).contributions(rows))
    assert list(tmp_path.iterdir()) == []


def test_a_model_whose_folder_is_gone_creates_nothing(trained, tmp_path, rows, monkeypatch):
    monkeypatch.setattr(fastshap, "_CACHE", OrderedDict())
    model = load_model(trained[0].save(tmp_path / "model"))
    gone = tmp_path / "model"
    shutil.rmtree(gone)  # removed after loading (e.g. replaced by another install)
    assert np.array_equal(explainer_for(model).contributions(rows), _in_memory(model).contributions(rows))
    assert not gone.exists()
