"""How `make lab` starts JupyterLab: on the whole repository, opening notebook 00, offline.

The repository root is Lab's root, so a notebook's link to an exercise file
(`../lessons/s01_dependency_injection/exercises/pagination.py`) opens it in
Lab's editor. A workshop room may have no internet, and a learner should not
meet a question about news first: Lab asks for no news, checks for no update
and lists no extensions from PyPI. The news and update answers come from the
settings in `jupyter/labconfig/` next to this file, which JUPYTER_CONFIG_PATH
adds to Lab's defaults (a learner's own settings still win).
"""

from __future__ import annotations

import os
import sys

from workbook.stages import ROOT

CONFIG = ROOT / "workbook" / "jupyter"
FIRST_NOTEBOOK = "notebooks/00_orientation.ipynb"

OFFLINE = [
    "--LabApp.news_url=None",
    "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
    "--LabApp.extension_manager=readonly",
]


def command(*extra: str) -> list[str]:
    """The command line that starts Lab; `extra` arguments (a port, --no-browser) go before the notebook."""
    return [
        *(sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={ROOT}"),
        *OFFLINE,
        *extra,
        FIRST_NOTEBOOK,
    ]


def environment() -> dict[str, str]:
    """This process's environment, with the workbook's Lab settings on Jupyter's config path."""
    paths = [str(CONFIG), *filter(None, os.environ.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep))]
    return {**os.environ, "JUPYTER_CONFIG_PATH": os.pathsep.join(paths)}
