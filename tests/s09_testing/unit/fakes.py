"""Stand-ins the unit tests hand to the services in place of bcrypt, the audit table and the log.

Each is the smallest object that fits the port the service expects, and each
remembers what it was asked, so a test can assert on it.
"""

from dataclasses import dataclass, field


class PlainHasher:
    """Fits PasswordHasher without bcrypt's cost: 'hashes' by prefixing, so a test can read it.

    Only for unit tests of the rules around passwords; the API and integration
    tests run the real bcrypt at cost 4 (WORKBOOK_BCRYPT_ROUNDS), a real hash in a
    thousandth of the default's time.
    """

    def __init__(self) -> None:
        self.unknown_user_checks = 0

    def hash(self, password: str) -> str:
        return f"plain:{password}"

    def verify(self, password: str, password_hash: str) -> bool:
        return password_hash == self.hash(password)

    def verify_unknown_user(self, password: str) -> bool:
        self.unknown_user_checks += 1
        return False


@dataclass
class RecordedAudit:
    """Fits AuditTrail: keeps (action, subject) pairs in a list instead of rows in a table."""

    events: list[tuple[str, str]] = field(default_factory=list)

    def record(self, action: str, subject: str) -> None:
        self.events.append((action, subject))

    @property
    def actions(self) -> list[str]:
        return [action for action, _ in self.events]
