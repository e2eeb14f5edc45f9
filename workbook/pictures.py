"""Pictures for the notebooks: a diff in colour, a dependency graph drawn, a measurement as a chart.

Everything here renders offline into the notebook itself: the diff is HTML with
inline styles (no stylesheet to fetch), the graph and the charts are matplotlib
images. The numbers a notebook asserts on stay printed beside each chart; the
picture is for reading, the print is for checking.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # draws without a display: in notebooks, tests and scripts alike

import matplotlib.pyplot as plt  # noqa: E402  (the backend is chosen first)
from IPython import get_ipython  # noqa: E402
from IPython.core.pylabtools import select_figure_formats  # noqa: E402
from IPython.display import HTML  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from pygments import highlight  # noqa: E402
from pygments.formatters import HtmlFormatter  # noqa: E402
from pygments.lexers import DiffLexer  # noqa: E402

BRANCHES = ("├── ", "└── ")


def show_figures_as_png() -> None:
    """In a notebook, display each Figure a cell hands back as a PNG image, stored with the outputs.

    The notebook's own (inline) backend would register that, but Agg, chosen above so
    that nothing needs a display, registers nothing: a Figure would show only as its
    text, "<Figure size ... with 1 Axes>".
    """
    shell = get_ipython()
    if shell is not None:
        select_figure_formats(shell, {"png"})


show_figures_as_png()


def coloured_diff(diff: str) -> HTML:
    """A unified diff as HTML: additions green, removals red, file headers bold."""
    if not diff:
        return HTML("<p><em>No file changed.</em></p>")
    return HTML(highlight(diff, DiffLexer(), HtmlFormatter(noclasses=True, style="default")))


@dataclass(frozen=True)
class Provider:
    """One line of a printed dependency tree."""

    name: str
    depth: int
    reused: bool  # the value built earlier in the request is handed out again
    fresh: bool  # use_cache=False: the provider runs again


def parse_tree(tree: str) -> tuple[str, list[Provider]]:
    """The route line and the providers of `workbook.dependency_tree`'s printed tree."""
    route, *lines = tree.splitlines()
    providers = []
    for line in lines:
        cut = max(line.find(branch) for branch in BRANCHES)
        label = line[cut + len(BRANCHES[0]) :]
        name = label.split("  (")[0]
        providers.append(Provider(name, cut // 4, "(cached" in label, "use_cache=False" in label))
    return route, providers


def draw_dependency_graph(tree: str) -> Figure:
    """The route's dependencies drawn as the tree FastAPI resolves, one box per use.

    A provider used again in the same request is drawn in orange: FastAPI hands out
    the value it built the first time instead of calling it again. A pink box is a
    `use_cache=False` dependency, which really runs again.
    """
    route, providers = parse_tree(tree)
    figure, axes = plt.subplots(figsize=(2.6 * (max(p.depth for p in providers) + 2), 0.42 * len(providers) + 0.9))
    axes.set_axis_off()
    places = [(0.0, 0.0)]  # the route, then each provider: (column, row counted downwards)
    parents = [0]
    for row, provider in enumerate(providers, start=1):
        del parents[provider.depth + 1 :]
        x, y = float(provider.depth + 1), -float(row)
        parent_x, parent_y = places[parents[-1]]
        # An elbow from under the parent's box to the left of the child's.
        axes.plot([parent_x + 0.1, parent_x + 0.1, x - 0.05], [parent_y - 0.3, y, y], color="grey", linewidth=1)
        places.append((x, y))
        parents.append(row)
    styles = {"plain": "aliceblue", "reused": "moccasin", "fresh": "mistyrose"}
    kinds = ["plain"] + ["fresh" if p.fresh else "reused" if p.reused else "plain" for p in providers]
    labels = [route] + [
        p.name + ("  (same value)" if p.reused else "  (runs again)" if p.fresh else "") for p in providers
    ]
    for (x, y), label, kind in zip(places, labels, kinds, strict=True):
        box = {"boxstyle": "round", "facecolor": styles[kind], "edgecolor": "grey"}
        axes.text(x, y, label, ha="left", va="center", fontsize=9, bbox=box)
    axes.set_xlim(-0.1, max(x for x, _ in places) + 2.0)
    axes.set_ylim(-len(providers) - 0.6, 0.6)
    plt.close(figure)  # handed back, not shown twice by the inline backend
    return figure


def bar_chart(values: Mapping[str, float], title: str, unit: str) -> Figure:
    """One horizontal bar per measurement, each labelled with the number the run measured."""
    figure, axes = plt.subplots(figsize=(7, 0.5 * len(values) + 1.2))
    names = list(values)
    bars = axes.barh(names, [values[name] for name in names], color="tab:blue")
    axes.bar_label(bars, labels=[f"{values[name]:.3g} {unit}" for name in names], padding=3, fontsize=8)
    axes.invert_yaxis()  # the first measurement on top, in the order given
    axes.set_xlabel(unit)
    axes.set_title(title)
    axes.margins(x=0.25)
    figure.tight_layout()
    plt.close(figure)
    return figure
