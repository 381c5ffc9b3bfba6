"""Settings: one typed, frozen object whose fields are the table of settings.

Each field of :class:`Settings` carries its type, default and help text (and, for numbers, the
range it must lie in); :data:`SETTINGS` lists them as :class:`Setting` rows for README and the
tests. Every setting can be overridden by an environment variable named ``CB_<NAME upper>``.
README's "Settings" section documents each one, and ``tests/base/test_settings_act.py`` shows
each one changing what the engine does.

>>> settings = get_settings(pdo=20)
>>> settings.pdo, settings.base_score
(20.0, 600.0)
>>> dataclasses.replace(settings, lgd=0.4).lgd
0.4
"""
from __future__ import annotations

import dataclasses
import math
import os
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_ADDRESS = re.compile(r"^[0-9A-Za-z.:_-]{1,253}$")  # an IPv4/IPv6 address or a host name, nothing to quote


def _setting(default: Any, help: str, *, low: float | None = None, high: float | None = None,
             above: float | None = None) -> Any:
    """A settings field: its default, help text and the range a number must lie in
    (``low``/``high`` inclusive, ``above`` exclusive)."""
    return field(default=default, metadata={"help": help, "low": low, "high": high, "above": above})


@dataclass(frozen=True)
class Settings:
    """Every setting of the app and the engine, validated when built.

    Build it with :func:`get_settings` (defaults, then ``CB_*`` environment variables, then
    keyword overrides); derive a variant with ``dataclasses.replace(settings, name=value)``.

    Raises
    ------
    ConfigError
        A value has the wrong type or lies outside its range; the message names the setting,
        what it must be and what was given.
    """

    state_dir: str = _setting(
        str(ROOT / ".state"),
        "Folder for the current book, models, caches and the SQLite database (git-ignored).")
    database_url: str = _setting(
        "", "SQLAlchemy URL of the app database (users, policies, decisions, audit); empty = the SQLite "
            "file cb.sqlite in state_dir.")
    demo_merchants: int = _setting(20_000, "Merchants in the demo book built on first start.", low=1)
    demo_months: int = _setting(24, "Months of activity in the demo book.", low=1, high=120)
    demo_seed: int = _setting(7, "Random seed of the demo book (same seed, same bytes).")
    demo_end_month: str = _setting("2026-10", "Last month (YYYY-MM) of the demo book's activity.")
    pdo: float = _setting(
        40.0, "Points to double the odds: the score scale of a model trained from now on (recorded in its "
              "card; a trained model keeps its own scale).", above=0)
    base_score: float = _setting(600.0, "Score at base_odds, for a model trained from now on.")
    base_odds: float = _setting(50.0, "Good:bad odds that score base_score, for a model trained from now on.",
                                above=0)
    max_report_rows: int = _setting(20, "Row numbers listed per problem in a validation report.", low=1)
    max_upload_mb: int = _setting(
        200, "Largest file, in MB, a book upload may hold: the loader refuses a bigger one before parsing it, "
             "and make run passes it to Streamlit as server.maxUploadSize.", low=1)
    approve_cutoff: float = _setting(
        590.0, "Approval cutoff (score) of the policy in force until a policy is published.", low=1, high=1000)
    refer_cutoff: float = _setting(
        550.0, "Refer cutoff (score) until a policy is published: between it and approve_cutoff goes to an "
               "officer.", low=1, high=1000)
    reason_band: float = _setting(
        20.0, "Reason codes compare a merchant with those scoring within this many points above the approval "
              "cutoff.", low=0)
    lgd: float = _setting(0.6, "Loss given default of the policy in force until a policy is published "
                               "(expected loss = PD x LGD x limit).", low=0, high=1)
    session_timeout_minutes: int = _setting(30, "Minutes of inactivity after which a login ends.", low=1)
    keep_replaced_books: int = _setting(
        1, "Replaced books kept in state_dir/books besides the one in use (newest first); older ones and their "
           "caches are deleted when a book is installed.", low=0)
    server_address: str = _setting(
        "127.0.0.1", "Address the app server listens on (make run passes it as server.address): 127.0.0.1 only "
                     "this machine (behind a reverse proxy); 0.0.0.0 every interface, an explicit choice.")

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = _checked(f.name, _TYPES[f.name], getattr(self, f.name), f.metadata)
            object.__setattr__(self, f.name, value)
        if not _ADDRESS.match(self.server_address):
            raise ConfigError(f"server_address must be an IP address or host name; got {self.server_address!r}", key="err_config_server_address_ip_address", server_address=self.server_address)
        if not _MONTH.match(self.demo_end_month):
            raise ConfigError(f"demo_end_month must be a month YYYY-MM; got {self.demo_end_month!r}", key="err_config_demo_end_month_month", demo_end_month=self.demo_end_month)


