"""The Dask batch: the same numbers as the single-machine path, on a 2-worker LocalCluster."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from cb_core.batch import run as batch
from cb_core.cli import main as cli_main
from cb_core.batch._partition import (
    BUCKET_COLUMN, category_dtype, flatten_offers, offer_column, output_meta, with_bucket,
)
from cb_core.batch.train import _valid_loss_sums, early_stopping_iteration
from cb_core.data import categories
from cb_core.errors import ConfigError, DataSourceError, SchemaError
from cb_core.model import load_model, train_model
from cb_core.loans import block_offers, blocked_merchants
from cb_core.offers import load_products, match_book
from cb_core.explain import score_frame
from cb_core.features import current_snapshot, training_table
from cb_core.data import read_book, write_book

OFFER_INPUTS = ["months_active", "gmv_3m_avg_krw", "category"]


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def book_dir(tmp_path_factory, small_book):
    return write_book(small_book, tmp_path_factory.mktemp("batch") / "book")


@pytest.fixture(scope="module")
def model(small_book):
    """A quick model with the production pipeline's features and validation (fewer, faster trees)."""
    X, y, time, _, _ = training_table(small_book)
    return train_model(X, y, time=time, params={"num_boost_round": 150, "num_threads": 1})


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, model):
    return model.save(tmp_path_factory.mktemp("batch") / "model")


@pytest.fixture(scope="module")
def scored(tmp_path_factory, client, book_dir, model_dir):
    """(result, output frame) of a batch run with explanations and offers on 4 partitions."""
    out = tmp_path_factory.mktemp("batch") / "out"
    result = batch.run_batch(book_dir, out, model=model_dir, client=client, explain=True, partitions=4)
    return result, batch.read_output(out)


def single_machine(model, book_dir, frozen=()):
    """The reference: read_book -> snapshot -> score_frame(explain) -> match_book without the merchants
    Square's rule blocks (an overdue open loan, or ``frozen``), in one process."""
    book = read_book(book_dir)
    snap = current_snapshot(book)
    scores = score_frame(model, snap, explain=True)
    matched = match_book(scores[["pd", "score", "grade"]].join(snap[OFFER_INPUTS]), load_products())
    offers = flatten_offers(block_offers(matched, blocked_merchants(book, frozen, as_of=book.last_month)))
    return scores.join(offers)


def assert_same(got: pd.DataFrame, ref: pd.DataFrame, columns) -> None:
    got = got.set_index("merchant_id")
    assert sorted(got.index) == sorted(ref.index)
    got = got.loc[ref.index]
    for col in columns:
        a, b = got[col], ref[col]
        assert a.dtype == b.dtype, col
        if col.startswith("points__") or col == "base_points" or (a.dtype == float and col != "pd"):
            np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=0, atol=1e-9, err_msg=col)
        else:
            pd.testing.assert_series_equal(a, b, check_names=False, obj=col)


def test_batch_equals_single_machine(scored, model, book_dir):
    result, got = scored
    ref = single_machine(model, book_dir)
    assert result.rows == len(got) == len(ref) > 1000
    assert list(got.columns) == ["merchant_id", *ref.columns]
    assert_same(got, ref, ref.columns)
    # pd, score and grade exactly; the points add up to the unrounded score as on one machine
    np.testing.assert_array_equal(got.set_index("merchant_id").loc[ref.index, "pd"].to_numpy(), ref["pd"].to_numpy())
    assert got.filter(like="points__").shape[1] == len(model.features)
    assert (got[offer_column("best", "n_eligible")] > 0).sum() > 100


