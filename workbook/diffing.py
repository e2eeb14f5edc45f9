"""What a stage changed since the one before: the reasons, then the lines."""

from __future__ import annotations

import difflib

from workbook.drift import compare, stage_files
from workbook.stages import Stage, previous_stage


def summary(stage: Stage) -> str:
    """One line per added, changed or removed file, with the reason stage.toml gives."""
    previous = previous_stage(stage)
    if previous is None:
        return f"Stage {stage.number} is the first stage: everything in lessons/{stage.package} is new."
    lines = [f"Stage {stage.number} ({stage.title}) since stage {previous.number} ({previous.title}):"]
    for name, how in compare(previous, stage).items():
        why = stage.changes[name].why if name in stage.changes else "(no reason given)"
        lines.append(f"  {how:<8} {name:<22} {why}")
    return "\n".join(lines)


def unified(stage: Stage, only: list[str] | None = None) -> str:
    """The unified diff of every changed or added file (or only the ones named)."""
    previous = previous_stage(stage)
    if previous is None:
        return ""
    before, after = stage_files(previous), stage_files(stage)
    chunks: list[str] = []
    for name in compare(previous, stage):
        if only and name not in only:
            continue
        old = before[name].read_text(encoding="utf-8").splitlines(keepends=True) if name in before else []
        new = after[name].read_text(encoding="utf-8").splitlines(keepends=True) if name in after else []
        chunks.extend(
            difflib.unified_diff(old, new, f"lessons/{previous.package}/{name}", f"lessons/{stage.package}/{name}")
        )
    return "".join(chunks)
