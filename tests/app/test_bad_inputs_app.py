"""The bad-input corpus in the app: the Data page's upload and an unusable model in use."""
from __future__ import annotations

import json
import re
import shutil

import pytest
import streamlit
from argon2 import PasswordHasher

from cb_core.errors import DataSourceError, SchemaError
from cb_core.data import feature_catalog, read_uploaded
from cb_core.data.schema import TABLES
from cb_core.errors import ModelError
from cb_core.i18n import error_text, t
from cb_core.model import check_book_features
from ui.text import unescape
from cb_core.model.credit_model import load_model
from cb_core.data.schema import validate_tables
from tests.support.app import PASSWORD, app_as, data_page_with_uploads
from tests.support.books import TODAY, good_tables
from tests.support.bad_inputs import BOOK, UPLOADABLE, UploadedFile, case_files, one_problem
from tests.support.bad_inputs import frozen_today, model_cases  # noqa: F401  (fixtures)


# --- the app ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data_page(app_users):
    """The Data page signed in as admin, in English, with ``st.file_uploader`` handing over ``files``.

    AppTest cannot drive a file uploader; it runs the script in this process, so the uploader is
    replaced by a function returning the files a test puts in ``files``."""
    with data_page_with_uploads(app_users, "en") as (at, files):
        yield at, files


def _submit(at, files: list[UploadedFile], uploads: dict[str, bytes]) -> None:
    files[:] = [UploadedFile(name, content) for name, content in uploads.items()]
    labels = [b.label for b in at.button]
    at.button[labels.index(t("data_validate_and_load", "en"))].click().run()


LONG_LINE = {"merchants.csv": b"merchant_id\n" + b"M" * 1_200_000 + b"\n"}


@pytest.mark.parametrize("case", UPLOADABLE + ["long_line"])
def test_data_page_shows_the_report_and_keeps_the_book(case, data_page, frozen_today):
    from cb_core import workspace

    at, files = data_page
    before = workspace.current_fingerprint()
    _submit(at, files, LONG_LINE if case == "long_line" else case_files(case))
    assert not at.exception, at.exception
    if case == "long_line":
        error, message, problems = DataSourceError, r"^merchants\.csv: line 2 is longer than 1,000,000 bytes", None
    else:
        error, message, problems = BOOK[case]
    if case == "missing_table":
        problems = one_problem("monthly_activity", "*", "required table is missing")
    if error is SchemaError:
        assert [e.value for e in at.error] == [t("error_schema", "en", n=len(problems))]
        shown = at.dataframe[-1].value
        assert shown["Table"].tolist() == [t(f"table_{p.table}", "en") if p.table in TABLES else p.table for p in problems]
        assert shown["Column"].tolist() == [p.column for p in problems]
        assert shown["Rule"].tolist() == [p.rule for p in problems]
    else:  # said from the error's catalog key (here in English), under the page's title; no code box
        uploads = LONG_LINE if case == "long_line" else case_files(case)
        with pytest.raises(DataSourceError) as caught:
            read_uploaded(list(uploads.items()))
        assert re.search(message, str(caught.value))
        assert [unescape(e.value) for e in at.error] == [t("data_upload_failed", "en") + "\n\n" + error_text(caught.value, "en")]
        assert not at.code
    assert workspace.current_fingerprint() == before
    # the page still shows the book in use (its fingerprint in the line of text above the counts)
    assert any(before in unescape(m.value) for m in at.markdown)


@pytest.fixture
def private_state(app_state_with_model, tmp_path, monkeypatch):
    """A copy of the app state (book and model) and an own database: what a test breaks stays here."""
    from cb_core.store import Store
    from ui import cache

    state = tmp_path / "state"
    state.mkdir()
    for name in ("books", "models"):
        shutil.copytree(app_state_with_model / name, state / name)
    for name in ("current_book.json", "current_model.json"):
        shutil.copy(app_state_with_model / name, state / name)
    url = f"sqlite:///{tmp_path / 'cb.sqlite'}"
    monkeypatch.setenv("CB_STATE_DIR", str(state))
    monkeypatch.setenv("CB_DATABASE_URL", url)
    store = Store(url, password_hasher=PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    store.add_user("admin", "admin", password=PASSWORD)
    cache._model.clear()  # cached by version: a damaged copy of the same version must really be read
    yield state, store
    store.close()
    cache._model.clear()


def test_a_valid_upload_through_the_same_path_replaces_the_book(private_state, monkeypatch):
    """The control for the Data page tests: the replaced uploader does reach the loader."""
    from cb_core import workspace

    state, store = private_state
    files: list[UploadedFile] = []
    monkeypatch.setattr(streamlit, "file_uploader", lambda *args, **kwargs: list(files))
    at = app_as("admin", store)
    at.session_state["lang"] = "en"
    at.switch_page("views/data.py").run()
    _submit(at, files, case_files("excel_export_valid"))
    assert not at.exception, at.exception
    expected = validate_tables(good_tables(), today=TODAY)
    assert workspace.current_fingerprint() == expected.fingerprint
    assert [s.value for s in at.success][0] == t("data_loaded", "en", merchants="4", fingerprint=expected.fingerprint)


def _portfolio(store):
    at = app_as("admin", store)
    at.session_state["lang"] = "en"
    at.switch_page("views/portfolio.py").run()
    return at


@pytest.mark.parametrize("damage", ["booster_truncated", "other_feature_set"])
def test_an_unusable_model_in_use_is_explained_not_a_traceback(damage, private_state, model_cases):
    state, store = private_state
    pointer = state / "current_model.json"
    if damage == "booster_truncated":
        folder = state / "models" / json.loads(pointer.read_text())["version"]
        booster = folder / "booster.txt"
        booster.write_text(booster.read_text()[: len(booster.read_text()) // 2])
        message = rf"{re.escape(str(booster))} is corrupted: not a complete LightGBM model text"
    else:  # put there by hand: `model install` refuses it
        model = load_model(model_cases["model_other_feature_set"])
        folder = shutil.copytree(model_cases["model_other_feature_set"], state / "models" / model.version)
        pointer.write_text(json.dumps({"version": model.version}))
        message = r"was trained on another feature set: a merchant book gives no my_signal, loan_count"
    before = pointer.read_bytes(), sorted(p.name for p in (state / "models").iterdir())
    at = _portfolio(store)
    assert not at.exception, at.exception
    with pytest.raises(ModelError) as caught:
        check_book_features(load_model(folder).card["features"], feature_catalog(), str(folder))
        load_model(folder)
    assert re.search(message, str(caught.value))
    assert [unescape(e.value) for e in at.error] == [t("error_model_unusable", "en") + "\n\n" + error_text(caught.value, "en")]
    # nothing replaced, nothing retrained
    assert (pointer.read_bytes(), sorted(p.name for p in (state / "models").iterdir())) == before

