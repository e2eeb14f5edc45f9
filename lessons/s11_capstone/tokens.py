"""Access and refresh tokens: signed JWTs, made and checked in one place.

Every token carries the same claims (RFC 7519 names where one exists):

    iss, aud     who made it, for whom        checked on every decode
    sub          the user's id, as a string   (RFC 7519 says a string)
    tenant       the tenant it was issued in  a token from acme is refused by globex
    iat, nbf     issued at, not before        aware UTC times
    exp          expires at                   15 minutes (access), 7 days (refresh),
                                              2 days (confirm_email)
    jti          this token's unique id       what logout puts on the denylist
    fam          its refresh family's id      every token of one log-in shares it
    type         "access", "refresh" or       one is never accepted as another
                 "confirm_email"
    scopes       what the token allows        a list of strings
    ver          the user's token version     bumped on a password change

Decoding follows RFC 8725 (JWT best current practices): the algorithm is PINNED
to HS256, whatever the token's header claims (so "alg": "none", and tokens signed
with another algorithm, are refused); every claim above is required; issuer and
audience are checked; the key is never chosen from the header (kid, jku and jwk
are ignored). Any problem becomes InvalidToken, which the API answers with 401.

PyJWT (`import jwt`) signs and checks; this module decides the rules it applies.
PyJWT checks every one of them itself: the pinned algorithm, issuer, audience,
exp, nbf and iat (one in the future is refused too), and the required claims.
"""

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import jwt
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

ALGORITHM = "HS256"
# A real token is well under 1 KB; anything this long is refused before any parsing.
MAX_TOKEN_LENGTH = 4096
# The compact form of a signed JWT: three base64url segments (the last is empty when unsigned).
COMPACT_JWT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
# Clocks of different machines disagree a little: tolerate that much, no more.
LEEWAY = timedelta(seconds=10)
# Tokens whose signature and claims checked out, remembered by this process (see `decode`).
# Only valid tokens, which only this app can sign, so no caller can fill it with garbage.
VERIFIED_TOKENS = 10_000
REGISTERED_CLAIMS = ["iss", "aud", "sub", "iat", "nbf", "exp", "jti"]

TokenType = Literal["access", "refresh", "confirm_email"]
# The code in a welcome email (email_confirmation.py) lasts long enough to read one's mail.
CONFIRMATION_LIFETIME = timedelta(days=2)
Scope = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z:_]{0,39}$")]


class InvalidToken(ValueError):
    """The token cannot be trusted; the message says why, in words safe to show the caller."""


class TokenClaims(BaseModel):
    """The claims of a token whose signature, times, issuer and audience already checked out."""

    # strict: "0" is not 0 here. A signed token has no excuse for a claim of the wrong type.
    model_config = ConfigDict(frozen=True, strict=True)

    sub: Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{0,8}$")]  # ids fit a 32-bit INTEGER column
    tenant: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,30}$")]
    type: TokenType
    jti: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
    fam: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
    ver: int = Field(ge=0)
    scopes: list[Scope] = Field(max_length=20)
    exp: int
    iat: int

    @property
    def user_id(self) -> int:
        return int(self.sub)

    def seconds_left(self) -> int:
        return max(self.exp - int(datetime.now(UTC).timestamp()), 0)


@dataclass(frozen=True)
class IssuedToken:
    token: str
    claims: TokenClaims


class TokenService:
    """Signs and checks the app's tokens with one key. Built once, at start-up."""

    def __init__(
        self,
        key: str,
        *,
        issuer: str,
        audience: str,
        access_lifetime: timedelta,
        refresh_lifetime: timedelta,
    ) -> None:
        self._key = key
        self.issuer = issuer
        self.audience = audience
        self.lifetimes: dict[TokenType, timedelta] = {
            "access": access_lifetime,
            "refresh": refresh_lifetime,
            "confirm_email": CONFIRMATION_LIFETIME,
        }
        self._verified: dict[str, TokenClaims] = {}

    def issue(
        self, token_type: TokenType, *, user_id: int, tenant: str, version: int, scopes: list[str], family: str
    ) -> IssuedToken:
        # Aware UTC: datetime.utcnow() is naive, and a naive time's .timestamp() is
        # read as LOCAL time, which shifts exp by the machine's offset from UTC.
        now = datetime.now(UTC)
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(user_id),
            "tenant": tenant,
            "type": token_type,
            "jti": uuid.uuid4().hex,
            "fam": family,
            "ver": version,
            "scopes": sorted(scopes),
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int((now + self.lifetimes[token_type]).timestamp()),
        }
        return IssuedToken(self.encode(claims), TokenClaims.model_validate(claims))

    def encode(self, claims: dict[str, Any]) -> str:
        """Sign `claims` as they are. `issue` is the way to make a real token; tests use this to make odd ones."""
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def decode(self, token: str, expected: TokenType) -> TokenClaims:
        """The claims of `token` if it is valid and of the expected type; raises InvalidToken otherwise.

        A token is the same bytes each time it is presented, and the key does not change
        while the process runs: checked once, its signature and claims stay good. Only
        time moves, so a remembered token has its expiry checked again, on every call.
        Whether it was logged out is not a question for this method (revocation.py).
        """
        claims = self._verified.get(token)
        if claims is None or claims.exp + LEEWAY.total_seconds() <= datetime.now(UTC).timestamp():
            claims = self.verify(token)
            self._remember(token, claims)
        if claims.type != expected:
            raise InvalidToken(f"A {claims.type} token cannot be used here; it needs the {expected} token")
        return claims

    def verify(self, token: str) -> TokenClaims:
        """Check `token` in full (length, shape, signature, times, claims), remembering nothing."""
        if len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken("The token is too long")
        if not COMPACT_JWT.fullmatch(token):
            raise InvalidToken("The token is not valid")  # not even the shape of one: nothing to parse
        try:
            payload = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],  # pinned: the header's "alg" is never trusted
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY,
                options={"require": REGISTERED_CLAIMS},
            )
            return TokenClaims.model_validate(payload)
        except jwt.ExpiredSignatureError as error:
            raise InvalidToken("The token has expired") from error
        except (jwt.InvalidTokenError, ValidationError) as error:
            raise InvalidToken("The token is not valid") from error

    def _remember(self, token: str, claims: TokenClaims) -> None:
        self._verified.pop(token, None)  # re-inserted last: the oldest entries stay first
        self._verified[token] = claims
        if len(self._verified) > VERIFIED_TOKENS:
            del self._verified[next(iter(self._verified))]


def new_family() -> str:
    """The id shared by every token that descends from one log-in."""
    return uuid.uuid4().hex
