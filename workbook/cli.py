"""`python -m workbook`: the commands behind the Makefile targets."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from workbook import checking, drift
from workbook.exercises import is_pristine, render_stub
from workbook.stages import ROOT, Exercise, Stage, get_stage, load_stages, previous_stage

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from workbook.stack import Stack

# Commands import what only they need (the lock's parser, the doctor's probes) when
# they run: `make check` starts this module every time, and must answer in seconds.

NBVAL = ["--nbval", "--nbval-current-env", "--nbval-sanitize-with", "notebooks/sanitize.cfg"]
# Test files on as many worker processes as there are cores; all of a file's tests
# (a notebook's cells, in order) stay on one worker, with its fixtures.
PARALLEL = ["-n", "auto", "--dist", "loadfile"]
# `make check` lists this many failing tests of an exercise, then says how many more.
SHOWN_FAILURES = 8


def cmd_list(args) -> int:
    stages = load_stages()
    if args.json:
        print(json.dumps([stage.as_json() for stage in stages], indent=2))
        return 0
    for stage in stages:
        print(f"{stage.number}  {stage.title:<26} {len(stage.exercises)} exercises  {stage.notebook}")
    return 0


def _chosen(stage: Stage, exercise_id: str | None) -> list[Exercise]:
    return [stage.exercise(exercise_id)] if exercise_id else list(stage.exercises)


def _print_results(stage: Stage, results: list[checking.Result]) -> None:
    print(f"Stage {stage.number} · {stage.title}")
    for result in results:
        if result.ok:
            total = len(result.passed)
            print(f"  ✓ {result.exercise.id:<20} {result.exercise.title} ({total} {result.counted} pass)")
        else:
            _print_failure(stage, result)


def _print_failure(stage: Stage, result: checking.Result) -> None:
    exercise = result.exercise
    print(f"  ✗ {exercise.id:<20} {exercise.title}")
    if result.broken:
        print(f"      Your file does not run: {result.broken}")
        print("      (its tests ran against the original stub, so the other exercises could still be checked)")
    else:
        for name, reason in result.failed[:SHOWN_FAILURES]:
            # A reason's later lines (the values pytest compared) line up under its first.
            print(f"      {name}: " + reason.replace("\n", "\n" + " " * (8 + len(name))))
        if len(result.failed) > SHOWN_FAILURES:
            print(f"      ...and {len(result.failed) - SHOWN_FAILURES} more (VERBOSE=1 shows pytest's full output)")
        total, file = len(result.passed) + len(result.failed), exercise.lesson_file.relative_to(ROOT)
        print(f"      {len(result.failed)} of {total} {result.counted} fail. Your file: {file}")
    print(f"      Stuck? make hint LESSON={stage.number} EXERCISE={exercise.id}")


def cmd_check(args) -> int:
    stage = get_stage(args.lesson)
    results = checking.run_exercises(_chosen(stage, args.exercise), source=args.source, verbose=args.verbose)
    _print_results(stage, results)
    passing = sum(result.ok for result in results)
    print(f"{passing} of {len(results)} exercises pass.")
    return 0 if passing == len(results) else 1


def cmd_watch(args) -> int:
    """Check a stage's exercises now and after every save, showing the first one still failing."""
    from watchfiles import PythonFilter, watch

    stage = get_stage(args.lesson)
    watched = [stage.directory, ROOT / "tests" / stage.package]
    # watch() yields an empty set every half second without a change: the first one
    # comes once the watcher is listening, which is when the first check runs, so
    # that no save made after "Watching" is printed can be missed.
    changes = watch(*watched, watch_filter=PythonFilter(), debounce=200, rust_timeout=500, yield_on_timeout=True)
    checked = False
    try:
        for changed in changes:
            if changed or not checked:
                _check_for_watch(stage)
                checked = True
    except KeyboardInterrupt:
        pass
    return 0


def _check_for_watch(stage: Stage) -> None:
    try:
        results = checking.run_exercises(list(stage.exercises))
    except checking.PytestDidNotRun as error:
        # A stage file that is not an exercise stops pytest itself: say so, keep watching.
        print(f"\n{error}\nWatching lessons/{stage.package}/ : save a file to check again, Ctrl-C to stop.")
        return
    print("\033[2J\033[H", end="")  # clear the terminal, as each check replaces the last
    print(f"Stage {stage.number} · {stage.title}   {datetime.now():%H:%M:%S}")
    for result in results:
        print(f"  {'✓' if result.ok else '✗'} {result.exercise.id:<20} {result.exercise.title}")
    first = next((result for result in results if not result.ok), None)
    if first is None:
        print(f"\nEvery exercise of stage {stage.number} passes. On to the next stage! (Ctrl-C stops watching)")
        return
    print()
    _print_failure(stage, first)
    print(f"\nWatching lessons/{stage.package}/ : save a file to check again, Ctrl-C to stop.")


