"""Explanation records (art. 36-2) and the Decisions page's request tracking (PIPA art. 37-2)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from cb_core.reports import explanation_record, explanation_text, information_weights
from tests.support.app import app_as


def test_information_weights_by_hand():
    points = pd.Series({"base_points": 600.0, "points__return_rate_6m": -12.0, "points__refund_ratio_6m": -3.0,
                        "points__gmv_3m_avg_krw": 10.0, "points__bureau_score": -5.0})
    w = information_weights(points, "en").set_index("group")
    assert w.loc["returns", "points"] == pytest.approx(-15.0)
    assert w.loc["returns", "weight"] == pytest.approx(15 / 30)
    assert w.loc["sales", "weight"] == pytest.approx(10 / 30)
    assert w.loc["credit", "weight"] == pytest.approx(5 / 30)
    assert w.loc["returns", "label"] == "Returns and refunds" and w.loc["returns", "features"] == 2
    assert list(w.index) == ["returns", "sales", "credit"]


def test_record_of_a_real_merchant(small_book, trained):
    from cb_core.features import current_snapshot
    from cb_core.explain import cutoff_reference, explain_merchant

    model, _ = trained
    snap = current_snapshot(small_book)
    scores = model.score(snap)
    low = scores["score"].idxmin()
    ex = explain_merchant(model, snap, low, cutoff_reference(model, snap, scores, 590))
    record = explanation_record(ex, "테스트상회", small_book.last_month, model.version, "ko", "decline", 3)
    assert record.weights["weight"].sum() == pytest.approx(1.0)
    assert record.weights["points"].sum() == pytest.approx(ex.points.filter(like="points__").sum())
    text = explanation_text(record, "ko")
    assert f"신용점수 {ex.score}점" in text and "거절" in text and "v3" in text and small_book.last_month in text
    for reason in ex.reasons["reason"]:
        assert reason in text
    assert "30일" in text and "사람의 검토" in text
    assert "<" not in text  # plain text, no markup


def test_requests_due_in_30_days_overdue_flag_and_substantive_review(app_users):
    old = app_users.open_request("M0000001", "human_review", "자동 거절에 대한 재검토 요청", "lee",
                                 received_at=datetime.now(timezone.utc) - timedelta(days=40))
    assert old.due_at - old.received_at == timedelta(days=30)
    app = app_as("lee", app_users)
    app.switch_page("views/decisions.py").run()
    assert not app.exception, app.exception
    assert any("기한을 넘긴" in e.value for e in app.error)
    requests = app.dataframe[-1].value if len(app.dataframe) > 1 else app.dataframe[0].value
    row = requests[requests["번호"] == old.id].iloc[0]
    assert row["기한 초과"] == "⚠️" and row["요청 종류"] == "사람 검토"
    # a rubber stamp is refused, a substantive reason resolves it
    app.selectbox(key="ru_id").set_value(old.id)
    app.selectbox(key="ru_status").set_value("resolved")
    app.text_area(key="ru_resolution").set_value("확인함")
    app.button[[b.label for b in app.button].index("저장")].click().run()
    assert app.error, "a rubber-stamp resolution must be refused"
    assert next(r for r in app_users.list_requests() if r.id == old.id).status != "resolved"
    app.selectbox(key="ru_id").set_value(old.id)
    app.selectbox(key="ru_status").set_value("resolved")
    app.text_area(key="ru_resolution").set_value("최근 6개월 반품률 하락과 정산 내역을 검토해 승인으로 변경함")
    app.button[[b.label for b in app.button].index("저장")].click().run()
    resolved = next(r for r in app_users.list_requests() if r.id == old.id)
    assert resolved.status == "resolved" and resolved.resolved_by == "lee"
