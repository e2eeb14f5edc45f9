"""The workbook's own promises: the index, the exercises, the stage copies, the lock, the tools."""

import importlib
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx2
import nbformat
import pytest
import yaml
from fastapi import FastAPI

from workbook import checking, drift, lab, lockfile, notebooks
from workbook.exercises import BEGIN, END, render_stub, strip_solution
from workbook.serving import free_port, running
from workbook.stages import ROOT, load_stages, previous_stage

STAGES = load_stages()
EXERCISES = [exercise for stage in STAGES for exercise in stage.exercises]


def by_number(stage):
    return stage.number


def by_label(exercise):
    return exercise.label


def test_list_json_describes_every_stage():
    listed = json.loads(
        subprocess.run(
            [sys.executable, "-m", "workbook", "list", "--json"], capture_output=True, check=True, cwd=ROOT
        ).stdout
    )
    assert [entry["number"] for entry in listed] == [f"{n:02d}" for n in range(len(listed))]
    for entry in listed:
        assert {"number", "title", "app", "notebook", "exercises"} <= entry.keys()
        assert (ROOT / entry["notebook"]).is_file()
        assert len(entry["exercises"]) >= 2, f"stage {entry['number']} needs at least two exercises"


@pytest.mark.parametrize("stage", STAGES, ids=by_number)
def test_each_app_import_string_names_a_fastapi_app(stage):
    module, _, name = stage.app.partition(":")
    assert isinstance(getattr(importlib.import_module(module), name), FastAPI)


@pytest.mark.parametrize("stage", STAGES, ids=by_number)
def test_each_stage_serves_its_docs_over_http_with_uvicorn(stage):
    with running(stage.app) as url:
        assert httpx2.get(f"{url}/health").json() == {"status": "ok", "stage": stage.number}
        assert httpx2.get(f"{url}/docs").status_code == 200
        assert httpx2.get(f"{url}/openapi.json").json()["info"]["version"] == f"stage {stage.number}"


@pytest.mark.parametrize("exercise", EXERCISES, ids=by_label)
def test_each_exercise_has_a_stub_a_solution_tests_and_hints(exercise):
    solution = exercise.solution_file.read_text(encoding="utf-8")
    assert BEGIN in solution and END in solution, f"{exercise.solution_file} marks no solution"
    assert exercise.test_file.is_file()
    assert exercise.hints


@pytest.mark.parametrize("exercise", EXERCISES, ids=by_label)
def test_each_lesson_file_is_the_stub_rendered_from_its_solution(exercise):
    if exercise.lesson_file.read_text(encoding="utf-8") == render_stub(exercise):
        return
    if not os.environ.get("CI"):
        pytest.skip(f"{exercise.lesson_file.relative_to(ROOT)} is not the stub: your work? (CI insists on it)")
    pytest.fail(
        f"{exercise.lesson_file.relative_to(ROOT)} is not the stub; run `python -m workbook reset "
        f"{exercise.stage_number} {exercise.id}` after changing its solution"
    )


def test_every_stub_fails_every_one_of_its_tests():
    results = checking.run_exercises(EXERCISES, source="stubs")
    for result in results:
        assert result.failed, f"{result.exercise.label}: its tests found nothing to fail on"
        assert not result.passed, f"{result.exercise.label}: these pass against the bare stub: {result.passed}"


def test_every_solution_passes_in_a_fresh_process():
    results = checking.run_exercises(EXERCISES, source="solutions")
    assert [(r.exercise.label, r.failed) for r in results if not r.ok] == []


def test_stripping_a_solution():
    source = f"import os\n{BEGIN}\nimport re\n{END}\n\ndef f():\n    {BEGIN}\n    return 1\n    {END}\n"
    assert strip_solution(source, "99/x") == (
        'import os\n\ndef f():\n    raise NotImplementedError("exercise 99/x: write this part")\n'
    )
    with pytest.raises(ValueError, match="never closed"):
        strip_solution(f"{BEGIN}\n", "99/x")


@pytest.mark.parametrize("stage", STAGES[1:], ids=by_number)
def test_stage_copies_cannot_drift(stage):
    assert drift.problems(previous_stage(stage), stage) == []


