"""Engine errors in the user's language (issue #13): every error a page user can trigger carries a
catalog key and its parameters, and the catalog says it in Korean and English with the same
parameters; validation rules are said through rule keys.

The source walk cannot be fooled by a new raise site: it reads every module of ``cb_core`` (its
syntax tree, not a grep), finds every construction of an engine error class (raised, returned or
kept), and requires a literal ``key=`` whose catalog entry names exactly the keyword parameters
given. Only the command-line modules are left out (their messages are English terminal output).
"""
from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from cb_core import errors
from cb_core.errors import CBError, ConfigError, PolicyError, Problem, SchemaError
from cb_core.i18n import error_text, format_param, rule_key, strings, t, translate_rule

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "cb_core"

#: Reviewed: modules no page reaches. The command line and the batch runner (and the benchmark
#: delegations inside cb_core/cli) print English for operators; they call the same verbs as the pages,
#: whose errors are keyed where they are raised.
CLI_ONLY = ("cli/", "batch/", "__main__.py")

#: Classes whose key is not a ``key=`` keyword: SchemaError sets its own (``err_schema_problems``, a
#: count above the table of problems, each rule translated through its rule key: see below);
#: LoginError and DatabaseDamagedError take their key as the first argument.
KEY_FIRST = {"LoginError", "DatabaseDamagedError"}
SELF_KEYED = {"SchemaError"}

HANGUL = re.compile(r"[가-힣]")


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _modules() -> list[Path]:
    return [p for p in sorted(ENGINE.rglob("*.py"))
            if not str(p.relative_to(ENGINE)).startswith(CLI_ONLY)]


def _error_classes() -> set[str]:
    """Every CBError subclass: those of cb_core.errors and any defined elsewhere in the engine."""
    names = {n for n, v in vars(errors).items() if isinstance(v, type) and issubclass(v, CBError)}
    trees = [ast.parse(p.read_text(encoding="utf-8")) for p in sorted(ENGINE.rglob("*.py"))]
    grew = True
    while grew:
        grew = False
        for tree in trees:
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in names and any(
                        (b.id if isinstance(b, ast.Name) else getattr(b, "attr", None)) in names for b in node.bases):
                    names.add(node.name)
                    grew = True
    return names


def _constructions() -> list[tuple[str, int, str, ast.Call]]:
    classes = _error_classes()
    found = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                if name in classes:
                    found.append((str(path.relative_to(ROOT)), node.lineno, name, node))
    return found


SITES = _constructions()


def test_the_walk_sees_the_engine_s_error_sites():
    # a walker that silently found nothing would pass everything below
    assert len(SITES) > 300
    assert {"ConfigError", "PolicyError", "ConflictError", "DataSourceError", "ModelError"} <= {s[2] for s in SITES}


def test_every_engine_error_a_page_can_meet_carries_a_literal_catalog_key_and_its_parameters():
    catalog = strings()
    broken = []
    for where, line, name, call in SITES:
        at = f"{where}:{line} {name}"
        if name in SELF_KEYED:
            continue
        if name in KEY_FIRST:
            first = call.args[0] if call.args else None
            if isinstance(first, ast.Constant):
                if first.value not in catalog:
                    broken.append(f"{at}: key {first.value!r} not in the catalog")
            elif not (isinstance(first, ast.Starred) and name == "DatabaseDamagedError"):
                broken.append(f"{at}: the key must be a literal first argument")
            continue
        keys = [k for k in call.keywords if k.arg == "key"]
        if not keys or not isinstance(keys[0].value, ast.Constant) or not isinstance(keys[0].value.value, str):
            broken.append(f"{at}: no literal key=")
            continue
        if any(k.arg is None for k in call.keywords):
            broken.append(f"{at}: **params hide the parameters from this check")
            continue
        key = keys[0].value.value
        given = {k.arg for k in call.keywords} - {"key"}
        if key not in catalog or set(catalog[key]) != {"ko", "en"}:
            broken.append(f"{at}: {key} is not in data/i18n in ko and en")
            continue
        ko, en = _placeholders(catalog[key]["ko"]), _placeholders(catalog[key]["en"])
        if not ko == en == given:
            broken.append(f"{at}: {key} parameters: given {sorted(given)}, ko {sorted(ko)}, en {sorted(en)}")
        if not HANGUL.search(catalog[key]["ko"]):
            broken.append(f"{at}: {key}'s Korean text has no Korean")
    assert not broken, "\n".join(broken)


