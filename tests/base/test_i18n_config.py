"""Labels in both languages, KRW formatting, settings documented and validated."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from cb_core.config import SETTINGS, Settings, get_settings
from cb_core.errors import ConfigError
from cb_core.i18n import (format_count, format_days, format_krw, format_kst, format_months, format_number, format_pct,
                          strings, t)
from tests.support.app import ROOT


def test_every_label_has_both_languages():
    for key, texts in strings().items():
        assert set(texts) == {"ko", "en"}, key
        assert texts["ko"].strip() and texts["en"].strip(), key


def test_every_label_used_in_code_exists():
    used = set()
    for path in [ROOT / "app.py", *ROOT.glob("views/*.py"), *ROOT.glob("ui/*.py")]:
        used |= set(re.findall(r"\btr\(\s*[\"']([a-z0-9_]+)[\"']", path.read_text(encoding="utf-8")))
    missing = used - set(strings())
    assert not missing, f"labels used but not in data/i18n/*.json: {sorted(missing)}"
    assert len(used) > 20


def test_unknown_label_and_language_are_errors():
    with pytest.raises(ConfigError, match="no en text for label 'nope'"):
        t("nope", "en")
    with pytest.raises(ConfigError, match="language must be one of ko, en; got 'fr'"):
        t("nav_data", "fr")
    assert t("data_loaded", "en", merchants="1,000", fingerprint="abc") == \
        "Loaded a new book of 1,000 merchants (fingerprint abc)."


@pytest.mark.parametrize("amount, ko, en", [
    (0, "0원", "₩0"), (5_000, "5,000원", "₩5,000"), (12_500_000, "1,250만원", "₩12.5M"),
    (12_345_678, "1,235만원", "₩12.3M"), (250_000_000, "2억 5,000만원", "₩250M"),
    (1_234_567_890, "12억 3,457만원", "₩1.2B"), (-3_000_000, "-300만원", "-₩3.0M"), (None, "–", "–"),
])
def test_format_krw(amount, ko, en):
    assert format_krw(amount, "ko") == ko
    assert format_krw(amount, "en") == en


@pytest.mark.parametrize("amount, ko, ko_short, en", [
    (1_250_030_000_000, "1조 2,500억 3,000만원", "1.25조원", "₩1.3T"),  # 1조 = 10,000억
    (532_900_000, "5억 3,290만원", "5.33억원", "₩533M"),
    (99_994_999, "9,999만원", "9,999만원", "₩100M"),   # short only from 1억: below it the full form is short
    (99_995_000, "1억원", "1.00억원", "₩100M"),         # rounds up to 1.00억
    (999_960_000, "9억 9,996만원", "10.0억원", "₩1.0B"),  # rounding carries into the next digit / unit
    (999_600_000_000, "9,996억원", "1.00조원", "₩1.0T"),
    (-1_500_000_000, "-15억원", "-15.0억원", "-₩1.5B"), (999_950, "100만원", "100만원", "₩1.0M"),
])
def test_format_krw_large_and_short(amount, ko, ko_short, en):
    assert format_krw(amount, "ko") == ko
    assert format_krw(amount, "ko", short=True) == ko_short
    assert format_krw(amount, "en", short=True) == format_krw(amount, "en") == en


@pytest.mark.parametrize("amount, ko, en", [
    (2_217_433, "221만 7,433원", "₩2,217,433"), (499_999, "49만 9,999원", "₩499,999"),
    (2_170_000, "217만원", "₩2,170,000"), (71_391, "71,391원", "₩71,391"), (0, "0원", "₩0"),
    (1_000_000_000_005, "1조 5원", "₩1,000,000,000,005"), (-123_456_789, "-1억 2,345만 6,789원", "-₩123,456,789"),
    (float("nan"), "–", "–"),
])
def test_format_krw_exact_keeps_every_won(amount, ko, en):
    """A daily schedule's balance (each day 8,567원 less) must not read 217만원 twice."""
    assert format_krw(amount, "ko", exact=True) == ko
    assert format_krw(amount, "en", exact=True) == en


def test_a_short_amount_fits_a_headline_column():
    """Every amount up to 999조, short, is at most 8 characters in Korean (9 with a sign): a row of five
    metrics at 1440 px holds that (tests/browser/test_browser_clipping.py checks the pages)."""
    amounts = [10 ** e * m for e in range(0, 15) for m in (1, 1.23456, 4.99949, 9.99951, 9.4444)]
    longest = max((format_krw(a, "ko", short=True) for a in amounts), key=len)
    assert len(longest) <= 8, longest


@pytest.mark.parametrize("fraction, kw, ko, en", [
    (0.01234, {}, "1.2%", "1.2%"), (0.5, {"digits": 0}, "50%", "50%"), (0.0004, {"digits": 2}, "0.04%", "0.04%"),
    (0.004, {"signed": True}, "+0.4%p", "+0.4 pp"), (-0.0125, {"signed": True, "digits": 2}, "-1.25%p", "-1.25 pp"),
    (float("nan"), {}, "–", "–"), (None, {}, "–", "–"), (float("inf"), {}, "–", "–"), (12.5, {}, "1,250.0%", "1,250.0%"),
])
def test_format_pct(fraction, kw, ko, en):
    assert format_pct(fraction, "ko", **kw) == ko
    assert format_pct(fraction, "en", **kw) == en


