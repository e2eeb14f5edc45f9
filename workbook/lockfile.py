"""Read the pinned requirements and keep environment.yml in step with them."""

from __future__ import annotations

from pathlib import Path

from packaging.requirements import Requirement

from workbook.stages import ROOT

LOCK = ROOT / "requirements.lock"
ENVIRONMENT = ROOT / "environment.yml"


def pins(lock: Path = LOCK) -> list[Requirement]:
    """Each `name==version ; marker` line of the lock, without its hashes."""
    requirements = []
    for line in lock.read_text(encoding="utf-8").splitlines():
        if line and line[0] not in " #":
            requirements.append(Requirement(line.rstrip(" \\")))
    return requirements


def environment_yml(lock: Path = LOCK) -> str:
    """environment.yml for conda users: the same pins, installed by pip inside conda."""
    lines = [
        "# conda users: conda env create -f environment.yml && conda activate storefront-workbook",
        "# Generated from requirements.lock by `python -m workbook lock`; a test keeps the two in step.",
        "name: storefront-workbook",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        "  - python=3.11",
        "  - pip",
        "  - pip:",
        *(f"      - '{requirement}'" for requirement in pins(lock)),
        "      - -e .",
    ]
    return "\n".join(lines) + "\n"
