"""The bad-input corpus: product catalogs and model folders, through their loaders and the CLI."""
from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from argon2 import PasswordHasher

from cb_core.cli import main
from cb_core.errors import ModelError
from cb_core.model.credit_model import load_model
from cb_core.offers.catalog import load_products, validate_products
from tests.bad_inputs import make_bad_inputs
from tests.support.app import PASSWORD
from tests.support.bad_inputs import BAD, CATALOG, MODELS, PRODUCTS
from tests.support.bad_inputs import model_cases  # noqa: F401  (fixture)


# --- the product catalog ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def clean_catalog() -> pd.DataFrame:
    return validate_products(make_bad_inputs.PRODUCTS)


@pytest.mark.parametrize("case", sorted(PRODUCTS))
def test_product_case(case, clean_catalog):
    path = BAD / case / CATALOG
    if PRODUCTS[case] is None:
        pd.testing.assert_frame_equal(load_products(path), clean_catalog)
        return
    error, message, problems = PRODUCTS[case]
    with pytest.raises(error, match=message) as info:
        load_products(path)
    assert str(path) in str(info.value)
    if problems is not None:
        assert info.value.problems == problems


@pytest.mark.parametrize("case", sorted(PRODUCTS))
def test_cli_products_validate(case, capsys):
    code = main(["products", "validate", str(BAD / case / CATALOG)])
    out, err = capsys.readouterr()
    if PRODUCTS[case] is None:
        assert code == 0 and json.loads(out) == {"valid": True, "products": 2, "product_ids": ["BANK-01", "RBF-01"]}
        return
    assert (code, out) == (2, "") and "Traceback" not in err
    assert re.search(PRODUCTS[case][1], err)


@pytest.fixture
def own_store(tmp_path):
    from cb_core.store import Store

    url = f"sqlite:///{tmp_path / 'cb.sqlite'}"
    store = Store(url, password_hasher=PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    store.add_user("kim", "pm", password=PASSWORD)
    store.add_user("lee", "officer", password=PASSWORD)
    yield url, store
    store.close()


def test_cli_products_install_refuses_every_bad_catalog_and_keeps_the_one_in_use(own_store, capsys):
    url, store = own_store
    good = BAD / "products_bom_crlf_valid" / CATALOG
    assert main(["products", "install", str(good), "--user", "kim", "--database-url", url]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == 1
    in_use = store.current_products()
    assert in_use[0] == 1 and [p["product_id"] for p in in_use[1]] == ["BANK-01", "RBF-01"]
    for case, expected in PRODUCTS.items():
        if expected is None:
            continue
        assert main(["products", "install", str(BAD / case / CATALOG), "--user", "kim", "--database-url", url]) == 2
        out, err = capsys.readouterr()
        assert out == "" and re.search(expected[1], err), case
        assert store.current_products() == in_use, case
    assert [v.version for v in store.product_history()] == [1]
    # an officer may not change the catalog, even with a valid file
    assert main(["products", "install", str(BAD / "products_grouped_amount_valid" / CATALOG), "--user", "lee",
                 "--database-url", url]) == 2
    assert "only admin and pm users may change the product catalog" in capsys.readouterr().err
    assert store.current_products() == in_use


# --- model folders ---------------------------------------------------------------------------------------


def test_model_cases_are_what_they_say(model_cases):
    good = model_cases["model_valid"]
    assert (model_cases["model_booster_edited"] / "booster.txt").read_bytes() != (good / "booster.txt").read_bytes()
    assert (model_cases["model_booster_edited"] / "card.json").read_bytes() == (good / "card.json").read_bytes()
    assert load_model(good).features == ["return_rate_6m", "months_active", "category"]


@pytest.mark.parametrize("case", sorted(MODELS))
def test_model_case_loads_or_says_why_not(case, model_cases):
    from cb_core.data.catalog import feature_catalog
    from cb_core.model._inputs import check_book_features

    path = model_cases[case]
    if MODELS[case] is None:
        model = load_model(path)
        check_book_features(model.card["features"], feature_catalog(), str(path))
        return
    at_load, message = MODELS[case]
    if at_load:
        with pytest.raises(ModelError, match=message):
            load_model(path)
    else:
        model = load_model(path)
        with pytest.raises(ModelError, match=message):
            check_book_features(model.card["features"], feature_catalog(), str(path))


@pytest.mark.parametrize("case", sorted(MODELS))
def test_cli_model_validate(case, model_cases, capsys):
    code = main(["model", "validate", str(model_cases[case])])
    out, err = capsys.readouterr()
    if MODELS[case] is None:
        assert code == 0 and json.loads(out)["features"] == 3
        return
    assert (code, out) == (2, "") and "Traceback" not in err
    assert err.startswith("error: ") and re.search(MODELS[case][1], err)


def test_cli_model_install_never_replaces_the_model_in_use_with_a_bad_folder(model_cases, tmp_path, monkeypatch,
                                                                            capsys):
    monkeypatch.setenv("CB_STATE_DIR", str(tmp_path / "state"))
    assert main(["model", "install", str(model_cases["model_valid"])]) == 0
    installed = json.loads(capsys.readouterr().out)
    version = load_model(model_cases["model_valid"]).version
    assert (installed["model"], installed["previous"]) == (version, None)
    pointer = (tmp_path / "state" / "current_model.json").read_bytes()
    assert json.loads(pointer) == {"version": version}
    for case, expected in MODELS.items():
        if expected is None:
            continue
        assert main(["model", "install", str(model_cases[case])]) == 2, case
        out, err = capsys.readouterr()
        assert out == "" and re.search(expected[1], err), case
        assert (tmp_path / "state" / "current_model.json").read_bytes() == pointer, case
        assert [p.name for p in (tmp_path / "state" / "models").iterdir()] == [version], case
    # a damaged copy of the model in use is repaired by installing the good folder again
    installed_booster = tmp_path / "state" / "models" / version / "booster.txt"
    installed_booster.write_text(installed_booster.read_text()[:100])
    with pytest.raises(ModelError, match="corrupted"):
        load_model(installed_booster.parent)
    assert main(["model", "install", str(model_cases["model_valid"])]) == 0
    assert load_model(installed_booster.parent).version == version


def test_cli_score_with_a_bad_model_exits_2(model_cases, tmp_path, capsys):
    assert main(["score", "--model", str(model_cases["model_card_not_json"]), "--data",
                 str(BAD / "utf8_bom_valid"), "--out", str(tmp_path / "scores.csv")]) == 2
    assert re.search(MODELS["model_card_not_json"][1], capsys.readouterr().err)
    assert not (tmp_path / "scores.csv").exists()