def test_a_fix_in_a_carried_file_that_is_not_ported_is_reported(tmp_path):
    # On a copy: other tests and notebooks read the real stage folders at the same time.
    shutil.copytree(ROOT / "lessons", tmp_path / "lessons", ignore=shutil.ignore_patterns("__pycache__"))
    previous, stage = load_stages(tmp_path)[:2]
    with (stage.directory / "catalogue.py").open("a", encoding="utf-8") as edited:
        edited.write("\n# a fix made here only\n")
    assert any("catalogue.py is changed" in problem for problem in drift.problems(previous, stage))


def test_environment_yml_pins_what_the_lock_pins():
    pip_section = yaml.safe_load(lockfile.ENVIRONMENT.read_text())["dependencies"][-1]["pip"]
    assert pip_section == [str(requirement) for requirement in lockfile.pins()] + ["-e ."]


def test_no_lesson_module_shadows_an_installed_package():
    ours = {path.stem for path in (ROOT / "lessons").rglob("*.py")} - {"__init__", "main"}
    shadowing = []
    for name in sorted(ours):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin and ROOT not in Path(spec.origin).parents:
            shadowing.append(name)
    assert shadowing == [], "these lesson modules hide the packages of the same name"


@pytest.mark.parametrize("stage", STAGES, ids=by_number)
def test_each_notebook_is_stored_run_and_quiet(stage):
    notebook = nbformat.read(ROOT / stage.notebook, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code), "store the notebook with its outputs: make notebooks"
    for cell in code:
        for output in cell.outputs:
            text = output.get("text", "") if output.output_type == "stream" else ""
            assert output.get("name") != "stderr" and "Warning" not in text, f"noise in: {cell.source[:60]}"
            assert output.output_type != "error", f"a cell failed: {cell.source[:60]}"


# --- Checking a learner's work ------------------------------------------------------------------


def scratch_copy(tmp_path: Path) -> Path:
    """The repository's files in a scratch folder, where a test may break exercises freely."""
    copy = tmp_path / "workbook"
    ignored = shutil.ignore_patterns(".venv", ".git", "notebooks", "__pycache__", ".*_cache", ".workbook")
    shutil.copytree(ROOT, copy, ignore=ignored)
    return copy


def workbook(copy: Path, *arguments: str) -> subprocess.CompletedProcess:
    """`python -m workbook ...` in a scratch copy, as make would run it in the real one."""
    return subprocess.run([sys.executable, "-m", "workbook", *arguments], cwd=copy, capture_output=True, text=True)


def test_reason_keeps_the_sentence_and_both_values():
    message = "AssertionError: price_label(5) should be '€0.05'\nassert '€0.5' == '€0.05'\n  \n  - €0.05\n  + €0.5\n"
    assert checking.reason(message) == "AssertionError: price_label(5) should be '€0.05'\nassert '€0.5' == '€0.05'"
    long = "\n".join(["AssertionError: the rows", "assert [1, 2] == [1, 3]", *[f"  line {n}" for n in range(9)]])
    assert checking.reason(long).splitlines()[-1] == "  ...", "a long comparison is cut, and says so"


def test_a_broken_exercise_is_reported_and_the_stages_others_still_checked(tmp_path):
    copy = scratch_copy(tmp_path)
    exercises = copy / "lessons" / "s00_orientation" / "exercises"
    stub = (exercises / "product_lookup.py").read_text(encoding="utf-8")
    broken_line = stub.count("\n") + 2
    (exercises / "product_lookup.py").write_text(stub + "\ndef oops(:\n", encoding="utf-8")
    # A planted bug: no thousands separator, so two of the six cases fail.
    solution = (copy / "solutions" / "s00_orientation" / "price_label.py").read_text(encoding="utf-8")
    (exercises / "price_label.py").write_text(solution.replace("{euros:,}", "{euros}"), encoding="utf-8")

    checked = workbook(copy, "check", "00")
    assert checked.returncode == 1, checked.stdout + checked.stderr
    output = checked.stdout
    assert f"lessons/s00_orientation/exercises/product_lookup.py:{broken_line}: SyntaxError" in output, output
    assert "test_price_label[123456 cents]: AssertionError: price_label(123456) should be '€1,234.56'" in output
    assert "assert '€1234.56' == '€1,234.56'" in output, "the reason shows both values"
    assert "test_price_label[100000000 cents]" in output, "every failing test is listed"
    assert "2 of 6 tests fail" in output

    (exercises / "product_lookup.py").write_text("from ..nowhere import CATALOGUE\n" + stub, encoding="utf-8")
    progress = workbook(copy, "progress").stdout
    assert [line[6:8] for line in progress.splitlines() if line.startswith("Stage ")] == [s.number for s in STAGES]
    assert (
        "product_lookup       does not run: lessons/s00_orientation/exercises/product_lookup.py:1: "
        "ModuleNotFoundError: No module named 'lessons.s00_orientation.nowhere'" in progress
    ), progress
    assert "price_label          in progress: 4 of 6 tests pass" in progress, progress


