"""cb_core.lazy: a front's table of names is checked when the front is built."""
from __future__ import annotations

import pytest

from cb_core.lazy import lazy_exports


def test_a_name_exported_by_two_modules_is_refused():
    with pytest.raises(ValueError, match=r"^pkg: vintage_table is exported by both book_tables and booked_tables$"):
        lazy_exports("pkg", {"book_tables": ("vintage_table",), "booked_tables": ("vintage_table", "other")})


def test_a_module_name_that_is_also_an_export_is_refused():
    with pytest.raises(ValueError, match=r"module name\(s\) also exported: scale"):
        lazy_exports("pkg", {"scale": ("scale",)})


def test_names_load_from_their_module():
    names, getattr_, dir_ = lazy_exports("cb_core", {"i18n": ("format_pct",)})
    assert names == dir_() == ["format_pct"]
    assert getattr_("format_pct")(0.5) == "50.0%"
    with pytest.raises(AttributeError):
        getattr_("nope")
