"""The token service's second JWT library: python-jose (`import jose`), for code that already uses it.

Safe use of python-jose takes three things. A release of 3.4 or newer: older
ones have published vulnerabilities (CVE-2024-33663, algorithm confusion with
some keys; CVE-2024-33664, a compressed "JWE bomb"). The algorithm list on EVERY
decode: without `algorithms=`, python-jose lets the token's header choose. And
the checks it does not make: it requires no claim unless asked, one option per
claim, and it checks only that iat is an integer, so a token issued in the
future passes. This adapter asks for every required claim and refuses a future
iat itself, so it refuses exactly the tokens the PyJWT adapter refuses.
"""

from datetime import UTC, datetime
from typing import Any

from jose import jwt
from jose.exceptions import ExpiredSignatureError, JOSEError

from .jwt_codec import DecodeRules, ExpiredToken, RejectedToken


class JoseCodec:
    name = "jose"

    def encode(self, claims: dict[str, Any], key: str, algorithm: str) -> str:
        # python-jose rewrites datetime claims in the dict it is given: hand it a copy.
        return jwt.encode(dict(claims), key, algorithm=algorithm)

    def decode(self, token: str, rules: DecodeRules) -> dict[str, Any]:
        leeway = int(rules.leeway.total_seconds())
        try:
            payload = jwt.decode(
                token,
                rules.key,
                algorithms=rules.algorithms,  # pinned: without it the header's "alg" decides
                audience=rules.audience,
                issuer=rules.issuer,
                options={"leeway": leeway, **{f"require_{claim}": True for claim in rules.required}},
            )
        except ExpiredSignatureError as error:
            raise ExpiredToken from error
        except JOSEError as error:
            raise RejectedToken from error
        # Required above, so present, and checked to be an integer; not yet checked to be in the past.
        if int(payload["iat"]) > datetime.now(UTC).timestamp() + leeway:
            raise RejectedToken("the token was issued in the future")
        return payload
