"""Card payments, charged through the payment provider with the app's shared HTTP client.

The card token (what the provider's card form gave the browser in place of the
card number) is a secret: it travels only in request bodies, never in a URL,
which access logs and proxies record, and never in a log line. It is a
SecretStr, so even a model printed by mistake shows it as '**********'.
"""

import asyncio
import re
from typing import Annotated, Literal

import httpx2
from fastapi import Depends
from pydantic import AfterValidator, BaseModel, Field, SecretStr, ValidationError
from structlog.typing import FilteringBoundLogger

from .dependencies import SettingsDep, get_logger
from .outbound import HttpClientDep

TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_]+")


def _token_characters(token: SecretStr) -> SecretStr:
    # SecretStr takes no `pattern`: checked here, and published in the schema below.
    if not TOKEN_PATTERN.fullmatch(token.get_secret_value()):
        raise ValueError("A card token holds only letters, digits and underscores")
    return token


CardToken = Annotated[
    SecretStr,
    Field(min_length=8, max_length=64, json_schema_extra={"pattern": f"^{TOKEN_PATTERN.pattern}$"}),
    AfterValidator(_token_characters),
]


class PaymentRequest(BaseModel):
    # Minor units (cents): whole numbers, so no float ever rounds a price.
    amount: int = Field(gt=0, le=1_000_000, description="In the currency's minor unit: 1250 is 12.50")
    currency: Literal["EUR", "GBP", "USD"]
    card_token: CardToken


class Payment(BaseModel):
    id: str = Field(description="The provider's id for the charge")
    amount: int
    currency: str
    status: Literal["succeeded"]


class PaymentProviderError(Exception):
    """The provider could not be used; the message says why, in words a client can read."""


class ProviderTimeout(PaymentProviderError):
    pass


class ProviderUnavailable(PaymentProviderError):
    pass


class PaymentService:
    def __init__(
        self, client: httpx2.AsyncClient, provider_url: str, deadline_seconds: float, logger: FilteringBoundLogger
    ) -> None:
        self.client = client
        self.charges_url = f"{provider_url.rstrip('/')}/v1/charges"
        self.deadline_seconds = deadline_seconds
        self.logger = logger

    async def charge(self, payment: PaymentRequest, idempotency_key: str) -> Payment:
        """Charge the card once, whatever number of times this is called with the same key.

        The provider records each charge under its Idempotency-Key: a call retried
        after a timeout (which may have charged) gets the first charge back.
        """
        log = self.logger.bind(amount=payment.amount, currency=payment.currency, idempotency_key=idempotency_key)
        body = {
            "amount": payment.amount,
            "currency": payment.currency,
            "card_token": payment.card_token.get_secret_value(),
        }
        headers = {"Idempotency-Key": idempotency_key}
        try:
            async with asyncio.timeout(self.deadline_seconds):
                response = await self.client.post(self.charges_url, json=body, headers=headers)
        # A timeout, in any step or overall: the charge may have happened. A retry with the same key finds out.
        except (httpx2.TimeoutException, TimeoutError) as error:
            log.warning("payment.provider_timeout", error=type(error).__name__)
            raise ProviderTimeout(
                "The payment provider did not answer in time; retry with the same Idempotency-Key"
            ) from error
        # Refused, reset, or a certificate the client does not trust: nothing reached the provider's books.
        except httpx2.TransportError as error:
            log.warning("payment.provider_unreachable", error=type(error).__name__)
            raise ProviderUnavailable("The payment provider could not be reached") from error
        if response.status_code not in (200, 201):
            log.warning("payment.provider_error", status=response.status_code)
            raise ProviderUnavailable(f"The payment provider answered {response.status_code}")
        try:
            charge = Payment.model_validate_json(response.content)
        except ValidationError as error:
            log.warning("payment.provider_garbled")
            raise ProviderUnavailable("The payment provider's answer could not be read") from error
        log.info("payment.charged", charge_id=charge.id, replayed_by_provider=response.status_code == 200)
        return charge


def get_payment_service(
    client: HttpClientDep,
    settings: SettingsDep,
    logger: Annotated[FilteringBoundLogger, Depends(get_logger)],
) -> PaymentService:
    # Cheap to make per request: it only holds the shared client, which is never made here.
    return PaymentService(client, settings.payment_provider_url, settings.payment_deadline_seconds, logger)


PaymentServiceDep = Annotated[PaymentService, Depends(get_payment_service)]