def test_watch_checks_again_when_a_file_is_saved(tmp_path):
    copy = scratch_copy(tmp_path)
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "workbook", "watch", "00"]
    watcher = subprocess.Popen(command, cwd=copy, env=environment, stdout=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in watcher.stdout], daemon=True).start()

    def read_until(text: str) -> str:
        seen = ""
        while text not in seen:
            seen += lines.get(timeout=60)
        return seen

    try:
        first = read_until("Watching")
        assert "✗ product_lookup" in first and "Stuck? make hint LESSON=00 EXERCISE=product_lookup" in first, first
        for exercise in ("price_label", "product_lookup"):
            solution = copy / "solutions" / "s00_orientation" / f"{exercise}.py"
            shutil.copy(solution, copy / "lessons" / "s00_orientation" / "exercises" / f"{exercise}.py")
        assert "✓ product_lookup" in read_until("Every exercise of stage 00 passes")
    finally:
        watcher.terminate()
        watcher.wait(timeout=30)
        watcher.stdout.close()


# --- Porting a fix forward ----------------------------------------------------------------------

SHOP = "A = 1\nB = 2\nC = 3\nD = 4\nE = 5\n"


def git(root: Path, *arguments: str) -> None:
    identity = ["-c", "user.name=Workbook", "-c", "user.email=workbook@example.com"]
    subprocess.run(["git", *identity, *arguments], cwd=root, check=True, capture_output=True)


def mini_workbook(tmp_path: Path) -> Path:
    """Four stages sharing shop.py: 01 carries 00's, 02 changes line D, 03 carries 02's; committed."""
    root = tmp_path / "mini"
    texts = {"00": SHOP, "01": SHOP, "02": SHOP.replace("D = 4", "D = 40"), "03": SHOP.replace("D = 4", "D = 40")}
    for number, text in texts.items():
        folder = root / "lessons" / f"s{number}_topic"
        folder.mkdir(parents=True)
        (folder / "shop.py").write_text(text)
        change = '"shop.py" = { why = "D grows" }\n' if number == "02" else ""
        (folder / "stage.toml").write_text(f'number = "{number}"\ntitle = "T"\nsummary = "S"\n\n[changes]\n{change}')
    stages = load_stages(root)
    drift.stamp(stages[1], stages[2])
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "four stages")
    return root


def shop(root: Path, number: str) -> str:
    return (root / "lessons" / f"s{number}_topic" / "shop.py").read_text()


def drift_problems(root: Path) -> list[str]:
    stages = load_stages(root)
    return [problem for stage in stages[1:] for problem in drift.problems(previous_stage(stage, root), stage)]


def test_propagate_copies_a_fix_into_carried_copies_and_merges_it_into_changed_ones(tmp_path):
    root = mini_workbook(tmp_path)
    (root / "lessons" / "s00_topic" / "shop.py").write_text(SHOP.replace("A = 1", "A = 10"))
    assert drift_problems(root), "the unported fix is noticed"

    drift.propagate(load_stages(root)[0], "shop.py", echo=lambda line: None)

    assert shop(root, "01") == SHOP.replace("A = 1", "A = 10")
    assert shop(root, "02") == shop(root, "03") == SHOP.replace("A = 1", "A = 10").replace("D = 4", "D = 40")
    assert drift_problems(root) == [], "stage 02's base is stamped again"


