"""Users, roles and API keys: who may call the service, for which partner, and the audit trail of writes.

A key reads ``cpfr_<user_id>_<secret>``: the user id finds the one stored hash to check, so a
request costs one key derivation, not one per user. Only a salted scrypt hash of the secret is
stored (RFC 7914; the parameters n=2**14, r=8, p=1 of OWASP's Password Storage Cheat Sheet),
compared in constant time. The standard library's ``hashlib.scrypt`` does it: no extra
dependency for one function.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from cpfr.data.schema_service import ROLES
from cpfr.data.store import Store
from cpfr.exceptions import AccessError, InputError

PLATFORM = "PLATFORM"  # what `--partner` says for the platform side
PLATFORM_ROLES = frozenset({"platform_admin", "platform_planner"})
PARTNER_ROLES = frozenset({"partner_planner", "partner_viewer"})
CLI_USER = "cpfr-cli"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
KEY_PREFIX = "cpfr"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: a user, its side (``partner_id`` None for the platform) and role."""

    user_id: str
    name: str
    partner_id: str | None
    role: str

    @property
    def is_platform(self) -> bool:
        """Whether the user works for the platform (sees every partner)."""
        return self.partner_id is None

    def may(self, action: str) -> bool:
        """Tell whether the role allows ``action`` (see :data:`PERMISSIONS`)."""
        return self.role in PERMISSIONS[action]


# What each role may do. Reading is scoped by the store, not here: every role reads, a
# partner's roles only their own partner's rows.
PERMISSIONS: dict[str, frozenset[str]] = {
    "read": frozenset(ROLES),
    "manage_users": frozenset({"platform_admin"}),
    "run_jobs": frozenset({"platform_admin", "platform_planner"}),
    "allocate": frozenset({"platform_admin", "platform_planner", "partner_planner"}),
    "override": frozenset({"platform_admin", "platform_planner"}),
    "ingest": frozenset({"platform_admin", "platform_planner", "partner_planner"}),
    "submit_forecast": frozenset({"partner_planner", "platform_admin"}),
    "comment": frozenset({"platform_admin", "platform_planner", "partner_planner"}),
    "propose": frozenset({"partner_planner"}),
    "edit_orders": frozenset({"platform_admin", "platform_planner", "partner_planner"}),
    "read_audit": frozenset(ROLES),
}


