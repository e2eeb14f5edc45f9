"""The architecture picture: read from a stage's code, so that it cannot go stale."""

import dataclasses
import shutil

from workbook.architecture import SYSTEMS, describe, draw_architecture, read_architecture
from workbook.stages import get_stage

STAGE = get_stage("11")


def drawn_texts(figure) -> set[str]:
    return {text.get_text() for text in figure.axes[0].texts}


def test_every_router_module_of_the_stage_is_in_the_picture():
    architecture = read_architecture(STAGE)
    on_disk = {f"routes.{path.stem}" for path in (STAGE.directory / "routes").glob("*.py") if path.stem != "__init__"}
    assert set(architecture.routers) == on_disk, "every module of routes/ is a router main.py includes, and no other"
    exercises = {f"exercises.{exercise.id}" for exercise in STAGE.exercises}
    assert set(architecture.exercise_routers) == exercises, "and every exercise's router, apart"
    texts = drawn_texts(draw_architecture(architecture))
    missing = (on_disk | exercises) - texts
    assert not missing, f"routers missing from the picture: {sorted(missing)}"
    assert all(label in texts for _, label in SYSTEMS.values()), "every system outside the processes is drawn"


def test_the_adapters_are_found_by_what_they_import():
    architecture = read_architecture(STAGE)
    assert architecture.modules["rate_limiting"].systems == ["redis"], "the rate limiter counts in Redis"
    assert architecture.modules["stock"].systems == ["database"], "stock is taken with UPDATE statements"
    assert architecture.modules["outbound"].systems == ["payments"], "the shared HTTP client calls the provider"
    assert "models" not in architecture.adapters, "declaring tables is not talking to the database"
    assert "smtp" in architecture.modules["mailing"].systems, "mailing.py speaks SMTP"
    assert "mailing" in architecture.worker_adapters, "in the worker"
    api = {system for adapter in architecture.api_adapters for system in architecture.systems_of(adapter, in_api=True)}
    assert "smtp" not in api, "no API process talks to the mail server: it queues a task"
    assert "orders" in architecture.adapters_of("routes.orders"), "a router reaches its service"


def test_a_router_added_to_main_py_is_in_the_next_picture(tmp_path):
    copy = tmp_path / STAGE.package
    shutil.copytree(STAGE.directory, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "routes" / "returns.py").write_text(
        "from fastapi import APIRouter\n\nfrom .. import stock\n\nrouter = APIRouter()\n"
    )
    main = copy / "main.py"
    main.write_text(
        main.read_text().replace("    users,\n)", "    users,\n    returns,\n)")
        + "app.include_router(returns.router)\n"
    )
    architecture = read_architecture(dataclasses.replace(STAGE, directory=copy))
    assert "routes.returns" in architecture.routers
    assert architecture.adapters_of("routes.returns") == ["stock"], "it reaches the adapter it imports"
    assert "routes.returns" in drawn_texts(draw_architecture(architecture))
    assert any(line.startswith("routes.returns") and "database" in line for line in describe(architecture))
