"""policy_in_force: the published version of the named policy, else the settings' defaults."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

from cb_core.config import get_settings
from cb_core.errors import PolicyError
from cb_core.strategy import Policy, PolicyInForce, policy_in_force


@dataclass
class _Record:
    payload: dict
    version: int


class _Store:
    """Only what policy_in_force may use: ``published_policy(name)``."""

    def __init__(self, published: dict[str, _Record]):
        self.published = published
        self.asked: list[str] = []

    def published_policy(self, name: str):
        self.asked.append(name)
        return self.published.get(name)


def test_nothing_published_gives_the_settings_defaults():
    found = policy_in_force(_Store({}))
    assert found == PolicyInForce(Policy.from_settings(), None, "settings", "default")
    assert (found.policy.approve_cutoff, found.policy.refer_cutoff) == (590.0, 550.0)
    assert not found.published


def test_settings_passed_in_are_the_defaults():
    settings = get_settings(approve_cutoff=610.0, refer_cutoff=560.0)
    found = policy_in_force(_Store({}), settings=settings)
    assert (found.policy.approve_cutoff, found.policy.refer_cutoff, found.source) == (610.0, 560.0, "settings")


def test_the_published_version_of_the_named_policy_wins():
    store = _Store({"default": _Record({"approve_cutoff": 620, "refer_cutoff": 550, "lgd": 0.5}, 3),
                    "other": _Record({"approve_cutoff": 700, "refer_cutoff": 650}, 9)})
    found = policy_in_force(store)
    assert store.asked == ["default"]
    assert found.version == 3 and found.source == "published" and found.published
    assert found.policy == Policy(approve_cutoff=620, refer_cutoff=550, lgd=0.5)
    assert policy_in_force(store, "other").policy.approve_cutoff == 700.0


def test_an_unusable_published_payload_names_policy_and_version():
    store = _Store({"default": _Record({"approve_cutoff": 1200, "refer_cutoff": 550}, 4)})
    with pytest.raises(PolicyError, match=r"^published policy 'default' v4 is not usable: approve_cutoff must be "
                                          r"within 1–1000; got 1200$"):
        policy_in_force(store)


def test_strategy_does_not_import_the_store():
    source = Path(__file__).resolve().parents[2] / "cb_core" / "strategy" / "in_force.py"
    imported = [n.module or "" for n in ast.walk(ast.parse(source.read_text(encoding="utf-8")))
                if isinstance(n, ast.ImportFrom)]
    assert imported and not [m for m in imported if "store" in m]
