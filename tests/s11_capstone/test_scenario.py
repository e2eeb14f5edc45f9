"""The end-to-end journey (workbook/scenario.py): it passes against stage 11 deployed as in production,
and a deployment that breaks a promise makes it fail at that step, with exit code 1.

The journey runs as `make e2e` runs it, a command of its own: uvicorn's supervisor with three
worker processes, the Celery worker and beat, the mail server and the payment provider; on the
embedded defaults, and with --services on PostgreSQL and the test Redis.
"""

import io
import re
import subprocess
import sys

import pytest
from PIL import Image

from workbook import scenario
from workbook.stages import ROOT, get_stage

from ..stack_tiers import tiers

pytestmark = pytest.mark.services

STEP = re.compile(r"^\s?(\d+)  (.+?)\s+(ok|FAILED)\s+\d+ ms", re.MULTILINE)


def pytest_generate_tests(metafunc):
    if "tier" in metafunc.fixturenames:
        metafunc.parametrize("tier", tiers(metafunc.config))


def e2e(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "workbook", "e2e", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def steps(output: str) -> dict[int, tuple[str, str]]:
    """Each step's line, by its number: (name, status)."""
    return {int(number): (name, status) for number, name, status in STEP.findall(output)}


def test_the_journey_keeps_every_promise_of_the_deployed_stage(tier):
    done = e2e(*(["--services"] if tier == "services" else []))
    assert done.returncode == 0, done.stdout + done.stderr
    seen = steps(done.stdout)
    assert sorted(seen) == list(range(1, len(scenario.STEPS) + 1)), f"one line per step:\n{done.stdout}"
    assert {status for _, status in seen.values()} == {"ok"}, done.stdout
    assert "Every promise kept." in done.stdout
    # What the steps saw, as they report it: the processes the kernel handed a connection to had the
    # old price cached, and each seen again served the new one.
    said = r"[123] processes had [\d.]+ cached; [123] of them seen again, each serving [\d.]+ within \d+ ms"
    assert re.search(said, done.stdout), done.stdout
    assert "2 sold, 2 refused with 409, stock 0, 2 charges" in done.stdout
    assert "the provider made 1 charge" in done.stdout


def test_a_cache_that_never_hears_a_price_change_fails_the_last_step_and_the_command():
    """Broadcast off and a local tier that keeps its copy for ten minutes: processes that cached the
    old price keep serving it. The journey, run with --url against that deployment, finds it."""
    stale = {"WORKBOOK_PRODUCT_CACHE_BROADCAST": "false", "WORKBOOK_PRODUCT_CACHE_LOCAL_SECONDS": "600"}
    with scenario.deployment(get_stage("11"), extra_env=stale) as deployment:
        done = e2e(
            "--url", deployment.url,
            "--mailbox", str(deployment.mailbox),
            "--provider-url", str(deployment.provider_url),
            "--provider-ca", str(deployment.provider_ca),
        )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    seen = steps(done.stdout)
    last = len(scenario.STEPS)
    assert seen.get(last) == ("an admin changes a price", "FAILED"), done.stdout
    assert all(status == "ok" for number, (_, status) in seen.items() if number < last), done.stdout
    assert re.search(r"expected: every process serving [\d.]+ within [\d.]+ s of the change", done.stdout)
    assert re.search(r"got:\s+a process still serving [\d.]+ after [\d.]+ s", done.stdout), done.stdout


def test_a_failed_step_says_what_was_expected_and_what_came_back():
    outcome = scenario.Outcome(6, "order the last units at once", False, 812.4, expected="2 sold", got="3 sold")
    assert outcome.lines() == [
        " 6  order the last units at once         FAILED    812 ms",
        "      expected: 2 sold",
        "      got:      3 sold",
    ]
    report = scenario.Report([outcome])
    assert not report.ok and report.failed is outcome


def test_a_thumbnail_of_the_wrong_size_or_no_image_at_all_is_a_broken_promise():
    width, height = scenario.IMAGE_SIZE
    right, wrong = io.BytesIO(), io.BytesIO()
    Image.new("RGB", (150, round(150 * height / width))).save(right, format="PNG")
    Image.new("RGB", (150, 150)).save(wrong, format="PNG")
    scenario.check_thumbnail(right.getvalue(), 150)
    with pytest.raises(scenario.Broken, match="a PNG of 150x112"):
        scenario.check_thumbnail(wrong.getvalue(), 150)
    with pytest.raises(scenario.Broken, match="Pillow cannot decode"):
        scenario.check_thumbnail(b"not a picture", 150)


def test_the_portrait_is_a_real_png_of_the_size_the_journey_expects():
    with Image.open(io.BytesIO(scenario.portrait_png())) as image:
        assert (image.format, image.size) == ("PNG", scenario.IMAGE_SIZE)
        assert len(image.getcolors(maxcolors=1 << 20) or []) > 100, "a picture, not a flat colour"
