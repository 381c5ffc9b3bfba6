"""AppTest: every figure of Cutoff tuning follows the draft on screen; drafts are listed, reopen into
the sliders and can be discarded; publishing confirms the impact and requires a note (issue #13)."""
from __future__ import annotations

import pytest

from tests.support.app import app_as


@pytest.fixture(scope="module")
def frame(small_book, trained):
    from cb_core.features.pipeline import current_snapshot
    from cb_core.strategy import strategy_frame

    model, _ = trained
    snap = current_snapshot(small_book)
    return strategy_frame(snap, model.score(snap), small_book.merchants)  # today: no outcomes


@pytest.fixture(scope="module")
def seen(small_book, trained):
    from cb_core.strategy import decision_frame

    return decision_frame(small_book, trained[0])


def _metric(app, label: str) -> str:
    return next(m.value for m in app.metric if m.label == label)


def _draft(app_store, approve: int):
    from cb_core.strategy import Policy, policy_in_force

    published = policy_in_force(app_store).policy
    return Policy.from_dict({**published.to_dict(), "approve_cutoff": approve,
                             "refer_cutoff": min(published.refer_cutoff, approve)})


def test_every_figure_follows_the_slider(app_users, frame, seen, trained):
    from cb_core.strategy import (aligned_segment_rates, aligned_swap_sets, bureau_only_scores, check_positive_only,
                                  rescue_view, thin_file_uplift)

    app = app_as("kim", app_users)
    app.switch_page("views/cutoffs.py").run()
    app.session_state["lang"] = "en"
    app.run()
    bureau = bureau_only_scores(frame, trained[0].scale, fit_on=seen)  # fitted at decision
    for approve in (560, 660):
        app.slider(key="cut_approve").set_value(approve).run()
        assert not app.exception, app.exception
        draft = _draft(app_users, approve)
        uplift = thin_file_uplift(frame, draft, bureau)
        swaps = aligned_swap_sets(frame, seen, draft, match="approval")
        assert _metric(app, "Thin-file approval") == f"{uplift.thin_file_approval_rate:.1%}"
        assert _metric(app, "Swap-in (only we approve)") == f"{int(swaps.summary.loc['swap_in', 'n']):,}"
        assert _metric(app, "Swap-out (only the bureau approves)") == f"{int(swaps.summary.loc['swap_out', 'n']):,}"
        swap_in = "Swap-in (only we approve)"  # swap_in, in words
        shown_swaps = next(t for t in (d.value for d in app.dataframe) if swap_in in set(t.iloc[:, 0]))
        shown_swaps = shown_swaps.set_index(shown_swaps.columns[0])
        observed = swaps.summary.loc["swap_in", "observed_bad_rate"]  # of the swap-in merchants at decision
        assert shown_swaps.loc[swap_in, "Observed bad rate"] == ("–" if observed != observed else f"{100 * observed:.2f}%")
        rescue = rescue_view(frame, draft, bureau)
        tables = [d.value for d in app.dataframe]
        positive_only = "Approved, alternative data only helping"  # approved_positive_only, in words
        shown_rescue = next(t for t in tables if positive_only in set(t.iloc[:, 0]))
        assert shown_rescue.set_index(shown_rescue.columns[0]).loc[positive_only, "Merchants"] == \
            f"{rescue.summary.loc['approved_positive_only', 'n']:,}"
        shown_segments = next(t for t in tables if "Thin file" in t.columns and "Approval rate" in t.columns)
        rates = aligned_segment_rates(frame, seen, draft, "thin_file")
        assert shown_segments["Approval rate"].tolist() == [f"{100 * r:.1f}%" for r in rates["approval_rate"]]
        assert shown_segments["Observed bad rate"].tolist() == \
            ["–" if r != r else f"{100 * r:.2f}%" for r in rates["observed_bad_rate"]]
        assert shown_segments["Thin file"].tolist() == ["With credit history", "Thin file"]
        assert len(check_positive_only(rescue.merchants["positive_only_score"],
                                       rescue.merchants["bureau_only_score"])) == 0
    # the intervals say which draft they are for, and follow it once applied
    assert any("last applied draft" in c.value for c in app.caption)
    app.button(key="seg_apply").click().run()
    assert any(c.value == "Bootstrap 95% intervals: for the draft on screen" for c in app.caption)


def test_drafts_listed_reopened_and_discarded(app_users):
    app = app_as("kim", app_users)
    app.switch_page("views/cutoffs.py").run()
    app.slider(key="cut_approve").set_value(633).run()
    app.button(key="policy_save").click().run()
    mine = app_users.draft_for("default", "kim")
    assert mine.payload["approve_cutoff"] == 633
    # a new session (a reload): the sliders start from the published policy; the draft is listed
    app = app_as("kim", app_users)
    app.switch_page("views/cutoffs.py").run()
    assert app.slider(key="cut_approve").value != 633
    listed = app.dataframe[-1].value if "작성자" in app.dataframe[-1].value.columns else \
        next(d.value for d in app.dataframe if "작성자" in d.value.columns)
    row = listed[listed["작성자"] == "kim"].iloc[0]
    assert row["승인 컷오프 (점수)"] == 633
    assert row["기준 버전"] == ("–" if mine.based_on_version is None else f"v{mine.based_on_version}")
    app.selectbox(key="policy_draft_pick").set_value(mine.id).run()
    app.button(key="policy_reopen").click().run()
    assert not app.exception, app.exception
    assert app.slider(key="cut_approve").value == 633
    app.button(key="policy_discard").click().run()
    assert app_users.draft_for("default", "kim") is None


def test_someone_elses_draft_reopens_but_cannot_be_discarded(app_users):
    other = app_users.save_draft("default", {**_draft(app_users, 644).to_dict()}, "admin")
    app = app_as("kim", app_users)
    app.switch_page("views/cutoffs.py").run()
    app.selectbox(key="policy_draft_pick").set_value(other.id).run()
    assert app.button(key="policy_discard").disabled
    app.button(key="policy_reopen").click().run()
    assert app.slider(key="cut_approve").value == 644
    app_users.discard_draft(other.id, "admin")


def test_publish_confirms_the_impact_and_needs_a_note(app_users, frame):
    from cb_core.strategy import compare_policies, evaluate, policy_in_force

    before = app_users.published_policy("default")
    app = app_as("kim", app_users)
    app.switch_page("views/cutoffs.py").run()
    app.session_state["lang"] = "en"
    app.run()
    app.slider(key="cut_approve").set_value(612).run()
    app.button(key="policy_publish").click().run()
    draft, published = _draft(app_users, 612), policy_in_force(app_users).policy
    assert _metric(app, "Merchants whose decision changes") == f"{len(compare_policies(frame, draft, published).changes):,}"
    approval = [m for m in app.metric if m.label == "Approval rate"]
    assert approval[-1].value == f"{evaluate(frame, draft).approval_rate:.1%}"
    app.button(key="policy_confirm").click().run()  # no note
    assert [e.value for e in app.error] == ["Write why this version is published. Nothing was published"]
    assert app_users.published_policy("default") == before
    app.text_area(key="policy_note").set_value("tighter after Q4 vintages")
    app.button(key="policy_confirm").click().run()
    after = app_users.published_policy("default")
    assert after.version == (0 if before is None else before.version) + 1
    assert (after.payload["approve_cutoff"], after.note) == (612, "tighter after Q4 vintages")
