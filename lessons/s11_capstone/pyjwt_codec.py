"""The token service's JWT library by default: PyJWT (`import jwt`).

PyJWT checks everything DecodeRules lists itself: the pinned algorithms, the
issuer, the audience, exp, nbf and iat (one in the future is refused too), and
the required claims.
"""

from typing import Any

import jwt

from .jwt_codec import DecodeRules, ExpiredToken, RejectedToken


class PyJWTCodec:
    name = "pyjwt"

    def encode(self, claims: dict[str, Any], key: str, algorithm: str) -> str:
        return jwt.encode(claims, key, algorithm=algorithm)

    def decode(self, token: str, rules: DecodeRules) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                rules.key,
                algorithms=rules.algorithms,  # pinned: the header's "alg" is never trusted
                audience=rules.audience,
                issuer=rules.issuer,
                leeway=rules.leeway,
                options={"require": rules.required},
            )
        except jwt.ExpiredSignatureError as error:
            raise ExpiredToken from error
        except jwt.InvalidTokenError as error:
            raise RejectedToken from error