def test_batch_equals_the_score_command_row_for_row(scored, book_dir, model_dir, tmp_path, capsys):
    """``python -m cb_core score --explain`` on the same book and model: the same merchants, in the
    same order (the ranges follow one another), with the same pd, score, grade and points."""
    out = tmp_path / "scores.parquet"
    assert cli_main(["score", "--model", str(model_dir), "--data", str(book_dir), "--out", str(out), "--explain"]) == 0
    capsys.readouterr()
    command = pd.read_parquet(out)
    got = scored[1][list(command.columns)]
    assert scored[0].partitioned_by == "ranges" and len(command) == len(got) > 1000
    assert got["merchant_id"].tolist() == command["merchant_id"].tolist()
    for col in command.columns:
        if col.startswith("points__") or col == "base_points":
            np.testing.assert_allclose(got[col].to_numpy(), command[col].to_numpy(), rtol=0, atol=1e-9, err_msg=col)
        else:
            np.testing.assert_array_equal(got[col].to_numpy(), command[col].to_numpy(), err_msg=col)


def test_no_offer_to_merchants_with_an_overdue_loan_or_a_freeze(scored, client, small_book, book_dir, model,
                                                               model_dir, tmp_path):
    result, got = scored
    overdue = blocked_merchants(small_book, as_of="2026-10")
    assert result.blocked == len(overdue) > 0
    best = got.set_index("merchant_id")[offer_column("best", "n_eligible")]
    assert (best.loc[overdue["merchant_id"]] == 0).all()
    # a frozen merchant that had offers loses them, in the batch as on one machine
    frozen = str(best[best > 0].index[0])
    again = batch.run_batch(book_dir, tmp_path / "out", model=model_dir, client=client, partitions=2,
                            frozen=[frozen])
    out = batch.read_output(tmp_path / "out").set_index("merchant_id")
    assert again.blocked == len(overdue) + 1 and out.loc[frozen, offer_column("best", "n_eligible")] == 0
    ref = single_machine(model, book_dir, frozen=[frozen])
    offer_columns = [c for c in ref.columns if c.startswith("offer__")]
    assert_same(out.reset_index(), ref, offer_columns)


