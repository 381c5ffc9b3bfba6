"""What a load run records (timings, decision and publish attempts, sessions, users) and the words of
the app it looks for on the page. Standard library only."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

PASSWORD = "load test password 2026"
POLICY_NAME = "default"  # ui.policy.POLICY_NAME (not imported: it imports streamlit)
DECISIONS = ("approve", "refer", "decline")

# The Korean labels the app shows by default (data/i18n); the driver clicks what a user clicks.
LABEL = {"user": "사용자 이름", "password": "비밀번호", "login": "로그인", "logout": "로그아웃",
         "search": "가맹점 ID 또는 상호 검색", "save": "결정 저장", "note": "메모 (사유)", "publish": "게시",
         "publish_note": "게시 사유 (필수)", "publish_confirm": "게시 확정",
         "approval_rate": "승인율", "error": "요청을 처리할 수 없습니다",
         "approve": "승인", "refer": "심사역 검토", "decline": "거절"}
TITLE = {"portfolio": "포트폴리오", "merchant_review": "가맹점 심사", "decisions": "심사 결정",
         "model_report": "모형 보고서", "cutoffs": "컷오프 조정"}
SAVED = re.compile(r"결정 #(\d+)을 저장했습니다")
PUBLISHED = re.compile(r"정책 v(\d+)을 게시했습니다")
# the store's conflict messages, as the app says them in Korean (data/i18n/s5_errors.json) or in English
DECISION_CONFLICT = re.compile(r"already superseded|superseded by someone else|already has decision"
                               r"|이미 결정 \d+\(으\)로 대체되었습니다|방금 다른 사람이 대체했습니다|화면을 연 뒤 결정 \d+")
POLICY_CONFLICT = re.compile(r"was published as version (?P<en>\d+) by \S+|\S+님이 정책 .*?버전 (?P<ko>\d+)\(으\)로 게시했습니다")


def conflict_version(message: str) -> int | None:
    """The version a policy conflict message names (someone else published it), else None."""
    found = POLICY_CONFLICT.search(message)
    return None if found is None else int(found.group("en") or found.group("ko"))

LIVE = '[data-testid="stElementContainer"]:not([data-stale="true"])'


@dataclass(frozen=True)
class Timing:
    kind: str
    user: str
    seconds: float


@dataclass
class DecisionAttempt:
    user: str
    merchant_id: str
    decision: str
    token: str
    saved_id: int | None = None
    message: str = ""  # the store's message when the app refused the decision
    radio_before: str | None = None  # the choice the form showed before the officer clicked one
    radio_at_submit: str | None = None  # ... and just before Save was pressed

    @property
    def conflict(self) -> bool:
        return self.saved_id is None and bool(DECISION_CONFLICT.search(self.message))


@dataclass
class PublishAttempt:
    user: str
    round: int
    phase: str  # "race": both product managers at once; "retry": alone, after a conflict
    version: int | None = None
    message: str = ""

    @property
    def conflict(self) -> bool:
        return self.version is None and bool(POLICY_CONFLICT.search(self.message))


@dataclass
class SessionLog:
    """One browser session: its timings, sign-ins, and anything it saw that a user should never see."""

    user: str
    timings: list[Timing] = field(default_factory=list)
    sign_ins: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class LoadRun:
    sessions: list[SessionLog]
    decisions: list[DecisionAttempt]
    publishes: list[PublishAttempt]
    seconds: float

    @property
    def timings(self) -> list[Timing]:
        return [t for s in self.sessions for t in s.timings]

    @property
    def problems(self) -> list[str]:
        return [f"{s.user}: {p}" for s in self.sessions for p in s.problems]


@dataclass(frozen=True)
class Users:
    officers: tuple[str, ...]
    pms: tuple[str, ...]
    rss: str = "rss_admin"

    @property
    def all(self) -> tuple[str, ...]:
        return (*self.officers, *self.pms, self.rss)


__all__ = ["conflict_version", "DECISIONS", "DECISION_CONFLICT", "LABEL", "LIVE", "PASSWORD", "POLICY_CONFLICT", "POLICY_NAME", "PUBLISHED",
           "SAVED", "TITLE", "DecisionAttempt", "LoadRun", "PublishAttempt", "SessionLog", "Timing", "Users"]
