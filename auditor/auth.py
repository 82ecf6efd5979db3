"""Login and role checks for the dashboard, enforced here (server side), never only in UI.

`Authenticator.login` verifies a password against the users file's argon2id hash and
rate-limits failures: after `max_failures` failed attempts for one username (or from one
client key) within `window_s`, further attempts are refused for `lockout_s` without
checking the password. `require(user, role)` raises `PermissionDeniedError` (and logs it) when
a user lacks the role a write needs; every dashboard write path calls it first.
"""

from __future__ import annotations

import functools
import logging
import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from auditor.users import ROLES, User, hash_password, load_users, verify_password

log = logging.getLogger("labelwatch.auth")


class PermissionDeniedError(PermissionError):
    """A user tried an action their role does not allow (the attempt is logged)."""


@dataclass(frozen=True)
class LoginResult:
    """user: the logged-in user, or None; reason: why not (same text for an unknown user
    and a wrong password, so that the form does not reveal which usernames exist)."""

    user: User | None
    reason: str = ""


@dataclass
class Authenticator:
    users_file: Path
    max_failures: int = 5
    window_s: float = 300.0
    lockout_s: float = 300.0
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _locked_until: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def login(self, username: str, password: str, *, client: str = "") -> LoginResult:
        keys = [f"user:{username}"] + ([f"client:{client}"] if client else [])
        now = self.clock()
        with self._lock:
            for key in keys:
                until = self._locked_until.get(key, 0.0)
                if until > now:
                    log.warning("login refused (rate limit) for %s", key)
                    return LoginResult(
                        None, f"too many failed attempts; try again in {until - now:.0f} s"
                    )
        user = load_users(self.users_file).get(username)
        if user is None:  # spend the time a hash check takes: timing must not tell either
            verify_password(_decoy(), password)
        elif verify_password(user, password):
            with self._lock:  # the client's count stays: one known login must not reset it
                self._failures.pop(keys[0], None)
            log.info("login %s (%s)", username, user.role)
            return LoginResult(user)
        with self._lock:
            for key in keys:
                attempts = self._failures[key]
                attempts.append(now)
                while attempts and attempts[0] < now - self.window_s:
                    attempts.popleft()
                if len(attempts) >= self.max_failures:
                    self._locked_until[key] = now + self.lockout_s
                    attempts.clear()
        log.warning("failed login for %r", username)
        return LoginResult(None, "unknown user or wrong password")


@functools.cache
def _decoy() -> User:
    """A user no password matches, to verify against when the username is unknown."""
    return User("", "viewer", hash_password(secrets.token_urlsafe(24)))


def require(user: User | None, role: str, *, action: str) -> User:
    """The user, when they hold role (admin > auditor > viewer); else PermissionDeniedError."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    if user is None or not user.can(role):
        who = "an anonymous visitor" if user is None else f"{user.username} ({user.role})"
        log.warning("refused: %s tried to %s (needs %s)", who, action, role)
        raise PermissionDeniedError(f"{action} needs the {role} role")
    return user
