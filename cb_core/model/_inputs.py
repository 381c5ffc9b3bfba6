"""Model inputs: default parameters, artifact file names, input checks and the feature layout
shared by :mod:`cb_core.model.credit_model`, :mod:`cb_core.model._training` and :mod:`cb_core.model.scorecard`."""
from __future__ import annotations

import re
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from ..data import FeatureSpec
from ..errors import ConfigError, ModelError
from ..lazy import LazyModule

if TYPE_CHECKING:
    from ..features import FeatureColumns

pd = LazyModule("pandas")

#: LightGBM parameters for small-to-medium tabular credit data; ``params`` in
#: :func:`train_model` overrides any of them.
DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "metric": "binary_logloss",
    "learning_rate": 0.05,
    "num_leaves": 15,
    "max_depth": -1,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "cat_smooth": 10.0,
    "min_data_per_group": 50,
    "max_cat_threshold": 16,
    "monotone_constraints_method": "intermediate",
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 2,
    "verbose": -1,
}
#: Boosting rounds at most, and rounds without improvement before early stopping.
DEFAULT_NUM_BOOST_ROUND: int = 600
DEFAULT_EARLY_STOPPING_ROUNDS: int = 50

#: Predictions on fewer rows than this run single-threaded.
SINGLE_THREAD_ROWS: int = 1000

BOOSTER_FILE = "booster.txt"
CARD_FILE = "card.json"
CARD_FORMAT = 1
_REQUIRED_CARD_KEYS = ("version", "features", "categorical_levels", "calibration", "scale", "grade_boundaries")
# LightGBM rewrites whitespace and rejects JSON punctuation in feature names
_BAD_NAME = re.compile(r'[\s,:"\[\]{}]')


# ------------------------------------------------------------------ input checks and layout

def _aligned(values: Any, X: pd.DataFrame, name: str) -> np.ndarray:
    if isinstance(values, pd.Series) and not values.index.equals(X.index):
        raise ConfigError(f"{name} must have the same index as X", key="err_inputs_name_same_index_as", name=name)
    arr = np.asarray(values)
    if arr.shape[0] != len(X):
        raise ConfigError(f"{name} must have one value per row of X ({len(X)}); got {arr.shape[0]}", key="err_inputs_name_one_value_per", name=name, n_X=len(X), shape=arr.shape[0])
    return arr


def _check_target(y: Any, X: pd.DataFrame) -> np.ndarray:
    raw = pd.Series(_aligned(y, X, "y"))
    if raw.isna().any():
        raise ConfigError(f"y must not be missing; got {int(raw.isna().sum())} missing", key="err_inputs_y_missing_got_value", value=int(raw.isna().sum()))
    try:
        arr = raw.to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise ConfigError(f"y must be 0/1; got values like {raw.iloc[:3].tolist()}", key="err_inputs_y_got_values_like", iloc=raw.iloc[:3].tolist()) from None
    bad = ~np.isin(arr, (0.0, 1.0))
    if bad.any():
        raise ConfigError(f"y must be 0/1; got {sorted(set(arr[bad].tolist()))[:5]}", key="err_inputs_y_got_arr", arr=sorted(set(arr[bad].tolist()))[:5])
    if arr.min() == arr.max():
        raise ConfigError(f"y must contain both goods (0) and bads (1); got only {int(arr[0])}", key="err_inputs_y_contain_both_goods", arr=int(arr[0]))
    return arr.astype(np.int64)


_TRUE_FALSE = {"true": 1.0, "false": 0.0}


