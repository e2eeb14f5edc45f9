"""A stage's architecture, read from its code and drawn: routers, the modules they reach, the systems behind them.

Nothing here is a drawing kept by hand. `read_architecture` parses the stage with
`ast`, importing none of it:

- the routers are the `app.include_router(x.router)` lines of main.py, in their order,
  the exercises' apart;
- a module talks to a system when it imports that system's library (SYSTEMS): sqlalchemy
  for the database, redis for Redis, celery for the broker, smtplib for the mail server,
  httpx2 for the payment provider. Those modules are the adapters;
- a router reaches an adapter when the adapter is among the stage modules the router
  imports, directly or through others (main.py and resources.py, which import everything
  to wire it, are not followed);
- the Celery side is what worker.py and tasks.py reach the same way.

So a router added to main.py, or a module that starts using Redis, is in the next picture.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field

from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from workbook.pictures import plt
from workbook.stages import Stage

# Each system outside the API processes: the names whose import means a module talks to it
# (a library, or for SQLAlchemy the names that build statements and engines: a module that
# imports only `Session` for its annotations hands a session on, it does not query), and how
# the picture names it.
SYSTEMS: dict[str, tuple[frozenset[str], str]] = {
    "database": (
        frozenset({"sqlalchemy.select", "sqlalchemy.update", "sqlalchemy.insert", "sqlalchemy.delete",
                   "sqlalchemy.text", "sqlalchemy.create_engine", "psycopg", "alembic"}),
        "PostgreSQL\none schema per tenant",
    ),
    "redis": (frozenset({"redis", "fakeredis"}), "Redis"),
    "broker": (frozenset({"celery"}), "Celery broker"),
    "smtp": (frozenset({"smtplib"}), "SMTP server"),
    "payments": (frozenset({"httpx2"}), "Payment provider\n(HTTPS)"),
}  # fmt: skip
COLOURS = {
    "database": "tab:blue",
    "redis": "tab:red",
    "broker": "tab:purple",
    "smtp": "tab:green",
    "payments": "tab:orange",
}
# Modules that import the others only to wire them together: following them would make every
# router reach every adapter. dependencies.py is followed (a route reaches what its providers
# reach) but drawn as no adapter of its own.
WIRING = frozenset({"main", "resources"})
PROVIDERS = "dependencies"
WORKER_ENTRIES = ("worker", "tasks")


@dataclass(frozen=True)
class Module:
    name: str  # dotted within the stage: "routes.products"
    imports: frozenset[str]  # the stage's own modules it imports
    libraries: frozenset[str]  # everything else it imports: "redis", and "sqlalchemy.select" for a name

    @property
    def systems(self) -> list[str]:
        return [system for system, (names, _) in SYSTEMS.items() if self.libraries & names]


@dataclass(frozen=True)
class Architecture:
    stage: Stage
    modules: dict[str, Module]
    routers: list[str]  # "routes.products", in main.py's order
    exercise_routers: list[str] = field(default_factory=list)

    @property
    def adapters(self) -> list[str]:
        """The modules that talk to a system themselves, routers and wiring aside."""
        wiring = WIRING | {PROVIDERS, *self.routers, *self.exercise_routers}
        return sorted(name for name, module in self.modules.items() if module.systems and name not in wiring)

    def reached(self, start: str, stop_at_adapters: bool = False) -> set[str]:
        """Every stage module `start` imports, directly or through others.

        Wiring modules are not followed, nor the Celery side (worker.py, tasks.py), which the API
        reaches only through the broker; with `stop_at_adapters`, nor any adapter.
        """
        adapters = set(self.adapters)
        seen: set[str] = set()
        todo = [start]
        while todo:
            for name in sorted(self.modules[todo.pop()].imports - seen - WIRING):
                if name not in self.modules:
                    continue
                seen.add(name)
                if name not in WORKER_ENTRIES and not (stop_at_adapters and name in adapters):
                    todo.append(name)
        return seen

    def adapters_of(self, router: str) -> list[str]:
        """The adapters a router reaches first: through services, never through another adapter."""
        return sorted(self.reached(router, stop_at_adapters=True) & set(self.adapters))

    @property
    def api_adapters(self) -> list[str]:
        """The adapters in an API process: those its routers reach, and those the lifespan opens."""
        starts = [*self.routers, *self.exercise_routers]
        found = set().union(*(self.adapters_of(router) for router in starts))
        if "resources" in self.modules:
            found |= {name for name in self.modules["resources"].imports if name in self.adapters}
        return sorted(found)

    def systems_of(self, name: str, in_api: bool = False) -> list[str]:
        """The systems a module talks to; in an API process, the Celery side talks only to the broker."""
        systems = self.modules[name].systems
        return ["broker"] if in_api and name in WORKER_ENTRIES and "broker" in systems else systems

    @property
    def worker_adapters(self) -> list[str]:
        """The adapters of the Celery worker and beat: what worker.py and tasks.py reach."""
        entries = [entry for entry in WORKER_ENTRIES if entry in self.modules]
        found = set(entries).union(*(self.reached(entry) for entry in entries))
        return sorted(found & set(self.adapters))


def _read_module(name: str, source: str) -> Module:
    tree = ast.parse(source)
    package = name.split(".")[:-1]
    imports: set[str] = set()
    libraries: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            libraries.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                top = (node.module or "").split(".")[0]
                libraries.add(top)
                libraries.update(f"{top}.{alias.name}" for alias in node.names)
                continue
            base = package[: len(package) - (node.level - 1)]
            if node.module:  # from ..x import y: the module x
                imports.add(".".join([*base, node.module]))
            else:  # from . import stock, or from .routes import users: each name may be a module
                imports.update(".".join([*base, alias.name]) for alias in node.names)
            if node.module:  # from .routes import users names the module routes.users too
                imports.update(".".join([*base, node.module, alias.name]) for alias in node.names)
    return Module(name, frozenset(imports), frozenset(libraries))


def _included_routers(main: str) -> list[tuple[str, str]]:
    """(name in main.py, module) of each `app.include_router(name.router)`, in order."""
    tree = ast.parse(main)
    origin: dict[str, str] = {}
    for statement in tree.body:
        if isinstance(statement, ast.ImportFrom) and statement.level == 1 and statement.module:
            origin.update({alias.asname or alias.name: f"{statement.module}.{alias.name}" for alias in statement.names})
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "include_router"
            and node.args
            and isinstance(node.args[0], ast.Attribute)
            and isinstance(node.args[0].value, ast.Name)
        ):
            name = node.args[0].value.id
            found.append((name, origin.get(name, name)))
    return found


def read_architecture(stage: Stage) -> Architecture:
    """The stage's modules, routers and adapters, parsed from its files."""
    modules = {}
    for path in sorted(stage.directory.rglob("*.py")):
        parts = path.relative_to(stage.directory).with_suffix("").parts
        if parts[-1] == "__init__" or parts[0] == "load":
            continue
        name = ".".join(parts)
        modules[name] = _read_module(name, path.read_text())
    included = [module for _, module in _included_routers((stage.directory / "main.py").read_text())]
    return Architecture(
        stage,
        modules,
        routers=[m for m in included if not m.startswith("exercises.")],
        exercise_routers=[m for m in included if m.startswith("exercises.")],
    )


