"""Users, roles and the argon2 users file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from auditor.users import (
    ROLES,
    User,
    UserError,
    hash_password,
    load_users,
    make_user,
    save_users,
    verify_password,
)
from tests.conftest import write

PASSWORD = "correct horse"  # a test fixture, never a real credential


@pytest.fixture(scope="module")
def alice() -> User:
    return make_user("alice", "auditor", PASSWORD)


def test_hash_and_verify_round_trip(alice: User) -> None:
    assert alice.username == "alice"
    assert alice.role == "auditor"
    assert alice.password_hash.startswith("$argon2id$")
    assert PASSWORD not in alice.password_hash
    assert verify_password(alice, PASSWORD)


def test_wrong_password_is_false(alice: User) -> None:
    assert verify_password(alice, "correct horsE") is False
    assert verify_password(alice, "") is False


def test_verify_against_a_broken_hash_is_false() -> None:
    assert verify_password(User("bob", "viewer", "not-a-hash"), PASSWORD) is False


def test_hashes_are_salted() -> None:
    assert hash_password(PASSWORD) != hash_password(PASSWORD)


def test_short_password_rejected() -> None:
    with pytest.raises(UserError, match="passwords need at least 8 characters"):
        hash_password("1234567")
    with pytest.raises(UserError, match="at least 8 characters"):
        make_user("alice", "viewer", "short")


@pytest.mark.parametrize("username", ["", "has space", "x" * 65, "semi;colon", "ü", "a/b"])
def test_bad_username_rejected(username: str) -> None:
    with pytest.raises(UserError, match="must be 1-64 letters, digits"):
        make_user(username, "viewer", PASSWORD)


@pytest.mark.parametrize("username", ["a", "Bob_2", "first.last", "x-y", "x" * 64])
def test_good_usernames_accepted(username: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("auditor.users.hash_password", lambda password: "$argon2id$fake")
    assert make_user(username, "viewer", PASSWORD).username == username


@pytest.mark.parametrize("role", ["root", "Admin", ""])
def test_bad_role_rejected(role: str) -> None:
    with pytest.raises(UserError, match=f"role {role!r} is not one of viewer, auditor, admin"):
        make_user("alice", role, PASSWORD)


def test_role_ordering() -> None:
    assert ROLES == ("viewer", "auditor", "admin")
    can = {
        role: [other for other in ROLES if User("u", role, "$argon2id$x").can(other)]
        for role in ROLES
    }
    assert can == {
        "viewer": ["viewer"],
        "auditor": ["viewer", "auditor"],
        "admin": ["viewer", "auditor", "admin"],
    }


def test_load_users_absent_file_is_empty(tmp_path: Path) -> None:
    assert load_users(tmp_path / "users.toml") == {}


def test_load_users_rejects_an_entry_without_argon2_hash(tmp_path: Path) -> None:
    path = write(tmp_path, "users.toml", '[users.mallory]\nrole = "admin"\npassword_hash = "x"\n')

    with pytest.raises(UserError, match="user 'mallory' needs an argon2 password_hash"):
        load_users(path)


def test_load_users_rejects_a_plain_password(tmp_path: Path) -> None:
    # a test fixture: a plaintext password in the users file must be refused
    plaintext = '[users.mallory]\nrole = "admin"\npassword = "hunter22"\n'  # test fixture
    path = write(tmp_path, "users.toml", plaintext)

    with pytest.raises(UserError, match="user 'mallory' needs an argon2 password_hash"):
        load_users(path)


def test_load_users_rejects_an_unknown_role(tmp_path: Path) -> None:
    path = write(
        tmp_path, "users.toml", '[users.eve]\nrole = "root"\npassword_hash = "$argon2id$x"\n'
    )

    with pytest.raises(UserError, match="user 'eve' needs a role in viewer, auditor, admin"):
        load_users(path)


def test_save_users_mode_and_round_trip(tmp_path: Path, alice: User) -> None:
    path = tmp_path / "nested" / "users.toml"
    bob = User("bob", "admin", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA")

    save_users(path, {"bob": bob, "alice": alice})

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_users(path) == {"alice": alice, "bob": bob}
    text = path.read_text("utf-8")
    assert text.index("[users.alice]") < text.index("[users.bob]")
    assert PASSWORD not in text
    assert not path.with_suffix(".tmp").exists()
    assert verify_password(load_users(path)["alice"], PASSWORD)


def test_save_users_overwrites_and_keeps_mode(tmp_path: Path, alice: User) -> None:
    path = tmp_path / "users.toml"
    save_users(path, {"alice": alice})
    save_users(path, {})

    assert load_users(path) == {}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_save_users_rejects_a_bad_username(tmp_path: Path) -> None:
    path = tmp_path / "users.toml"

    with pytest.raises(UserError, match="username 'bad name' is not allowed"):
        save_users(path, {"bad name": User("bad name", "viewer", "$argon2id$x")})
    assert not path.exists()
