"""The notebooks' pictures: drawn from the same data the notebooks print and assert on."""

import nbformat

from workbook.dependency_tree import dependency_tree
from workbook.pictures import bar_chart, coloured_diff, draw_dependency_graph, parse_tree
from workbook.stages import ROOT, load_stages

STAGES = load_stages()

TREE = """POST /users -> register_user
└── get_user_service
    ├── get_session
    ├── get_audit_log
    │   └── get_session  (cached: the value built above is reused)
    └── get_counter  (use_cache=False: called again)"""


def test_a_diff_is_coloured_inline_so_it_renders_offline():
    html = coloured_diff("--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-old\n+new\n").data
    assert "<span" in html and "style=" in html, "colours are inline styles, not a stylesheet to fetch"
    assert "-old" in html and "+new" in html, "both sides of the change are shown"
    assert "<link" not in html and "http" not in html, "nothing is loaded from elsewhere"


def test_an_empty_diff_says_so():
    assert "No file changed" in coloured_diff("").data


def test_the_printed_tree_is_read_back_with_depth_and_reuse():
    route, providers = parse_tree(TREE)
    assert route == "POST /users -> register_user"
    assert [(p.name, p.depth) for p in providers] == [
        ("get_user_service", 0),
        ("get_session", 1),
        ("get_audit_log", 1),
        ("get_session", 2),
        ("get_counter", 1),
    ]
    assert [p.reused for p in providers] == [False, False, False, True, False]
    assert [p.fresh for p in providers] == [False, False, False, False, True]


def test_the_graph_has_a_box_per_use_of_a_real_route():
    from lessons.s01_dependency_injection.main import app

    tree = dependency_tree(app, "POST", "/users")
    figure = draw_dependency_graph(tree)
    labels = [text.get_text() for text in figure.axes[0].texts]
    assert len(labels) == len(tree.splitlines()), f"one box per line of the tree, got {labels}"
    assert any("(same value)" in label for label in labels), "the reused session is marked as the same value"


def test_a_chart_labels_each_bar_with_its_measured_number():
    figure = bar_chart({"inline": 1.23, "process pool": 0.0456}, "slowest ping", "s")
    labels = [text.get_text() for text in figure.axes[0].texts]
    assert labels == ["1.23 s", "0.0456 s"]


def test_every_figure_a_notebook_shows_is_stored_as_an_image():
    # Agg registers no display of its own: without workbook.pictures asking for PNGs, a chart is
    # stored as its text only ("<Figure size ... with 1 Axes>") and the reader sees no picture.
    missing = []
    for stage in STAGES:
        notebook = nbformat.read(ROOT / stage.notebook, as_version=4)
        for number, cell in enumerate(notebook.cells):
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                if data.get("text/plain", "").startswith("<Figure") and "image/png" not in data:
                    missing.append(f"{stage.notebook} cell {number}")
    assert missing == [], "these figures were stored without their picture"