def cmd_check_solutions(args) -> int:
    stages = [get_stage(args.lesson)] if args.lesson else load_stages()
    failing = 0
    for stage in stages:
        results = checking.run_exercises(list(stage.exercises), source="solutions")
        _print_results(stage, results)
        failing += sum(not result.ok for result in results)
    return 1 if failing else 0


def cmd_hint(args) -> int:
    stage = get_stage(args.lesson)
    for exercise in _chosen(stage, args.exercise):
        print(f"{exercise.label}: {exercise.title}")
        for number, hint in enumerate(exercise.hints, start=1):
            print(f"  hint {number}: {hint}")
        print(f"  solution: {exercise.solution_file.relative_to(ROOT)}")
    return 0


def cmd_reset(args) -> int:
    stage = get_stage(args.lesson)
    backups = ROOT / ".workbook" / "backups" / datetime.now().strftime("%Y%m%d-%H%M%S")
    for exercise in _chosen(stage, args.exercise):
        if is_pristine(exercise):
            print(f"{exercise.label}: already the original stub")
            continue
        kept = ""
        if exercise.lesson_file.exists():
            saved = backups / stage.package / exercise.lesson_file.name
            saved.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(exercise.lesson_file, saved)
            kept = f" (your version is in {saved.relative_to(ROOT)})"
        exercise.lesson_file.write_text(render_stub(exercise), encoding="utf-8")
        print(f"{exercise.label}: back to the original stub{kept}")
    return 0


def cmd_progress(args) -> int:
    started = [e for stage in load_stages() for e in stage.exercises if not is_pristine(e)]
    results = {r.exercise.label: r for r in checking.run_exercises(started)}
    done = 0
    for stage in load_stages():
        print(f"Stage {stage.number} · {stage.title}")
        for exercise in stage.exercises:
            result = results.get(exercise.label)
            if result is None:
                state = "not started"
            elif result.ok:
                state, done = "done", done + 1
            elif result.broken:
                state = f"does not run: {result.broken}"
            else:
                total = len(result.passed) + len(result.failed)
                state = f"in progress: {len(result.passed)} of {total} {result.counted} pass"
            print(f"  {exercise.id:<20} {state}")
    total = sum(len(stage.exercises) for stage in load_stages())
    print(f"{done} of {total} exercises done.")
    return 0


def cmd_diff(args) -> int:
    from workbook import diffing

    stage = get_stage(args.lesson)
    print(diffing.summary(stage))
    print()
    print(diffing.unified(stage, args.files or None))
    return 0


def cmd_serve(args) -> int:
    import uvicorn

    from workbook.serving import proxy_options
    from workbook.stack import has_worker

    stage = get_stage(args.lesson)
    if has_worker(stage):
        return _serve_stack(stage, args)
    print(f"Stage {stage.number} · {stage.title}: open http://{args.host}:{args.port}/docs (Ctrl-C stops it)")
    uvicorn.run(
        stage.app,
        host=args.host,
        port=args.port,
        reload=args.reload,
        reload_dirs=[str(stage.directory)],
        **proxy_options(stage.app),  # whose X-Forwarded-For to believe: the stage's trusted proxies
    )
    return 0


def _serve_stack(stage: Stage, args) -> int:
    """A stage with a worker.py: app, embedded broker, Celery worker and mail server together
    (and the payment provider, for a stage with payments.py)."""
    from workbook import stack
    from workbook.mail_server import MAILBOX
    from workbook.serving import stage_setting

    mailbox = args.mailbox or MAILBOX
    if args.reload:
        print("--reload is not available with a worker: stop (Ctrl-C) and start again after a change.")
    # As many API processes as asked, else as the stage's `workers` setting (WORKBOOK_WORKERS) says.
    workers = args.workers or stage_setting(stage.app, "workers") or 1
    print(f"Stage {stage.number} · {stage.title}: starting the broker, the mail server, a Celery worker and the app...")
    running = stack.running_stack(
        stage, port=args.port, host=args.host, mailbox=mailbox, echo=print, api_workers=workers
    )
    return _serve_until_stopped(stage, running, mailbox)


