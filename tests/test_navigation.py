"""The dashboard's map: every page is in the navigation's one list (`ui.navigation.PAGES`), the
sidebar, Home and these tests read that list, every page opens, and the old addresses of the
pages that were merged open their new homes."""
import ast

import pytest

from ganlib.ui import navigation
from ganlib.ui.navigation import MOVED, PAGES
from tests.helpers import REPO, page, run


def test_every_page_file_is_in_the_navigation_and_every_entry_has_its_file():
    files = {f"app_pages/{p.name}" for p in (REPO / "app_pages").glob("*.py")}
    listed = [spec.path for spec in PAGES]
    assert files == set(listed), f"pages the sidebar does not show: {sorted(files - set(listed))}"
    assert len(listed) == len(set(listed)) and len({s.title for s in PAGES}) == len(PAGES)
    assert len({s.url_path for s in PAGES} | {m.url_path for m in MOVED}) == len(PAGES) + len(MOVED)
    assert PAGES[0].title == "Home" and 9 <= len(PAGES) - 1 <= 12  # about ten pages besides Home


def test_the_sidebar_has_named_sections_in_order():
    sections = list(dict.fromkeys(spec.section for spec in PAGES))
    assert sections == ["", "Train", "Inspect a run", "Sample and explore", "Experiments", "Import and export"]


@pytest.mark.parametrize("spec", PAGES, ids=[s.title for s in PAGES])
def test_every_page_opens_from_the_navigation_with_no_runs(spec, empty_dir):
    """Opened through app.py as the sidebar opens it: no exception, its title as the map names it,
    and a page that shows runs says there are none yet and points to Train."""
    at = run(page(spec.path))
    assert at.title[0].value == (navigation.APP_TITLE if spec.path == "app_pages/home.py" else spec.title)
    if spec.needs_runs:
        assert any("Train" in i.value for i in at.info), [i.value for i in at.info]
        assert not at.error and not at.image


def test_home_links_every_page_with_its_summary(empty_dir):
    at = run(page("app_pages/home.py"))
    links = {el.proto.label: el.proto.page for el in at.get("page_link")}
    assert set(links) == {s.title for s in PAGES[1:]}
    md = "\n".join(m.value for m in at.markdown)
    for spec in PAGES[1:]:
        assert spec.summary[1:60] in md, spec.title
    for section in {s.section for s in PAGES[1:]}:
        assert f"**{section}**" in md


def _tab_names(path: str) -> set[str]:
    """The tab names a page's source lists (its TABS / tab_names constants and its views')."""
    names = set()
    for node in ast.walk(ast.parse((REPO / path).read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.add(node.value)
    return names


@pytest.mark.parametrize("moved", MOVED, ids=[m.url_path for m in MOVED])
def test_an_old_address_opens_the_page_and_tab_that_hold_it_now(moved, runs, monkeypatch):
    """/Timelapse, /Latent_walk, /Style_explorer and /Translate run their opener, which sets the
    tab (and a run that fits) and switches to the new home; the browser test opens them by URL."""
    assert moved.to in navigation.BY_PATH and moved.url_path not in {s.url_path for s in PAGES}
    for key, tab in moved.state.items():
        assert key.endswith("_tab")
        views = {"app_pages/latent_explorer.py": ["ganlib/ui/style_view.py"]}.get(moved.to, [])
        assert tab in set().union(_tab_names(moved.to), *(_tab_names(v) for v in views)), (moved.to, tab)
    switched = []
    monkeypatch.setattr(navigation.st, "switch_page", switched.append)
    state = {}
    monkeypatch.setattr(navigation.st, "session_state", state)
    navigation._opener(moved)()
    assert switched == [moved.to] and {k: state[k] for k in moved.state} == moved.state