def test_the_database_damage_keys_exist():
    from cb_core.store import _files  # the key tuples DatabaseDamagedError(*kind) is built from

    kinds = [v for v in vars(_files).values() if isinstance(v, tuple) and len(v) == 2 and str(v[0]).startswith("store_")]
    assert len(kinds) >= 3 and all(k in strings() for k, _ in kinds)


def test_rule_and_error_keys_of_this_catalog_agree_in_both_languages():
    own = __import__("json").loads((ROOT / "data" / "i18n" / "s5_errors.json").read_text(encoding="utf-8"))
    for key, texts in own.items():
        assert _placeholders(texts["ko"]) == _placeholders(texts["en"]), key
        assert HANGUL.search(texts["ko"]) or key.startswith("field_"), key


# ---------------------------------------------------------------- real errors, said in Korean

def test_a_policy_with_refer_above_approve_is_refused_in_korean():
    from cb_core.strategy import Policy

    with pytest.raises(PolicyError, match="refer_cutoff must not be above approve_cutoff") as caught:
        Policy(approve_cutoff=600, refer_cutoff=650)
    said = error_text(caught.value, "ko")
    assert said == ("심사 기준점은 승인 기준점보다 높을 수 없습니다. 받은 값: 심사 기준점 650 > 승인 기준점 600. "
                    "승인 기준점을 올리거나 심사 기준점을 내리세요.")
    assert str(caught.value) == "refer_cutoff must not be above approve_cutoff; got refer_cutoff 650 > approve_cutoff 600"


def test_a_field_name_and_its_range_note_are_said_in_korean():
    from cb_core.strategy import Policy

    with pytest.raises(PolicyError) as caught:
        Policy(approve_cutoff=700, refer_cutoff=600, apr=5.7)
    assert error_text(caught.value, "ko") == "연이율(APR)은(는) 0–1 범위여야 합니다(연 비율: 5.7%는 0.057). 받은 값: 5.7"
    assert "apr" not in error_text(caught.value, "ko").lower().replace("(apr)", "")


def test_an_amount_above_the_offer_s_limit_is_said_in_won():
    from cb_core.offers import simulate

    offer = {"limit_krw": 12_500_000, "repayment": "amortizing", "apr_pct": 6.9, "term_months": 12}
    with pytest.raises(ConfigError, match="must not exceed the offer's limit 12,500,000; got 20,000,000") as caught:
        simulate(offer, [3_000_000] * 12, start_month="2026-01", amount=20_000_000)
    assert error_text(caught.value, "ko") == "대출 금액은 제안 한도(1,250만원)를 넘을 수 없습니다. 받은 값: 2,000만원"
    assert error_text(caught.value, "en") == "amount must not exceed the offer's limit ₩12.5M; got ₩20.0M"


def test_an_error_without_a_key_has_no_translation():
    assert error_text(ConfigError("plain English"), "ko") is None
    assert error_text(ConfigError("x", key="no_such_key_anywhere"), "ko") is None


def test_a_cause_given_as_a_parameter_is_said_in_the_language_too():
    inner = ConfigError("grade boundaries must be strictly descending; got [1, 2]",
                        key="err_scale_grade_boundaries_strictly_descending", b=[1, 2])
    outer = PolicyError(str(inner), key="err_policy_grade_bands", problem=inner)
    assert error_text(outer, "ko") == ("정책의 등급 경계를 쓸 수 없습니다: 등급 경계는 높은 점수부터 엄격히 "
                                       "내림차순이어야 합니다. 받은 값: 1, 2")


