"""The grid's progress in the terminal: per stage, cells done of all, running, failed, retried, ETA."""

from __future__ import annotations

from rich.console import Console

from rearing.cells import GridProgress


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}:{secs:02d}" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def progress_line(progress: GridProgress) -> str:
    """One line for the state of a stage's grid."""
    parts = [f"{progress.stage}: {progress.done}/{progress.total} cells done", f"{progress.running} running"]
    if progress.failed:
        parts.append(f"{progress.failed} failed")
    if progress.retried:
        parts.append(f"{progress.retried} retried")
    parts.append(f"elapsed {_clock(progress.seconds)}")
    if progress.done < progress.total:
        parts.append(f"ETA {_clock(progress.eta_seconds)}")
    return ", ".join(parts)


class GridDisplay:
    """Prints a stage's grid as it moves: on a terminal one line rewritten in place, elsewhere (CI logs)
    a line each time a cell finishes or fails."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._seen: tuple = ()

    def __call__(self, progress: GridProgress) -> None:
        if not progress.total:
            return
        state = (progress.stage, progress.done, progress.failed, progress.retried)
        finished = progress.done == progress.total and progress.running == 0
        if self.console.is_terminal:
            end = "\n" if finished or progress.failed else ""
            self.console.file.write("\r\033[K  " + progress_line(progress) + end)
            self.console.file.flush()
        elif state != self._seen:
            self.console.print("  " + progress_line(progress), highlight=False, soft_wrap=True)
        self._seen = state
