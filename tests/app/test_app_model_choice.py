"""AppTest: the Model report shows which model a bring-your-own table chose, and every candidate's
inner cross-validation AUC, in Korean and in English (catalog labels, no identifiers)."""
from __future__ import annotations

import copy
import re

from cb_core.i18n import t
from tests.support.app import app_as

CHOICE = {"chosen": "woe_scorecard", "inner_folds": 3, "blend_weight": 0.5, "rule": "highest inner AUC",
          "candidates": {"lightgbm": {"inner_auc": 0.7624, "chosen_in_folds": 1},
                         "woe_scorecard": {"inner_auc": 0.7827, "chosen_in_folds": 3},
                         "blend": {"inner_auc": 0.7806, "chosen_in_folds": 1}}}


def test_model_report_shows_the_candidates_and_the_choice(app_users, monkeypatch):
    import ui.errors
    from cb_core.model import CreditModel

    real = ui.errors.require_book_and_model
    recorded = {"choice": CHOICE}

    def with_choice():  # the installed model's card as a small own table's model would have it
        book, model = real()
        card = copy.deepcopy(model.card)
        card["validation"].update(model_choice=recorded["choice"], n_folds=5)
        return book, CreditModel(model.booster_text, card)

    monkeypatch.setattr(ui.errors, "require_book_and_model", with_choice)
    at = app_as("admin", app_users)
    at.switch_page("views/model_report.py").run()
    for lang in ("ko", "en"):
        at.session_state["lang"] = lang
        at.run()
        assert not at.exception
        assert t("choice_title", lang) in [h.value for h in at.subheader]
        frames = [d.value for d in at.dataframe]
        choice = next(f for f in frames if t("choice_col_model", lang) in f.columns)
        names = [t(f"choice_model_{n}", lang) for n in ("woe_scorecard", "blend", "lightgbm")]  # best AUC first
        assert choice[t("choice_col_model", lang)].tolist() == names
        assert choice[t("choice_col_inner_auc", lang)].tolist() == ["0.783", "0.781", "0.762"]
        assert choice[t("choice_col_folds", lang)].tolist() == [
            t("choice_folds_value", lang, n=n, total=5) for n in (3, 1, 1)]
        assert choice[t("choice_col_chosen", lang)].tolist() == [t("choice_chosen_mark", lang), "", ""]
        text = " ".join([*map(str, choice.columns), *choice.astype(str).to_numpy().ravel()])
        assert not re.search(r"[a-z]+_[a-z]+|nan|None", text), text  # no identifiers or Python reprs
        if lang == "ko":
            assert re.search("[가-힣]", text)
        compare = next(f for f in frames if t("report_model", lang) in f.columns)
        assert t("choice_production", lang, model=names[0]) in compare[t("report_model", lang)].tolist()
    # out of time there are no outer folds: the column is left out rather than shown empty
    recorded["choice"] = {**CHOICE, "candidates": {n: {"inner_auc": c["inner_auc"]}
                                                   for n, c in CHOICE["candidates"].items()}}
    at.run()
    choice = next(d.value for d in at.dataframe if t("choice_col_model", "en") in d.value.columns)
    assert list(choice.columns) == [t(k, "en") for k in ("choice_col_model", "choice_col_inner_auc",
                                                         "choice_col_chosen")]
