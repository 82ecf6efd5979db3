"""Users and roles, kept in a TOML users file with argon2id password hashes.

File shape::

    [users.alice]
    role = "auditor"
    password_hash = "$argon2id$v=19$m=65536,t=3,p=4$..."

Roles: viewer (read), auditor (read + audit queue), admin (everything). There are no
default users or passwords; the demo workspace creates random ones and prints them.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ROLES = ("viewer", "auditor", "admin")
_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class UserError(ValueError):
    """A user entry or users file is invalid."""


@dataclass(frozen=True)
class User:
    username: str
    role: str
    password_hash: str

    def can(self, role: str) -> bool:
        """True when this user's role includes role (admin > auditor > viewer)."""
        return ROLES.index(self.role) >= ROLES.index(role)


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise UserError("passwords need at least 8 characters")
    return PasswordHasher().hash(password)


def verify_password(user: User, password: str) -> bool:
    try:
        return PasswordHasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def make_user(username: str, role: str, password: str) -> User:
    if not _USERNAME.match(username):
        raise UserError(f"username {username!r} must be 1-64 letters, digits, '_', '.', '-'")
    if role not in ROLES:
        raise UserError(f"role {role!r} is not one of {', '.join(ROLES)}")
    return User(username, role, hash_password(password))


def load_users(path: Path) -> dict[str, User]:
    """Users from the file; an absent file means no users."""
    if not path.is_file():
        return {}
    data = tomllib.loads(path.read_text("utf-8")).get("users", {})
    users = {}
    for name, entry in data.items():
        if not isinstance(entry, Mapping) or entry.get("role") not in ROLES:
            raise UserError(f"{path}: user {name!r} needs a role in {', '.join(ROLES)}")
        if not str(entry.get("password_hash", "")).startswith("$argon2"):
            raise UserError(f"{path}: user {name!r} needs an argon2 password_hash")
        users[name] = User(name, entry["role"], entry["password_hash"])
    return users


def save_users(path: Path, users: Mapping[str, User]) -> None:
    """Write the users file atomically, readable by its owner only."""
    lines = ["# labelwatch users: argon2id hashes only, never plain passwords.", ""]
    for user in sorted(users.values(), key=lambda u: u.username):
        if not _USERNAME.match(user.username):
            raise UserError(f"username {user.username!r} is not allowed")
        lines += [
            f"[users.{user.username}]",
            f"role = {json.dumps(user.role)}",
            f"password_hash = {json.dumps(user.password_hash)}",
            "",
        ]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines))
    os.replace(tmp, path)
