"""Write the bad-input corpus: one small folder per case, each breaking (or bending) one rule.

Three kinds of case are written to disk and committed (``CASES``):

- book cases: a book folder (``merchants``, ``monthly_activity``, optionally ``outcomes``), made
  from the hand-built valid book in ``tests/support/books.py`` with one thing changed;
- product cases (``products_*``): a folder holding one ``loan_products.json``, made from the small
  valid catalog :data:`PRODUCTS` here.

Cases ending in ``_valid`` look odd but are valid (BOM, mixed line endings, quoted newlines,
thousands separators as Excel writes them, columns in another order, ...) and load like the
clean input. :data:`KIND` names the table (or ``products`` / ``model``) each case is about.

Model-folder cases (``MODEL_CASES``) are *not* committed: a trained LightGBM model text embeds the
library version and its parameter list, so its bytes are not stable across installs. They are
built by :func:`write_model_cases` into a temporary folder at test time (a few tiny models,
about a second each).

The committed output is deterministic (same bytes on every run), so ``tests/test_bad_inputs.py``
regenerates it into a temporary folder and compares it with the committed files.

Usage::

    python tests/bad_inputs/make_bad_inputs.py [OUT_DIR]    # default: this script's folder
"""
from __future__ import annotations

import csv
import io
import json
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
from tests.support.books import good_tables  # noqa: E402

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


def _edit_cells(edits: dict[tuple[int, str], str]) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """Several cells of one table; (1-based data row, column) -> value."""
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        for (row, column), value in edits.items():
            frame.loc[row - 1, column] = value
        return frame
    return change


def _grouped(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """Amounts with thousands separators, as Excel writes them ("1,250,000")."""
    return frame.assign(**{c: frame[c].map(lambda v: f"{int(v):,}", na_action="ignore") for c in columns})


def _excel_export() -> Files:
    """What Excel's "CSV UTF-8" gives: a BOM, CRLF, every cell quoted, amounts with separators."""
    tables = good_tables()
    tables["monthly_activity"] = _grouped(tables["monthly_activity"], "gmv_krw", "refund_krw", "settlement_krw",
                                          "ad_spend_krw")
    return {f"{name}.csv": b"\xef\xbb\xbf" + frame.to_csv(index=False, lineterminator="\r\n",
                                                          quoting=csv.QUOTE_ALL).encode("utf-8")
            for name, frame in tables.items()}


def _mixed_line_endings() -> Files:
    files = _files(good_tables())
    endings = (b"\r\n", b"\n", b"\r")
    for name, content in files.items():
        lines = content.split(b"\n")[:-1]
        files[name] = b"".join(line + endings[i % (3 if name == "monthly_activity.csv" else 2)]
                               for i, line in enumerate(lines))
    return files


def _unquoted_thousands() -> Files:
    files = _book()
    lines = files["monthly_activity.csv"].split(b"\n")
    cells = lines[5].split(b",")  # data row 5: M002, 2026-01, gmv 2000000
    cells[2] = b"2,000,000"      # the separators of an unquoted amount split it into three cells
    lines[5] = b",".join(cells)
    files["monthly_activity.csv"] = b"\n".join(lines)
    return files


def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    raw = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), raw, compression="none",
                   write_statistics=False)
    return raw.getvalue()