def test_every_merchant_in_exactly_one_partition(scored, book_dir):
    """A sorted Parquet book is cut into ranges of merchant ids read in place: partition k holds
    the merchants from the k-th quarter of the merchants table's distinct ids, in order."""
    result, _ = scored
    assert result.partitioned_by == "ranges"
    parts = sorted((Path(result.out)).glob("part-*.parquet"))
    assert [p.name for p in parts] == [f"part-{i:05d}.parquet" for i in range(4)] and result.partitions == 4
    ids = [pd.read_parquet(p)["merchant_id"] for p in parts]
    assert all(s.is_monotonic_increasing for s in ids)
    assert sum(len(s) for s in ids) == len(set().union(*map(set, ids))) == result.rows
    every = sorted(set(pd.read_parquet(book_dir / "merchants.parquet")["merchant_id"]))
    cuts = [every[k * len(every) // 4] for k in range(1, 4)]
    for k, s in enumerate(ids):
        low, high = ([""] + cuts)[k], (cuts + ["\uffff"])[k]
        assert ((s >= low) & (s < high)).all() and len(s) > 300, k


def test_bucket_is_a_stable_hash_of_the_stripped_id():
    frame = pd.DataFrame({"merchant_id": ["M000001", " M000001 ", "M123456"]})
    assert with_bucket(frame, 7)[BUCKET_COLUMN].tolist() == [0, 0, 6]


def test_tables_partitioned_alike(client, book_dir):
    tables = batch.read_tables(book_dir)
    m = batch.partition_by_merchant(tables["merchants"], 3)
    a = batch.partition_by_merchant(tables["monthly_activity"], 3)
    assert m.divisions == a.divisions == (0, 1, 2, 3)
    for k in range(3):
        m_ids = set(m.get_partition(k)["merchant_id"].compute())
        a_ids = set(a.get_partition(k)["merchant_id"].compute())
        assert a_ids <= m_ids and len(m_ids) > 300


def test_category_fixed_in_every_partition(scored, model):
    result, _ = scored
    meta = output_meta(model, explain=True, products=load_products(), include_features=False)
    for part in sorted(Path(result.out).glob("part-*.parquet")):
        frame = pd.read_parquet(part)
        assert frame.dtypes.drop("merchant_id").to_dict() == meta.dtypes.drop("merchant_id").to_dict()
    with_features = output_meta(model, explain=False, products=None, include_features=True)
    assert with_features["category"].dtype == category_dtype()
    assert list(category_dtype().categories) == list(categories())


def test_success_marker_summarises_the_run(scored, model):
    result, got = scored
    summary = json.loads((Path(result.out) / batch.SUCCESS_FILE).read_text())
    assert summary["rows"] == len(got) and summary["model_version"] == model.version
    assert summary["partitions"] == 4 and summary["workers"] == 2 and summary["explain"] is True
    assert summary["as_of"] == "2026-10"


def test_unfinished_output_is_refused(scored, tmp_path):
    copy = shutil.copytree(scored[0].out, tmp_path / "out")
    (copy / batch.SUCCESS_FILE).unlink()
    with pytest.raises(DataSourceError, match="has no _SUCCESS: the batch did not finish"):
        batch.read_output(copy)


def test_output_folder_is_not_overwritten_by_accident(client, book_dir, model_dir, scored, tmp_path):
    with pytest.raises(ConfigError, match="already holds a batch output; give --overwrite"):
        batch.run_batch(book_dir, scored[0].out, model=model_dir, client=client)
    stranger = tmp_path / "notes"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match=r"holds files that are not batch output \(notes.txt\)"):
        batch.run_batch(book_dir, stranger, model=model_dir, client=client, overwrite=True)
    assert (stranger / "notes.txt").read_text() == "mine"


def test_csv_book_gives_the_same_scores(client, small_book, scored, model_dir, tmp_path):
    csv_dir = write_book(small_book, tmp_path / "csv_book", fmt="csv")
    batch.run_batch(csv_dir, tmp_path / "out", model=model_dir, client=client, offers=False, partitions=3)
    got = batch.read_output(tmp_path / "out")
    assert list(got.columns) == ["merchant_id", "pd", "score", "grade"]
    ref = scored[1].set_index("merchant_id")[["pd", "score", "grade"]]
    assert_same(got, ref, ref.columns)


def test_bad_rows_in_a_partition_raise_the_schema_error(client, small_book, model_dir, tmp_path):
    from dataclasses import replace

    activity = small_book.activity
    doubled = pd.concat([activity, activity.iloc[[5]]], ignore_index=True)
    bad_dir = write_book(replace(small_book, activity=doubled, outcomes=None, _fingerprint=None), tmp_path / "bad")
    with pytest.raises(SchemaError, match="duplicate merchant_id \\+ month") as info:
        batch.run_batch(bad_dir, tmp_path / "out", model=model_dir, client=client, partitions=2)
    assert [(p.table, p.column) for p in info.value.problems] == [("monthly_activity", "merchant_id+month")]
    assert not (tmp_path / "out" / batch.SUCCESS_FILE).exists()


def test_cli_main_against_a_scheduler_address(client, book_dir, model_dir, tmp_path, capsys):
    address = client.scheduler.address
    code = cli_main(["batch", "--scheduler", address, "--data", str(book_dir), "--out", str(tmp_path / "out"),
                       "--model", str(model_dir), "--partitions", "3", "--no-offers", "--features"])
    printed = json.loads(capsys.readouterr().out)
    assert code == 0 and printed["partitions"] == 3 and printed["offers"] is False
    got = batch.read_output(tmp_path / "out")
    assert len(got) == printed["rows"] and got["category"].dtype == category_dtype()
    snap = current_snapshot(read_book(book_dir))
    assert_same(got, snap, snap.columns)  # --features: the snapshot itself
    assert cli_main(["batch", "--scheduler", address, "--data", str(book_dir), "--out", str(tmp_path / "o2")]) == 2
    assert "give --model DIR (a trained model folder) or --train" in capsys.readouterr().err
    assert cli_main(["batch", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o3"), "--scheduler", address,
                       "--model", str(model_dir)]) == 2
    assert "book folder not found" in capsys.readouterr().err


def test_cli_batch_reads_the_freezes_from_the_store(client, scored, book_dir, model_dir, tmp_path, capsys,
                                                    monkeypatch):
    from cb_core.store import Store

    url = f"sqlite:///{tmp_path / 'cb.sqlite'}"
    monkeypatch.setenv("CB_DATABASE_URL", url)
    result, got = scored
    best = got.set_index("merchant_id")[offer_column("best", "n_eligible")]
    frozen = str(best[best > 0].index[-1])
    with Store(url) as store:
        store.add_user("oh", "officer", password="correct horse battery staple")
        store.record_watch_action(frozen, None, "freeze_offers", "settlement delays", "oh")
    code = cli_main(["batch", "--scheduler", client.scheduler.address, "--data", str(book_dir), "--out",
                     str(tmp_path / "out"), "--model", str(model_dir), "--partitions", "2", "--frozen-from-store"])
    printed = json.loads(capsys.readouterr().out)
    assert code == 0 and printed["blocked"] == result.blocked + 1
    out = batch.read_output(tmp_path / "out").set_index("merchant_id")
    assert out.loc[frozen, offer_column("best", "n_eligible")] == 0


def test_bad_arguments_are_named(book_dir, model_dir, tmp_path):
    with pytest.raises(ConfigError, match="as_of must be a month YYYY-MM; got '2026-13'"):
        batch.run_batch(book_dir, tmp_path / "o", model=model_dir, as_of="2026-13")
    with pytest.raises(ConfigError, match="partitions must be a whole number of at least 1; got 0"):
        batch.run_batch(book_dir, tmp_path / "o", model=model_dir, partitions=0)


# ------------------------------------------------------------------ training on the cluster

@pytest.fixture(scope="module")
def trained_on_cluster(tmp_path_factory, client, book_dir):
    out = tmp_path_factory.mktemp("batch") / "trained"
    result = batch.run_batch(book_dir, out, train=True, client=client, explain=True, partitions=4)
    return result, batch.read_output(out)


@pytest.fixture(scope="module")
def trained_without_history(small_book):
    """The production pipeline on one machine over the tables a batch reads (no ``bureau_history``)."""
    from dataclasses import replace

    from cb_core.model import train_with_report

    return train_with_report(replace(small_book, bureau_history=None))[0]


def test_cluster_training_matches_train_model_setup(trained_on_cluster, trained_without_history):
    """The same three windows, purge, point-in-time exclusions, constraints and parameters as the
    production pipeline on one machine over the same tables."""
    result, _ = trained_on_cluster
    model, reference = load_model(result.model_dir), trained_without_history
    assert result.trained and result.model_dir == f"{result.out}/{batch.MODEL_DIR}"
    assert model.version == result.model_version
    card, ref = model.card, reference.card
    assert card["validation"]["trainer"] == "lightgbm.dask.DaskLGBMClassifier" and card["validation"]["workers"] == 2
    for window in ("train", "valid", "test"):
        assert card["validation"][window] == ref["validation"][window]
    assert card["validation"]["purged_rows"] == ref["validation"]["purged_rows"] > 0
    assert [f["name"] for f in card["features"]] == [f["name"] for f in ref["features"]]
    assert card["validation"]["point_in_time"]["excluded"] == ref["validation"]["point_in_time"]["excluded"] == [
        "bureau_score", "thin_file", "owner_has_credit_card", "region_income_index"]
    assert card["monotone_constraints"] == ref["monotone_constraints"]
    assert card["categorical_levels"] == ref["categorical_levels"] == {"category": list(categories())}
    assert card["params"]["tree_learner"] == "data" and card["params"]["monotone_constraints_method"] == "basic"
    assert {k: card["params"][k] for k in ("learning_rate", "num_leaves", "min_data_in_leaf", "lambda_l2")} == \
        {k: ref["params"][k] for k in ("learning_rate", "num_leaves", "min_data_in_leaf", "lambda_l2")}
    # test window of the 1,500-merchant book, without the bureau fields (not point-in-time in a batch)
    assert card["metrics"]["auc"] > 0.65 and abs(card["metrics"]["auc"] - ref["metrics"]["auc"]) < 0.05, \
        (card["metrics"], card["best_iteration"], ref["metrics"], ref["best_iteration"])


def test_cluster_trained_model_respects_monotone_constraints(trained_on_cluster, small_book):
    model = load_model(trained_on_cluster[0].model_dir)
    snap = current_snapshot(small_book).iloc[:40]
    base = model.matrix(snap)
    for j, entry in enumerate(model.card["features"]):
        if not entry["monotone"]:
            continue
        grid = np.nanquantile(base[:, j], np.linspace(0, 1, 15)) if not np.isnan(base[:, j]).all() else [0.0]
        margins = []
        for value in grid:
            varied = base.copy()
            varied[:, j] = value
            margins.append(model.booster_predict(varied, raw_score=True))
        steps = np.diff(np.array(margins), axis=0) * entry["monotone"]
        assert steps.min() >= -1e-12, entry["name"]


def test_scoring_with_the_cluster_model_equals_single_machine(trained_on_cluster, book_dir):
    result, got = trained_on_cluster
    ref = single_machine(load_model(result.model_dir), book_dir)
    assert_same(got, ref, ref.columns)


def test_early_stopping_iteration_is_lightgbms():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(1200, 4))
    y = (rng.random(1200) < 1 / (1 + np.exp(-X[:, 0] + 0.5 * X[:, 1]))).astype(int)
    params = {"objective": "binary", "learning_rate": 0.3, "num_leaves": 15, "min_data_in_leaf": 5,
              "verbose": -1, "num_threads": 1, "deterministic": True}
    train, valid = lgb.Dataset(X[:800], y[:800]), lgb.Dataset(X[800:], y[800:])
    seen: dict = {}
    booster = lgb.train(params, train, 300, valid_sets=[valid], valid_names=["valid"],
                        callbacks=[lgb.early_stopping(10, verbose=False), lgb.record_evaluation(seen)])
    losses = seen["valid"]["binary_logloss"]
    assert 1 < booster.best_iteration < len(losses) < 300
    assert early_stopping_iteration(np.array(losses), 10) == booster.best_iteration
    assert early_stopping_iteration(np.array([3.0, 2.0, 2.5, 2.4, 2.0, 1.0]), 3) == 2
    assert early_stopping_iteration(np.array([3.0, 2.0, 2.5, 1.0]), 3) == 4

    # the per-round validation loss from leaf outputs is LightGBM's own binary_logloss
    full = lgb.train(params, train, 40)
    rows = pd.DataFrame(X[800:], columns=[f"x{i}" for i in range(4)]).assign(
        defaulted_12m=y[800:], snapshot_month="2025-10")
    seen = {}
    lgb.train(params, train, 40, valid_sets=[valid], valid_names=["valid"], callbacks=[lgb.record_evaluation(seen)])
    sums = _valid_loss_sums(rows, full.model_to_string(), [f"x{i}" for i in range(4)], {}, ["2025-10"])
    np.testing.assert_allclose(sums / len(rows), seen["valid"]["binary_logloss"], rtol=1e-9)


