"""Work to run after the response, behind a dependency of our own.

Routes could take `BackgroundTasks` directly, but FastAPI injects that class
itself, without consulting `app.dependency_overrides`: a test cannot swap it
(overriding it silently does nothing). Routes ask for `Jobs` instead, a thin
wrapper provided by `get_jobs`, and tests override `get_jobs` with a recorder to
see which jobs were scheduled, with which arguments, without running them.
"""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import BackgroundTasks, Depends


class Jobs:
    def __init__(self, background_tasks: BackgroundTasks) -> None:
        self._background_tasks = background_tasks

    def add(self, job: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        """Run `job(*args, **kwargs)` after the response has been sent, in the order added.

        If one job raises, the jobs after it do not run, and the client, who
        already has its answer, never hears of it: keep these for work whose loss
        is acceptable.
        """
        self._background_tasks.add_task(job, *args, **kwargs)


def get_jobs(background_tasks: BackgroundTasks) -> Jobs:
    # FastAPI hands this dependency the same BackgroundTasks it runs after the response.
    return Jobs(background_tasks)


JobsDep = Annotated[Jobs, Depends(get_jobs)]