def _is_boolean(series: pd.Series) -> bool:
    """True/False values, blanks allowed (pandas reads such a CSV column as objects)."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return True
    if not pd.api.types.is_object_dtype(series.dtype):
        return False
    values = series.dropna()
    return len(values) > 0 and all(isinstance(v, (bool, np.bool_)) for v in values)


def _is_categorical(series: pd.Series) -> bool:
    dtype = series.dtype
    if _is_boolean(series):
        return False
    return (isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype)
            or pd.api.types.is_object_dtype(dtype))


def typed_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A table's columns typed once, the same way for training and scoring: text that is all
    numbers becomes numbers, ``True``/``False`` (any case, blanks allowed) becomes 1/0, other text
    stays text (a category). A text column that is mostly numbers or dates but not all is refused
    (:class:`ConfigError` naming each such column and its offending values) rather than silently
    becoming a category with one level per value."""
    out = frame.copy()
    problems = []
    for name in out.columns:
        col = out[name]
        if isinstance(col.dtype, pd.CategoricalDtype) or not (
                pd.api.types.is_object_dtype(col.dtype) or pd.api.types.is_string_dtype(col.dtype)):
            continue
        if _is_boolean(col):
            out[name] = col.map(lambda v: np.nan if _isna(v) else float(v)).astype(float)
            continue
        text = col.dropna().astype(str).str.strip()
        if text.empty:
            continue
        lowered = text.str.lower()
        if lowered.isin(list(_TRUE_FALSE)).all():
            out[name] = col.map(lambda v: np.nan if _isna(v) else _TRUE_FALSE[str(v).strip().lower()])
            continue
        numbers = pd.to_numeric(text, errors="coerce")
        if numbers.notna().all():
            out[name] = pd.to_numeric(col.astype(object).where(col.notna(), np.nan).map(
                lambda v: v.strip() if isinstance(v, str) else v), errors="coerce")
            continue
        dates = pd.to_datetime(text, errors="coerce", format="mixed") if text.str.contains(r"\d").mean() > 0.9 \
            else pd.Series(pd.NaT, index=text.index)
        for kind, parsed, hint in (("numbers", numbers, "correct or blank them"),
                                   ("dates", dates, "turn the dates into a number first (e.g. age in months) "
                                                    "or drop the column")):
            if parsed.notna().mean() >= 0.9:
                bad = sorted(set(text[parsed.isna()]))
                if kind == "numbers":
                    shown = f"{bad[:5]}{' ...' if len(bad) > 5 else ''}"
                    problems.append(ConfigError(f"column {name!r} holds {kind} except {int(parsed.isna().sum())} "
                                                f"value(s) {shown}: {hint}", key="err_inputs_column_mostly_numbers",
                                                column=name, n=int(parsed.isna().sum()), values=shown))
                else:
                    problems.append(ConfigError(f"column {name!r} holds dates (e.g. {text.iloc[0]!r}): {hint}",
                                                key="err_inputs_column_holds_dates", column=name, example=text.iloc[0]))
                break
    if problems:
        raise ConfigError("; ".join(map(str, problems)), key="err_inputs_unusable_columns", problems=problems)
    return out


def feature_layout(X: pd.DataFrame, catalog: Mapping[str, FeatureSpec], exclude_sensitive: bool
            ) -> tuple[list[dict[str, Any]], dict[str, list[Any]], list[str]]:
    """Feature entries for the card, fixed category levels, and features dropped as sensitive."""
    if not isinstance(X, pd.DataFrame):
        raise ConfigError(f"X must be a pandas DataFrame; got {type(X).__name__}", key="err_inputs_x_pandas_dataframe_got", kind=type(X).__name__)
    if len(X) == 0 or X.shape[1] == 0:
        raise ConfigError(f"X must have rows and feature columns; got shape {X.shape}", key="err_inputs_x_rows_feature_columns", shape=X.shape)
    names = list(X.columns)
    dup = sorted({str(c) for c in names if names.count(c) > 1})
    if dup:
        raise ConfigError(f"X has duplicate columns: {', '.join(dup)}", key="err_inputs_x_duplicate_columns_dup", dup=', '.join(dup))
    bad = [repr(c) for c in names if not isinstance(c, str) or not c]
    if bad:
        raise ConfigError(f"feature names must be non-empty text; got {', '.join(bad)}", key="err_inputs_feature_names_non_empty", bad=', '.join(bad))
    excluded = [c for c in names if exclude_sensitive and c in catalog and catalog[c].sensitive]
    entries: list[dict[str, Any]] = []
    levels: dict[str, list[Any]] = {}
    for name in names:
        if name in excluded:
            continue
        col = X[name]
        if pd.api.types.is_datetime64_any_dtype(col.dtype) or pd.api.types.is_timedelta64_dtype(col.dtype):
            raise ConfigError(f"feature {name} is a date/duration column ({col.dtype}); turn it into a number first", key="err_inputs_feature_name_date_duration", name=name, dtype=col.dtype)
        spec = catalog.get(name)
        if _is_categorical(col):
            if isinstance(col.dtype, pd.CategoricalDtype):
                levels[name] = col.cat.categories.tolist()
            else:
                levels[name] = sorted(col.dropna().astype(str).unique().tolist())
            kind, monotone = "categorical", 0  # LightGBM cannot constrain a categorical split
        else:
            kind, monotone = "numeric", int(spec.risk_direction) if spec else 0
        entries.append({"name": name, "kind": kind, "monotone": monotone,
                        "catalog": asdict(spec) if spec else None})
    if not entries:
        raise ConfigError("no features left to train on after excluding sensitive ones", key="err_inputs_features_left_train_after")
    return entries, levels, excluded


