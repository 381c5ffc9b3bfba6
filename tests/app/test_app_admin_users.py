"""The admin page manages users (add, disable / enable, reset password, change role and partner)
through the store's verbs, each audited with the admin as the actor; refusals (weak password,
duplicate name, last admin) are said in the user's language; the audit log reads as sentences with
times in Korea time."""
from __future__ import annotations

from datetime import timedelta, timezone

import pytest

from cb_core.errors import ConfigError, ConflictError
from tests.support.app import PASSWORD, app_as


def admin_page(store, lang: str = "ko"):
    app = app_as("admin", store)
    app.session_state["lang"] = lang
    app.switch_page("views/admin.py").run()
    assert not app.exception, app.exception
    return app


def press(app, label: str):
    """Click the (form) button labelled ``label`` and run."""
    [button] = [b for b in app.button if b.label == label]
    button.click().run()
    assert not app.exception, app.exception
    return app


def add_user(app, name: str, role: str, password: str, partner: str = ""):
    app.text_input(key="ua_name").set_value(name)
    app.selectbox(key="ua_role").set_value(role)
    app.selectbox(key="ua_partner").set_value(partner)
    app.text_input(key="ua_password").set_value(password)
    return press(app, "추가" if app.session_state["lang"] == "ko" else "Add")


def errors(app) -> list[str]:
    return [e.value for e in app.error]


def last_entry(store, action: str):
    return store.audit_log({"action": action}, limit=1)[0]


def test_add_user_and_refusals_in_korean(own_store):
    app = add_user(admin_page(own_store), "choi", "pm", PASSWORD)
    user = own_store.get_user("choi")
    assert (user.role, user.partner, user.disabled) == ("pm", None, False)
    assert any("choi" in s.value and "상품 관리자" in s.value for s in app.success)
    entry = last_entry(own_store, "user.add")
    assert (entry.user, entry.entity_id, entry.after) == ("admin", "choi", {"role": "pm", "partner": None})

    add_user(app, "jung", "officer", "short")
    assert errors(app) == ["비밀번호는 10자 이상이어야 합니다 (입력 5자). 흔한 비밀번호나 사용자 이름이 들어간 비밀번호도 쓸 수 없습니다."]
    assert own_store.get_user("jung") is None
    add_user(app, "kim", "officer", PASSWORD)
    assert errors(app) == ["이미 있는 사용자 이름입니다: kim"]
    add_user(app, "yoon", "partner", PASSWORD)  # a partner user without its partner
    assert errors(app) == ["제휴사 역할의 사용자(yoon)는 소속 제휴사를 골라야 합니다."]
    assert own_store.get_user("yoon") is None
    # a blank password: one is generated and shown once, and it works
    app = add_user(app, "han", "officer", "")
    [code] = [c.value for c in app.code]
    assert own_store.authenticate("han", code).name == "han"


def test_disable_enable_reset_and_change_role(own_store):
    app = admin_page(own_store)
    app.selectbox(key="um_user").set_value("lee").run()
    app.button(key="um_disable").click().run()
    assert own_store.get_user("lee").disabled is True
    assert last_entry(own_store, "user.disable").user == "admin"
    app.button(key="um_enable").click().run()
    assert own_store.get_user("lee").disabled is False
    entry = last_entry(own_store, "user.enable")
    assert (entry.user, entry.before, entry.after) == ("admin", {"disabled": True}, {"disabled": False})

    app.button(key="um_reset").click().run()
    [new_password] = [c.value for c in app.code]
    assert new_password != PASSWORD and own_store.authenticate("lee", new_password).name == "lee"
    assert last_entry(own_store, "user.reset_password").entity_id == "lee"

    app.selectbox(key="um_role_ko").set_value("partner")
    app.selectbox(key="um_partner").set_value("Hanbit Bank")
    press(app, "역할 변경")
    user = own_store.get_user("lee")
    assert (user.role, user.partner) == ("partner", "Hanbit Bank")
    entry = last_entry(own_store, "user.role")
    assert entry.before == {"role": "officer", "partner": None}
    assert entry.after == {"role": "partner", "partner": "Hanbit Bank"}


def test_the_last_admin_stays(own_store):
    app = admin_page(own_store, "en")
    app.selectbox(key="um_user").set_value("admin").run()
    app.button(key="um_disable").click().run()
    assert errors(app) == ["admin is the last active admin. Add another admin before disabling it or changing its role."]
    assert own_store.get_user("admin").disabled is False
    app.selectbox(key="um_role_en").set_value("pm")
    press(app, "Change role")
    assert len(app.error) == 1 and "last active admin" in app.error[0].value
    assert own_store.get_user("admin").role == "admin"
    # with a second admin, the first may step down
    own_store.add_user("second", "admin", password=PASSWORD)
    own_store.set_role("admin", "pm", actor="second")
    assert own_store.get_user("admin").role == "pm"


def test_store_verbs_refuse_bad_input(own_store):
    with pytest.raises(ConfigError, match="needs the partner") as caught:
        own_store.set_role("lee", "partner")
    assert caught.value.key == "err_user_needs_partner" and caught.value.params == {"name": "lee"}
    with pytest.raises(ConfigError, match="role must be one of"):
        own_store.set_role("lee", "boss")
    with pytest.raises(ConflictError, match="last active admin") as caught:
        own_store.disable_user("admin")
    assert caught.value.key == "err_last_admin"
    own_store.set_role("park", "officer")  # a partner user becomes an officer: its partner goes
    assert (own_store.get_user("park").role, own_store.get_user("park").partner) == ("officer", None)


def test_audit_log_reads_as_sentences_in_kst(own_store):
    own_store.disable_user("lee", actor="admin")
    entry = last_entry(own_store, "user.disable")
    app = admin_page(own_store)
    table = app.dataframe[0].value
    row = table[table["번호"] == entry.id].iloc[0]
    assert row["내용"] == "admin 님이 사용자 lee을(를) 중지했습니다"
    assert row["세부"] == "사용 중지: 아니오 → 예"
    at = entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=timezone.utc)
    expected = (at.astimezone(timezone.utc) + timedelta(hours=9)).strftime("%Y-%m-%d %H:%M:%S KST")
    assert row["일시 (KST)"] == expected
    adds = table[table["내용"].str.contains("추가했습니다")]
    assert len(adds) == 4 and set(adds["사용자"]) == {"시스템(명령줄)"}
    assert adds["세부"].str.match(r"^역할: .+ · 제휴사: ").all()
    assert not table.astype(str).apply(lambda c: c.str.contains(r"\{'|user\.add|None")).any().any()

    app = admin_page(own_store, "en")
    table = app.dataframe[0].value
    assert "admin disabled user lee" in set(table["What happened"])
    assert "Disabled: no → yes" in set(table["Details"])
