"""The report's plots: matplotlib drawn to SVG text that is the same bytes for the same data.

Determinism: ``svg.hashsalt`` is set per figure (its name, so ids never clash between figures inlined
in one page), no date or creator metadata is written, and text stays text (``svg.fonttype: none``: the
page's own sans-serif font, selectable and searchable). Every plot takes plain records, never a
DataFrame, so what is drawn is what the section builder decided to show.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
"""Colour-blind-safe colours, in the order series take them."""
REFERENCE = "#777777"
MAX_TICKS = 8
"""Integer x values up to this many are each ticked (attack steps 0, 10, 20; intensities 0-3)."""
MAX_BANDS = 3
"""Up to this many series a panel shades each one's interval as a band; with more, bands would hide each
other and the lines, so the intervals are left to the section's table (the caption says so)."""
STYLE = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Helvetica", "Arial"],
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "legend.frameon": False,
    "legend.fontsize": 8,
}


@dataclass(frozen=True)
class Interval:
    """One estimate on a category axis: its label, series, mean, interval and the seed values behind it."""

    label: str
    mean: float
    low: float | None = None
    high: float | None = None
    values: tuple[float, ...] = ()
    series: str = ""


@dataclass(frozen=True)
class Curve:
    """One series of a line plot: points (x, mean) with an interval band where there is one."""

    series: str
    x: tuple[float, ...]
    mean: tuple[float, ...]
    low: tuple[float | None, ...] = ()
    high: tuple[float | None, ...] = ()


@dataclass(frozen=True)
class Panel:
    title: str
    intervals: tuple[Interval, ...] = ()
    curves: tuple[Curve, ...] = ()
    references: tuple[tuple[str, float], ...] = ()
    """Labelled vertical (interval panels) or horizontal (curve panels) reference lines."""
    xlabel: str = ""
    """This panel's own axis label, when it differs from the figure's."""
    limits: tuple[float, float] | None = None
    """The value axis's range; else the figure's, else fitted to the means and references (intervals
    reaching past it are cut at the edge: with two seeds a t interval is twelve times the spread)."""


GREYS = ("#6E6E6E", "#A8A8A8", "#4A4A4A")
"""Colours of the null controls (untrained, general-only): reference, never an arm."""


@dataclass
class Palette:
    """A fixed colour per series name across every figure of a report (a condition is always one colour);
    the ``muted`` names (null controls) take greys."""

    names: Sequence[str]
    muted: Sequence[str] = ()
    colours: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        arms = [n for n in dict.fromkeys(self.names) if n not in self.muted]
        self.colours = {name: OKABE_ITO[i % len(OKABE_ITO)] for i, name in enumerate(arms)}
        self.colours.update({name: GREYS[i % len(GREYS)] for i, name in enumerate(self.muted)})

    def __call__(self, name: str) -> str:
        if name not in self.colours:
            self.colours[name] = OKABE_ITO[len(self.colours) % len(OKABE_ITO)]
        return self.colours[name]


def to_svg(fig, name: str) -> str:
    """A figure as inline SVG markup: no XML prolog, no metadata, scaled to its container's width, every id
    (matplotlib names each figure's groups ``axes_1``, ``line2d_1``, ...) prefixed with the figure's name so
    figures inlined in one page never share one."""
    import matplotlib
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": f"rearing-{name}", **STYLE}):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, count=1, flags=re.DOTALL)
    text = re.sub(r'\b(id="|url\(#|href="#)', lambda m: f"{m.group(1)}{name}-", text)
    text = re.sub(r'<svg([^>]*?) width="([\d.]+)pt" height="([\d.]+)pt"',
                  lambda m: f'<svg{m.group(1)} class="plot" role="img" aria-label="{name}" '
                            f'style="max-width:{float(m.group(2)) * 4 / 3:.0f}px"', text, count=1)
    return text.strip()


def _figure(rows: int, columns: int, width: float, height: float):
    import matplotlib
    import matplotlib.lines
    import matplotlib.ticker

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    with matplotlib.rc_context(STYLE):
        fig, axes = plt.subplots(rows, columns, figsize=(width, height), squeeze=False)
    return fig, axes


