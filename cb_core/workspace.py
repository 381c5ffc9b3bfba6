"""The state folder's current book and model: what the app and the CLI work on.

``ensure_demo`` builds the demo book (and, once a model can be trained, the model) on first
start and reuses them afterwards. Progress is reported through an optional callback
``progress(fraction, message_key)`` so the app can show it without this module knowing Streamlit.

A face of the engine beside ``store``: it may import every package below it (data, synth, features,
model, explain, strategy, offers, reports), never ``store``, ``batch`` or ``cli``.
"""
from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from .data import Book
from .config import Settings, get_settings, state_dir
from .diskio import make_private, write_frame_atomic, write_text_atomic
from .errors import StorageError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

log = logging.getLogger(__name__)
Progress = Callable[[float, str], None]


def _noop(fraction: float, message: str) -> None:
    log.info("%3.0f%% %s", fraction * 100, message)


def current_book(settings: Settings | None = None) -> Book | None:
    """The book in use, or None before the first load."""
    from .data import load_current

    return load_current(state_dir(settings))


def merchant_ids(book: Book) -> "pd.Index":
    """The merchant ids of ``book``, for checking an id typed by a user (``id in merchant_ids(book)``;
    e.g. ``Store.open_request(..., known_merchants=merchant_ids(book))``)."""
    import pandas as pd

    return pd.Index(book.merchants["merchant_id"].astype(str))


def install_book(book: Book, settings: Settings | None = None) -> Path:
    """Make a validated book the one in use (atomically); the previous one stays until then."""
    from .data import save_current

    settings = settings or get_settings()
    return save_current(book, state_dir(settings), keep_replaced=settings.keep_replaced_books)


def stored_books(settings: Settings | None = None) -> "pd.DataFrame":
    """The books kept in the state folder, the one in use first, then the replaced ones newest first:
    ``fingerprint``, ``in_use``, ``last_in_use`` (UTC). At most ``keep_replaced_books`` replaced
    ones are kept (older ones are deleted when a book is installed), so this is what the Data page
    can say is on disk."""
    from datetime import datetime, timezone

    import pandas as pd

    books = state_dir(settings) / "books"
    current = current_fingerprint(settings)
    rows = [{"fingerprint": p.name, "in_use": p.name == current,
             "last_in_use": datetime.fromtimestamp(p.stat().st_mtime, timezone.utc)}
            for p in (books.iterdir() if books.is_dir() else []) if p.is_dir() and not p.name.startswith(".")]
    frame = pd.DataFrame(rows, columns=["fingerprint", "in_use", "last_in_use"])
    return frame.sort_values(["in_use", "last_in_use"], ascending=False, ignore_index=True)


def ensure_demo_book(settings: Settings | None = None, progress: Progress | None = None) -> Book:
    """The current book; on first start, generate the demo book (with its booked loans) and install it."""
    settings = settings or get_settings()
    progress = progress or _noop
    book = current_book(settings)
    if book is not None:
        return book
    from .loans import with_demo_loans
    from .synth import generate_book

    progress(0.05, "progress_generating")
    book = generate_book(settings.demo_merchants, settings.demo_months, settings.demo_seed, settings.demo_end_month)
    # The demo book carries its booked loans (as `python -m cb_core demo-data` writes it), so Book
    # performance, the watch-list and the partner's booked book have something to show.
    book = with_demo_loans(book, settings.demo_seed)
    progress(0.5, "progress_saving")
    install_book(book, settings)
    progress(0.6, "progress_book_ready")
    return current_book(settings) or book


def ensure_demo(settings: Settings | None = None, progress: Progress | None = None):
    """First start: the demo book and a model trained on it, each built only if missing."""
    book = ensure_demo_book(settings, progress)
    return book, ensure_model(book, settings, progress)