@dataclass(frozen=True)
class Setting:
    """One row of the settings table (a field of :class:`Settings`)."""

    name: str
    type: type
    default: Any
    help: str


def _number(value: float) -> str:
    return f"{value:g}"


def _checked(name: str, kind: type, value: Any, meta: Any) -> Any:
    """``value`` as ``kind`` (an int is accepted for a float, a path for a str), or a ConfigError
    naming the setting."""
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if kind is str and isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ConfigError(f"{name} must be a {kind.__name__}; got {value!r}", key="err_config_name_kind_got_value", name=name, kind=kind.__name__, value=value)
    if kind is float and not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number; got {value!r}", key="err_config_name_finite_number_got", name=name, value=value)
    low, high, above = meta["low"], meta["high"], meta["above"]
    if low is not None and high is not None and not low <= value <= high:
        raise ConfigError(f"{name} must be within {_number(low)}–{_number(high)}; got {_number(value)}", key="err_config_name_within_low_high", name=name, low=_number(low), high=_number(high), value=_number(value))
    if low is not None and high is None and value < low:
        raise ConfigError(f"{name} must be at least {_number(low)}; got {_number(value)}", key="err_config_name_least_low_got", name=name, low=_number(low), value=_number(value))
    if above is not None and not value > above:
        raise ConfigError(f"{name} must be greater than {_number(above)}; got {_number(value)}", key="err_config_name_greater_than_above", name=name, above=_number(above), value=_number(value))
    return value


_TYPES: dict[str, type] = typing.get_type_hints(Settings)

#: The table of settings, in declaration order: name, type, default, help.
SETTINGS: tuple[Setting, ...] = tuple(
    Setting(f.name, _TYPES[f.name], f.default, f.metadata["help"]) for f in dataclasses.fields(Settings))


def _parse(setting: Setting, raw: str) -> Any:
    try:
        return setting.type(raw)
    except (TypeError, ValueError):
        raise ConfigError(
            f"CB_{setting.name.upper()} must be a {setting.type.__name__}; got {raw!r}", key="err_config_cb_value_kind_got", value=setting.name.upper(), kind=setting.type.__name__, raw=raw
        ) from None


def get_settings(**overrides: Any) -> Settings:
    """Current settings: defaults, then ``CB_*`` environment variables, then ``overrides``.

    Parameters
    ----------
    **overrides
        Setting name -> value, e.g. ``get_settings(state_dir="/tmp/cb", pdo=20)``.

    Returns
    -------
    Settings
        Frozen and validated.

    Raises
    ------
    ConfigError
        An unknown setting name, an environment variable that does not parse as its setting's
        type, or a value out of range.
    """
    unknown = set(overrides) - {s.name for s in SETTINGS}
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}", key="err_config_unknown_setting_s_unknown", unknown=', '.join(sorted(unknown)))
    values: dict[str, Any] = {}
    for s in SETTINGS:
        raw = os.environ.get(f"CB_{s.name.upper()}")
        if raw not in (None, ""):
            values[s.name] = _parse(s, raw)
    values.update(overrides)
    return Settings(**values)


def streamlit_flags(settings: Settings | None = None) -> list[str]:
    """The ``streamlit run`` options that come from settings (``make run`` and the tests start the
    server with them): the listening address and the upload limit.

    >>> streamlit_flags(get_settings(server_address="127.0.0.1", max_upload_mb=5))
    ['--server.address', '127.0.0.1', '--server.maxUploadSize', '5']
    """
    settings = settings or get_settings()
    return ["--server.address", settings.server_address, "--server.maxUploadSize", str(settings.max_upload_mb)]


_PRIVATE_ONCE: set[str] = set()  # state folders made private by this process


def state_dir(settings: Settings | None = None) -> Path:
    """The state folder, created if needed, private to this user: 0700, and everything in it found
    0600/0700 the first time this process asks (a folder an older version left world-readable)."""
    path = Path((settings or get_settings()).state_dir)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = str(path.resolve())
    if key not in _PRIVATE_ONCE:
        from .diskio import make_private

        make_private(path)
        _PRIVATE_ONCE.add(key)
    return path
