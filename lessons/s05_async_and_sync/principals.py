"""Who may call the API: principals found by their API key.

DEMO KEYS ONLY. Each tenant gets an admin key ("acme-admin-key") and a viewer key
("acme-viewer-key"), made up from the tenant id so a learner can type them.
Real keys are random, live in a secrets store, and are never in the code.

The directory keeps a SHA-256 digest of each key, not the key, and looks the
presented key up by its digest: a leaked directory reveals no keys, and the
lookup's timing depends on the digest, which an attacker cannot steer byte by
byte the way a plain string comparison would let them.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

ADMIN_PERMISSIONS = frozenset({"users:read", "users:delete"})
VIEWER_PERMISSIONS = frozenset({"users:read"})


@dataclass(frozen=True)
class Principal:
    name: str
    tenant_id: str
    permissions: frozenset[str]


def _digest(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


class PrincipalDirectory:
    def __init__(self, keys: dict[str, Principal]) -> None:
        self._by_digest = {_digest(key): principal for key, principal in keys.items()}

    def find(self, api_key: str) -> Principal | None:
        return self._by_digest.get(_digest(api_key))


def demo_principals(tenant_ids: Iterable[str]) -> PrincipalDirectory:
    keys = {}
    for tenant_id in tenant_ids:
        keys[f"{tenant_id}-admin-key"] = Principal(f"{tenant_id}-admin", tenant_id, ADMIN_PERMISSIONS)
        keys[f"{tenant_id}-viewer-key"] = Principal(f"{tenant_id}-viewer", tenant_id, VIEWER_PERMISSIONS)
    return PrincipalDirectory(keys)
