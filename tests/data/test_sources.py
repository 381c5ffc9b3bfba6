"""Reading books from folders, uploads and SQLite; writing them; the current-book pointer."""
from __future__ import annotations

import errno
import hashlib
import json
import re
import shutil
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from cb_core.data import schema, sources
from cb_core.data import Book
from cb_core.errors import ConfigError, DataSourceError, Problem, SchemaError, StorageError
from cb_core.data import validate_tables
from cb_core.data import load_current, read_book, read_uploaded, save_current, write_book
from tests.support.books import TODAY, good_tables

BAD = Path(__file__).resolve().parent.parent / "bad_inputs"
UNKNOWN_FILE = ("unknown file: expected merchants, monthly_activity and optionally outcomes, bureau_history, loans, "
                "loan_months, default_events, each as .csv or .parquet")


@pytest.fixture(scope="module")
def book() -> Book:
    return validate_tables(good_tables(), today=TODAY, source="hand-made")


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _assert_same_book(got: Book, expected: Book) -> None:
    assert set(got.tables()) == set(expected.tables())
    for name, frame in expected.tables().items():
        pd.testing.assert_frame_equal(got.tables()[name], frame)
    assert got.fingerprint == expected.fingerprint


# The bad-input corpus (tests/bad_inputs) is exercised in tests/test_bad_inputs.py.


# --- CSV and Parquet details -------------------------------------------------------------------------

def test_damaged_cp949_file_names_the_offset(tmp_path, book):
    write_book(book, tmp_path / "b", "csv")
    path = tmp_path / "b" / "merchants.csv"
    content = path.read_text(encoding="utf-8").encode("cp949")
    path.write_bytes(content + b"\xff\n")
    with pytest.raises(DataSourceError, match=rf"merchants\.csv: byte 0xff at byte offset {len(content)} "
                                              r"\(line 6\) is not valid UTF-8 or CP949 text"):
        read_book(tmp_path / "b", today=TODAY)