def current_fingerprint(settings: Settings | None = None) -> str | None:
    """Fingerprint of the book in use (cheap: reads the pointer file only), None before the first load."""
    import json

    pointer = state_dir(settings) / "current_book.json"
    if not pointer.exists():
        return None
    return json.loads(pointer.read_text(encoding="utf-8")).get("fingerprint")


# ---------------------------------------------------------------- the model in use

def current_model_dir(settings: Settings | None = None) -> Path | None:
    """Folder of the model in use, None before the first training."""
    import json

    pointer = state_dir(settings) / "current_model.json"
    if not pointer.exists():
        return None
    folder = state_dir(settings) / "models" / json.loads(pointer.read_text(encoding="utf-8"))["version"]
    return folder if folder.exists() else None


def current_model(settings: Settings | None = None):
    """The model in use (``CreditModel``) or None."""
    from .model import load_model

    folder = current_model_dir(settings)
    return None if folder is None else load_model(folder)


def install_model(model, report=None, settings: Settings | None = None) -> Path:
    """Save a model (and its training report) under ``models/<version>`` and make it the one in use.

    The folder is complete before the pointer moves, so a crash leaves the previous model in use.
    """
    from .model import save_bundle

    final = state_dir(settings) / "models" / model.version
    if not final.exists() or not _loads_as(final, model.version):  # a damaged copy is written again
        save_bundle(model, report, final)
    make_private(final.parent)  # models/ and every model folder in it: 0700, their files 0600
    write_text_atomic(state_dir(settings) / "current_model.json", json.dumps({"version": model.version}, indent=1),
                      "the current-model pointer", private=True)
    return final


def _loads_as(folder: Path, version: str) -> bool:
    from .errors import ModelError
    from .model import load_model

    try:
        return load_model(folder).version == version
    except ModelError:
        return False


def ensure_model(book: Book, settings: Settings | None = None, progress: Progress | None = None):
    """The model in use; on first start, train one on the book (with its report) and install it.

    A new model is trained on the settings' score scale (``pdo``, ``base_score``, ``base_odds``);
    the model in use keeps the scale it was trained with.
    """
    model = current_model(settings)
    if model is not None:
        return model
    from .model import ScoreScale, train_with_report

    progress = progress or _noop
    progress(0.65, "progress_training")
    model, report = train_with_report(book, scale=ScoreScale.from_settings(settings), progress=progress)
    install_model(model, report, settings)
    progress(0.98, "progress_model_ready")
    return model


#: Rows from which a cache file is written in the background (a frame of 1,000,000 merchants takes 0.5-0.8 s
#: to write); smaller ones are written before the frame is returned.
BACKGROUND_ROWS = 100_000
_WRITING: dict[Path, tuple[threading.Thread, "pd.DataFrame"]] = {}
_WRITING_LOCK = threading.Lock()
_BUILDING: dict[Path, threading.Lock] = {}  # one build of a cache file at a time in a process


def _save_cache(frame: "pd.DataFrame | pa.Table", path: Path, background: bool = False) -> None:
    try:
        if background:
            _yield_cpu()
        write_frame_atomic(frame, path, "a cache file", private=True)
    except StorageError as exc:
        log.warning("cache not saved (it will be computed again next time): %s", exc)
    finally:
        with _WRITING_LOCK:
            if _WRITING.get(path, (None,))[0] is threading.current_thread():
                del _WRITING[path]


def _cached_parquet(path: Path, build: Callable[[], "pd.DataFrame"]) -> "pd.DataFrame":
    """``build()``, kept in ``path`` for the next process. A cache that cannot be written (full disk)
    costs only speed: the frame is returned all the same and the failure is logged.

    A frame of :data:`BACKGROUND_ROWS` rows or more is returned at once and written by a thread of its
    own (not a daemon: a process ends after its writes; :func:`flush_cache_writes` waits for them); until
    it is written, this process gets that frame again rather than building it twice. A second caller
    while it is being built waits for that build. Callers never change a returned frame in place (the
    app shares them between sessions)."""
    with _WRITING_LOCK:
        building = _BUILDING.setdefault(path, threading.Lock())
    with building:
        return _cached_or_built(path, build)