def cmd_serve_prod(args) -> int:
    from workbook import production
    from workbook.mail_server import MAILBOX
    from workbook.stack import has_worker

    stage = get_stage(args.lesson) if args.lesson else load_stages()[-1]
    if not has_worker(stage):
        print(f"error: stage {stage.number} has no Celery worker (worker.py): use make serve", file=sys.stderr)
        return 2
    mailbox = args.mailbox or MAILBOX
    database_url, redis_url, broker_url = production.service_urls(args.broker)
    print(f"Stage {stage.number} · {stage.title}, as in production: {args.workers} API worker processes,")
    print(f"  PostgreSQL {production.shown_url(database_url)}, Redis {production.shown_url(redis_url)},")
    print(f"  broker {production.shown_url(broker_url or redis_url)}; a Celery worker and beat...")
    running = production.serving_in_production(
        stage, workers=args.workers, broker=args.broker, port=args.port, host=args.host, mailbox=mailbox, echo=print
    )
    return _serve_until_stopped(stage, running, mailbox)


def _serve_until_stopped(stage: Stage, starting: AbstractContextManager[Stack], mailbox: Path) -> int:
    """Start the stack, say where everything is, and serve until Ctrl-C (or SIGTERM) stops it all."""
    from workbook import demo_login

    # Ctrl-C and SIGTERM both stop the stack the same way, even when this process
    # was started with SIGINT ignored (as a shell script's `... &` does).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        with starting as running:
            print(f"Ready. Open {running.app_url}/docs")
            for line in demo_login.banner(stage):
                print(line)
            print(f"Mail goes to the workbook's mail server on 127.0.0.1:{running.mail.port};")
            print(f"  each message is saved in {_shown(mailbox)}/ (read them: make mail)")
            if running.payments is not None:
                print(f"Cards are charged by the fake payment provider at {running.payments.url};")
                print(f"  the app trusts its certificate authority, {_shown(running.payments.ca_file)}")
            print("Ctrl-C stops everything.")
            running.wait()
    except KeyboardInterrupt:
        pass
    print("Stopped: the app, the worker and every server the stack started.")
    return 0


def _shown(path: Path) -> Path:
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def cmd_mail(args) -> int:
    from workbook import mail_server

    mailbox = args.mailbox or mail_server.MAILBOX
    stored = mail_server.messages(mailbox)
    if not stored:
        print(f"No mail yet in {_shown(mailbox)}/: register a user while `make serve` runs a worker.")
        return 0
    for number, path in enumerate(stored, start=1):
        print(f"{number:>3}  {mail_server.describe(path)}")
    if args.number is not None and not 1 <= args.number <= len(stored):
        print(f"error: there is no message {args.number}; pick one from 1 to {len(stored)}", file=sys.stderr)
        return 2
    chosen = stored[args.number - 1] if args.number else stored[-1]
    print()
    print(mail_server.show(chosen))
    return 0


def cmd_bench(args) -> int:
    from workbook import bench, read_bench

    stage = get_stage(args.lesson)
    if read_bench.has_read_bench(stage):
        seconds = read_bench.ROUNDS * read_bench.ROUND_SECONDS * 2 + 20
        print(f"Stage {stage.number} · {stage.title}: the signed-in product read against bare FastAPI ({seconds} s)...")
        print(read_bench.report(stage))
        return 0
    if not bench.has_bench(stage):
        print(
            f"Stage {stage.number} · {stage.title} has no benchmark: stage 05 (its /lab routes)"
            " and the stages with a payment service (payments.py) have one, stage 11 its signed-in product read."
        )
        return 0
    print(f"Stage {stage.number} · {stage.title}: measuring over real HTTP (15 s at most)...")
    print(bench.report(stage))
    return 0


def cmd_load(args) -> int:
    from workbook import load

    stage = get_stage(args.lesson)
    if not load.has_load_test(stage):
        print(f"Stage {stage.number} · {stage.title} has no load test: stages 09 and 11 have one (load/locustfile.py).")
        return 0
    print(f"Stage {stage.number} · {stage.title}: {args.users} Locust users for {args.seconds} s on loopback...")
    workers = load.api_workers(stage)
    if workers is None:
        print("  (for the run, the rate limit and the log-in throttles are lifted, and bcrypt's cost is 4)")
    else:
        tier = "PostgreSQL and Redis" if args.services else "SQLite and the embedded broker"
        print(f"  (as deployed: uvicorn's supervisor and {workers} worker processes, the Celery worker, on {tier};")
        print(
            f"   the rate limit kept at {load.RATE_LIMIT_PER_MINUTE} a minute per client, each user a client of its"
            " own pacing itself at 80 % of it; bcrypt's cost is 4)"
        )
    report = load.run(stage, users=args.users, spawn_rate=args.spawn_rate, seconds=args.seconds, services=args.services)
    print(load.table(report))
    return 0 if report.total.failures == 0 else 1


