"""Exercise 09/idempotency_tests: the tests are the learner's, in lessons/s09_testing/exercises/.

Imported here so that they run beside this folder's conftest.py, with its fixtures. The
checker (`make check LESSON=09`) runs them on the stage as it is, then with each planted bug
of the exercise (`--mutant`, workbook/mutants.py); a plain pytest runs them on the stage only.
"""

from lessons.s09_testing.exercises.idempotency_tests import *  # noqa: F403