def test_propagate_stops_at_a_conflict_and_carries_on_once_it_is_resolved(tmp_path):
    root = mini_workbook(tmp_path)
    (root / "lessons" / "s00_topic" / "shop.py").write_text(SHOP.replace("D = 4", "D = 4000"))

    with pytest.raises(drift.Conflict, match=r"lessons/s02_topic/shop.py: stage 01's fix conflicts .* --resolved"):
        drift.propagate(load_stages(root)[0], "shop.py", echo=lambda line: None)
    assert shop(root, "01") == SHOP.replace("D = 4", "D = 4000"), "stages before the conflict are done"
    assert "<<<<<<< stage 02" in shop(root, "02") and "D = 4000" in shop(root, "02")
    assert shop(root, "03") == SHOP.replace("D = 4", "D = 40"), "stages after the conflict are left alone"

    stage_02 = load_stages(root)[2]
    with pytest.raises(drift.Conflict, match="still holds conflict markers"):
        drift.propagate(stage_02, "shop.py", resolved=True, echo=lambda line: None)
    (stage_02.directory / "shop.py").write_text(SHOP.replace("D = 4", "D = 40000"))
    drift.propagate(stage_02, "shop.py", resolved=True, echo=lambda line: None)
    assert shop(root, "03") == SHOP.replace("D = 4", "D = 40000")
    assert drift_problems(root) == []


# --- Notebooks and Lab --------------------------------------------------------------------------


@pytest.mark.parametrize("stage", STAGES, ids=by_number)
def test_each_stored_notebook_holds_content_only(stage):
    stored = (ROOT / stage.notebook).read_text(encoding="utf-8")
    notebook = nbformat.reads(stored, as_version=4)
    assert not [cell.source[:60] for cell in notebook.cells if "execution" in cell.metadata], "timestamps"
    assert "version" not in notebook.metadata.get("language_info", {})
    assert nbformat.writes(notebooks.normalise(notebook)) + "\n" == stored, (
        f"{stage.notebook} has run noise: python -m workbook notebooks --normalise"
    )


def test_an_executed_notebook_is_stored_without_run_noise(tmp_path):
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")]), path)
    notebooks.execute(path)
    stored = nbformat.read(path, as_version=4)
    assert stored.cells[0].outputs[0].text == "42\n", "the output is stored"
    assert stored.cells[0].execution_count == 1
    assert "execution" not in stored.cells[0].metadata, "no timestamps"
    assert "version" not in stored.metadata.language_info, "nor the Python version of whoever ran it"


def test_lab_opens_the_repository_offline_and_asks_nothing(tmp_path):
    port = free_port()
    token = "workbook-test"
    command = lab.command("--no-browser", f"--port={port}", f"--IdentityProvider.token={token}", "--allow-root")
    environment = {**lab.environment(), "JUPYTER_RUNTIME_DIR": str(tmp_path)}
    log = (tmp_path / "lab.log").open("w")
    server = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
    client = httpx2.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"token {token}"})
    try:
        deadline = time.monotonic() + 60
        while not _answers(client, "/api/status"):
            assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "lab.log").read_text()
            time.sleep(0.2)
        exercise = client.get("/api/contents/lessons/s01_dependency_injection/exercises/pagination.py")
        assert exercise.status_code == 200, "the exercise files are inside Lab's root"
        assert client.get(f"/api/contents/{lab.FIRST_NOTEBOOK}").status_code == 200
        # The workbook's overrides become the defaults Lab's settings start from.
        notification = client.get("/lab/api/settings/@jupyterlab/apputils-extension:notification").json()
        defaults = {name: value["default"] for name, value in notification["schema"]["properties"].items()}
        assert defaults["fetchNews"] == "false", "no question about news ('none' asks), and no news fetched"
        assert defaults["checkForUpdates"] is False
        assert client.get("/lab/api/update").json()["notification"] is None, "no update check"
        assert client.get("/lab/api/news").json()["news"] == []
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _answers(client, path: str) -> bool:
    try:
        return client.get(path).status_code == 200
    except httpx2.TransportError:
        return False