def _cached_or_built(path: Path, build: Callable[[], "pd.DataFrame"]) -> "pd.DataFrame":
    import pandas as pd

    with _WRITING_LOCK:
        writing = _WRITING.get(path)
    if writing is not None:
        return writing[1]
    if path.exists():
        return pd.read_parquet(path)
    frame = build()
    if len(frame) < BACKGROUND_ROWS:
        _save_cache(frame, path)
        return frame
    import pyarrow as pa

    # converted here, as pandas would before writing: Python's thread pools refuse work once the process
    # is ending, and Arrow's writer, the slow part, needs none of them
    table = pa.Table.from_pandas(frame)
    writer = threading.Thread(target=_save_cache, args=(table, path, True), name=f"cb-cache-{path.name}")
    with _WRITING_LOCK:
        _WRITING[path] = (writer, frame)
    writer.start()
    return frame


def _yield_cpu() -> None:
    """Give this thread the lowest CPU priority (Linux keeps one per thread): a cache file written in the background
    takes the cores only when the threads computing what a user waits for leave them (at 1,000,000 merchants the
    snapshot's file, 1-2 CPU s, was written while the scores and the landing page's frame were computed). It holds
    no lock any other thread waits for."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):  # not Linux, or not allowed: at the same priority as before
        pass


def flush_cache_writes(timeout: float | None = None) -> bool:
    """Wait for the cache files being written in the background; True when none is left."""
    with _WRITING_LOCK:
        writers = [writer for writer, _ in _WRITING.values()]
    for writer in writers:
        writer.join(timeout)
    return not any(writer.is_alive() for writer in writers)


def book_snapshot(book: Book, settings: Settings | None = None) -> "pd.DataFrame":
    """Features of every merchant as of the book's last month (cached per book)."""
    from .features import current_snapshot

    path = state_dir(settings) / "cache" / f"snapshot-{book.fingerprint}-{book.last_month}.parquet"
    return _cached_parquet(path, lambda: current_snapshot(book))


def book_scores(book: Book, model, settings: Settings | None = None,
                snapshot: "pd.DataFrame | None" = None) -> "pd.DataFrame":
    """``pd``, ``score``, ``grade`` of every merchant under ``model`` (cached per book and model), from
    ``snapshot`` when the caller holds the book's (:func:`book_snapshot`)."""
    path = state_dir(settings) / "cache" / f"scores-{book.fingerprint}-{model.version}.parquet"
    return _cached_parquet(path, lambda: model.score(book_snapshot(book, settings) if snapshot is None else snapshot))


def book_strategy_frame(book: Book, model, snapshot: "pd.DataFrame | Callable[[], pd.DataFrame] | None" = None,
                        scores: "pd.DataFrame | Callable[[], pd.DataFrame] | None" = None,
                        settings: Settings | None = None) -> "pd.DataFrame":
    """Today's strategy frame (``cb_core.strategy.strategy_frame``) of ``book`` under ``model``, kept in
    the state's cache folder per book and model: a restarted server reads it instead of building it.
    ``snapshot`` and ``scores`` (when the caller holds them, or a function giving them, called only when
    the frame is built) spare reading them again."""
    from .explain import kernels_beside
    from .strategy import strategy_frame

    def given(frame, default: Callable[[], "pd.DataFrame"]) -> "pd.DataFrame":
        return default() if frame is None else frame() if callable(frame) else frame

    def build() -> "pd.DataFrame":
        kernels_beside(model, len(book.merchants), explain=False)
        snap = given(snapshot, lambda: book_snapshot(book, settings))
        return strategy_frame(snap, given(scores, lambda: book_scores(book, model, settings, snapshot=snap)),
                              book.merchants)

    return _cached_parquet(_strategy_path(book, model, settings), build)


