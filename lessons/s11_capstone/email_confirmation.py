"""Confirming a new account's email address.

Registration answers the same whether or not the email already has an account
(routes/users.py), so the answer cannot tell anyone who is a customer. That only
holds if log-in cannot tell either: were a new account usable at once, anyone
could register a stranger's address with a password of their own, try to log in,
and learn from success that the address was free. So a new account logs in only
after its owner sends back the code their welcome email carries, which proves
they read that inbox.

The code is a signed token of its own type ("confirm_email"): it names the user
and the tenant, expires, and is never accepted where an access or refresh token
is expected (tokens.py), nor they here.
"""

from .models import User
from .tokens import TokenService, new_family


def confirmation_code(tokens: TokenService, tenant_id: str, user: User) -> str:
    """A fresh code for `user`'s welcome email; any code issued for them confirms the address."""
    issued = tokens.issue(
        "confirm_email", user_id=user.id, tenant=tenant_id, version=user.token_version, scopes=[], family=new_family()
    )
    return issued.token
