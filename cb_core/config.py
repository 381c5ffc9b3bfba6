"""Settings: one typed table with defaults and help text.

Every setting can be overridden by an environment variable named ``CB_<NAME upper>``.
README's "Settings" section documents each one (a test checks it).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"


@dataclass(frozen=True)
class Setting:
    name: str
    type: type
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("state_dir", str, str(ROOT / ".state"), "Folder for generated books, models and the SQLite database (git-ignored)."),
    Setting("database_url", str, "", "SQLAlchemy URL of the app database; empty = SQLite file in state_dir."),
    Setting("demo_merchants", int, 20_000, "Merchants in the demo book built on first start."),
    Setting("demo_months", int, 24, "Months of activity in the demo book."),
    Setting("demo_seed", int, 7, "Random seed of the demo book (same seed, same bytes)."),
    Setting("demo_end_month", str, "2026-10", "Last month (YYYY-MM) of the demo book's activity."),
    Setting("pdo", float, 40.0, "Points to double the odds (score scaling)."),
    Setting("base_score", float, 600.0, "Score at the base odds."),
    Setting("base_odds", float, 50.0, "Good:bad odds that map to base_score."),
    Setting("max_report_rows", int, 20, "Row numbers listed per problem in a validation report."),
    Setting("max_upload_mb", int, 200, "Largest upload the Data page accepts, in MB."),
    Setting("approve_cutoff", float, 590.0, "Default approval cutoff (score) until a policy is published."),
    Setting("refer_cutoff", float, 550.0, "Default refer cutoff (score): between it and approve_cutoff goes to an officer."),
    Setting("reason_band", float, 20.0, "Reason codes compare with merchants scoring within this many points above the cutoff."),
    Setting("lgd", float, 0.6, "Loss given default used for expected loss."),
    Setting("session_timeout_minutes", int, 30, "Minutes of inactivity after which a login ends."),
)


def _parse(setting: Setting, raw: str) -> Any:
    try:
        return setting.type(raw)
    except (TypeError, ValueError):
        raise ConfigError(
            f"CB_{setting.name.upper()} must be a {setting.type.__name__}; got {raw!r}"
        ) from None


def get_settings(**overrides: Any) -> dict[str, Any]:
    """Current settings: defaults, then ``CB_*`` environment variables, then ``overrides``.

    Returns
    -------
    dict
        Setting name -> value.
    """
    known = {s.name: s for s in SETTINGS}
    unknown = set(overrides) - set(known)
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for s in SETTINGS:
        raw = os.environ.get(f"CB_{s.name.upper()}")
        values[s.name] = _parse(s, raw) if raw not in (None, "") else s.default
    values.update(overrides)
    if values["demo_merchants"] < 1:
        raise ConfigError(f"demo_merchants must be at least 1; got {values['demo_merchants']}")
    if not 1 <= values["demo_months"] <= 120:
        raise ConfigError(f"demo_months must be within 1–120; got {values['demo_months']}")
    return values


def state_dir(settings: dict[str, Any] | None = None) -> Path:
    """The state folder, created if needed."""
    path = Path((settings or get_settings())["state_dir"])
    path.mkdir(parents=True, exist_ok=True)
    return path
