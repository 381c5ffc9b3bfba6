"""The validation pack: every section in both languages, the engine's figures, masked personal data,
escaped untrusted names, nothing fetched or run, printable; and the information weights by hand."""
from __future__ import annotations

import dataclasses
import html
import re
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

from cb_core.errors import ConfigError
from cb_core.i18n import t
from cb_core.loans import backtest, roll_rates
from cb_core.reports import (backtest_table, information_weights_of, mask_name, mask_reg_no, roll_table,
                             sample_points, validation_pack_html, validation_tables)

AT = datetime(2026, 12, 2, 3, 30, tzinfo=timezone.utc)
SECTIONS = ("bp_sec_card", "bp_sec_discrimination", "bp_sec_backtest", "bp_sec_vintages", "bp_sec_rolls",
            "bp_sec_early", "bp_sec_stability", "bp_sec_weights", "bp_sec_bad_loans")


def _report_data(report) -> dict:
    return {"validation": report.validation, "training_scores": list(report.training_scores),
            "training_sample": report.training_sample}


@pytest.fixture(scope="module")
def tables(small_book, trained):
    return validation_tables(small_book, trained[0], _report_data(trained[1]))


def _text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", " ", page, flags=re.S)))


def _table_cells(page: str, columns) -> list[str]:
    """The cells (unescaped, row by row) of the table whose header row is exactly ``columns``."""
    head = "".join(f"<th>{html.escape(str(c), quote=True)}</th>" for c in columns)
    start = page.index(f"<thead><tr>{head}</tr></thead>")
    body = page[start:page.index("</table>", start)]
    return [html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", body)]


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_section_in_each_language_with_the_engine_figures(tables, small_book, lang):
    page = validation_pack_html(tables, lang=lang, generated_at=AT)
    assert page.startswith("<!DOCTYPE html>") and f'<html lang="{lang}">' in page
    for key in SECTIONS:
        assert f"<h2>{html.escape(t(key, lang))}</h2>" in page, key
    assert "2026-12-02 12:30 KST" in page  # generated at, in Korea time
    # the backtest and roll-rate tables are the engine's, cell by cell, in this order
    for frame in (backtest_table(backtest(small_book), lang), roll_table(roll_rates(small_book), lang)):
        assert _table_cells(page, frame.columns) == [str(v) for v in frame.to_numpy().ravel()]
    # definitions named: the score's bad and the vintages' 90+
    assert html.escape(t("loans_def_bad", lang)) in page and html.escape(t("loans_def_dpd_90", lang)) in page
    # one vintage line per booking cohort
    assert page.count("<polyline") == small_book.loans["booked_month"].nunique()
    # the test window's metrics from the card
    assert f"{tables.card['metrics']['auc']:,.3f}" in page
    text = _text(page)
    assert not re.search(r"\b(nan|NaN|None)\b", text)
    if lang == "ko":
        assert not re.search(r"\b[a-z]+_[a-z0-9_]+\b", text), re.findall(r"\b[a-z]+_[a-z0-9_]+\b", text)[:5]


def test_self_contained_and_printable(tables):
    page = validation_pack_html(tables, lang="ko", generated_at=AT)
    assert 'http-equiv="Content-Security-Policy"' in page and "default-src 'none'" in page
    for needle in ("<script", "<link", "src=", "href=", "@import", "url("):
        assert needle not in page.lower(), needle
    assert "@media print" in page and "@page" in page


def test_personal_data_are_masked(tables, small_book):
    page = validation_pack_html(tables, lang="en", generated_at=AT)
    assert len(tables.bad_loans) > 0
    people = small_book.merchants.set_index("merchant_id").loc[tables.bad_loans["merchant_id"]]
    for owner, reg_no in zip(people["owner_name"], people["business_reg_no"]):
        assert f">{html.escape(owner)}<" not in page and reg_no not in page
        assert f">{html.escape(mask_name(owner))}<" in page and mask_reg_no(reg_no) in page
    for name in small_book.merchants["business_name"]:  # business names are left out entirely
        assert f">{html.escape(name)}<" not in page


def test_untrusted_names_are_escaped(small_book, trained):
    bad_ids = tables_bad_ids(small_book)
    loans = small_book.loans.copy()
    loans["partner"] = loans["partner"].astype(object)
    loans.loc[loans["loan_id"].isin(bad_ids), "partner"] = '<script>alert("p")</script>'
    merchants = small_book.merchants.copy()
    merchants["owner_name"] = merchants["owner_name"].astype(object)
    merchants.loc[merchants["merchant_id"].isin(loans.loc[loans["loan_id"].isin(bad_ids), "merchant_id"]),
                  "owner_name"] = "<img src=x onerror=alert(1)>"
    book = dataclasses.replace(small_book, loans=loans, merchants=merchants, _fingerprint=None)
    page = validation_pack_html(validation_tables(book, trained[0], _report_data(trained[1])), lang="ko",
                                generated_at=AT)
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(&quot;p&quot;)&lt;/script&gt;" in page
    assert html.escape(mask_name("<img src=x onerror=alert(1)>")) in page


def tables_bad_ids(book) -> list[str]:
    from cb_core.loans import BAD_FOR_SCORE, first_bad_mob

    first = first_bad_mob(book.loans, book.loan_months, BAD_FOR_SCORE)
    return list(first.dropna().index)


def test_information_weights_by_hand():
    # sales: |2| and |-4| -> mean 3 (gmv_3m_avg_krw) + 1 (months_active); credit: mean |-6|, |2| = 4 (bureau_score)
    points = pd.DataFrame({"base_points": [600.0, 610.0], "points__gmv_3m_avg_krw": [2.0, -4.0],
                           "points__months_active": [1.0, -1.0], "points__bureau_score": [-6.0, 2.0]})
    w = information_weights_of(points).set_index("group")
    assert w.loc["sales", "points"] == pytest.approx(4.0) and w.loc["credit", "points"] == pytest.approx(4.0)
    assert w.loc["sales", "weight"] == pytest.approx(0.5) and w.loc["credit", "weight"] == pytest.approx(0.5)
    assert w.loc["sales", "features"] == 2 and w["weight"].sum() == pytest.approx(1.0)
    with pytest.raises(ConfigError, match="points__"):
        information_weights_of(pd.DataFrame({"base_points": [1.0]}))


def test_sample_points_add_up_to_the_score(small_book, trained):
    from cb_core.features import current_snapshot

    model = trained[0]
    points = sample_points(small_book, model, n=300)
    assert len(points) == 300
    scores = model.score(current_snapshot(small_book).loc[points.index])["score"]
    total = points.sum(axis=1)  # base + every feature's points = the score before rounding and clipping
    assert np.abs(total.clip(1, 1000) - scores).max() <= 0.5 + 1e-6


def test_bad_input_is_named(small_book, trained, tables):
    no_loans = dataclasses.replace(small_book, loans=None, loan_months=None, _fingerprint=None)
    with pytest.raises(ConfigError, match="no loans and loan_months"):
        validation_tables(no_loans, trained[0], _report_data(trained[1]))
    with pytest.raises(ConfigError, match="unknown delinquency definition 'dpd_120'"):
        validation_tables(small_book, trained[0], _report_data(trained[1]), bad="dpd_120")
    with pytest.raises(ConfigError, match="language must be one of"):
        validation_pack_html(tables, lang="fr", generated_at=AT)


def test_a_model_folder_without_report_files_still_gives_a_pack(small_book, trained):
    bare = validation_tables(small_book, trained[0], {})  # card deciles; no calibration table, no feature PSI
    page = validation_pack_html(bare, lang="en", generated_at=AT)
    assert bare.calibration is None and bare.feature_psi is None and len(bare.score_psi) > 0
    assert html.escape(t("bp_no_test_rows", "en")) in page