def _grid(n: int, max_columns: int) -> tuple[int, int]:
    columns = min(n, max_columns)
    return -(-n // columns), columns


def _fitted(panel: Panel) -> tuple[float, float]:
    """A value range around a panel's means and reference lines, with a margin."""
    values = [v for c in panel.curves for v in c.mean] + [v for _, v in panel.references]
    if not values:
        return 0.0, 1.0
    low, high = min(values), max(values)
    pad = max(0.15 * (high - low), 0.05)
    return low - pad, high + pad


def estimate_axis(name: str, rows: Sequence[Interval], sesoi: float, xlabel: str) -> str:
    """Estimates with intervals on one horizontal axis, over the shaded +-SESOI band and the zero line:
    where an interval sits against the band is the verdict (inside: nothing; clear of it: helps or hurts)."""
    import matplotlib

    with matplotlib.rc_context(STYLE):
        fig, axes = _figure(1, 1, 7.5, 0.6 + 0.45 * len(rows))
        ax = axes[0][0]
        ax.axvspan(-sesoi, sesoi, color="#E8E8E8", zorder=0, label=f"±SESOI ({sesoi:g})")
        ax.axvline(0, color=REFERENCE, linewidth=0.8, zorder=1)
        reach = [abs(v) for r in rows for v in (r.low, r.high, r.mean) if v is not None]
        span = max([sesoi * 2, *reach]) * 1.15
        for y, row in enumerate(reversed(rows)):
            colour = OKABE_ITO[0] if y == len(rows) - 1 else "#555555"
            if row.low is not None and row.high is not None:
                ax.hlines(y, row.low, row.high, color=colour, linewidth=2.5)
            ax.plot([row.mean], [y], "o", color=colour, markersize=6, zorder=3)
        ax.set_yticks(range(len(rows)), [r.label for r in reversed(rows)])
        ax.set_xlim(-span, span)
        ax.set_ylim(-0.7, len(rows) - 0.3)
        ax.set_xlabel(xlabel)
        ax.legend(loc="lower right")
    return to_svg(fig, name)


def interval_panels(name: str, panels: Sequence[Panel], palette: Palette, xlabel: str, max_columns: int = 3,
                    xlim: tuple[float, float] | None = (0.0, 1.0)) -> str:
    """Small multiples of estimates on a shared category axis: each seed as a dot, the mean over seeds as
    a bar mark with its seed-level interval, reference lines (controls, chance) drawn vertically."""
    import matplotlib

    labels = list(dict.fromkeys(i.label for p in panels for i in p.intervals))
    series = list(dict.fromkeys(i.series for p in panels for i in p.intervals))
    rows, columns = _grid(len(panels), max_columns)
    with matplotlib.rc_context(STYLE):
        fig, axes = _figure(rows, columns, 3.1 * columns + 1.2, 0.35 * len(labels) * max(1, len(series)) * rows
                            + 1.1 * rows)
        for ax, panel in zip(axes.flat, panels):
            offsets = np.linspace(-0.25, 0.25, len(series)) if len(series) > 1 else [0.0]
            for item in panel.intervals:
                y = len(labels) - 1 - labels.index(item.label) + offsets[series.index(item.series)]
                colour = palette(item.series or item.label)
                if item.values:
                    ax.plot(item.values, [y] * len(item.values), "o", color=colour, alpha=0.35, markersize=3.5)
                if item.low is not None and item.high is not None:
                    ax.hlines(y, max(item.low, -1e3), min(item.high, 1e3), color=colour, linewidth=2)
                ax.plot([item.mean], [y], "|", color=colour, markersize=12, markeredgewidth=2.5)
            for k, (label, value) in enumerate(panel.references):
                ax.axvline(value, color=REFERENCE, linestyle=("--", ":", "-.")[k % 3], linewidth=1, label=label)
            ax.set_yticks(range(len(labels)), list(reversed(labels)))
            room = 0.45 * len(panel.references)
            ax.set_ylim(-0.7 - room, len(labels) - 0.3)
            if panel.limits or xlim:
                ax.set_xlim(*(panel.limits or xlim))
            ax.set_title(panel.title)
            ax.set_xlabel(panel.xlabel or xlabel)
            if panel.references:
                ax.legend(loc="lower left", fontsize=7)
        for ax in list(axes.flat)[len(panels):]:
            ax.set_visible(False)
        if len(series) > 1:
            handles = [matplotlib.lines.Line2D([], [], color=palette(s), linewidth=2, label=s) for s in series]
            fig.legend(handles=handles, loc="upper center", ncols=len(series), bbox_to_anchor=(0.5, 1.02))
        fig.tight_layout()
    return to_svg(fig, name)


def banded_panels(*panels: Panel) -> bool:
    """Whether these panels draw their intervals (few enough series that bands stay readable)."""
    return all(len(panel.curves) <= MAX_BANDS for panel in panels)


def curve_panels(name: str, panels: Sequence[Panel], palette: Palette, xlabel: str, ylabel: str,
                 max_columns: int = 3, ylim: tuple[float, float] | None = None, log_x: bool = False,
                 integer_x: bool = True, title: str = "") -> str:
    """Small multiples of lines (one per series, a band for its seed-level interval), one legend for all."""
    import matplotlib

    series = list(dict.fromkeys(c.series for p in panels for c in p.curves))
    rows, columns = _grid(len(panels), max_columns)
    with matplotlib.rc_context(STYLE):
        width = 3.1 if columns >= 3 else 4.2
        fig, axes = _figure(rows, columns, width * columns + 0.6, 2.5 * rows + 0.5 + (0.3 if title else 0))
        if title:
            fig.suptitle(title, fontweight="bold", y=1.04)
        for ax, panel in zip(axes.flat, panels):
            banded = banded_panels(panel)
            for curve in panel.curves:
                colour = palette(curve.series)
                ax.plot(curve.x, curve.mean, "o-", color=colour, markersize=3.5, linewidth=1.5)
                if banded and curve.low and all(v is not None for v in (*curve.low, *curve.high)):
                    ax.fill_between(curve.x, curve.low, curve.high, color=colour, alpha=0.15, linewidth=0)
            xs = sorted({x for c in panel.curves for x in c.x})
            for k, (label, value) in enumerate(panel.references):
                ax.axhline(value, color=REFERENCE, linestyle=("--", ":", "-.")[k % 3], linewidth=1, label=label)
            ax.set_ylim(*(panel.limits or ylim or _fitted(panel)))
            if log_x:
                ax.set_xscale("symlog", linthresh=1)
            if integer_x and len(xs) <= MAX_TICKS:
                ax.set_xticks(xs, [f"{x:g}" for x in xs])
            elif integer_x:
                ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
            ax.set_title(panel.title)
            ax.set_xlabel(panel.xlabel or xlabel)
            ax.set_ylabel(ylabel)
            if panel.references:
                ax.legend(loc="lower left", fontsize=7)
        for ax in list(axes.flat)[len(panels):]:
            ax.set_visible(False)
        handles = [matplotlib.lines.Line2D([], [], color=palette(s), marker="o", label=s) for s in series]
        fig.legend(handles=handles, loc="upper center", ncols=min(4, len(series)), bbox_to_anchor=(0.5, 1.0))
        fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / (2.5 * rows + 0.5) * (1 + (len(series) - 1) // 4)))
    return to_svg(fig, name)


def dots(name: str, rows: Mapping[str, Mapping[str, float]], palette: Palette, xlabel: str,
         references: Sequence[tuple[str, float]] = (), xlim: tuple[float, float] | None = (0.0, 1.0)) -> str:
    """One row per group (a suite), a marker per series (a reading) on a shared axis: compact readings
    that are compared against a reference (chance), not against each other's intervals."""
    import matplotlib

    names = list(rows)
    series = list(dict.fromkeys(s for r in rows.values() for s in r))
    markers = "osD^v<>"
    with matplotlib.rc_context(STYLE):
        fig, axes = _figure(1, 1, 7.5, 1.0 + 0.32 * len(names))
        ax = axes[0][0]
        for k, s in enumerate(series):
            points = [(rows[g][s], len(names) - 1 - i) for i, g in enumerate(names) if s in rows[g]]
            ax.plot([x for x, _ in points], [y for _, y in points], markers[k % len(markers)], color=palette(s),
                    markersize=6, alpha=0.85, label=s, linestyle="none")
        for k, (label, value) in enumerate(references):
            ax.axvline(value, color=REFERENCE, linestyle=("--", ":")[k % 2], linewidth=1, label=label)
        ax.set_yticks(range(len(names)), list(reversed(names)))
        ax.set_ylim(-0.6, len(names) - 0.4)
        ax.grid(axis="y", color="#EEEEEE")
        if xlim:
            ax.set_xlim(*xlim)
        ax.set_xlabel(xlabel)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
        fig.tight_layout()
    return to_svg(fig, name)