def test_format_counts_months_days_numbers():
    assert format_count(75_210.4, "ko") == "75,210"  # never 7.52e+04
    assert format_count(1234, "ko", unit="merchants") == "1,234개 가맹점"
    assert format_count(1234, "en", unit="merchants") == "1,234 merchants"
    assert format_count(float("nan"), "en") == "–"
    assert (format_months(3, "ko"), format_months(1, "en"), format_months(12, "en")) == ("3개월", "1 month", "12 months")
    assert (format_days(45, "ko"), format_days(1, "en"), format_days(None, "ko")) == ("45일", "1 day", "–")
    assert format_number(75_210.0, "en") == "75,210" and format_number(588.9527, "ko", digits=1) == "589.0"


def test_format_kst_shows_korea_time_with_the_zone():
    import datetime as dt

    import pandas as pd

    assert format_kst("2026-12-02 12:30:00", "ko") == "2026-12-02 21:30 KST"  # naive = UTC
    assert format_kst(pd.Timestamp("2026-12-31 20:05:09", tz="UTC"), "en", seconds=True) == "2027-01-01 05:05:09 KST"
    aware = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))  # 14:00 UTC
    assert format_kst(aware, "ko") == "2026-06-01 23:00 KST"
    assert format_kst(None, "ko") == format_kst(pd.NaT, "en") == "–"


def test_readme_documents_every_setting():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for s in SETTINGS:
        assert f"| `{s.name}` |" in readme, f"README does not document setting {s.name}"


def test_settings_from_environment(monkeypatch):
    monkeypatch.setenv("CB_DEMO_MERCHANTS", "1234")
    assert get_settings().demo_merchants == 1234
    monkeypatch.setenv("CB_DEMO_MERCHANTS", "many")
    with pytest.raises(ConfigError, match="CB_DEMO_MERCHANTS must be a int; got 'many'"):
        get_settings()
    monkeypatch.setenv("CB_DEMO_MERCHANTS", "0")
    with pytest.raises(ConfigError, match="demo_merchants must be at least 1; got 0"):
        get_settings()


def test_settings_are_one_frozen_typed_object(monkeypatch):
    monkeypatch.delenv("CB_PDO", raising=False)
    settings = get_settings(pdo=20, state_dir=Path("/tmp/cb"))
    assert isinstance(settings, Settings)
    assert (settings.pdo, settings.base_score, settings.state_dir) == (20.0, 600.0, "/tmp/cb")
    assert type(settings.pdo) is float  # an int is taken for a float setting, stored as float
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.pdo = 30.0
    assert dataclasses.replace(settings, lgd=0.4).lgd == 0.4
    assert [s.name for s in SETTINGS] == [f.name for f in dataclasses.fields(Settings)]
    assert {s.name: s.default for s in SETTINGS} == dataclasses.asdict(Settings())


@pytest.mark.parametrize("overrides, message", [
    ({"colour": "red"}, "unknown setting(s): colour"),
    ({"lgd": 1.5}, "lgd must be within 0–1; got 1.5"),
    ({"approve_cutoff": 1200}, "approve_cutoff must be within 1–1000; got 1200"),
    ({"demo_months": 121}, "demo_months must be within 1–120; got 121"),
    ({"max_upload_mb": 0}, "max_upload_mb must be at least 1; got 0"),
    ({"pdo": 0}, "pdo must be greater than 0; got 0"),
    ({"base_odds": -2.0}, "base_odds must be greater than 0; got -2"),
    ({"pdo": float("nan")}, "pdo must be a finite number; got nan"),
    ({"max_report_rows": "20"}, "max_report_rows must be a int; got '20'"),
    ({"session_timeout_minutes": True}, "session_timeout_minutes must be a int; got True"),
    ({"demo_end_month": "2026-13"}, "demo_end_month must be a month YYYY-MM; got '2026-13'"),
])
def test_settings_validation_messages(overrides, message):
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        get_settings(**overrides)


def test_replace_validates_too():
    with pytest.raises(ConfigError, match="^lgd must be within 0–1; got -0.1$"):
        dataclasses.replace(get_settings(), lgd=-0.1)


def test_engine_never_imports_streamlit():
    offenders = [p.name for p in (ROOT / "cb_core").rglob("*.py")
                 if re.search(r"^\s*(import|from)\s+streamlit", p.read_text(encoding="utf-8"), re.M)]
    assert offenders == []


def test_no_page_renders_html():
    """User text (business names, notes) is never rendered as HTML: no page or helper opts into it."""
    offenders = []
    for path in [ROOT / "app.py", *ROOT.glob("views/*.py"), *ROOT.glob("ui/*.py")]:
        text = path.read_text(encoding="utf-8")
        for needle in ("unsafe_allow_html", "st.html(", "components.v1.html", "st.components"):
            if needle in text:
                offenders.append(f"{path.name}: {needle}")
    # The one component: the script that posts the login's handoff ticket to the session route, or sends
    # the browser there after a logout (ui/auth.py). It has no HTML and is given only the server-made
    # one-time ticket and paths, never user text.
    assert offenders == ["auth.py: st.components"]
    auth = (ROOT / "ui" / "auth.py").read_text(encoding="utf-8")
    assert auth.count("st.components") == 1 and 'component("cb_session_route", js=_SESSION_JS)' in auth
    assert "innerHTML" not in auth and "html=" not in auth


def test_public_api_resolves():
    import cb_core

    missing = [name for name in cb_core.__all__ if getattr(cb_core, name, None) is None]
    assert missing == [] and len(cb_core.__all__) > 40