# ------------------------------------------------------------------ ranges or shuffle

def test_unsorted_book_is_shuffled_by_merchant_with_the_same_scores(client, small_book, scored, model_dir, tmp_path):
    """Row groups that overlap in merchant_id (rows not sorted by merchant): each partition is then a
    hash bucket of the stripped id, and the numbers are the same."""
    import pyarrow.parquet as pq

    book = write_book(small_book, tmp_path / "book")
    rows = pd.read_parquet(book / "monthly_activity.parquet").sample(frac=1.0, random_state=5)
    rows.to_parquet(book / "monthly_activity.parquet", index=False, row_group_size=2_000)
    assert pq.ParquetFile(book / "monthly_activity.parquet").metadata.num_row_groups > 5
    result = batch.run_batch(book, tmp_path / "out", model=model_dir, client=client, explain=True, partitions=4)
    assert result.partitioned_by == "shuffle"
    got = batch.read_output(tmp_path / "out")
    assert_same(got, scored[1].set_index("merchant_id"), scored[1].columns.drop("merchant_id"))
    # each partition is one hash bucket: recomputing the bucket of its merchants gives its number
    for k, part in enumerate(sorted((tmp_path / "out").glob("part-*.parquet"))):
        ids = pd.read_parquet(part)["merchant_id"]
        assert ids.is_monotonic_increasing
        assert set(with_bucket(pd.DataFrame({"merchant_id": ids}), 4)[BUCKET_COLUMN]) == {k}


