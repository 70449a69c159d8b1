"""Who is signed in at this seat: the role decides the inbox, the actions offered and the data scope."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from db import base_repo
from db.store import connect


class SignInError(ValueError):
    """Wrong user or password; the message is shown as it is."""


@dataclass(frozen=True)
class Session:
    user_id: str
    name: str
    role: str
    districts: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()

    @property
    def actor(self) -> dict[str, str]:
        return {"id": self.user_id, "role": self.role}


def list_users(store_path: str | Path) -> list[tuple[str, str, str]]:
    """(id, name, role) of active users, for the sign-in list."""
    conn = connect(store_path, readonly=True)
    try:
        return [(u.id, u.name, u.role) for u in base_repo.users(conn) if u.active]
    finally:
        conn.close()


def sign_in(store_path: str | Path, user_id: str, password: str) -> Session:
    from app.auth import verify_password

    conn = connect(store_path, readonly=True)
    try:
        user = base_repo.user(conn, user_id)
    finally:
        conn.close()
    if user is None or not user.active:
        raise SignInError(f"用户不存在或已停用 user '{user_id}' not found")
    if not user.password_hash or not verify_password(password, user.password_hash):
        raise SignInError(f"密码错误 wrong password for user '{user_id}'")
    return Session(user.id, user.name, user.role, tuple(user.district_list), tuple(user.department_list))
