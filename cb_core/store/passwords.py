"""Passwords: the policy a chosen password must meet, and argon2id hashing and checking.

The policy (:func:`check_password`): at least ``MIN_PASSWORD_LENGTH`` (10) characters, not one of
the common passwords in ``data/common_passwords.txt`` (compared without case), and not containing
the user's own name. A refused password gets one message that names what was wrong and states
the whole rule (``password_rule`` in ``data/i18n`` says the same in Korean and English).
Generated passwords (20 random characters) are not checked against the list.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..config import DATA_DIR
from ..errors import ConfigError

__all__ = ["COMMON_PASSWORDS_FILE", "MIN_PASSWORD_LENGTH", "PASSWORD_RULE", "PasswordCheck", "Passwords",
           "check_password", "common_passwords"]

MIN_PASSWORD_LENGTH = 10
COMMON_PASSWORDS_FILE = DATA_DIR / "common_passwords.txt"
MIN_NAME_IN_PASSWORD = 3  # shorter names ("oh") would forbid too many good passwords
PASSWORD_RULE = (f"the rule: at least {MIN_PASSWORD_LENGTH} characters, not one of the common passwords on "
                 "our list, and not containing the user name")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The refused common passwords, lower case."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def check_password(password: object, user_name: str | None = None) -> str:
    """``password`` when it meets the policy; otherwise ConfigError naming the problem and the rule."""
    if not isinstance(password, str):
        raise ConfigError(f"a password must be text; got {type(password).__name__}; {PASSWORD_RULE}",
                          key="err_password_short", min=MIN_PASSWORD_LENGTH, n=0)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigError(f"a password must be at least {MIN_PASSWORD_LENGTH} characters; got {len(password)} "
                          f"characters; {PASSWORD_RULE}", key="err_password_short", min=MIN_PASSWORD_LENGTH,
                          n=len(password))
    if password.strip().lower() in common_passwords():
        raise ConfigError(f"this password is one of the most common passwords; {PASSWORD_RULE}",
                          key="err_password_common", min=MIN_PASSWORD_LENGTH)
    name = (user_name or "").strip().lower()
    if len(name) >= MIN_NAME_IN_PASSWORD and name in password.lower():
        raise ConfigError(f"a password must not contain the user name; {PASSWORD_RULE}",
                          key="err_password_has_name")
    return password


@dataclass(frozen=True)
class PasswordCheck:
    """What :meth:`Passwords.check` found: the hash it checked, whether the password matched it,
    and a stronger hash of the password when the stored one was made with weaker parameters."""

    seen_hash: str | None
    correct: bool
    new_hash: str | None


class Passwords:
    """argon2id hashing and checking of one store's passwords."""

    def __init__(self, hasher: PasswordHasher) -> None:
        self.hasher = hasher
        self._dummy: str | None = None

    def hash(self, password: str, user_name: str | None = None) -> str:
        """The hash of ``password``; ConfigError when it breaks the policy (:func:`check_password`)."""
        return self.hasher.hash(check_password(password, user_name))

    @staticmethod
    def generate() -> str:
        """A new random password (20 characters)."""
        return secrets.token_urlsafe(15)

    def check(self, password_hash: str | None, password: str) -> PasswordCheck:
        """Whether ``password`` matches ``password_hash``; None (an unknown user) is checked against
        a dummy hash, so both take the same time and names cannot be probed."""
        if password_hash is None and self._dummy is None:
            self._dummy = self.hasher.hash(self.generate())
        try:
            correct = self.hasher.verify(password_hash or self._dummy, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            correct = False
        rehash = correct and self.hasher.check_needs_rehash(password_hash)
        return PasswordCheck(password_hash, correct, self.hasher.hash(password) if rehash else None)