def booster_names(features: list[str]) -> list[str]:
    """The names the booster stores: a feature's own name, or ``feature_<position>`` when LightGBM
    could not keep it (whitespace or JSON punctuation, e.g. ``Unnamed: 0``). The card keeps the real names."""
    return [f if not _BAD_NAME.search(f) else f"feature_{j}" for j, f in enumerate(features)]


def feature_matrix(X: pd.DataFrame | pd.Series | FeatureColumns, features: list[str], levels: dict[str, list[Any]],
            level_codes: dict[str, dict[Any, int]]) -> np.ndarray:
    """Float matrix in model column order; categories become their code (unseen or missing: NaN)."""
    if hasattr(X, "codes"):  # a snapshot's columns (FeatureColumns, no pandas): numbers as floats, text by its codes
        out = np.empty((len(X), len(features)))
        for j, f in enumerate(features):
            out[:, j] = X.codes(f, levels[f]) if f in levels else X[f]
        return out
    if isinstance(X, pd.Series):  # one merchant: plain Python is faster than pandas here
        row = np.empty((1, len(features)))
        for j, f in enumerate(features):
            v = X[f]
            if f in levels:
                row[0, j] = np.nan if _isna(v) else level_codes[f].get(v, np.nan)
            else:
                try:
                    row[0, j] = np.nan if _isna(v) else float(v)
                except (TypeError, ValueError):
                    raise ModelError(f"feature {f} must be numeric; got {v!r}", key="err_inputs_feature_f_numeric_got_2", f=f, v=v) from None
        return row
    out = np.empty((len(X), len(features)))
    for j, f in enumerate(features):
        col = X[f]
        if f in levels:
            codes = pd.Index(levels[f]).get_indexer(col)  # -1: missing or not seen in training
            out[:, j] = np.where(codes < 0, np.nan, codes)
        else:
            try:
                out[:, j] = col.to_numpy(dtype=float, na_value=np.nan)
            except (TypeError, ValueError):
                raise ModelError(f"feature {f} must be numeric; got dtype {col.dtype}", key="err_inputs_feature_f_numeric_got", f=f, dtype=col.dtype) from None
    return out


def _isna(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and v != v) or v is pd.NaT


def _frame(matrix: np.ndarray, features: list[str], levels: dict[str, list[Any]]) -> pd.DataFrame:
    """The matrix as a frame LightGBM reads, categoricals with their fixed levels."""
    cols: dict[str, Any] = {}
    for j, f in enumerate(features):
        if f in levels:
            codes = np.where(np.isnan(matrix[:, j]), -1, matrix[:, j]).astype(np.int64)
            cols[f] = pd.Categorical.from_codes(codes, categories=levels[f])
        else:
            cols[f] = matrix[:, j]
    return pd.DataFrame(cols)


def check_book_features(features: list[dict[str, Any]], catalog: Mapping[str, FeatureSpec], where: str) -> None:
    """Raise :class:`ModelError` unless a model reads only features a merchant book gives, each of
    the kind the book gives it (a model trained on another feature table cannot score a book).

    Parameters
    ----------
    features : list of dict
        The card's ``features`` entries (``name`` and ``kind``).
    catalog : dict
        The feature catalog: the features :func:`cb_core.features.asof.snapshot` builds from a book.
    where : str
        The model folder, named in the message.
    """
    unknown = [f["name"] for f in features if f["name"] not in catalog]
    if unknown:
        raise ModelError(f"the model in {where} was trained on another feature set: a merchant book gives no "
                         f"{', '.join(unknown)} ({len(unknown)} of its {len(features)} features); train it on a "
                         "merchant book (python -m cb_core train --data DIR)", key="err_inputs_model_other_feature_set", where=where, unknown=', '.join(unknown), n_unknown=len(unknown), n_features=len(features))
    kinds = [f"{f['name']} is {f['kind']} in the model but {catalog[f['name']].kind} in a merchant book"
             for f in features if f.get("kind") != catalog[f["name"]].kind]
    if kinds:
        raise ModelError(f"the model in {where} was trained on another feature set: {'; '.join(kinds)}", key="err_inputs_model_other_feature_kinds", where=where, kinds='; '.join(kinds))

