"""ui.display: engine tables with catalog headers, words for codes and one formatter per unit on
screen; the CSV keeps the raw values at full precision with the unit in each header."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _script(language: str) -> None:
    import pandas as pd
    import streamlit as st

    from ui.display import present, segment_label, value_label

    st.session_state["lang"] = language
    frame = pd.DataFrame({"group": ["swap_in", "stage2_rescued"], "share": [0.123456, float("nan")],
                          "expected_bad_rate": [0.0717, 0.5], "n": [1234, 5], "thin_file": [1, 0],
                          "psi": [571.6683, 0.00004], "column": ["months_active", "no_such_feature"]})
    shown, raw = present(frame, {"share": "pct", "expected_bad_rate": "pct2", "n": "count", "psi": "num3"},
                         {"group": value_label, "thin_file": segment_label("thin_file"), "column": value_label})
    st.session_state["out"] = (shown.to_dict("list"), raw.to_dict("list"))


def _present(language: str):
    app = AppTest.from_function(_script, args=(language,), default_timeout=60).run()
    assert not app.exception, app.exception
    return app.session_state["out"]


def test_present_in_korean():
    shown, raw = _present("ko")
    assert shown == {"구분": ["스왑인 (우리만 승인)", "2단계 구제"], "비중": ["12.3%", "–"],
                     "예상 부실률": ["7.17%", "50.00%"], "가맹점 수": ["1,234", "5"],
                     "신파일러 여부": ["신파일러", "신용이력 있음"], "PSI": ["571.668", "0.000"],
                     "열": ["매출 발생 개월수", "no_such_feature"]}  # a feature id by its catalog label
    # the CSV: same rows, raw values, units in headers
    assert raw["비중 [비율, 0–1]"][0] == 0.123456
    assert raw["예상 부실률 [비율, 0–1]"] == [0.0717, 0.5]
    assert raw["PSI"] == [571.6683, 0.00004] and raw["가맹점 수"] == [1234, 5]


def test_present_in_english():
    shown, raw = _present("en")
    assert shown["Group"] == ["Swap-in (only we approve)", "Rescued at stage 2"]
    assert shown["Share"] == ["12.3%", "–"] and shown["Merchants"] == ["1,234", "5"]
    assert shown["Column"] == ["Months with sales", "no_such_feature"]
    assert list(raw) == ["Group", "Share [fraction, 0–1]", "Expected bad rate [fraction, 0–1]", "Merchants",
                         "Thin file", "PSI", "Column"]