def test_an_id_with_spaces_gets_the_report_of_the_shuffle(client, small_book, model_dir, tmp_path):
    """' M…' sorts before every plain id, so a range would hold it apart from its merchant (and
    report it missing from merchants, and a gap in that merchant's months): the run falls back to
    the shuffle by the stripped id, and the report names the spaces only."""
    from dataclasses import replace

    activity = small_book.activity.copy()
    middle = activity["merchant_id"].drop_duplicates().iloc[len(activity["merchant_id"].unique()) // 2]
    at = activity.index[activity["merchant_id"] == middle][3]
    activity.loc[at, "merchant_id"] = f" {middle}"
    bad_dir = write_book(replace(small_book, activity=activity, outcomes=None, _fingerprint=None), tmp_path / "bad")
    with pytest.raises(SchemaError) as info:
        batch.run_batch(bad_dir, tmp_path / "out", model=model_dir, client=client, partitions=4)
    assert [(p.table, p.column, p.rule, p.n_rows) for p in info.value.problems] == [
        ("monthly_activity", "merchant_id", "must not start or end with spaces", 1)]
    assert not (tmp_path / "out" / batch.SUCCESS_FILE).exists()


def test_sorted_by_merchant_reads_only_the_footers(tmp_path):
    import fsspec

    from cb_core.batch._ranges import merchant_bounds, sorted_by_merchant

    fs = fsspec.filesystem("file")
    frame = pd.DataFrame({"merchant_id": [f"M{i:04d}" for i in range(100) for _ in range(3)], "x": range(300)})
    frame.to_parquet(tmp_path / "sorted.parquet", index=False, row_group_size=40)  # a merchant across two groups
    frame.iloc[::-1].to_parquet(tmp_path / "reversed.parquet", index=False, row_group_size=40)  # groups apart
    frame.sample(frac=1.0, random_state=1).to_parquet(tmp_path / "shuffled.parquet", index=False, row_group_size=40)
    frame.assign(merchant_id=range(300)).to_parquet(tmp_path / "numbers.parquet", index=False, row_group_size=40)
    frame.iloc[::-1].to_parquet(tmp_path / "one_group.parquet", index=False)
    assert [sorted_by_merchant(fs, str(tmp_path / f"{n}.parquet")) for n in
            ("sorted", "reversed", "shuffled", "numbers", "one_group")] == [True, True, False, False, True]
    # 100 distinct ids in 4 ranges of 25, 7 in 3 (2, 2, 3)
    assert merchant_bounds(fs, str(tmp_path / "reversed.parquet"), 4) == ["M0025", "M0050", "M0075"]
    frame.iloc[:21].to_parquet(tmp_path / "seven.parquet", index=False)
    assert merchant_bounds(fs, str(tmp_path / "seven.parquet"), 3) == ["M0002", "M0004"]


def test_a_book_behind_a_url_is_read_in_ranges(client, book_dir, model_dir, scored, tmp_path):
    """fsspec URLs (here ``memory://``, which the in-process workers share) are cut into ranges too."""
    import fsspec

    memory = fsspec.filesystem("memory")
    for name in ("merchants", "monthly_activity"):
        memory.pipe(f"/batch-url-book/{name}.parquet", (book_dir / f"{name}.parquet").read_bytes())
    try:
        result = batch.run_batch("memory://batch-url-book", tmp_path / "out", model=model_dir, client=client,
                                 explain=True, partitions=4)
    finally:
        memory.rm("/batch-url-book", recursive=True)
    assert result.partitioned_by == "ranges" and result.blocked == 0  # the loans stayed on disk
    got = batch.read_output(tmp_path / "out")
    ref = scored[1].drop(columns=[c for c in scored[1].columns if c.startswith("offer__")])
    pd.testing.assert_frame_equal(got[ref.columns], ref)
