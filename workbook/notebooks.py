"""Execute a notebook and store its outputs, as nbval will later compare them.

A stored notebook keeps only content: the cells, their outputs and execution
counts. Run noise (each cell's execution timestamps, the exact Python version
of whoever ran it last) is left out, so re-running a notebook after a one-line
change gives a one-line diff.
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbformat import NotebookNode


def execute(path: Path, timeout: int = 120) -> float:
    """Run every cell of the notebook at `path`, in its own folder; returns the seconds taken."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=timeout,
        resources={"metadata": {"path": str(path.parent)}},
        # The kernel warns on every start that its local TCP sockets are unencrypted; keep errors only.
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
        record_timing=False,  # no timestamps in each cell's metadata
    )
    started = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - started
    nbformat.write(normalise(notebook), path)
    return seconds


def normalise(notebook: NotebookNode) -> NotebookNode:
    """Take the run noise out of `notebook`, in place; returns it."""
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
    notebook.metadata.get("language_info", {}).pop("version", None)
    return notebook


def normalise_file(path: Path) -> bool:
    """Rewrite the stored notebook at `path` without its run noise; True if that changed it."""
    stored = path.read_text(encoding="utf-8")
    notebook = normalise(nbformat.reads(stored, as_version=4))
    cleaned = nbformat.writes(notebook) + "\n"
    if cleaned == stored:
        return False
    path.write_text(cleaned, encoding="utf-8")
    return True