def _box(axes, x: float, y: float, text: str, colour: str, width: float, height: float = 0.7, **font) -> None:
    axes.add_patch(
        FancyBboxPatch(
            (x - width / 2, y - height / 2),
            width,
            height,
            boxstyle="round,pad=0.02",
            facecolor=colour,
            edgecolor="grey",
            linewidth=0.8,
        )  # fmt: skip
    )
    axes.text(x, y, text, ha="center", va="center", fontsize=font.pop("fontsize", 8), **font)


def _arrow(axes, start: tuple[float, float], end: tuple[float, float], colour: str, **style) -> None:
    props = {"arrowstyle": "-|>", "color": colour, "linewidth": 0.6, "alpha": 0.55, "shrinkA": 0, "shrinkB": 0}
    axes.annotate("", xy=end, xytext=start, arrowprops=props | style)


def _column(count: int, top: float, step: float) -> list[float]:
    return [top - step * row for row in range(count)]


def draw_architecture(architecture: Architecture, api_processes: int | None = None) -> Figure:
    """Client -> API processes (routers -> adapters) -> systems, and the Celery worker and beat beside them."""
    routers = architecture.routers + architecture.exercise_routers
    adapters = architecture.api_adapters
    worker = architecture.worker_adapters
    rows = max(len(routers), len(adapters)) + len(worker) + 3
    figure, axes = plt.subplots(figsize=(15, 0.36 * rows + 1.2))
    axes.set_axis_off()
    top = rows - 1.0
    router_y = dict(
        zip(routers, _column(len(routers), top, (rows - len(worker) - 3) / max(len(routers), 1)), strict=True)
    )
    adapter_y = dict(
        zip(adapters, _column(len(adapters), top, (rows - len(worker) - 3) / max(len(adapters), 1)), strict=True)
    )
    worker_y = dict(zip(worker, _column(len(worker), len(worker) - 0.5, 1.0), strict=True))
    system_y = dict(zip(SYSTEMS, _column(len(SYSTEMS), top - 1, (rows - 2) / len(SYSTEMS)), strict=True))
    x_client, x_router, x_adapter, x_system = 0.6, 3.3, 7.2, 11.6

    # The frames: the API processes, and the worker's.
    processes = f" x {api_processes}" if api_processes else " (one or many, alike)"
    api_bottom = min([*router_y.values(), *adapter_y.values()]) - 0.8
    axes.add_patch(FancyBboxPatch((1.6, api_bottom), 7.4, top + 1.2 - api_bottom, boxstyle="round,pad=0.1",
                                  facecolor="whitesmoke", edgecolor="black"))  # fmt: skip
    axes.text(1.7, top + 0.9, f"API process{processes}: uvicorn, FastAPI {architecture.stage.title}", fontsize=9,
              weight="bold", va="top")  # fmt: skip
    if worker:
        worker_top = max(worker_y.values()) + 0.9
        axes.add_patch(FancyBboxPatch((5.1, -0.9), 3.9, worker_top + 0.9, boxstyle="round,pad=0.1",
                                      facecolor="lavender", edgecolor="black"))  # fmt: skip
        axes.text(5.2, worker_top - 0.05, "Celery worker and beat", fontsize=9, weight="bold", va="top")

    _box(axes, x_client, top / 2, "Client\n(HTTP, bearer\ntoken, X-Tenant-ID)", "lightyellow", 1.4, 1.4)
    for name, y in router_y.items():
        colour = "honeydew" if name in architecture.exercise_routers else "white"
        _box(axes, x_router, y, name, colour, 2.6)
        _arrow(axes, (x_client + 0.7, top / 2), (x_router - 1.3, y), "grey", linewidth=0.4)
        for adapter in architecture.adapters_of(name):
            _arrow(axes, (x_router + 1.3, y), (x_adapter - 1.2, adapter_y[adapter]), "grey", linewidth=0.4, alpha=0.3)
    for name, y in adapter_y.items():
        _box(axes, x_adapter, y, name, "white", 2.4)
    for name, y in worker_y.items():
        _box(axes, x_adapter, y, name, "white", 2.4)
    for system, y in system_y.items():
        _box(axes, x_system + 1.3, y, SYSTEMS[system][1], "white", 2.8, 1.3, color=COLOURS[system])
    for name, y, in_api in [
        *((n, y, True) for n, y in adapter_y.items()),
        *((n, y, False) for n, y in worker_y.items()),
    ]:
        for system in architecture.systems_of(name, in_api):
            _arrow(axes, (x_adapter + 1.2, y), (x_system - 0.1, system_y[system]), COLOURS[system])
    if worker:  # the broker hands the tasks to the worker
        _arrow(axes, (x_system - 0.1, system_y["broker"]), (9.0, max(worker_y.values())), COLOURS["broker"],
               linewidth=1.5, alpha=0.9, arrowstyle="-|>", connectionstyle="arc3,rad=0.2")  # fmt: skip
    axes.set_xlim(-0.3, 14.5)
    axes.set_ylim(-1.2, top + 1.4)
    figure.tight_layout()
    plt.close(figure)  # handed back, not shown twice by the inline backend
    return figure


def describe(architecture: Architecture) -> Iterable[str]:
    """The picture in words: each router and the systems it reaches; then the worker's."""
    for router in architecture.routers + architecture.exercise_routers:
        systems = sorted({s for a in architecture.adapters_of(router) for s in architecture.systems_of(a, in_api=True)})
        yield f"{router:<32} -> {', '.join(systems) or '(none)'}"
    worker = sorted({s for a in architecture.worker_adapters for s in architecture.systems_of(a)})
    yield f"{'celery worker and beat':<32} -> {', '.join(worker)}"
