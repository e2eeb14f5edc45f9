"""The settings of the readiness checks and of a graceful shutdown: a part of Settings (settings.py).

Read with the rest, from WORKBOOK_* variables: WORKBOOK_READY_REDIS_TIMEOUT_SECONDS=0.3,
WORKBOOK_SHUTDOWN_GRACE_SECONDS=25.
"""

from typing import TYPE_CHECKING, Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings


class HealthSettings(BaseSettings):
    # The longest each readiness check may take before it counts as failed (readiness.py).
    # They run at once, so the probe takes about the longest of the three: under a second,
    # the timeout Kubernetes gives a probe by default, past which it counts the probe as failed.
    ready_database_timeout_seconds: float = Field(default=0.8, gt=0, le=10)
    ready_redis_timeout_seconds: float = Field(default=0.5, gt=0, le=10)
    ready_broker_timeout_seconds: float = Field(default=0.8, gt=0, le=10)
    # After SIGTERM, how long uvicorn lets the requests in flight finish before it cancels
    # them (its timeout_graceful_shutdown, whole seconds). The app cannot set its own
    # server's options: `make serve` reads this one and passes it on. Longer than the
    # longest request (a charge, checked below); shorter than what the supervisor allows
    # before SIGKILL (Kubernetes' terminationGracePeriodSeconds is 30 s by default), or
    # the lifespan's clean-up never runs.
    shutdown_grace_seconds: int = Field(default=20, ge=1)

    if TYPE_CHECKING:
        # Declared in Settings, with the other payment settings; named here for the type checker.
        payment_deadline_seconds: float

    @model_validator(mode="after")
    def grace_outlasts_a_charge(self) -> Self:
        if self.shutdown_grace_seconds <= self.payment_deadline_seconds:
            raise ValueError(
                f"shutdown_grace_seconds ({self.shutdown_grace_seconds}) must exceed"
                f" payment_deadline_seconds ({self.payment_deadline_seconds}): a charge in flight"
                " at shutdown would be cancelled after the card was debited"
            )
        return self
