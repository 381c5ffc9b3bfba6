"""Write the bad-input corpus: one small book folder per case, each breaking one rule.

Every case starts from the hand-built valid book in ``tests/conftest_book.py`` and changes one
thing. The output is deterministic (same bytes on every run), so ``tests/test_sources.py``
regenerates it into a temporary folder and compares it with the committed files.

Usage::

    python tests/bad_inputs/make_bad_inputs.py [OUT_DIR]    # default: this script's folder
"""
from __future__ import annotations

import io
import re
import shutil
import sys
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Callable

import pandas as pd

if str(Path(__file__).resolve().parents[2]) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.conftest_book import good_tables  # noqa: E402

HERE = Path(__file__).resolve().parent
Files = dict[str, bytes]
Tables = dict[str, pd.DataFrame]


def _csv(frame: pd.DataFrame, encoding: str = "utf-8") -> bytes:
    return frame.to_csv(index=False, lineterminator="\n").encode(encoding)


def _files(tables: Tables, encoding: str = "utf-8") -> Files:
    return {f"{name}.csv": _csv(frame, encoding) for name, frame in tables.items()}


def _book(**changes: Callable[[pd.DataFrame], pd.DataFrame]) -> Files:
    """The valid book without outcomes, with one function applied per named table."""
    tables = good_tables(with_outcomes="outcomes" in changes)
    for name, change in changes.items():
        tables[name] = change(tables[name].copy())
    return _files(tables)


def _set(row: int, column: str, value: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """Set one cell; ``row`` is the 1-based data row number the tests expect in the report."""
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[row - 1, column] = value
        return frame
    return change


def _append(*rows: dict[str, str], copy_of: int | None = None) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        extra = [frame.iloc[copy_of - 1].to_dict()] if copy_of else []
        for row in rows:
            base = frame.iloc[0].to_dict()
            base.update(row)
            extra.append(base)
        return pd.concat([frame, pd.DataFrame(extra, dtype="str")], ignore_index=True)
    return change


def _xlsx_bytes() -> bytes:
    """A real (tiny) Excel workbook, with fixed timestamps so that its bytes never change."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    merchants = good_tables()["merchants"]
    sheet.append(list(merchants.columns))
    for row in merchants.itertuples(index=False):
        sheet.append([None if pd.isna(v) else v for v in row])
    book.properties.created = datetime(2026, 1, 1)
    raw = io.BytesIO()
    book.save(raw)
    # openpyxl stamps the save time into the properties and the zip entries: pin both, and store
    # the entries uncompressed so that the bytes do not depend on the zlib build either.
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2026-01-01T00:00:00Z", content)
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0)), content)
    return out.getvalue()


def _undecodable() -> Files:
    files = _book()
    text = files["merchants.csv"]
    # A stray 0xFF (never valid in UTF-8 or CP949) inside row 3's business name.
    files["merchants.csv"] = text.replace("Green Pet Shop".encode(), b"Green \xffPet Shop")
    return files


def _header_only() -> Files:
    files = _book()
    files["monthly_activity.csv"] = files["monthly_activity.csv"].split(b"\n", 1)[0] + b"\n"
    return files


def _drop_rows(*rows: int) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return lambda frame: frame.drop(index=[r - 1 for r in rows]).reset_index(drop=True)


CASES: dict[str, Callable[[], Files]] = {
    "empty_file": lambda: {**_book(), "merchants.csv": b""},
    "header_only": _header_only,
    "missing_table": lambda: {"merchants.csv": _book()["merchants.csv"]},
    "missing_column": lambda: _book(monthly_activity=lambda f: f.drop(columns=["orders"])),
    "extra_column": lambda: _book(merchants=lambda f: f.assign(email="owner@example.com")),
    "wrong_type": lambda: _book(monthly_activity=_set(5, "gmv_krw", "1,250,000"),
                                merchants=_set(2, "bureau_score", "unknown")),
    "fractional_amount": lambda: _book(monthly_activity=_set(7, "refund_krw", "1500.5")),
    "duplicate_key": lambda: _book(merchants=_append(copy_of=1),
                                   monthly_activity=_append(copy_of=3)),
    "negative_amount": lambda: _book(monthly_activity=_set(6, "refund_krw", "-5000")),
    "rate_out_of_range": lambda: _book(monthly_activity=lambda f: _set(9, "ship_delay_rate", "-0.1")(
        _set(2, "repeat_buyer_rate", "1.3")(f))),
    "unknown_merchant": lambda: _book(monthly_activity=_append({"merchant_id": "M999", "month": "2026-01"},
                                                               {"merchant_id": "M999", "month": "2026-02"})),
    "month_in_future": lambda: _book(monthly_activity=_append({"month": "2099-01"})),
    "undecodable_bytes": _undecodable,
    "excel_renamed_csv": lambda: {**_book(), "merchants.csv": _xlsx_bytes()},
    "bad_reg_no": lambda: _book(merchants=_set(2, "business_reg_no", "234-5678-901")),
    "unknown_region": lambda: _book(merchants=_set(1, "region", "Seoul")),
    "id_with_spaces": lambda: _book(merchants=_set(3, "merchant_id", "M003 ")),
    "joined_before_opened": lambda: _book(merchants=_set(4, "joined_platform_on", "2023-01-31")),
    "gap_in_months": lambda: _book(monthly_activity=_drop_rows(6, 7)),
    "outcome_not_binary": lambda: _book(outcomes=_set(2, "defaulted_12m", "2")),
    "utf8_bom_valid": lambda: {name: b"\xef\xbb\xbf" + content for name, content in
                               _files(good_tables()).items()},
    "cp949_valid": lambda: _files(good_tables(), encoding="cp949"),
}


def build_cases() -> dict[str, Files]:
    """Case name -> file name -> bytes."""
    return {name: make() for name, make in CASES.items()}


def write_cases(out_dir: Path) -> list[Path]:
    """Write every case into ``out_dir/<case>/``, replacing what a previous run wrote there."""
    written = []
    for case, files in build_cases().items():
        folder = Path(out_dir) / case
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        for name, content in sorted(files.items()):
            (folder / name).write_bytes(content)
        written.append(folder)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    for path in write_cases(target):
        print(path)
