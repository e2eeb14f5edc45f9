"""UserService's rules, with every port filled by an in-memory stand-in: no app, no HTTP, no database.

The fastest level of the pyramid, so the most numerous: a rule of the service is
proved here in microseconds, and the API tests above need only show that the
routes reach it.
"""

import pytest
import structlog

from lessons.s09_testing.models import User
from lessons.s09_testing.repositories import InMemoryUserRepository, SqlAlchemyUserRepository
from lessons.s09_testing.services import UserNotFound, UserService, WrongPassword

from .fakes import PlainHasher, RecordedAudit
from .memory_database import sessions, shared_memory_engine

pytestmark = pytest.mark.unit

EMAIL = "ada@example.com"
PASSWORD = "correct horse battery"


@pytest.fixture
def audit() -> RecordedAudit:
    return RecordedAudit()


@pytest.fixture
def hasher() -> PlainHasher:
    return PlainHasher()


@pytest.fixture
def service(audit, hasher) -> UserService:
    return UserService(InMemoryUserRepository(), audit, structlog.get_logger(), hasher)


@pytest.fixture
def confirmed(service):
    """Ada, registered and confirmed: the account a log-in may find."""
    user = service.register(EMAIL, "Ada", PASSWORD).created
    service.confirm_email(user.id)
    return user


def test_a_new_email_makes_an_account_that_owes_a_welcome_email(service, audit):
    sign_up = service.register(EMAIL, "Ada", PASSWORD)
    assert sign_up.existing is None
    assert sign_up.created.id == 1 and sign_up.created.welcome_email is not None
    assert audit.events == [("user.registered", EMAIL)]


def test_a_known_email_finds_the_existing_account_and_makes_none(service, audit):
    first = service.register(EMAIL, "Ada", PASSWORD).created
    again = service.register(EMAIL, "Someone else", "another password")
    assert again.created is None and again.existing is first
    assert audit.actions == ["user.registered", "user.registered_again"]


def test_the_password_is_stored_hashed(service):
    user = service.register(EMAIL, "Ada", PASSWORD).created
    assert user.password_hash == "plain:" + PASSWORD != PASSWORD


def test_an_unconfirmed_account_cannot_log_in(service):
    service.register(EMAIL, "Ada", PASSWORD)
    assert service.authenticate(EMAIL, PASSWORD) is None


def test_a_confirmed_account_logs_in_with_its_password(service, confirmed):
    assert service.authenticate(EMAIL, PASSWORD) is confirmed


def test_a_wrong_password_is_refused(service, confirmed):
    assert service.authenticate(EMAIL, "not the password") is None


def test_an_unknown_email_spends_a_password_check_all_the_same(service, hasher):
    """So the time taken does not tell a caller that no account has this email."""
    assert service.authenticate("nobody@example.com", PASSWORD) is None
    assert hasher.unknown_user_checks == 1


def test_changing_the_password_makes_every_earlier_token_stale(service, confirmed):
    version = confirmed.token_version
    service.change_password(confirmed, PASSWORD, "a new password 42")
    assert confirmed.token_version == version + 1
    assert service.authenticate(EMAIL, "a new password 42") is confirmed


def test_changing_the_password_needs_the_current_one(service, confirmed):
    with pytest.raises(WrongPassword):
        service.change_password(confirmed, "a guess", "a new password 42")


def test_a_role_change_makes_earlier_tokens_stale_too(service, confirmed):
    version = confirmed.token_version
    assert service.change_role(confirmed.id, "staff").role == "staff"
    assert confirmed.token_version == version + 1


def test_an_unknown_id_raises_user_not_found(service):
    with pytest.raises(UserNotFound, match="No user with id 404"):
        service.get(404)


def test_a_deleted_user_is_gone(service, confirmed, audit):
    service.delete(confirmed.id)
    with pytest.raises(UserNotFound):
        service.get(confirmed.id)
    assert audit.actions[-1] == "user.deleted"


@pytest.fixture(params=["in_memory", "sqlalchemy"])
def users(request):
    """Both adapters of the UserRepository port: the fake must store what the database stores."""
    if request.param == "in_memory":
        yield InMemoryUserRepository()
        return
    with sessions(shared_memory_engine())() as session:
        yield SqlAlchemyUserRepository(session)


def test_a_stored_user_has_the_columns_defaults_in_either_adapter(users):
    """Found by the password test above: the dict once stored token_version None, the database 0."""
    stored = users.add(User(email=EMAIL, name="Ada", password_hash="x"))
    assert (stored.id, stored.token_version, stored.role, stored.email_confirmed) == (1, 0, "customer", False)
