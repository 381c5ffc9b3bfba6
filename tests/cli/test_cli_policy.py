"""``python -m cb_core policy show | publish``: the policy in force as JSON; publishing with the app's
validation, permission, required note, conflict handling and audit (issue #13)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cb_core.cli.commands import main
from tests.support.app import ROOT
from tests.support.store import FAST_HASHER, PASSWORD


@pytest.fixture
def url(tmp_path):
    from cb_core.store import Store

    url = f"sqlite:///{tmp_path / 'cb.sqlite'}"
    store = Store(url, password_hasher=FAST_HASHER)
    for name, role in (("kim", "pm"), ("lee", "pm"), ("oh", "officer")):
        store.add_user(name, role, password=PASSWORD)
    store.close()
    return url


def _run(capsys, url: str, *args: str) -> tuple[int, dict | None, str]:
    code = main(["policy", *args[:1], "--database-url", url, *args[1:]])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else None), err


def _store(url):
    from cb_core.store import Store

    return Store(url)


def test_show_before_anything_is_published_gives_the_settings(capsys, url):
    from cb_core.strategy import Policy

    code, shown, _ = _run(capsys, url, "show")
    assert code == 0
    assert (shown["version"], shown["source"], shown["note"]) == (None, "settings", None)
    assert shown["policy"] == Policy.from_settings().to_dict()


def test_publish_then_show_the_version_with_its_note_audited(capsys, url):
    code, out, err = _run(capsys, url, "publish", "--approve", "620", "--refer", "560", "--lgd", "0.4",
                          "--user", "kim", "--note", "tighter after Q4")
    assert code == 0, err
    assert (out["version"], out["based_on_version"], out["published_by"], out["note"]) == (1, None, "kim", "tighter after Q4")
    assert (out["policy"]["approve_cutoff"], out["policy"]["refer_cutoff"], out["policy"]["lgd"]) == (620, 560, 0.4)
    code, shown, _ = _run(capsys, url, "show")
    assert (shown["version"], shown["source"], shown["published_by"], shown["note"]) == (1, "published", "kim",
                                                                                         "tighter after Q4")
    assert shown["policy"]["approve_cutoff"] == 620 and shown["policy"]["lgd"] == 0.4
    # the next version starts from the one in force: lgd stays unless given
    code, out, _ = _run(capsys, url, "publish", "--approve", "630", "--refer", "560", "--apr", "0.07",
                        "--user", "lee", "--note", "price up")
    assert (code, out["version"], out["based_on_version"]) == (0, 2, 1)
    assert (out["policy"]["lgd"], out["policy"]["apr"]) == (0.4, 0.07)
    store = _store(url)
    published = [e for e in store.audit_log({"action": "policy.publish"})]
    assert sorted((e.user, e.after["version"], e.after["note"]) for e in published) == [
        ("kim", 1, "tighter after Q4"), ("lee", 2, "price up")]
    store.close()


@pytest.mark.parametrize("args, message", [
    (("--approve", "620", "--refer", "560", "--user", "oh", "--note", "x"),
     "user 'oh' is a officer; only admin and pm users may publish a policy"),
    (("--approve", "620", "--refer", "560", "--user", "nobody", "--note", "x"), "user 'nobody' does not exist"),
    (("--approve", "620", "--refer", "560", "--user", "kim", "--note", "  "), "a publication note is required"),
    (("--approve", "1200", "--refer", "560", "--user", "kim", "--note", "x"), "approve_cutoff must be within 1–1000; got 1200"),
])
def test_refused_publications_exit_2_and_publish_nothing(capsys, url, args, message):
    code, out, err = _run(capsys, url, "publish", *args)
    assert code == 2 and out is None
    assert message in err and "Traceback" not in err
    store = _store(url)
    assert store.published_policy("default") is None
    store.close()


def test_refer_above_approve_is_refused_with_the_policys_own_message(capsys, url):
    from cb_core.errors import PolicyError
    from cb_core.strategy import Policy

    with pytest.raises(PolicyError) as expected:
        Policy.from_dict({**Policy.from_settings().to_dict(), "approve_cutoff": 600, "refer_cutoff": 650})
    code, _, err = _run(capsys, url, "publish", "--approve", "600", "--refer", "650", "--user", "kim", "--note", "x")
    assert code == 2 and err.strip() == f"error: {expected.value}"


def test_someone_publishing_meanwhile_is_a_conflict_and_nothing_is_published(capsys, url, monkeypatch):
    import cb_core.strategy as strategy

    real = strategy.policy_in_force

    def read_then_lee_publishes(store, name="default", settings=None):
        seen = real(store, name, settings)  # what the command starts from (nothing published)
        draft = store.save_draft(name, {"approve_cutoff": 640, "refer_cutoff": 560}, "lee")
        store.publish(name, draft.id, "lee", expected_base_version=None, note="lee's")
        return seen

    monkeypatch.setattr(strategy, "policy_in_force", read_then_lee_publishes)
    code, out, err = _run(capsys, url, "publish", "--approve", "620", "--refer", "560", "--user", "kim", "--note", "x")
    assert code == 2 and out is None
    assert "was published as version 1 by lee" in err
    store = _store(url)
    assert store.published_policy("default").published_by == "lee"
    assert store.published_policy("default").version == 1
    store.close()


def test_policy_show_as_a_subprocess(url):
    r = subprocess.run([sys.executable, "-m", "cb_core", "policy", "show", "--database-url", url], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["source"] == "settings"
