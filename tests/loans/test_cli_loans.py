"""``python -m cb_core vintages | backtest | watchlist`` and demo-data's loan tables, in process."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from cb_core.cli.commands import main
from cb_core.data import write_book
from cb_core.loans import backtest, vintages, watchlist, with_demo_loans


@pytest.fixture(scope="module")
def folders(small_book, trained, tmp_path_factory):
    from cb_core.model import save_bundle

    root = tmp_path_factory.mktemp("loans_cli")
    book = with_demo_loans(small_book, seed=11)
    write_book(book, root / "book", "csv")
    save_bundle(trained[0], trained[1], root / "model")
    return book, root


def _run(capsys, *argv: str) -> dict:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_vintages_command_writes_the_table(folders, tmp_path, capsys):
    book, root = folders
    out = tmp_path / "v.csv"
    summary = _run(capsys, "vintages", "--data", str(root / "book"), "--out", str(out), "--by", "grade",
                   "--bad", "dpd_30")
    table = pd.read_csv(out, dtype={"cohort": str, "group": str})
    assert summary["definition"] == "30+ days past due (or charged off)" and summary["rows"] == len(table)
    expected = vintages(book, by="grade", bad="dpd_30")
    pd.testing.assert_frame_equal(table, expected.astype({"group": object, "cohort": object}), check_dtype=False)


def test_backtest_command(folders, tmp_path, capsys):
    book, root = folders
    out = tmp_path / "b.csv"
    summary = _run(capsys, "backtest", "--data", str(root / "book"), "--out", str(out))
    table = pd.read_csv(out)
    assert list(table.columns) == ["grade", "loans", "predicted_pd", "observed_bad_rate", "ci_low", "ci_high", "light"]
    assert summary["predicted"] == "pd_at_booking"
    pd.testing.assert_frame_equal(table, backtest(book), check_dtype=False, check_exact=False)
    summary = _run(capsys, "backtest", "--data", str(root / "book"), "--model", str(root / "model"),
                   "--out", str(tmp_path / "m.parquet"))
    assert summary["predicted"] == "model"
    assert pd.read_parquet(tmp_path / "m.parquet")["loans"].sum() == table["loans"].sum()


def test_watchlist_command(folders, tmp_path, capsys, trained):
    book, root = folders
    out = tmp_path / "w.csv"
    summary = _run(capsys, "watchlist", "--data", str(root / "book"), "--model", str(root / "model"),
                   "--as-of", "2026-08", "--out", str(out))
    table = pd.read_csv(out, dtype={"triggers": str})
    assert list(table.columns) == ["loan_id", "merchant_id", "triggers", "severity", "months_since_booking",
                                   "balance_krw"]
    expected = watchlist(book, trained[0], as_of="2026-08")
    assert table["loan_id"].tolist() == expected["loan_id"].tolist() and len(table) > 0
    assert summary["severity"] == expected["severity"].value_counts().to_dict()


def test_bad_arguments_exit_2(folders, tmp_path, capsys):
    book, root = folders
    assert main(["vintages", "--data", str(root / "book"), "--out", str(tmp_path / "v.txt")]) == 2
    assert "--out must end in .csv or .parquet; got v.txt" in capsys.readouterr().err
    write_book(book.__class__(merchants=book.merchants, activity=book.activity), tmp_path / "plain")
    assert main(["backtest", "--data", str(tmp_path / "plain"), "--out", str(tmp_path / "b.csv")]) == 2
    assert "has no loans and loan_months tables" in capsys.readouterr().err


def test_demo_data_writes_the_loan_tables(tmp_path, capsys):
    summary = _run(capsys, "demo-data", "--merchants", "400", "--seed", "3", "--out", str(tmp_path / "d"))
    assert summary["loans"] > 0
    assert {p.name for p in (tmp_path / "d").iterdir()} >= {"loans.parquet", "loan_months.parquet"}
    assert _run(capsys, "validate", str(tmp_path / "d"))["loans"] == summary["loans"]
    summary = _run(capsys, "demo-data", "--merchants", "50", "--no-loans", "--out", str(tmp_path / "e"))
    assert summary["loans"] == 0 and not (tmp_path / "e" / "loans.parquet").exists()