@pytest.mark.parametrize("name,value,lang,shown", [
    ("cap_krw", 12_500_000, "ko", "1,250만원"),
    ("cap_krw", 12_500_000, "en", "₩12.5M"),
    ("approval_rate", 0.4567, "ko", "45.7%"),
    ("stress_share", 1.5, "ko", "1.5"),  # a share checked against 0–1 is shown as given, like its range
    ("apr_pct", 5.7, "ko", "5.7"),  # a *_pct field already holds percent
    ("months", 3, "ko", "3개월"),
    ("months", 1, "en", "1 month"),
    ("days", 45, "ko", "45일"),
    ("created_at", "2026-12-02T12:30:00", "ko", "2026-12-02 21:30 KST"),  # UTC kept, KST shown
    ("n", 12345, "ko", "12,345"),
    ("supersedes_id", 12345, "ko", "12345"),  # an id is written as it is, no separators
    ("version", 1203, "en", "1203"),
    ("value", 1200000, "ko", "1,200,000"),
    ("value", 0.057, "ko", "0.057"),
    ("value", 1e21, "ko", "1,000,000,000,000,000,000,000"),  # never scientific notation
    ("value", None, "ko", "–"),
    ("value", float("nan"), "ko", "–"),
    ("value", ["a", "b"], "ko", "a, b"),
    ("name", "approve_cutoff", "ko", "승인 기준점"),
    ("name", "approve_cutoff", "en", "approve cutoff"),
    ("name", "merchants.csv", "ko", "merchants.csv"),  # a file name, not a field: as given
    ("merchant_id", "approve_cutoff", "ko", "approve_cutoff"),  # only field-naming parameters are labels
])
def test_each_parameter_is_shown_by_the_formatter_of_its_unit(name, value, lang, shown):
    assert format_param(name, value, lang) == shown


# ---------------------------------------------------------------- the contract's rules

def _corpus_rules() -> set[str]:
    from tests.support.bad_inputs import BOOK, PRODUCTS

    rules = set()
    for expectation in list(BOOK.values()) + list(PRODUCTS.values()):
        for part in expectation or ():
            if isinstance(part, list):
                rules |= {p.rule for p in part if isinstance(p, Problem)}
    return rules


def test_every_rule_of_the_bad_input_corpus_is_said_in_korean():
    rules = _corpus_rules()
    assert len(rules) > 30
    untranslated = [r for r in rules if rule_key(r) is None]
    assert not untranslated, untranslated
    for rule in rules:
        ko = translate_rule(rule, "ko")
        assert HANGUL.search(ko) and ko != rule, rule
        assert translate_rule(rule, "en") == rule


@pytest.mark.parametrize("rule,ko", [
    ("must be ≥ 0", "0 이상이어야 합니다"),
    ("must be within [0, 1]", "0 이상 1 이하여야 합니다"),
    ("unknown column 'email' (not in the data contract); did you mean 'name'?",
     "알 수 없는 열 'email'입니다(데이터 규격에 없음). 'name'을(를) 말하셨나요?"),
    ("duplicate merchant_id + month: one row per merchant_id and month",
     "merchant_id·month이(가) 중복됩니다: merchant_id·month마다 한 행이어야 합니다"),
    ("product BANK-01: min_score is missing", f"상품 BANK-01: {t('prodfield_min_score', 'ko')} — 항목이 없습니다"),
    ("something no rule says", "something no rule says"),  # unknown: left as it is, never dropped
])
def test_rules_are_translated_through_their_key_and_parameters(rule, ko):
    assert translate_rule(rule, "ko") == ko


def test_the_rules_of_the_real_validator_are_all_known():
    """Every rule a real validation of broken tables reports has a rule key (not only the corpus)."""
    import pandas as pd

    from cb_core.data.schema import validate_tables
    from tests.support.books import TODAY, good_tables

    tables = good_tables()
    m, a = tables["merchants"].copy(), tables["monthly_activity"].copy()
    m.loc[m.index[0], "region"] = "서울"
    m.loc[m.index[1], "reg_no"] = "12345"
    m["extra"] = 1
    a.loc[a.index[0], "gmv_krw"] = "120만원"
    a.loc[a.index[1], "refund_krw"] = "-5"
    a.loc[a.index[2], "month"] = "2999-01"
    with pytest.raises(SchemaError) as caught:
        validate_tables({"merchants": m, "monthly_activity": a, "outcomes": tables.get("outcomes")}
                        if tables.get("outcomes") is not None else {"merchants": m, "monthly_activity": a},
                        today=TODAY)
    rules = [p.rule for p in caught.value.problems]
    assert len(rules) >= 5
    assert all(rule_key(r) for r in rules), [r for r in rules if not rule_key(r)]
    assert caught.value.key == "err_schema_problems" and caught.value.params == {"n": len(rules)}
    assert isinstance(pd, object)