def _truncated_parquet() -> Files:
    files = _book()
    whole = _parquet_bytes(good_tables()["monthly_activity"])
    del files["monthly_activity.csv"]
    # The first half: the data pages without the footer (which also holds the writer's version).
    files["monthly_activity.parquet"] = whole[: len(whole) // 2]
    return files


def _damaged_utf8() -> Files:
    files = _book()
    name = "소담가구".encode()
    files["merchants.csv"] = files["merchants.csv"].replace(name, name[:-1])  # last byte of 구 lost
    return files


def _only_merchants(*ids: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return lambda frame: frame[frame["merchant_id"].isin(ids)].reset_index(drop=True)


def _zero_sales(frame: pd.DataFrame) -> pd.DataFrame:
    """M002 sold nothing for four months: every count and amount 0, no rating."""
    rows = frame["merchant_id"].eq("M002")
    for column in ("gmv_krw", "orders", "returns", "refund_krw", "unique_buyers", "repeat_buyer_rate",
                   "inventory_turnover", "reviews", "disputes", "ship_delay_rate", "settlement_krw",
                   "search_clicks", "ad_spend_krw"):
        frame.loc[rows, column] = "0"
    frame.loc[rows, "avg_rating"] = pd.NA
    return frame


BOOK_CASES: dict[str, Callable[[], Files]] = {
    "empty_file": lambda: {**_book(), "merchants.csv": b""},
    "header_only": _header_only,
    "missing_table": lambda: {"merchants.csv": _book()["merchants.csv"]},
    "missing_column": lambda: _book(monthly_activity=lambda f: f.drop(columns=["orders"])),
    "extra_column": lambda: _book(merchants=lambda f: f.assign(email="owner@example.com")),
    "wrong_type": lambda: _book(monthly_activity=_set(5, "gmv_krw", "pending"),
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
    # --- encodings, line endings, quoting
    "utf16_export": lambda: {**_book(), "merchants.csv": _csv(good_tables()["merchants"], "utf-16")},
    "damaged_utf8_korean": _damaged_utf8,
    "nul_bytes": lambda: {**_book(), "monthly_activity.csv": _book()["monthly_activity.csv"] + b"\x00" * 64},
    "mixed_line_endings_valid": _mixed_line_endings,
    "excel_export_valid": _excel_export,
    "quoted_newline_valid": lambda: _book(merchants=_edit_cells({
        (1, "business_name"): "한빛\n상회", (3, "business_name"): "Green Pet\r\nShop"})),
    "quoted_newline_row_numbers": lambda: _book(merchants=_edit_cells({
        (1, "business_name"): "한빛\n상회\n(본점)", (3, "region"): "Seoul"})),
    "unquoted_thousands_separator": _unquoted_thousands,
    # --- how numbers are written
    "thousands_separators_valid": lambda: _files({
        **good_tables(),
        "merchants": _grouped(good_tables()["merchants"], "bureau_score"),
        "monthly_activity": _grouped(good_tables()["monthly_activity"], "gmv_krw", "refund_krw", "settlement_krw",
                                     "ad_spend_krw", "search_clicks")}),
    "bad_thousands_grouping": lambda: _book(monthly_activity=_edit_cells({
        (5, "gmv_krw"): "20,00,000", (8, "settlement_krw"): "1,7,14,000", (9, "gmv_krw"): "3,000,00"})),
    "korean_number_words": lambda: _book(monthly_activity=_edit_cells({
        (3, "gmv_krw"): "150만원", (4, "gmv_krw"): "백칠십오만", (10, "refund_krw"): "1만 2천"})),
    "nan_and_inf": lambda: _book(monthly_activity=_edit_cells({
        (2, "gmv_krw"): "NaN", (3, "refund_krw"): "inf", (4, "avg_rating"): "-Infinity",
        (5, "inventory_turnover"): "nan"})),
    "huge_numbers": lambda: _book(merchants=_set(1, "bureau_score", "1e30"),
                                  monthly_activity=_edit_cells({
                                      (2, "gmv_krw"): "99999999999999999999999", (3, "orders"): "9223372036854775808",
                                      (4, "inventory_turnover"): "1e400"})),
    # --- ids
    "id_with_invisible_characters": lambda: _book(merchants=_set(3, "merchant_id", "\ufeffM003"),
                                                  monthly_activity=_set(6, "merchant_id", "M002\u200b")),
    "activity_id_with_spaces": lambda: _book(monthly_activity=_set(6, "merchant_id", " M002")),
    # --- shape of the book
    "columns_reordered_valid": lambda: _files({name: frame[frame.columns[::-1]]
                                               for name, frame in good_tables().items()}),
    "months_out_of_order_valid": lambda: _files({**good_tables(), "monthly_activity":
                                                 good_tables()["monthly_activity"].iloc[::-1]}),
    "one_merchant_valid": lambda: _files({name: _only_merchants("M001")(frame)
                                          for name, frame in good_tables().items()}),
    "merchant_with_one_month_valid": lambda: _book(monthly_activity=_drop_rows(13, 14, 15)),
    "all_zero_sales_valid": lambda: _book(monthly_activity=_zero_sales),
    "outcome_duplicate": lambda: _book(outcomes=_append(copy_of=2)),
    # --- files that are not tables
    "truncated_parquet": _truncated_parquet,
    "table_is_a_folder": lambda: {**_book(), "merchants.csv": None,
                                  "merchants.csv/README.txt": b"a folder where merchants.csv should be\n"},
}


# --- the product catalog --------------------------------------------------------------------------------

#: A small valid catalog: one amortizing loan, one revenue-based advance (a subset of the shipped one).
PRODUCTS: list[dict] = [
    {"product_id": "BANK-01", "partner": "Hanbit Bank", "partner_ko": "한빛은행", "name": "한빛 셀러 성장대출",
     "name_en": "Hanbit Seller Growth Loan", "min_score": 600, "min_months_active": 6,
     "min_avg_monthly_gmv_krw": 500000, "limit_multiple_of_monthly_gmv": 4.0, "limit_cap_krw": 50000000,
     "apr_by_grade": {"1": 3.2, "2": 4.1, "3": 5.0, "4": 6.2}, "term_months": 24, "repayment": "amortizing",
     "broker_fee_pct": 1.0},
    {"product_id": "RBF-01", "partner": "FlowPay", "partner_ko": "플로우페이", "name": "플로우 정산 선지급",
     "name_en": "FlowPay Settlement Advance", "min_score": 500, "min_months_active": 3,
     "min_avg_monthly_gmv_krw": 300000, "limit_multiple_of_monthly_gmv": 1.0, "limit_cap_krw": 20000000,
     "eligible_grades": [1, 2, 3, 4, 5, 6], "term_months": 18, "repayment": "daily_settlement_pct",
     "broker_fee_pct": 2.5, "withhold_pct": 12.0, "fixed_fee_pct": 6.0, "min_payment_every_days": 60,
     "min_payment_pct": 11.0, "max_term_months": 18},
]
PRODUCTS_FILE = "loan_products.json"


def _json(value: object) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _catalog(first: dict | None = None, drop: tuple[str, ...] = (), text: str | None = None) -> Files:
    """The valid catalog with fields of the first product changed (or the file's text given whole)."""
    if text is None:
        products = [dict(p) for p in PRODUCTS]
        products[0].update(first or {})
        for field in drop:
            del products[0][field]
        content = _json(products)
    else:
        content = text.encode("utf-8")
    return {PRODUCTS_FILE: content}


def _catalog_text(**raw: str) -> Files:
    """The valid catalog with the JSON text of first-product fields replaced as written (NaN, 1e400)."""
    text = _json(PRODUCTS).decode("utf-8")
    for field, token in raw.items():
        text, n = re.subn(rf'("{field}": )[^,\n]+', rf"\g<1>{token}", text, count=1)
        assert n == 1, field
    return {PRODUCTS_FILE: text.encode("utf-8")}


def _repeated_field() -> Files:
    text = _json(PRODUCTS).decode("utf-8").replace('"min_score": 600,', '"min_score": 600,\n    "min_score": 700,', 1)
    return {PRODUCTS_FILE: text.encode("utf-8")}


PRODUCT_CASES: dict[str, Callable[[], Files]] = {
    "products_bom_crlf_valid": lambda: {PRODUCTS_FILE: b"\xef\xbb\xbf" + _json(PRODUCTS).replace(b"\n", b"\r\n")},
    "products_fields_reordered_valid": lambda: {PRODUCTS_FILE: _json([dict(reversed(p.items())) for p in PRODUCTS])},
    "products_grouped_amount_valid": lambda: _catalog({"limit_cap_krw": "50,000,000"}),
    "products_truncated_json": lambda: {PRODUCTS_FILE: _json(PRODUCTS)[:700]},
    "products_empty_file": lambda: {PRODUCTS_FILE: b""},
    "products_not_a_list": lambda: {PRODUCTS_FILE: _json({"products": PRODUCTS})},
    "products_empty_list": lambda: {PRODUCTS_FILE: b"[]\n"},
    "products_missing_field": lambda: _catalog(drop=("min_score",)),
    "products_unknown_field": lambda: _catalog({"broker_fee": 1.0}),
    "products_wrong_type": lambda: _catalog({"min_score": "high"}),
    "products_bad_grouping": lambda: _catalog({"limit_cap_krw": "5,00,00,000"}),
    "products_korean_amount": lambda: _catalog({"min_avg_monthly_gmv_krw": "50만원"}),
    "products_nan_inf": lambda: _catalog_text(limit_multiple_of_monthly_gmv="NaN", broker_fee_pct="Infinity"),
    "products_huge_numbers": lambda: _catalog_text(limit_cap_krw="1" + "0" * 30, min_avg_monthly_gmv_krw="1e400"),
    "products_repeated_field": _repeated_field,
    "products_duplicate_id": lambda: {PRODUCTS_FILE: _json([PRODUCTS[0], PRODUCTS[1], PRODUCTS[0]])},
    "products_cp949": lambda: {PRODUCTS_FILE: _json(PRODUCTS).decode("utf-8").encode("cp949")},
    "products_is_a_folder": lambda: {f"{PRODUCTS_FILE}/README.txt": b"a folder where the catalog should be\n"},
}

#: Every committed case: case name -> file name (a ``/`` makes a folder) -> bytes (None: no file).
CASES: dict[str, Callable[[], Files]] = {**BOOK_CASES, **PRODUCT_CASES}


from tests.bad_inputs.make_bad_models import MODEL_CASES, write_model_cases  # noqa: E402,F401


#: The table (or ``products``, ``model``) each case is about.
KIND: dict[str, str] = {
    **{case: "merchants" for case in (
        "empty_file", "extra_column", "undecodable_bytes", "excel_renamed_csv", "bad_reg_no", "unknown_region",
        "id_with_spaces", "joined_before_opened", "utf16_export", "damaged_utf8_korean", "quoted_newline_valid",
        "quoted_newline_row_numbers", "id_with_invisible_characters", "table_is_a_folder", "one_merchant_valid",
        "utf8_bom_valid", "cp949_valid", "columns_reordered_valid")},
    **{case: "monthly_activity" for case in (
        "header_only", "missing_table", "missing_column", "wrong_type", "fractional_amount", "duplicate_key",
        "negative_amount", "rate_out_of_range", "unknown_merchant", "month_in_future", "gap_in_months",
        "nul_bytes", "mixed_line_endings_valid", "excel_export_valid", "unquoted_thousands_separator",
        "thousands_separators_valid", "bad_thousands_grouping", "korean_number_words", "nan_and_inf",
        "huge_numbers", "activity_id_with_spaces", "months_out_of_order_valid", "merchant_with_one_month_valid",
        "all_zero_sales_valid", "truncated_parquet")},
    **{case: "outcomes" for case in ("outcome_not_binary", "outcome_duplicate")},
    **{case: "products" for case in PRODUCT_CASES},
    **{case: "model" for case in MODEL_CASES},
}


def build_cases() -> dict[str, Files]:
    """Case name -> file name -> bytes."""
    return {name: make() for name, make in CASES.items()}


def write_cases(out_dir: Path) -> list[Path]:
    """Write every committed case into ``out_dir/<case>/``, replacing what a previous run wrote there."""
    written = []
    for case, files in build_cases().items():
        folder = Path(out_dir) / case
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        for name, content in sorted(files.items()):
            if content is None:
                continue
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(content)
        written.append(folder)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    for path in write_cases(target):
        print(path)
