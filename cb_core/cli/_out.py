"""The ``--out`` of a command that writes a table: CSV or Parquet, said before any work is done."""
from __future__ import annotations

from pathlib import Path


def table_out(out: str | Path) -> Path:
    """``out`` as a path when it ends in ``.csv`` or ``.parquet``; :class:`~cb_core.errors.ConfigError` naming it
    otherwise."""
    from ..errors import ConfigError

    path = Path(out)
    if path.suffix.lower() not in (".csv", ".parquet"):
        raise ConfigError(f"--out must end in .csv or .parquet; got {path.name}")
    return path
