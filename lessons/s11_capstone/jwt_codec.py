"""The port between TokenService and a JWT library: what any library must do for it.

TokenService decides what a token holds and what it must prove; a codec only
signs claims and checks a signature and the registered claims. Two adapters
implement it: PyJWT (pyjwt_codec.py, the default) and python-jose
(jose_codec.py), chosen with WORKBOOK_JWT_LIBRARY. Both get the same rules on
every decode, so a token one refuses, the other refuses too; the attack tests
run against each.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol


class ExpiredToken(Exception):
    """The signature is good, but the token's exp has passed."""


class RejectedToken(Exception):
    """Anything else wrong: the signature, the algorithm, a time, the issuer, the audience, a missing claim."""


@dataclass(frozen=True)
class DecodeRules:
    """Everything a decode checks. The algorithms come from here, never from the token's header."""

    key: str
    algorithms: list[str]
    issuer: str
    audience: str
    leeway: timedelta
    required: list[str]


class JwtCodec(Protocol):
    # What WORKBOOK_JWT_LIBRARY calls this library.
    name: str

    def encode(self, claims: dict[str, Any], key: str, algorithm: str) -> str: ...

    def decode(self, token: str, rules: DecodeRules) -> dict[str, Any]:
        """The verified payload; raises ExpiredToken or RejectedToken, never the library's own errors."""
        ...
