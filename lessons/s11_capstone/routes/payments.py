"""POST /payments: charge a card, once per Idempotency-Key, through the payment provider.

Any logged-in user may pay. The answer for each key is kept (idempotency.py),
so a client may retry without fear of charging twice.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Response, status
from fastapi.exceptions import RequestValidationError

from ..authentication import MeDep
from ..dependencies import TenantDep
from ..idempotency import IdempotencyStoreDep, KeyReused, RequestInFlight, fingerprint
from ..payments import Payment, PaymentRequest, PaymentServiceDep
from ..rate_limiting import rate_limiter

router = APIRouter(tags=["payments"], dependencies=[Depends(rate_limiter)])

# A UUID fits; the bound keeps Redis keys short and the charset keeps them unambiguous.
IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Chosen by the client, one per payment (a UUID, say); send it again to retry safely",
    ),
]


@router.post(
    "/payments",
    status_code=status.HTTP_201_CREATED,
    responses={
        409: {"description": "A request with this Idempotency-Key is still in flight: retry after Retry-After"},
        502: {"description": "The payment provider could not be reached, or failed"},
        504: {"description": "The payment provider did not answer in time: retry with the same Idempotency-Key"},
    },
)
async def create_payment(
    body: PaymentRequest,
    idempotency_key: IdempotencyKey,
    user: MeDep,
    tenant: TenantDep,
    payments: PaymentServiceDep,
    idempotency: IdempotencyStoreDep,
    response: Response,
) -> Payment:
    key = idempotency.key(tenant.id, user.id, idempotency_key)
    digest = fingerprint({**body.model_dump(), "card_token": body.card_token.get_secret_value()})
    try:
        stored = await idempotency.claim(key, digest)
    except RequestInFlight as error:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "A request with this Idempotency-Key is still in flight; retry shortly",
            headers={"Retry-After": "1"},
        ) from error
    except KeyReused as error:
        # A 422 in the shape of every other: a list of problems, each with where it is.
        problem = {
            "type": "idempotency_key_reused",
            "loc": ("header", "Idempotency-Key"),
            "msg": "This Idempotency-Key was used for a different payment",
            "input": idempotency_key,
        }
        raise RequestValidationError([problem]) from error
    if stored is not None:
        response.headers["Idempotent-Replayed"] = "true"
        return Payment.model_validate(stored)
    try:
        # The provider gets a key of its own, derived from ours: if this claim is lost
        # (a crash, a released claim after a timeout), the retry still charges once.
        payment = await payments.charge(body, f"storefront-{tenant.id}-{user.id}-{idempotency_key}")
    except BaseException:
        # Failed (502, 504) or cancelled: the retry must be free to try again.
        await idempotency.release(key)
        raise
    await idempotency.complete(key, digest, payment.model_dump())
    return payment
