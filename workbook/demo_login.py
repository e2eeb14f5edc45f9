"""How to log in to a stage that has log-in, said where a learner looks: the `make serve` banner.

A stage with `demo_admins.py` seeds one admin per tenant at start-up. The lines
here come from that stage's own settings and demo_admins module, read from the
same WORKBOOK_* environment the served app reads, so they cannot disagree with it.
"""

from __future__ import annotations

import importlib

from workbook.stages import Stage


def has_log_in(stage: Stage) -> bool:
    return (stage.directory / "demo_admins.py").exists()


def banner(stage: Stage) -> list[str]:
    """The lines that tell how to log in through /docs; none for a stage without log-in."""
    if not has_log_in(stage):
        return []
    settings = importlib.import_module(f"lessons.{stage.package}.settings").Settings()
    if not settings.seed_demo_admins:
        return ["No demo admins (WORKBOOK_SEED_DEMO_ADMINS is off): register a user, then log in as them."]
    demo_admins = importlib.import_module(f"lessons.{stage.package}.demo_admins")
    password = settings.demo_admin_password.get_secret_value()
    default = type(settings).model_fields["demo_admin_password"].default.get_secret_value()
    # The default is public (it is in the README); a password of your own is not printed on the screen.
    shown = password if password == default else "the value of WORKBOOK_DEMO_ADMIN_PASSWORD"
    lines = ["Log in with Authorize in /docs as a demo admin (client_id names the tenant; no client_secret):"]
    for tenant in settings.tenants:
        lines.append(f"  username {demo_admins.demo_admin_email(tenant)}  password {shown}  client_id {tenant}")
    return lines
