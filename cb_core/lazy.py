"""Package fronts that load their modules on first use (PEP 562).

A front lists its public names by the module that defines them; ``from cb_core.model import
score_from_pd`` then loads ``cb_core.model.scale`` only, not LightGBM. This keeps every command
paying only for what it uses (``validate`` never imports LightGBM, numba or scikit-learn).
A base module: it imports nothing from ``cb_core``.
"""
from __future__ import annotations

import sys
import types
from importlib import import_module
from typing import Any, Callable, Iterable, Mapping


def lazy_exports(package: str, table: Mapping[str, Iterable[str]]
                 ) -> tuple[list[str], Callable[[str], Any], Callable[[], list[str]]]:
    """``__all__``, ``__getattr__`` and ``__dir__`` for a package front.

    Parameters
    ----------
    package
        The front's ``__name__``.
    table
        Module name relative to the package (``"scale"``) -> the public names it defines.
        A module name must not also be an exported name: once the module is imported, Python
        would set the package attribute of that name to the module.
    """
    where: dict[str, str] = {}
    for module, names in table.items():
        for name in names:
            if name in where:  # the later module would silently shadow the earlier one's name
                raise ValueError(f"{package}: {name} is exported by both {where[name]} and {module}")
            where[name] = module
    clash = sorted(set(where) & set(table))
    if clash:
        raise ValueError(f"{package}: module name(s) also exported: {', '.join(clash)}")

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{where[name]}"), name)
        setattr(sys.modules[package], name, value)  # later lookups skip this function
        return value

    names = sorted(where)
    return names, __getattr__, lambda: list(names)


class LazyModule(types.ModuleType):
    """A module imported on its first attribute use: ``pd = LazyModule("pandas")`` in a module whose command
    line paths may not need pandas (a score of the installed book reads Arrow and numpy only, and importing
    pandas is 0.25 s of its 1 s). Once imported, its names are copied here, so later uses cost a plain lookup."""

    def loaded(self) -> bool:
        """Whether the module is imported (by anyone): a value can be of one of its types only then, so
        ``pd.loaded() and isinstance(x, pd.Series)`` asks without importing pandas."""
        return sys.modules.get(self.__name__) is not None

    def __getattr__(self, name: str) -> Any:
        module = import_module(self.__name__)
        vars(self).update({k: v for k, v in vars(module).items() if k not in ("__name__", "__spec__", "__loader__")})
        return getattr(module, name)


__all__ = ["LazyModule", "lazy_exports"]
