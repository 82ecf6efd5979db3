"""Authenticator (argon2id logins, rate limit per user and per client) and require()."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from auditor.auth import Authenticator, PermissionDeniedError, require
from auditor.users import User, make_user, save_users

PASSWORD = "unit-test-password-1"  # test fixture only


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def users() -> dict[str, User]:
    return {name: make_user(name, role, PASSWORD) for name, role in
            (("ada", "viewer"), ("bob", "auditor"), ("cy", "admin"))}  # fmt: skip


@pytest.fixture
def auth(tmp_path: Path, users: dict[str, User]) -> tuple[Authenticator, Clock]:
    path = tmp_path / "users.toml"
    save_users(path, users)
    clock = Clock()
    return Authenticator(path, max_failures=5, window_s=60, lockout_s=300, clock=clock), clock


def test_right_password_logs_in(auth: tuple[Authenticator, Clock]) -> None:
    result = auth[0].login("bob", PASSWORD)
    assert result.user is not None and result.user.role == "auditor" and result.reason == ""


def test_same_message_for_unknown_user_and_wrong_password(
    auth: tuple[Authenticator, Clock],
) -> None:
    unknown = auth[0].login("nobody", PASSWORD)
    wrong = auth[0].login("bob", "not-the-password")
    assert unknown.user is None and wrong.user is None
    assert unknown.reason == wrong.reason == "unknown user or wrong password"


def test_locked_after_max_failures_even_with_the_right_password(
    auth: tuple[Authenticator, Clock], caplog: pytest.LogCaptureFixture
) -> None:
    authenticator, _ = auth
    for _ in range(5):
        assert authenticator.login("bob", "wrong-password").user is None
    with caplog.at_level(logging.WARNING, logger="labelwatch.auth"):
        refused = authenticator.login("bob", PASSWORD)
    assert refused.user is None
    assert refused.reason == "too many failed attempts; try again in 300 s"
    assert "login refused (rate limit) for user:bob" in caplog.text
    assert authenticator.login("ada", PASSWORD).user is not None  # other users unaffected


def test_lockout_expires(auth: tuple[Authenticator, Clock]) -> None:
    authenticator, clock = auth
    for _ in range(5):
        authenticator.login("bob", "wrong-password")
    clock.now += 299
    assert authenticator.login("bob", PASSWORD).reason.endswith("try again in 1 s")
    clock.now += 2
    assert authenticator.login("bob", PASSWORD).user is not None


def test_failures_outside_the_window_do_not_count(auth: tuple[Authenticator, Clock]) -> None:
    authenticator, clock = auth
    for _ in range(4):
        authenticator.login("bob", "wrong-password")
    clock.now += 61
    authenticator.login("bob", "wrong-password")
    assert authenticator.login("bob", PASSWORD).user is not None


def test_success_resets_the_users_count(auth: tuple[Authenticator, Clock]) -> None:
    authenticator, _ = auth
    for _ in range(4):
        authenticator.login("bob", "wrong-password")
    assert authenticator.login("bob", PASSWORD).user is not None
    for _ in range(4):
        authenticator.login("bob", "wrong-password")
    assert authenticator.login("bob", PASSWORD).user is not None


def test_rate_limit_per_client_across_usernames(auth: tuple[Authenticator, Clock]) -> None:
    authenticator, clock = auth
    for name in ("u1", "u2", "u3", "u4", "u5"):
        authenticator.login(name, "guess", client="10.0.0.9")
    refused = authenticator.login("cy", PASSWORD, client="10.0.0.9")
    assert refused.user is None and refused.reason.startswith("too many failed attempts")
    assert authenticator.login("cy", PASSWORD, client="10.0.0.10").user is not None
    clock.now += 301
    assert authenticator.login("cy", PASSWORD, client="10.0.0.9").user is not None


def test_a_known_login_does_not_reset_the_clients_count(auth: tuple[Authenticator, Clock]) -> None:
    authenticator, _ = auth
    for name in ("u1", "u2", "u3", "u4"):
        authenticator.login(name, "guess", client="10.0.0.9")
    assert authenticator.login("ada", PASSWORD, client="10.0.0.9").user is not None
    authenticator.login("u5", "guess", client="10.0.0.9")
    assert authenticator.login("ada", PASSWORD, client="10.0.0.9").user is None


def test_require(users: dict[str, User], caplog: pytest.LogCaptureFixture) -> None:
    assert require(users["cy"], "auditor", action="submit") is users["cy"]
    assert require(users["bob"], "auditor", action="submit") is users["bob"]
    assert require(users["ada"], "viewer", action="read") is users["ada"]
    with caplog.at_level(logging.WARNING, logger="labelwatch.auth"):
        with pytest.raises(PermissionDeniedError, match="submit an audit needs the auditor role"):
            require(users["ada"], "auditor", action="submit an audit")
        with pytest.raises(PermissionDeniedError, match="run the pipeline needs the admin role"):
            require(users["bob"], "admin", action="run the pipeline")
        with pytest.raises(PermissionDeniedError):
            require(None, "viewer", action="read")
    assert "refused: ada (viewer) tried to submit an audit (needs auditor)" in caplog.text
    assert "refused: bob (auditor) tried to run the pipeline (needs admin)" in caplog.text
    assert "refused: an anonymous visitor tried to read" in caplog.text
    with pytest.raises(ValueError, match="unknown role"):
        require(users["cy"], "root", action="anything")
