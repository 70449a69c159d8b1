"""Users and passwords: scrypt hashes (standard library, memory-hard), verification and user records.

A hash is stored as ``scrypt$n$r$p$salt_b64$hash_b64`` so that the cost can be raised later without
invalidating old hashes: :func:`verify_password` reads the parameters from the stored string.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from db import base_repo
from db.base_repo import AppUser
from db.store import Store

ROLES = ("intake", "shift_lead", "dispatcher", "department", "inspector", "evaluator", "leader", "admin")
ROLE_NAMES = {
    "intake": "受理员", "shift_lead": "值班长", "dispatcher": "派遣员", "department": "专业部门",
    "inspector": "监督员", "evaluator": "考评员", "leader": "领导", "admin": "系统管理员",
}
DEFAULT_N = 2**14
MIN_PASSWORD = 6


class AuthError(ValueError):
    """Bad credentials or a bad user record (Chinese + English message)."""


def hash_password(password: str, n: int = DEFAULT_N, r: int = 8, p: int = 1, salt: bytes | None = None) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise AuthError(f"密码至少 {MIN_PASSWORD} 位 password must have at least {MIN_PASSWORD} characters")
    salt = salt if salt is not None else os.urandom(16)
    dk = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=2**26)
    b64 = base64.b64encode
    return f"scrypt${n}${r}${p}${b64(salt).decode()}${b64(dk).decode()}"


def verify_password(password: str, stored: str | None) -> bool:
    """True if ``password`` matches ``stored`` (constant-time comparison); False for any malformed hash."""
    if not stored or not isinstance(password, str):
        return False
    try:
        scheme, n, r, p, salt_b64, dk_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        salt, want = base64.b64decode(salt_b64), base64.b64decode(dk_b64)
        got = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=int(n), r=int(r), p=int(p), dklen=len(want),
                             maxmem=2**26)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)


def authenticate(store: Store, user_id: str, password: str) -> AppUser:
    """The active user with these credentials, or :class:`AuthError` (same message for unknown id and bad password)."""
    user = base_repo.user(store.conn, user_id)
    if user is None or not user.active or not verify_password(password, user.password_hash):
        raise AuthError(f"用户名或密码错误 wrong user id or password (user '{user_id}')")
    return user


def add_user(
    store: Store, user_id: str, name: str, role: str, password: str, districts: str = "", departments: str = "",
) -> AppUser:
    if role not in ROLES:
        raise AuthError(f"未知角色 role '{role}' (expected one of {', '.join(ROLES)})")
    if not user_id or not user_id.strip():
        raise AuthError(f"用户名不能为空 user id is empty (value {user_id!r})")
    user = AppUser(user_id, name, role, districts, departments, hash_password(password))
    with store.atomic() as conn:
        if base_repo.user(conn, user_id) is not None:
            raise AuthError(f"用户已存在 user id '{user_id}' already exists")
        base_repo.write_users(conn, [user])
    return user


def set_password(store: Store, user_id: str, password: str) -> None:
    with store.atomic() as conn:
        user = base_repo.user(conn, user_id)
        if user is None:
            raise AuthError(f"用户不存在 user id '{user_id}' does not exist")
        base_repo.set_password_hash(conn, user_id, hash_password(password))


def users(store: Store, role: str | None = None) -> list[AppUser]:
    return base_repo.users(store.conn, role)
