"""cb_core.workspace keeps the strategy frame and the score-at-decision frame in the state's cache
folder per book and model: the same frames as built directly, written once, read back by the next
process (a restarted server), never mixed up between models."""
from __future__ import annotations

import pandas as pd
import pytest


@pytest.fixture
def settings(tmp_path):
    from cb_core.config import get_settings

    return get_settings(state_dir=str(tmp_path))


def test_strategy_frame_is_built_once_then_read_back_equal(settings, small_book, trained, scored, monkeypatch):
    from cb_core import strategy, workspace
    from cb_core.config import state_dir
    from cb_core.features import current_snapshot

    model = trained[0]
    snap = current_snapshot(small_book)
    direct = strategy.strategy_frame(snap, model.score(snap), small_book.merchants)  # the reference
    first = workspace.book_strategy_frame(small_book, model, settings=settings)
    pd.testing.assert_frame_equal(first, direct)
    path = state_dir(settings) / "cache" / f"strategy-{small_book.fingerprint}-{model.version}.parquet"
    assert path.is_file()

    def refuse(*args, **kwargs):
        raise AssertionError("built again instead of read from the cache folder")

    monkeypatch.setattr(strategy, "strategy_frame", refuse)
    again = workspace.book_strategy_frame(small_book, model, settings=settings)
    pd.testing.assert_frame_equal(again, direct, check_index_type=True)
    assert again["score"].between(1, 1000).all() and len(again) == len(scored)


def test_a_damaged_cache_file_is_an_error_not_another_frame(settings, small_book, trained):
    from cb_core import workspace
    from cb_core.config import state_dir

    model = trained[0]
    path = state_dir(settings) / "cache" / f"strategy-{small_book.fingerprint}-{model.version}.parquet"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not parquet")
    with pytest.raises(Exception):
        workspace.book_strategy_frame(small_book, model, settings=settings)


def test_decision_frame_is_cached_per_model_with_its_description(settings, small_book, trained, monkeypatch):
    from cb_core import strategy, workspace
    from cb_core.config import state_dir

    model = trained[0]
    direct = strategy.decision_frame(small_book, model)
    first = workspace.book_decision_frame(small_book, model, settings=settings)
    pd.testing.assert_frame_equal(first, direct)
    monkeypatch.setattr(strategy, "decision_frame", lambda *a: (_ for _ in ()).throw(AssertionError("rebuilt")))
    again = workspace.book_decision_frame(small_book, model, settings=settings)
    pd.testing.assert_frame_equal(again, direct)
    assert again.attrs == direct.attrs and direct.attrs  # what the frame is (score at decision) survives the file
    files = sorted(p.name for p in (state_dir(settings) / "cache").iterdir())
    assert files == [f"decisions-{small_book.fingerprint}-{model.version}.parquet"]


def test_prepare_builds_the_strategy_frame_once_and_then_reads_nothing(settings, small_book, trained, monkeypatch):
    from cb_core import workspace
    from cb_core.config import state_dir

    model = trained[0]
    assert workspace.prepare_strategy_frame(small_book, model, settings=settings) is True
    path = state_dir(settings) / "cache" / f"strategy-{small_book.fingerprint}-{model.version}.parquet"
    pd.testing.assert_frame_equal(pd.read_parquet(path), workspace.book_strategy_frame(small_book, model,
                                                                                       settings=settings))
    monkeypatch.setattr(pd, "read_parquet", lambda *a, **k: (_ for _ in ()).throw(AssertionError("read again")))
    assert workspace.prepare_strategy_frame(small_book, model, settings=settings) is False
