"""AppTest: engine errors met on real pages are said in Korean on Korean pages, with no English
engine message (issue #13, "Korean pages in Korean"): a bad upload, a validation report's rules,
an unusable published policy, a watch freeze without a note, and a decision that lost a race."""
from __future__ import annotations

import re

import pytest

from cb_core.i18n import t
from tests.support.app import app_as, data_page_with_uploads
from tests.support.bad_inputs import UploadedFile, case_files
from tests.support.bad_inputs import frozen_today  # noqa: F401  (fixture)
from tests.support.visible import text_problems, visible_texts
from ui.text import unescape

HANGUL = re.compile(r"[가-힣]")


def _reads_korean(app, allowed: set[str] = frozenset()) -> None:
    """The errors the run shows pass the all-pages sweep's rules for a Korean page (no
    snake_case, no nan/None, no Latin-only sentence, no repr; tests/support/visible.py)."""
    said = {unescape(e.value) for e in app.error}
    texts = [(where, unescape(text)) for where, text in visible_texts(app) if unescape(text) in said]
    assert len(texts) >= len(said) > 0
    assert text_problems(texts, "ko", set(allowed)) == []


def _shown(app) -> str:
    """Every message and table cell of the run, as one text."""
    parts = [unescape(e.value) for e in app.error] + [c.value for c in app.code] + [w.value for w in app.warning]
    for frame in app.dataframe:
        parts += [str(v) for v in frame.value.to_numpy().ravel()]
    return "\n".join(parts)


@pytest.fixture
def korean_data_page(own_store):
    """The Data page signed in as admin, in Korean, with ``st.file_uploader`` handing over ``files``
    (AppTest cannot drive an uploader: the test puts the files there)."""
    with data_page_with_uploads(own_store, "ko") as (app, files):
        yield app, files


def _upload(app, files, uploads: dict[str, bytes]) -> None:
    files[:] = [UploadedFile(name, content) for name, content in uploads.items()]
    labels = [b.label for b in app.button]
    app.button[labels.index(t("data_validate_and_load", "ko"))].click().run()
    assert not app.exception, app.exception


def test_an_excel_file_named_csv_is_refused_in_korean(korean_data_page, frozen_today):
    app, files = korean_data_page
    _upload(app, files, case_files("excel_renamed_csv"))
    [error] = [unescape(e.value) for e in app.error]
    assert error == (t("data_upload_failed", "ko") + "\n\nmerchants.csv은(는) 엑셀 통합 문서이며 CSV가 아닙니다. "
                     "CSV(UTF-8)로 저장해 다시 올려 주세요.")
    assert "Excel workbook" not in _shown(app) and not app.code
    _reads_korean(app, {"merchants.csv"})


def test_a_validation_report_shows_its_rules_in_korean(korean_data_page, frozen_today):
    app, files = korean_data_page
    _upload(app, files, case_files("negative_amount"))
    assert [e.value for e in app.error] == [t("error_schema", "ko", n=1)]
    table = app.dataframe[-1].value
    assert table[t("problem_rule", "ko")].tolist() == ["0 이상이어야 합니다"]  # "must be ≥ 0"
    assert table[t("problem_table", "ko")].tolist() == ["월별 거래 (monthly_activity)"]
    assert "must be" not in _shown(app)
    _reads_korean(app)
    rules = [("dataframe.cell", r) for r in table[t("problem_rule", "ko")]]
    assert text_problems(rules, "ko") == []


def test_an_unusable_published_policy_is_said_in_korean_on_the_cutoff_page(own_store):
    from ui.policy import POLICY_NAME

    # published as given (the store keeps payloads; checking them is the strategy's job): refer above approve
    draft = own_store.save_draft(POLICY_NAME, {"approve_cutoff": 600, "refer_cutoff": 650}, "kim")
    own_store.publish(POLICY_NAME, draft.id, "kim", expected_base_version=None, note="broken on purpose")
    app = app_as("kim", own_store)
    app.session_state["lang"] = "ko"
    app.switch_page("views/cutoffs.py").run()
    assert not app.exception, app.exception
    [error] = [unescape(e.value) for e in app.error]
    assert error == (f"게시된 정책 '{POLICY_NAME}' v1을(를) 쓸 수 없습니다: 심사 기준점은 승인 기준점보다 높을 수 "
                     "없습니다. 받은 값: 심사 기준점 650 > 승인 기준점 600. 승인 기준점을 올리거나 심사 기준점을 내리세요.")
    assert "refer_cutoff" not in _shown(app) and "must not" not in _shown(app) and not app.code
    _reads_korean(app, {POLICY_NAME})


def test_a_freeze_without_a_note_is_refused_in_korean(own_store):
    app = app_as("lee", own_store)
    app.session_state["lang"] = "ko"
    app.switch_page("views/watchlist.py").run()
    merchant = app.selectbox(key="watch_merchant").value
    app.radio(key=f"watch_action_{merchant}").set_value("freeze_offers")
    [b for b in app.button if b.label == t("watch_save", "ko")][0].click().run()
    assert not app.exception, app.exception
    assert [e.value for e in app.error] == [t("watch_note_required", "ko")]
    assert HANGUL.search(app.error[0].value) and "note" not in _shown(app)
    assert own_store.watch_actions(merchant) == []


def test_a_decision_recorded_meanwhile_is_a_conflict_said_in_korean(own_store, small_book):
    merchant_id = small_book.merchants["merchant_id"].iloc[7]
    app = app_as("admin", own_store)
    app.session_state["lang"] = "ko"
    app.switch_page("views/merchant_review.py").run()
    app.text_input(key="review_query").set_value(merchant_id).run()
    theirs = own_store.save_decision(merchant_id, "decline", "their note", "lee", 500, 9, 0.3, [], None, None, "m")
    app.radio(key=f"decision_choice_{merchant_id}_0").set_value("approve")
    app.text_area(key=f"decision_note_{merchant_id}_0").set_value("매출 증빙 확인")
    app.button[[b.label for b in app.button].index(t("decision_save", "ko"))].click().run()
    assert not app.exception, app.exception
    said = [unescape(e.value) for e in app.error]
    assert f"가맹점 '{merchant_id}'에 대해 화면을 연 뒤 결정 {theirs.id}({t('decision_decline', 'ko')}, lee)이(가) 기록되었습니다. " \
           "그 결정을 확인하고 다시 결정하세요." in said, said
    assert "already has decision" not in _shown(app) and not app.code
    assert [d.id for d in own_store.decisions_for(merchant_id)] == [theirs.id]
    _reads_korean(app, {merchant_id, "lee"} | set(small_book.merchants["business_name"]))


def test_a_bad_catalog_edit_lists_its_problems_in_korean(own_store):
    from tests.support.app import edit_catalog

    app = app_as("kim", own_store)
    app.session_state["lang"] = "ko"
    app.switch_page("views/products.py").run()
    edit_catalog(app, 0, {0: {"limit_cap_krw": -1}})
    problems = app.dataframe[1].value[t("prodcat_col_problem", "ko")].tolist()
    assert problems == [f"상품 BANK-01: {t('prodfield_limit_cap_krw', 'ko')} — 음수일 수 없습니다"]  # "must not be negative"
    assert own_store.current_products() is None