def _strategy_path(book: Book, model, settings: Settings | None) -> Path:
    return state_dir(settings) / "cache" / f"strategy-{book.fingerprint}-{model.version}.parquet"


def prepare_strategy_frame(book: Book, model, settings: Settings | None = None) -> bool:
    """Build today's strategy frame into the cache folder when it is not there (True then); when it is,
    nothing is read (the server's start, which only wants it ready for the landing page)."""
    if _strategy_path(book, model, settings).exists():
        return False
    book_strategy_frame(book, model, settings=settings)
    return True


def book_decision_frame(book: Book, model, settings: Settings | None = None) -> "pd.DataFrame":
    """The score-at-decision frame (``cb_core.strategy.decision_frame``: each outcome row scored as of
    its own month), kept in the state's cache folder per book and model like the snapshot.

    Raises
    ------
    ConfigError
        As ``decision_frame``: no outcome has matured (nothing is cached then).
    """
    from .strategy import decision_frame

    path = state_dir(settings) / "cache" / f"decisions-{book.fingerprint}-{model.version}.parquet"
    return _cached_parquet(path, lambda: decision_frame(book, model))


def book_category_bands(book: Book, settings: Settings | None = None) -> "pd.DataFrame":
    """Category median bands of the review page's monthly metrics (cached per book)."""
    from .explain import category_bands

    path = state_dir(settings) / "cache" / f"bands-{book.fingerprint}.parquet"
    return _cached_parquet(path, lambda: category_bands(book))


def model_report_data(model_dir: Path) -> dict[str, Any]:
    """What ``install_model`` saved beside a model: validation rows, challenger, training reference.

    Returns
    -------
    dict
        ``validation`` (the test window's rows, DataFrame or None), ``windows`` (the card's
        train / early-stop-calibrate / test windows, DataFrame), ``calibration`` (predicted vs
        observed bad rate in 10 equal-count PD bins of the test window, DataFrame or None),
        ``challenger`` and ``without_sensitive`` (dicts), ``training_scores`` (list),
        ``training_sample`` (DataFrame or None), ``scorecard`` (DataFrame or None).
    """
    import json

    import pandas as pd

    from .model import metrics, validation_windows

    out: dict[str, Any] = {"validation": None, "windows": None, "calibration": None, "challenger": {},
                           "without_sensitive": {}, "training_scores": [], "training_sample": None,
                           "scorecard": None}
    if (model_dir / "card.json").exists():
        out["windows"] = validation_windows(json.loads((model_dir / "card.json").read_text(encoding="utf-8")))
    if (model_dir / "validation.parquet").exists():
        out["validation"] = pd.read_parquet(model_dir / "validation.parquet")
        if len(out["validation"]):
            out["calibration"] = metrics.calibration_table(out["validation"]["pd"],
                                                           out["validation"]["defaulted_12m"])
    if (model_dir / "report.json").exists():
        out.update(json.loads((model_dir / "report.json").read_text(encoding="utf-8")))
    if (model_dir / "training_sample.parquet").exists():
        out["training_sample"] = pd.read_parquet(model_dir / "training_sample.parquet")
    if (model_dir / "scorecard.csv").exists():
        out["scorecard"] = pd.read_csv(model_dir / "scorecard.csv")
    return out


def platform_only_scores(book: Book, model, settings: Settings | None = None) -> "pd.Series | None":
    """Scores of the book under the platform-data-only model trained beside ``model`` (stage 2 of
    the two-stage rescue), or None when the model folder has none. Cached per book and model."""
    from .model import load_model

    folder = state_dir(settings) / "models" / model.version / "platform_only"
    if not folder.exists():
        return None
    path = state_dir(settings) / "cache" / f"platform-{book.fingerprint}-{model.version}.parquet"
    frame = _cached_parquet(path, lambda: load_model(folder).score(book_snapshot(book, settings))[["score"]])
    return frame["score"]