def cmd_e2e(args) -> int:
    from workbook import scenario

    if args.url:
        # The processes behind the port, found once (psutil): the journey tells them apart by them.
        serving = scenario.serving_processes(args.url) if args.find_processes else []
        deployment = scenario.Deployment(
            url=args.url.rstrip("/"),
            mailbox=args.mailbox or _default_mailbox(),
            provider_url=args.provider_url,
            provider_ca=args.provider_ca,
            server_processes=(lambda: serving) if serving else None,
            api_processes=len(serving) or None,
        )
        found = f", served by {len(serving)} processes" if serving else ""
        print(f"The journey against {deployment.url}{found}:")
        return 0 if scenario.run(deployment).ok else 1
    stage = get_stage(args.lesson)
    tier = "PostgreSQL and Redis" if args.services else "the embedded defaults (SQLite, the embedded broker)"
    print(f"Stage {stage.number} · {stage.title}: {scenario.API_WORKERS} API worker processes, on {tier}...")
    with scenario.deployment(stage, services=args.services) as deployment:
        print(f"Deployed at {deployment.url}; the journey:")
        report = scenario.run(deployment)
    print("Every promise kept." if report.ok else f"Broken at step {report.failed.number if report.failed else '?'}.")
    return 0 if report.ok else 1


def _default_mailbox() -> Path:
    from workbook.mail_server import MAILBOX

    return MAILBOX


def cmd_coverage(args) -> int:
    from workbook import coverage_report

    stage = get_stage(args.lesson)
    floor = coverage_report.FLOORS.get(stage.number)
    print(f"Stage {stage.number} · {stage.title}: its tests under branch coverage of {stage.package}/ ...")
    report = coverage_report.measure(stage)
    print(coverage_report.table(report))
    print(f"pytest: {report.outcome}")
    if not report.passed:
        print("Some of the tests failed: the figures above are for a suite that does not pass.")
        return 1
    if floor is not None and report.percent < floor:
        print(f"Below the floor: {report.percent:.1f}% is under {floor:.0f}% (workbook/coverage_report.py).")
        return 1
    return 0


def cmd_migrate(args) -> int:
    stage = get_stage(args.lesson)
    if not (stage.directory / "migrate.py").exists():
        print(f"Stage {stage.number} · {stage.title} has no migrations: stage 11 has them (its migrations/ folder).")
        return 2
    # In a process of its own: the stage reads WORKBOOK_DATABASE_URL and WORKBOOK_TENANTS like the app.
    return subprocess.call([sys.executable, "-m", f"lessons.{stage.package}.migrate", *args.passed_on], cwd=ROOT)


def cmd_doctor(args) -> int:
    from workbook import doctor

    verdicts = doctor.run(services_required=args.services)
    for verdict in verdicts:
        print(f"[{verdict.level:>4}] {verdict.check:<17} {verdict.detail}")
    failed = [v for v in verdicts if v.level == doctor.FAIL]
    print("Ready." if not failed else f"Not ready: {len(failed)} check(s) failed.")
    return 1 if failed else 0


def cmd_stamp(args) -> int:
    stage = get_stage(args.lesson)
    previous = previous_stage(stage)
    if previous is None:
        print(f"stage {stage.number} has no previous stage")
        return 0
    for name in drift.stamp(previous, stage):
        print(f"stamped {stage.package}/{name}")
    return 0


def cmd_propagate(args) -> int:
    stage = get_stage(args.lesson)
    try:
        drift.propagate(stage, args.file, echo=print, resolved=args.resolved)
    except drift.Conflict as conflict:
        print(f"stopped: {conflict}", file=sys.stderr)
        return 1
    return 0


def _pytest(*arguments: str) -> int:
    return subprocess.call([sys.executable, "-m", "pytest", *arguments], cwd=ROOT)


def cmd_test(args) -> int:
    # Exit status 5 (no tests ran) is pytest's, and stays a failure.
    return _pytest("tests", "notebooks", *NBVAL, *PARALLEL, *args.passed_on)