def now_text(now: dt.datetime | None = None) -> str:
    """Return a UTC timestamp in ISO 8601 (seconds), as every service table stores it."""
    return (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")


def hash_secret(secret: str, *, salt: bytes | None = None) -> str:
    """Return ``$scrypt$n$r$p$salt$hash`` of ``secret`` with a fresh 16-byte salt (RFC 7914)."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, dklen=32, maxmem=64 * 2**20, **_SCRYPT)
    encode = base64.urlsafe_b64encode
    settings = f"{_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}"
    return f"$scrypt${settings}${encode(salt).decode()}${encode(digest).decode()}"


def verify_secret(secret: str, stored: str) -> bool:
    """Tell, in constant time, whether ``secret`` matches the stored ``$scrypt$...`` hash."""
    try:
        _, scheme, n, r, p, salt, digest = stored.split("$")
        expected = base64.urlsafe_b64decode(digest)
        got = hashlib.scrypt(
            secret.encode(),
            salt=base64.urlsafe_b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
            maxmem=64 * 2**20,
        )
    except (ValueError, TypeError):
        return False
    return scheme == "scrypt" and hmac.compare_digest(got, expected)


def split_key(key: str) -> tuple[str, str] | None:
    """Return (user id, secret) of a well-formed key, else None."""
    parts = key.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or len(parts[2]) < 20:
        return None
    return parts[1], parts[2]


def add_user(
    store: Store, *, partner_id: str | None, role: str, name: str | None = None, actor: str = CLI_USER
) -> tuple[Principal, str]:
    """Create a user and return it with its API key (shown once: only its hash is stored).

    ``partner_id`` None or ``PLATFORM`` is the platform side, which takes a platform role;
    a partner's user takes a partner role.
    """
    if role not in ROLES:
        raise InputError(f"role {role!r}: expected one of {', '.join(ROLES)}")
    partner = None if partner_id in (None, "", PLATFORM) else partner_id
    if partner is None and role not in PLATFORM_ROLES:
        raise InputError(f"role {role}: a partner's role needs --partner PARTNER_ID")
    if partner is not None and role not in PARTNER_ROLES:
        raise InputError(f"role {role}: a platform role is for the platform (--partner {PLATFORM})")
    if partner is not None:
        known = set(store.read_table("partners")["partner_id"])
        if partner not in known:
            raise InputError(
                f"partner {partner!r}: expected one of {', '.join(sorted(known)) or '(none stored)'}"
            )
    user_id = f"u{uuid.uuid4().hex[:12]}"
    secret = secrets.token_urlsafe(32)
    shown = (name or "").strip() or f"{(partner or 'platform').lower()} {role.replace('_', ' ')}"
    row = {
        "user_id": user_id,
        "name": shown,
        "partner_id": partner,
        "role": role,
        "key_hash": hash_secret(secret),
        "created_at": now_text(),
        "revoked_at": None,
    }
    detail = {"name": shown, "role": role}
    store.write_tables(
        {"users": pd.DataFrame([row]), "audit_log": audit_row(actor, partner, "user.add", user_id, detail)}
    )
    return Principal(user_id, shown, partner, role), f"{KEY_PREFIX}_{user_id}_{secret}"


def list_users(store: Store) -> pd.DataFrame:
    """Return the users (without their key hashes): id, name, partner, role, created, revoked."""
    users = store.read_table("users")
    return users.drop(columns=["key_hash"])


def revoke_user(store: Store, user_id: str, *, actor: str = CLI_USER) -> Principal:
    """Revoke a user's key (the row stays, for the audit trail); return the user."""
    users = store.read_table("users", where={"user_id": user_id})
    if users.empty:
        raise InputError(f"user {user_id!r}: no such user")
    row = users.iloc[0].to_dict()
    if row["revoked_at"] is None or pd.isna(row["revoked_at"]):
        row["revoked_at"] = now_text()
        partner = None if pd.isna(row["partner_id"]) else row["partner_id"]
        store.write_tables(
            {
                "users": pd.DataFrame([row]),
                "audit_log": audit_row(
                    actor, partner, "user.revoke", user_id, {"revoked_at": row["revoked_at"]}
                ),
            }
        )
    partner = row["partner_id"] if isinstance(row["partner_id"], str) else None
    return Principal(user_id, str(row["name"]), partner, str(row["role"]))


def authenticate(store: Store, key: str) -> Principal:
    """Return the user a key belongs to; raise AccessError for a malformed, unknown or revoked key."""
    parts = split_key(key)
    if parts is None:
        raise AccessError("malformed API key")
    user_id, secret = parts
    users = store.read_table("users", where={"user_id": user_id})
    if users.empty:
        raise AccessError("unknown API key")
    row = users.iloc[0]
    if not verify_secret(secret, str(row["key_hash"])):
        raise AccessError("unknown API key")
    if isinstance(row["revoked_at"], str) and row["revoked_at"]:
        raise AccessError("revoked API key")
    partner = row["partner_id"] if isinstance(row["partner_id"], str) and row["partner_id"] else None
    return Principal(user_id, str(row["name"]), partner, str(row["role"]))


def audit_row(
    user_id: str, partner_id: str | None, action: str, target: str, detail: Mapping[str, object]
) -> pd.DataFrame:
    """Return one audit-trail row (write it in the same transaction as the change it records)."""
    return pd.DataFrame(
        [
            {
                "audit_id": f"A{uuid.uuid4().hex[:16]}",
                "at": now_text(),
                "user_id": user_id,
                "partner_id": partner_id,
                "action": action,
                "target": target,
                "detail": json.dumps(dict(detail), default=str, ensure_ascii=False),
            }
        ]
    )


def require(principal: Principal, action: str) -> None:
    """Raise AccessError when ``principal``'s role does not allow ``action``."""
    if not principal.may(action):
        raise AccessError(f"role {principal.role} may not {action.replace('_', ' ')}")
