"""Exercise 01/audit_trail: a read-only service for the audit log, built by a dependency.

`GET /audit/{subject}` answers the audit events recorded for that subject
(an email), oldest first, as [{"action": ..., "subject": ...}, ...]. A subject
with no events answers an empty list.

Two parts to write:
1. `AuditReader.events_for`, the query.
2. `get_audit_reader`, the provider: it asks FastAPI for the request's session
   (SessionDep) and builds the reader from it, as get_audit_log does.
"""

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..dependencies import SessionDep
from ..models import AuditEvent

router = APIRouter()


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    action: str
    subject: str


class AuditReader:
    def __init__(self, session: Session) -> None:
        self.session = session

    def events_for(self, subject: str) -> list[AuditEvent]:
        # BEGIN SOLUTION
        query = select(AuditEvent).where(AuditEvent.subject == subject).order_by(AuditEvent.id)
        return list(self.session.scalars(query))
        # END SOLUTION


def get_audit_reader(session: SessionDep) -> AuditReader:
    # BEGIN SOLUTION
    return AuditReader(session)
    # END SOLUTION


@router.get("/audit/{subject}")
def audit_trail(subject: str, reader: Annotated[AuditReader, Depends(get_audit_reader)]) -> list[AuditEventOut]:
    return [AuditEventOut.model_validate(event) for event in reader.events_for(subject)]