def cmd_test_services(args) -> int:
    return _pytest("tests", "-m", "services", "--services", *args.passed_on)


def cmd_lock(args) -> int:
    """Re-pin every package for all platforms, then regenerate environment.yml."""
    from workbook import lockfile

    compiled = subprocess.call(
        [
            sys.executable,
            "-m",
            "uv",
            "pip",
            "compile",
            "pyproject.toml",
            "--universal",
            "--python-version",
            "3.11",
            "--generate-hashes",
            "--quiet",
            "-o",
            "requirements.lock",
            *args.passed_on,
        ],
        cwd=ROOT,
    )
    if compiled == 0:
        lockfile.ENVIRONMENT.write_text(lockfile.environment_yml(), encoding="utf-8")
        print("requirements.lock and environment.yml are up to date.")
    return compiled


def cmd_notebooks(args) -> int:
    from workbook import notebooks

    stages = [get_stage(args.lesson)] if args.lesson else load_stages()
    for stage in stages:
        if args.normalise:
            changed = notebooks.normalise_file(ROOT / stage.notebook)
            print(f"{stage.notebook}: {'run noise taken out' if changed else 'already clean'}")
        else:
            seconds = notebooks.execute(ROOT / stage.notebook)
            print(f"{stage.notebook}: executed in {seconds:.1f} s")
    return 0


