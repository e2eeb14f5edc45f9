"""Password rules and bcrypt hashing, through passlib.

`import passlib` here is libpass, the maintained fork of passlib. passlib 1.7.4,
the last release of the original, reads `bcrypt.__about__`, which bcrypt 4.1
removed: with bcrypt 4.1 to 4.3 it logs that as a trapped error and works on,
silently hashing only the first 72 bytes of a longer password. With bcrypt 5 it
fails: on its first hash it probes for an old bcrypt bug with a 255-byte
password, which bcrypt 5 refuses with a ValueError. libpass keeps the same API
and works with bcrypt 5.

bcrypt reads at most 72 BYTES of a password. Older bcrypt releases silently
ignored the rest, so two long passwords sharing their first 72 bytes were the
same password; bcrypt 5 raises instead. Neither is a rule a user can see, so the
API states its own: at least 8 characters, at most 72 bytes in UTF-8.
"""

from passlib.context import CryptContext

MIN_PASSWORD_CHARACTERS = 8
MAX_PASSWORD_BYTES = 72  # what bcrypt reads; a multi-byte character counts for 2 to 4


def utf8(password: str) -> bytes | None:
    """The password's UTF-8 bytes; None for text that has none (a lone surrogate, sent as a JSON escape)."""
    try:
        return password.encode("utf-8")
    except UnicodeEncodeError:
        return None


def password_problem(password: str) -> str | None:
    """Why `password` cannot be used, in words a user understands; None when it can."""
    if len(password) < MIN_PASSWORD_CHARACTERS:
        return f"The password must have at least {MIN_PASSWORD_CHARACTERS} characters"
    if "\x00" in password:
        # bcrypt ends a password at its first NUL byte, and bcrypt 5 refuses one outright.
        return "The password must not contain the NUL character"
    encoded = utf8(password)
    if encoded is None:
        return "The password must be valid Unicode text"
    size = len(encoded)
    if size > MAX_PASSWORD_BYTES:
        return (
            f"The password must be at most {MAX_PASSWORD_BYTES} bytes in UTF-8 (bcrypt reads no more); "
            f"this one is {size} bytes"
        )
    return None


class PasswordHasher:
    """Hashes and checks passwords with bcrypt at the configured cost.

    Made once at start-up. It also keeps a DUMMY hash, made with the same cost:
    a log-in for an unknown email is checked against it, so that answering
    "no such user" takes as long as answering "wrong password" (otherwise the
    response time alone tells an attacker which emails have accounts).
    """

    def __init__(self, rounds: int) -> None:
        self.context = CryptContext(schemes=["bcrypt"], bcrypt__rounds=rounds)
        self.dummy_hash = self.context.hash("not the password of anyone: only spends the time")

    def hash(self, password: str) -> str:
        return self.context.hash(password)

    def verify(self, password: str, password_hash: str) -> bool:
        encoded = utf8(password)
        if encoded is None or len(encoded) > MAX_PASSWORD_BYTES:
            # No stored password is like that (the rules refuse it), and bcrypt 5
            # would raise; answering False costs no time an attacker can learn from,
            # because it is the same for every account, existing or not.
            return False
        return self.context.verify(password, password_hash)

    def verify_unknown_user(self, password: str) -> bool:
        """Spend a real bcrypt check on the dummy hash; always False."""
        self.verify(password, self.dummy_hash)
        return False