@pytest.mark.parametrize("damage, message", [
    (lambda b: b[: len(b) // 2], r"monthly_activity\.parquet is not a complete Parquet file"),
    (lambda b: b[:4] + b"\x00" * (len(b) - 8) + b[-4:], r"monthly_activity\.parquet: cannot read Parquet"),
    (lambda b: b"merchant_id,month\n", r"monthly_activity\.parquet is not a complete Parquet file"),
])
def test_corrupt_parquet_names_the_file(tmp_path, book, damage, message):
    write_book(book, tmp_path / "b")
    path = tmp_path / "b" / "monthly_activity.parquet"
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(DataSourceError, match=message):
        read_book(tmp_path / "b", today=TODAY)


def test_unreadable_csv_files_are_all_named_in_one_error(tmp_path, book):
    write_book(book, tmp_path / "b", "csv")
    (tmp_path / "b" / "merchants.csv").write_bytes(b"merchant_id,region,region\nM001,a,b\n")
    (tmp_path / "b" / "monthly_activity.csv").write_bytes(b"a,b\n1,2\n3,4,5\n")
    (tmp_path / "b" / "outcomes.csv").write_bytes((tmp_path / "b" / "outcomes.csv").read_bytes())
    with pytest.raises(DataSourceError) as info:
        read_book(tmp_path / "b", today=TODAY)
    lines = str(info.value).splitlines()
    assert lines[0].endswith("merchants.csv: column(s) 'region' appear more than once in the header")
    assert "monthly_activity.csv is not a well-formed CSV table" in lines[1] and "line 3" in lines[1]


def test_parquet_in_a_csv_name_is_recognised(tmp_path, book):
    write_book(book, tmp_path / "b")
    content = (tmp_path / "b" / "merchants.parquet").read_bytes()
    with pytest.raises(DataSourceError, match=r"merchants\.csv is a Parquet file, not CSV"):
        read_uploaded({"merchants.csv": content})


def test_utf16_export_is_named(tmp_path, book):
    write_book(book, tmp_path / "b", "csv")
    content = (tmp_path / "b" / "merchants.csv").read_text(encoding="utf-8").encode("utf-16")
    with pytest.raises(DataSourceError, match=r"^merchants\.csv is UTF-16 text \(Excel's 'Unicode Text'\), not CSV"):
        read_uploaded({"merchants.csv": content})


def test_utf8_bom_and_crlf_load(tmp_path, book):
    write_book(book, tmp_path / "b", "csv")
    for path in (tmp_path / "b").iterdir():
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    _assert_same_book(read_book(tmp_path / "b", today=TODAY), book)


def test_missing_folder_and_file_instead_of_folder(tmp_path):
    with pytest.raises(DataSourceError, match=r"book folder not found: .*nowhere"):
        read_book(tmp_path / "nowhere")
    (tmp_path / "file.csv").write_text("x")
    with pytest.raises(DataSourceError, match=r"file\.csv is a file, not a book folder"):
        read_book(tmp_path / "file.csv")


def test_parquet_wins_over_csv_in_a_folder(tmp_path, book):
    write_book(book, tmp_path / "b")
    (tmp_path / "b" / "merchants.csv").write_text("not,the,merchants\n", encoding="utf-8")
    _assert_same_book(read_book(tmp_path / "b", today=TODAY), book)


def test_renamed_files_in_a_folder(tmp_path, book):
    write_book(book, tmp_path / "b", "csv")
    (tmp_path / "b" / "monthly_activity.csv").rename(tmp_path / "b" / "activity.csv")
    _assert_same_book(read_book(tmp_path / "b", tables={"monthly_activity": "activity"}, today=TODAY), book)
    with pytest.raises(ConfigError, match="tables may only rename merchants, monthly_activity, outcomes, bureau_history, "
                       "loans, loan_months, default_events; got act"):
        read_book(tmp_path / "b", tables={"act": "activity"})


# --- writing --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_round_trip_is_exact_and_deterministic(tmp_path, book, fmt):
    out = write_book(book, tmp_path / "one", fmt)
    assert out == tmp_path / "one"
    assert sorted(p.name for p in out.iterdir()) == [f"merchants.{fmt}", f"monthly_activity.{fmt}",
                                                     f"outcomes.{fmt}"]
    again = read_book(out, today=TODAY)
    _assert_same_book(again, book)
    write_book(again, tmp_path / "two", fmt)
    assert _digests(tmp_path / "one") == _digests(tmp_path / "two")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one", "two"]  # no staging left behind


def test_csv_is_utf8_with_unix_line_endings(tmp_path, book):
    write_book(book, tmp_path / "b", "csv")
    raw = (tmp_path / "b" / "merchants.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw
    assert raw.decode("utf-8").splitlines()[2] == ("M002,바다식품,이서연,234-56-78901,food,부산광역시,2021-07-15,"
                                                   "2021-08-01,,False,0.93")


@pytest.mark.parametrize("atomic_exchange", [True, False])
def test_write_replaces_a_book_but_not_a_stranger_folder(tmp_path, book, monkeypatch, atomic_exchange):
    if not atomic_exchange:
        monkeypatch.setattr(sources, "_exchange", lambda a, b: False)
    write_book(book, tmp_path / "b", "csv")
    write_book(book, tmp_path / "b", "parquet")
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == [
        "merchants.parquet", "monthly_activity.parquet", "outcomes.parquet"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "thesis.docx").write_text("precious")
    with pytest.raises(DataSourceError, match=r"will not replace .*home: it is not a book folder \(thesis\.docx\)"):
        write_book(book, tmp_path / "home")
    assert (tmp_path / "home" / "thesis.docx").read_text() == "precious"
    with pytest.raises(ConfigError, match="fmt must be one of parquet, csv; got 'xlsx'"):
        write_book(book, tmp_path / "x", "xlsx")


def test_a_crash_while_writing_leaves_the_previous_book(tmp_path, book, monkeypatch):
    write_book(book, tmp_path / "b")
    before = _digests(tmp_path / "b")
    calls = []

    def crash_on_second_table(self, path, **kwargs):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(self, path, **kwargs)

    original = pd.DataFrame.to_parquet
    monkeypatch.setattr(pd.DataFrame, "to_parquet", crash_on_second_table)
    with pytest.raises(StorageError, match=rf"^cannot write the book to {re.escape(str(tmp_path / 'b'))}: the disk "
                                           r"is full \(No space left on device\); nothing was changed"):
        write_book(book, tmp_path / "b")
    assert _digests(tmp_path / "b") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]


# --- uploads ----------------------------------------------------------------------------------------------

def test_uploaded_files_in_either_format(tmp_path, book):
    write_book(book, tmp_path / "p")
    write_book(book, tmp_path / "c", "csv")
    files = {"merchants.csv": (tmp_path / "c" / "merchants.csv").read_bytes(),
             "monthly_activity.parquet": (tmp_path / "p" / "monthly_activity.parquet").read_bytes(),
             "outcomes.csv": b"\xef\xbb\xbf" + (tmp_path / "c" / "outcomes.csv").read_bytes()}
    loaded = read_uploaded(files, today=TODAY)
    _assert_same_book(loaded, book)
    assert loaded.source == "upload: merchants.csv, monthly_activity.parquet, outcomes.csv"


def test_unknown_upload_names_are_reported_with_the_other_problems(tmp_path, book):
    write_book(book, tmp_path / "c", "csv")
    files = {"C:\\exports\\merchants.csv": (tmp_path / "c" / "merchants.csv").read_bytes(),
             "activity.csv": (tmp_path / "c" / "monthly_activity.csv").read_bytes(),
             "notes.txt": b"hello"}
    with pytest.raises(SchemaError) as info:
        read_uploaded(files, today=TODAY)
    assert info.value.problems == [
        Problem("monthly_activity", "*", "required table is missing"),
        Problem("activity.csv", "*", UNKNOWN_FILE),
        Problem("notes.txt", "*", UNKNOWN_FILE),
    ]


def test_uploaded_parquet_wins_over_csv(tmp_path, book):
    write_book(book, tmp_path / "p")
    files = {"merchants.parquet": (tmp_path / "p" / "merchants.parquet").read_bytes(),
             "merchants.csv": b"garbage",
             "monthly_activity.parquet": (tmp_path / "p" / "monthly_activity.parquet").read_bytes()}
    loaded = read_uploaded(files, today=TODAY)
    assert loaded.outcomes is None and len(loaded.merchants) == 4


def test_two_uploaded_files_of_one_table_are_named_not_picked(tmp_path, book):
    write_book(book, tmp_path / "c", fmt="csv")
    good = (tmp_path / "c" / "merchants.csv").read_bytes()
    activity = (tmp_path / "c" / "monthly_activity.csv").read_bytes()
    # an upload holding the bad file of a failed try beside its fixed copy: same name twice
    for files in ([("merchants.csv", b"garbage"), ("merchants.csv", good), ("monthly_activity.csv", activity)],
                  [("merchants.csv", good), ("old/Merchants.CSV", good), ("monthly_activity.csv", activity)]):
        with pytest.raises(SchemaError) as info:
            read_uploaded(files, today=TODAY)
        rules = [(p.table, p.rule) for p in info.value.problems]
        first, second = (n.rsplit("/", 1)[-1] for n, _ in files[:2])
        assert ("merchants", f"2 files for this table ({first}, {second}): upload one") in rules, rules
    # one file per table: loads (pairs or a dict alike)
    pairs = [("merchants.csv", good), ("monthly_activity.csv", activity)]
    assert read_uploaded(pairs, today=TODAY).fingerprint == read_uploaded(dict(pairs), today=TODAY).fingerprint


def test_uploaded_excel_names_the_file():
    files = {"merchants.csv": (BAD / "excel_renamed_csv" / "merchants.csv").read_bytes()}
    with pytest.raises(DataSourceError, match=r"^merchants\.csv is an Excel workbook, not CSV"):
        read_uploaded(files)


# --- SQL ---------------------------------------------------------------------------------------------------

def _sqlite(path: Path, tables: dict[str, pd.DataFrame]) -> str:
    with sqlite3.connect(path) as conn:
        for name, frame in tables.items():
            frame.to_sql(name, conn, index=False)
    return f"sqlite:///{path}"


def test_sqlite_url_loads_the_same_book(tmp_path, book):
    url = _sqlite(tmp_path / "book.db", book.tables())
    loaded = read_book(url, today=TODAY)
    _assert_same_book(loaded, book)
    assert loaded.source == url


def test_sqlite_with_renamed_and_missing_tables(tmp_path, book):
    url = _sqlite(tmp_path / "book.db", {"sellers": book.merchants, "sales": book.activity})
    loaded = read_book(url, tables={"merchants": "sellers", "monthly_activity": "sales"}, today=TODAY)
    assert loaded.outcomes is None and len(loaded.activity) == 16
    with pytest.raises(SchemaError, match=r"merchants\.\*: required table is missing: no table 'merchants' in "
                                          r"sqlite:///.*book\.db"):
        read_book(url, today=TODAY)


def test_sqlite_bad_rows_are_reported_by_row(tmp_path, book):
    activity = book.activity.copy()
    activity.loc[[2, 9], "gmv_krw"] = -1
    url = _sqlite(tmp_path / "book.db", {"merchants": book.merchants, "monthly_activity": activity})
    with pytest.raises(SchemaError, match=r"monthly_activity\.gmv_krw: rows 3, 10: must be ≥ 0 e\.g\. '-1'"):
        read_book(url, today=TODAY)


def test_missing_sqlite_file_is_not_created(tmp_path):
    with pytest.raises(DataSourceError, match=r"database file not found: .*absent\.db"):
        read_book(f"sqlite:///{tmp_path / 'absent.db'}")
    assert not (tmp_path / "absent.db").exists()


# --- the current book -----------------------------------------------------------------------------------

def test_save_and_load_current(tmp_path, book):
    state = tmp_path / "state"
    assert load_current(state) is None
    folder = save_current(book, state)
    assert folder == state / "books" / book.fingerprint
    pointer = json.loads((state / "current_book.json").read_text(encoding="utf-8"))
    assert pointer["fingerprint"] == book.fingerprint and pointer["source"] == "hand-made"
    assert set(pointer) == {"fingerprint", "source", "loaded_at", "files"}
    assert pointer["files"] == _digests(folder)
    loaded = load_current(state)
    _assert_same_book(loaded, book)
    assert loaded.source == "hand-made"
    assert sorted(p.name for p in state.iterdir()) == ["books", "current_book.json"]  # no temp files


def test_the_stored_book_is_trusted_by_its_fingerprint_not_validated_again(tmp_path, book, monkeypatch):
    state = tmp_path / "state"
    folder = save_current(book, state)

    def no_validation(*args, **kwargs):
        raise AssertionError("the stored book was validated again")

    monkeypatch.setattr(schema, "_validate", no_validation)  # what sources calls to validate
    _assert_same_book(load_current(state), book)  # read as stored: same frames, same dtypes
    # Same columns and dtypes, other content: not trusted; read in full, and refused by its fingerprint.
    monkeypatch.undo()
    changed = book.merchants.copy()
    changed.loc[0, "business_name"] = "Someone Else"
    changed.to_parquet(folder / "merchants.parquet", index=False)
    with pytest.raises(DataSourceError, match=rf"the stored book in .* no longer matches its fingerprint "
                                              rf"{book.fingerprint}"):
        load_current(state)


def test_a_stored_book_in_many_parquet_chunks_loads_with_one_chunk_per_text_column(tmp_path, book):
    state = tmp_path / "state"
    folder = save_current(book, state)
    book.activity.to_parquet(folder / "monthly_activity.parquet", index=False, row_group_size=3)  # 6 chunks
    loaded = load_current(state)
    _assert_same_book(loaded, book)
    for column in ("merchant_id", "month"):
        assert loaded.activity[column].dtype == book.activity[column].dtype
        assert loaded.activity[column].array._pa_array.num_chunks == 1


def test_failed_validation_keeps_the_previous_current_book(tmp_path, book):
    state = tmp_path / "state"
    save_current(book, state)
    pointer_before = (state / "current_book.json").read_bytes()
    bad = {name: (BAD / "negative_amount" / name).read_bytes()
           for name in ("merchants.csv", "monthly_activity.csv")}
    with pytest.raises(SchemaError, match="refund_krw"):
        save_current(read_uploaded(bad, today=TODAY), state)
    assert (state / "current_book.json").read_bytes() == pointer_before
    _assert_same_book(load_current(state), book)
    assert [p.name for p in (state / "books").iterdir()] == [book.fingerprint]


def test_a_new_book_replaces_the_current_one(tmp_path, book):
    state = tmp_path / "state"
    save_current(book, state)
    tables = good_tables(with_outcomes=False)
    newer = validate_tables(tables, today=TODAY, source="newer")
    save_current(newer, state)
    _assert_same_book(load_current(state), newer)
    assert sorted(p.name for p in (state / "books").iterdir()) == sorted([book.fingerprint, newer.fingerprint])


def test_a_book_in_other_dtypes_is_validated_before_it_is_saved(tmp_path, book):
    raw = Book(merchants=good_tables()["merchants"], activity=good_tables()["monthly_activity"], source="raw")
    folder = save_current(raw, tmp_path / "state")
    assert folder.name == validate_tables(good_tables(with_outcomes=False)).fingerprint
    broken = Book(merchants=good_tables()["merchants"].assign(region="Atlantis"), activity=book.activity)
    with pytest.raises(SchemaError, match=r"merchants\.region: rows 1, 2, 3, 4: unknown region"):
        save_current(broken, tmp_path / "other")
    assert not (tmp_path / "other").exists()


def test_damaged_state_is_reported_not_replaced(tmp_path, book):
    state = tmp_path / "state"
    folder = save_current(book, state)
    shutil.copy(BAD / "negative_amount" / "monthly_activity.csv", folder / "monthly_activity.csv")
    (folder / "monthly_activity.parquet").unlink()
    with pytest.raises(SchemaError, match="refund_krw"):
        load_current(state)
    (state / "current_book.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(DataSourceError, match=r"current_book\.json is damaged"):
        load_current(state)
    (state / "current_book.json").write_text(json.dumps({"fingerprint": "0123456789abcdef"}), encoding="utf-8")
    with pytest.raises(DataSourceError, match="the current book 0123456789abcdef is missing"):
        load_current(state)


@pytest.mark.postgres
def test_postgresql_types_load_the_same_book(book):
    """Real column types (DATE, BOOLEAN, NUMERIC, BIGINT) as psycopg returns them."""
    import sqlalchemy as sa

    from tests.support.pg import fresh_postgres_database

    numeric = {"region_income_index": sa.Numeric(6, 3), "true_pd": sa.Numeric(6, 4)}
    with fresh_postgres_database() as url:
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        merchants = book.merchants.assign(
            opened_on=pd.to_datetime(book.merchants["opened_on"]).dt.date,
            joined_platform_on=pd.to_datetime(book.merchants["joined_platform_on"]).dt.date)
        with engine.begin() as conn:
            merchants.to_sql("merchants", conn, index=False, dtype={
                "opened_on": sa.Date(), "joined_platform_on": sa.Date(), "bureau_score": sa.Integer(),
                "owner_has_credit_card": sa.Boolean(), **numeric})
            book.activity.to_sql("monthly_activity", conn, index=False, dtype={"gmv_krw": sa.BigInteger()})
            book.outcomes.to_sql("outcomes", conn, index=False, dtype=numeric)
        engine.dispose()
        loaded = read_book(url, today=TODAY)
    _assert_same_book(loaded, book)
    assert "@" in loaded.source and loaded.source.startswith("postgresql+psycopg://")