def cmd_lab(args) -> int:
    from workbook import lab

    return subprocess.call(lab.command(*args.passed_on), cwd=ROOT, env=lab.environment())


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m workbook", description="The Storefront workbook's tools.")
    commands = top.add_subparsers(dest="command", required=True)

    def command(name, handler, help):
        sub = commands.add_parser(name, help=help, description=help)
        sub.set_defaults(handler=handler)
        return sub

    command("list", cmd_list, "list the stages").add_argument("--json", action="store_true")
    for name, handler, help in [
        ("check", cmd_check, "check your exercises for a lesson"),
        ("hint", cmd_hint, "show the hints for a lesson's exercises"),
        ("reset", cmd_reset, "put exercises back to their original stub (your version is backed up)"),
    ]:
        sub = command(name, handler, help)
        sub.add_argument("lesson")
        sub.add_argument("exercise", nargs="?", help="one exercise id; all of the lesson's when left out")
        if name == "check":
            sub.add_argument("--source", default="lessons", choices=["lessons", "solutions", "stubs"])
            sub.add_argument(
                "--verbose", action="store_true", default=bool(os.environ.get("VERBOSE")), help="show pytest's output"
            )
    command("watch", cmd_watch, "check a lesson's exercises each time you save a file").add_argument("lesson")
    command("check-solutions", cmd_check_solutions, "prove that the solutions pass").add_argument("lesson", nargs="?")
    command("progress", cmd_progress, "every exercise and how far you are with it")
    sub = command("diff", cmd_diff, "what a lesson changed since the previous one")
    sub.add_argument("lesson")
    sub.add_argument("files", nargs="*", help="only these files, relative to the stage folder")
    sub = command("serve", cmd_serve, "serve a lesson's app (with its broker, worker and mail server, if it has them)")
    sub.add_argument("lesson")
    sub.add_argument("--host", default="127.0.0.1")
    sub.add_argument("--port", type=int, default=8000)
    sub.add_argument("--reload", action="store_true", help="restart when the stage's code changes")
    sub.add_argument("--mailbox", type=Path, help="where the mail server keeps the mail (.workbook/mailbox/)")
    sub.add_argument("--workers", type=int, help="API worker processes (default: the stage's WORKBOOK_WORKERS, 1)")
    sub = command(
        "serve-prod", cmd_serve_prod, "serve a stage as in production: API worker processes on PostgreSQL and Redis"
    )
    sub.add_argument("lesson", nargs="?", help="the last stage when left out")
    sub.add_argument("--host", default="127.0.0.1")
    sub.add_argument("--port", type=int, default=8000)
    sub.add_argument("--workers", type=int, default=3, help="API worker processes under uvicorn's supervisor")
    sub.add_argument("--broker", default="redis", choices=["redis", "rabbitmq"])
    sub.add_argument("--mailbox", type=Path, help="where the mail server keeps the mail (.workbook/mailbox/)")
    sub = command("mail", cmd_mail, "list the mail the workbook's mail server received, and show one")
    sub.add_argument("number", nargs="?", type=int, help="which message to show (see the list); the newest if left out")
    sub.add_argument("--mailbox", type=Path, help="where the mail server keeps the mail (.workbook/mailbox/)")
    command(
        "bench",
        cmd_bench,
        "measure over real HTTP: blocking (05), HTTP clients (08), the product read against bare FastAPI (11)",
    ).add_argument("lesson")
    sub = command("load", cmd_load, "a bounded Locust load test on loopback (stage 09: one uvicorn; 11: as deployed)")
    sub.add_argument("lesson")
    sub.add_argument("--users", type=int, default=20)
    sub.add_argument("--spawn-rate", type=int, default=10, help="users started per second")
    sub.add_argument("--seconds", type=int, default=8, help="how long the load runs")
    sub.add_argument("--services", action="store_true", help="a deployed stage on PostgreSQL and Redis (stage 11)")
    sub = command("e2e", cmd_e2e, "one customer's whole journey through a deployment, each promise checked")
    sub.add_argument("lesson", nargs="?", default="11", help="the stage to deploy (11)")
    sub.add_argument("--services", action="store_true", help="on PostgreSQL and Redis, not the embedded defaults")
    sub.add_argument("--url", help="a deployment already running, instead of starting one")
    sub.add_argument("--mailbox", type=Path, help="with --url: where its mail server keeps the mail")
    sub.add_argument("--provider-url", help="with --url: its payment provider, to count the charges")
    sub.add_argument("--provider-ca", type=Path, help="with --url: the certificate authority of that provider")
    sub.add_argument(
        "--no-processes",
        dest="find_processes",
        action="store_false",
        help="with --url: do not look for the processes behind the port (psutil) to tell them apart",
    )
    sub = command("coverage", cmd_coverage, "branch coverage of a stage's app under its tests, against its floor")
    sub.add_argument("lesson")
    sub = command("migrate", cmd_migrate, "bring every tenant's schema to the newest migration (stage 11)")
    sub.add_argument("lesson")
    sub.add_argument("passed_on", nargs=argparse.REMAINDER, help="passed on, e.g. current, or revision -m '...'")
    command("doctor", cmd_doctor, "is this machine ready for a workshop?").add_argument(
        "--services", action="store_true", help="PostgreSQL and Redis must be reachable"
    )
    command(
        "stamp", cmd_stamp, "record that a stage's changed files are based on the previous stage as it is now"
    ).add_argument("lesson")
    sub = command("propagate", cmd_propagate, "port a fix in one stage's file into every later stage, then stamp")
    sub.add_argument("lesson", help="the stage whose copy of the file holds the fix")
    sub.add_argument("file", help="relative to the stage folder, e.g. catalogue.py")
    sub.add_argument("--resolved", action="store_true", help="this stage's conflict is resolved: record it, carry on")
    command("lock", cmd_lock, "re-pin the packages (needs uv) and regenerate environment.yml").add_argument(
        "passed_on", nargs=argparse.REMAINDER, help="passed to uv, e.g. --upgrade-package fastapi"
    )
    sub = command("notebooks", cmd_notebooks, "re-execute notebooks and store their outputs")
    sub.add_argument("lesson", nargs="?")
    sub.add_argument("--normalise", action="store_true", help="only take run noise out of the stored notebooks")
    command("lab", cmd_lab, "JupyterLab on the repository, opening notebook 00").add_argument(
        "passed_on", nargs=argparse.REMAINDER, help="passed to jupyter lab, e.g. --no-browser"
    )
    for name, handler, help in [
        ("test", cmd_test, "run every test and notebook"),
        ("test-services", cmd_test_services, "run the services tier against PostgreSQL and Redis"),
    ]:
        command(name, handler, help).add_argument("passed_on", nargs=argparse.REMAINDER, help="passed to pytest")
    return top


def main(argv: list[str] | None = None) -> int:
    top = parser()
    # Commands that wrap another tool pass it what they do not know themselves, options
    # included (`test --durations=20`), which argparse's REMAINDER alone would refuse.
    args, unknown = top.parse_known_args(argv)
    if unknown and not hasattr(args, "passed_on"):
        top.error(f"unrecognized arguments: {' '.join(unknown)}")
    if unknown:
        args.passed_on = [*unknown, *args.passed_on]
    try:
        return args.handler(args)
    except LookupError as error:
        print(f"error: {error.args[0]}", file=sys.stderr)
        return 2
    except checking.PytestDidNotRun as error:
        # A stage file other than an exercise does not import: pytest's own words say where.
        print(f"error: {error}", file=sys.stderr)
        return 2
