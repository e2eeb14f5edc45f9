"""Exercises whose answer is a test: planted bugs, and what the checker tells a learner.

The learner's answers here are files in a scratch folder laid out like solutions/
(`--exercise-source=<folder>`), so the real lesson files are never touched.
"""

import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from workbook import checking, cli
from workbook.mutants import MutantDoesNotApply, patched_source, plant
from workbook.stages import Mutant, get_stage, load_stages

STAGE = get_stage("09")
IDEMPOTENCY = STAGE.exercise("idempotency_tests")
PRODUCT_CACHE = STAGE.exercise("product_cache_tests")
MUTANTS = [mutant for stage in load_stages() for exercise in stage.exercises for mutant in exercise.mutants]


def answers(folder: Path, **files: str) -> str:
    """A folder of learner's answers, one file per exercise id; its path, as --exercise-source takes it."""
    for exercise_id, text in files.items():
        file = folder / STAGE.package / f"{exercise_id}.py"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(textwrap.dedent(text), encoding="utf-8")
    return str(folder)


def printed(results, capsys) -> str:
    cli._print_results(STAGE, results)
    return capsys.readouterr().out


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda mutant: mutant.label)
def test_each_planted_bug_changes_its_file_in_one_place_and_still_compiles(mutant):
    patched = patched_source(mutant)
    assert patched != mutant.file.read_text(encoding="utf-8")
    compile(patched, str(mutant.file), "exec")  # a bug that broke the import would be caught by any test


def test_a_planted_bug_whose_text_is_gone_says_so_and_names_itself():
    [first, *_] = IDEMPOTENCY.mutants
    gone = replace(first, replace="text that is in no file")
    with pytest.raises(MutantDoesNotApply, match=rf"{first.label} no longer applies: .* occurs 0 times in idempotency"):
        patched_source(gone)


def test_a_planted_module_is_imported_with_its_change(tmp_path, monkeypatch):
    (tmp_path / "planted_demo.py").write_text("ANSWER = 42\n")
    monkeypatch.syspath_prepend(tmp_path)
    file = tmp_path / "planted_demo.py"
    mutant = Mutant("plus_one", "answers 43", "99/x/plus_one", file, module="planted_demo", replace="42", with_="43")
    finder = plant(mutant)
    try:
        import planted_demo

        assert planted_demo.ANSWER == 43
        assert planted_demo.__file__ == str(file), "tracebacks point at the real file"
    finally:
        sys.meta_path.remove(finder)
        sys.modules.pop("planted_demo", None)


def test_a_test_that_passes_but_catches_no_planted_bug_is_told_each_one_it_let_through(tmp_path, capsys):
    weak = """
        from tests.payment_helpers import pay

        def test_a_payment_is_made(shop, payer, provider):
            assert pay(shop, payer, "order-0001").status_code == 201
    """
    [result] = checking.run_exercises([IDEMPOTENCY], source=answers(tmp_path, idempotency_tests=weak))
    assert result.passed == ["test_a_payment_is_made"], "it passes on the correct app"
    assert result.failed == [(f"planted bug {m.id} slipped through", m.describes) for m in IDEMPOTENCY.mutants]
    output = printed([result], capsys)
    for mutant in IDEMPOTENCY.mutants:
        assert f"planted bug {mutant.id} slipped through: {mutant.describes}" in output, output
    assert "3 of 4 checks fail" in output


def test_tests_that_fail_on_the_correct_app_are_reported_and_no_bug_is_tried(tmp_path, capsys):
    wrong = """
        from tests.payment_helpers import pay

        def test_a_payment_is_made(shop, payer, provider):
            assert pay(shop, payer, "order-0001").status_code == 200, "a payment is 200"
    """
    no_tests = "from tests.auth_helpers import ACME\n"
    source = answers(tmp_path, idempotency_tests=wrong, product_cache_tests=no_tests)
    wrong_result, empty_result = checking.run_exercises([IDEMPOTENCY, PRODUCT_CACHE], source=source)

    assert wrong_result.passed == [] and not wrong_result.ok
    [(name, reason), not_tried] = wrong_result.failed
    assert name == "test_a_payment_is_made"
    assert reason.startswith("fails on the correct app: AssertionError: a payment is 200"), reason
    assert not_tried == ("planted bugs", "not tried yet: your tests must first pass on the correct app")
    assert [name for name, _ in empty_result.failed] == ["your tests", "planted bugs"]
    assert "none ran" in empty_result.failed[0][1]
    assert "test_a_payment_is_made: fails on the correct app" in printed([wrong_result], capsys)


def test_a_stage_index_refuses_a_tests_exercise_without_planted_bugs(tmp_path):
    folder = tmp_path / "lessons" / "s00_topic"
    folder.mkdir(parents=True)
    exercise = '[[exercises]]\nid = "x"\nkind = "tests"\ntitle = "T"\nhints = ["h"]\n'
    (folder / "stage.toml").write_text(f'number = "00"\ntitle = "T"\nsummary = "S"\n\n{exercise}')
    with pytest.raises(ValueError, match="an exercise of kind 'tests', and only one, has mutants"):
        load_stages(tmp_path)
