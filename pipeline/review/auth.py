"""Accounts, password hashes, sessions, CSRF tokens and login throttling for the workbench.

Passwords are kept only as salted scrypt hashes (standard library, memory-hard);
a session is a random token whose SHA-256 is stored server-side, so a copy of
the database does not let anyone log in. Each session carries its own CSRF
token, checked on every form.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from pipeline.review.store import ROLES, now_iso

# scrypt cost: N=2**15, r=8, p=1 (~32 MiB, tens of ms): OWASP's minimum for scrypt.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
SCRYPT_MAXMEM = 64 * 1024 * 1024
SESSION_HOURS = 10
THROTTLE_FAILURES = 10  # wrong passwords within the window before the account is throttled
THROTTLE_WINDOW = timedelta(minutes=15)
MIN_PASSWORD = 10


class AuthError(Exception):
    """A clear reason an account operation was refused."""


def hash_password(password: str, *, n: int = SCRYPT_N) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=SCRYPT_R, p=SCRYPT_P, maxmem=SCRYPT_MAXMEM, dklen=32)
    return f"scrypt${n}${SCRYPT_R}${SCRYPT_P}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                             maxmem=SCRYPT_MAXMEM, dklen=len(base64.b64decode(digest)))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))


@dataclass
class Reviewer:
    username: str
    display_name: str
    role: str
    active: bool

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"


def add_reviewer(conn: sqlite3.Connection, username: str, password: str, role: str = "reviewer",
                 display_name: str | None = None) -> Reviewer:
    if role not in ROLES:
        raise AuthError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if not username or not username.replace("_", "").replace("-", "").replace(".", "").isalnum() or len(username) > 64:
        raise AuthError(f"user name {username!r}: letters, digits, '.', '_' and '-' only, at most 64")
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"password too short: at least {MIN_PASSWORD} characters")
    if conn.execute("SELECT 1 FROM reviewers WHERE username = ?", (username,)).fetchone():
        raise AuthError(f"reviewer {username!r} exists already")
    with conn:
        conn.execute("INSERT INTO reviewers VALUES (?, ?, ?, ?, 1, ?)",
                     (username, display_name or username, role, hash_password(password), now_iso()))
    return Reviewer(username, display_name or username, role, True)


def set_active(conn: sqlite3.Connection, username: str, active: bool) -> None:
    with conn:
        cur = conn.execute("UPDATE reviewers SET active = ? WHERE username = ?", (int(active), username))
        if not cur.rowcount:
            raise AuthError(f"no reviewer {username!r}")
        if not active:
            conn.execute("DELETE FROM review_sessions WHERE username = ?", (username,))


def list_reviewers(conn: sqlite3.Connection) -> list[Reviewer]:
    return [Reviewer(r["username"], r["display_name"], r["role"], bool(r["active"]))
            for r in conn.execute("SELECT * FROM reviewers ORDER BY username")]


def get_reviewer(conn: sqlite3.Connection, username: str) -> Reviewer | None:
    row = conn.execute("SELECT * FROM reviewers WHERE username = ?", (username,)).fetchone()
    return Reviewer(row["username"], row["display_name"], row["role"], bool(row["active"])) if row else None


def _since(delta: timedelta) -> str:
    return (datetime.now(timezone.utc) - delta).isoformat(timespec="seconds")


def is_throttled(conn: sqlite3.Connection, username: str) -> bool:
    """True when the account had THROTTLE_FAILURES wrong passwords within the window."""
    (failures,) = conn.execute("SELECT COUNT(*) FROM login_attempts WHERE username = ? AND ok = 0 AND at >= ?",
                               (username, _since(THROTTLE_WINDOW))).fetchone()
    return failures >= THROTTLE_FAILURES


def authenticate(conn: sqlite3.Connection, username: str, password: str, client: str = "") -> tuple[Reviewer | None, str]:
    """(reviewer, '') on success, else (None, why): 'throttled' or 'invalid'. Every attempt is recorded."""
    if is_throttled(conn, username):
        with conn:
            conn.execute("INSERT INTO login_attempts VALUES (?, ?, ?, 0)", (username, client, now_iso()))
        return None, "throttled"
    row = conn.execute("SELECT * FROM reviewers WHERE username = ?", (username,)).fetchone()
    ok = bool(row) and bool(row["active"]) and verify_password(password, row["password_hash"])
    if not row:
        hash_password(password)  # the same work as a real check: no timing hint that the name does not exist
    with conn:
        conn.execute("INSERT INTO login_attempts VALUES (?, ?, ?, ?)", (username, client, now_iso(), int(ok)))
    if not ok:
        return None, "invalid"
    return Reviewer(row["username"], row["display_name"], row["role"], True), ""


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(conn: sqlite3.Connection, username: str) -> str:
    """A new session for ``username``; returns the cookie token (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    expires = (datetime.now(timezone.utc) + timedelta(hours=SESSION_HOURS)).isoformat(timespec="seconds")
    with conn:
        conn.execute("INSERT INTO review_sessions VALUES (?, ?, ?, ?, ?)",
                     (_token_hash(token), username, secrets.token_urlsafe(32), now_iso(), expires))
    return token


def session_user(conn: sqlite3.Connection, token: str | None) -> tuple[Reviewer, str] | None:
    """(reviewer, csrf token) of a live session of an active account, or None."""
    if not token:
        return None
    row = conn.execute(
        "SELECT s.csrf, r.* FROM review_sessions s JOIN reviewers r ON r.username = s.username "
        "WHERE s.token_sha256 = ? AND s.expires_at > ? AND r.active = 1",
        (_token_hash(token), now_iso())).fetchone()
    if not row:
        return None
    return Reviewer(row["username"], row["display_name"], row["role"], True), row["csrf"]


def close_session(conn: sqlite3.Connection, token: str | None) -> None:
    if token:
        with conn:
            conn.execute("DELETE FROM review_sessions WHERE token_sha256 = ?", (_token_hash(token),))


def csrf_ok(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))
