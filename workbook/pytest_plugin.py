"""The workbook's pytest options, loaded by `-p workbook.pytest_plugin`.

--exercise-source chooses which code the exercise tests run against: the
learner's files (`make check`), the solutions (the default, so a plain `pytest`
proves every solution) or the pristine stubs (to prove every stub fails).
A learner's file that does not import is replaced by its stub for the run and
listed at the end (and in the --exercise-errors file, which `make check` reads).
--mutant runs with one planted bug of an exercise whose answer is a test (workbook.mutants).
--services points the services tier at real PostgreSQL and Redis.
--browser runs the browser tier (tests marked `browser`), which `make test` leaves out.
With `--dist loadfile` (`make test`), workbook.scheduling decides which worker runs what, and when.
--stages 00-07 keeps only the tests and notebook cells of those stages (workbook.stages.runs_stage):
the workbook's own tooling tests, which name no stage, are left out too.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from workbook.exercises import SOURCES, redirect_exercises
from workbook.mutants import find, plant
from workbook.stages import ROOT, load_stages, runs_stage, stages_in


def pytest_addoption(parser):
    group = parser.getgroup("workbook")
    group.addoption(
        "--exercise-source",
        default="solutions",
        help=f"run exercise tests against the learner's files, the solutions, the stubs ({', '.join(SOURCES)}),"
        " or the answers in a folder laid out like solutions/",
    )
    group.addoption(
        "--mutant",
        metavar="STAGE/EXERCISE/MUTANT",
        help="run with one planted bug of a tests-kind exercise, e.g. 09/idempotency_tests/retry_reaches_provider",
    )
    group.addoption(
        "--exercise-errors",
        metavar="PATH",
        help="write the exercise files that failed to import (and were replaced by their stub) here, as JSON",
    )
    group.addoption(
        "--services",
        action="store_true",
        help="run against PostgreSQL and Redis instead of SQLite and fakeredis",
    )
    group.addoption(
        "--browser",
        action="store_true",
        help="run the browser tier: tests marked browser, which drive a real Chromium",
    )
    group.addoption(
        "--stages",
        metavar="NN-NN",
        help="only the tests and notebooks of these stages, e.g. 00-07 or 06,09 (tooling tests are left out)",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    # Before any conftest imports a stage app (and with it the exercise modules).
    scratch = Path(tempfile.mkdtemp(prefix="workbook-stubs-"))
    early_config._workbook_scratch = scratch
    source = early_config.known_args_namespace.exercise_source
    early_config._workbook_redirect = redirect_exercises(source, scratch)
    mutant = early_config.known_args_namespace.mutant
    if mutant:
        early_config._workbook_mutant = plant(find(mutant))


def pytest_configure(config):
    config._workbook_left_out = _left_out(config.getoption("stages"))
    config.addinivalue_line("markers", "services: also run against real PostgreSQL and Redis")
    config.addinivalue_line("markers", "browser: drives a real Chromium; runs only with --browser")
    cache = getattr(config, "cache", None)
    if _spread_by_workbook(config) and not hasattr(config, "workerinput") and cache is not None:
        from workbook.scheduling import UnitTimer

        config.pluginmanager.register(UnitTimer(cache), "workbook-unit-timer")


def _spread_by_workbook(config) -> bool:
    # xdist's option; without xdist (`make check`) there is none.
    return getattr(config.option, "dist", "no") == "loadfile"


# Before xdist's own answer (the first answer is the one taken); optional: `make check` runs without xdist.
@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if _spread_by_workbook(config):
        from workbook.scheduling import StageUnitScheduling

        return StageUnitScheduling(config, log)
    return None


def pytest_ignore_collect(collection_path: Path, config):
    # With --stages, the folders and notebooks of the other stages are not even imported: every
    # worker process of `make test` collects for itself, and a stage's tests import its app.
    return True if collection_path in config._workbook_left_out else None


def _left_out(wanted: str | None) -> set[Path]:
    """The folders of tests and the notebooks of the stages `--stages` does not name."""
    if not wanted:
        return set()
    chosen = stages_in(wanted)
    others = [stage for stage in load_stages() if stage not in chosen]
    return {ROOT / "tests" / stage.package for stage in others} | {ROOT / stage.notebook for stage in others}


def pytest_collection_modifyitems(config, items):
    # The browser tier needs a Chromium that a learner's machine may not have, and
    # `make test` must not skip there: it is left out unless --browser asks for it.
    if not config.getoption("browser"):
        _deselect(config, items, lambda item: not item.get_closest_marker("browser"))
    if config.getoption("stages"):
        stages = stages_in(config.getoption("stages"))
        _deselect(config, items, lambda item: any(runs_stage(item.nodeid, stage) for stage in stages))
    cache = getattr(config, "cache", None)
    if _spread_by_workbook(config) and hasattr(config, "workerinput") and cache is not None:
        from workbook.scheduling import CACHE_KEY, longest_first

        items[:] = longest_first(items, cache.get(CACHE_KEY, {}))


def _deselect(config, items: list, keep) -> None:
    left_out = [item for item in items if not keep(item)]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if keep(item)]


def pytest_terminal_summary(terminalreporter, config):
    broken = _broken(config)
    if broken:
        terminalreporter.section("exercise files that did not import (their stub ran instead)")
        for file in broken:
            terminalreporter.line(str(file))


def pytest_sessionfinish(session):
    report = session.config.getoption("exercise_errors")
    if report:
        broken = [{**vars(file), "file": str(file.file)} for file in _broken(session.config)]
        Path(report).write_text(json.dumps(broken), encoding="utf-8")


def pytest_unconfigure(config):
    for finder in (getattr(config, "_workbook_redirect", None), getattr(config, "_workbook_mutant", None)):
        if finder in sys.meta_path:
            sys.meta_path.remove(finder)
    shutil.rmtree(getattr(config, "_workbook_scratch", ""), ignore_errors=True)


def _broken(config) -> list:
    finder = getattr(config, "_workbook_redirect", None)
    return finder.broken if finder is not None else []
