"""The app at phone width (390 × 844, an iPhone 12-14): every tab can be reached and its main action used."""
import importlib

import pytest

from tabs import TABS
from tests.e2e.conftest import open_app

TAB_NAMES = [importlib.import_module(f"tabs.{name}").TITLE for name in TABS]

pytestmark = pytest.mark.e2e


@pytest.fixture
def phone(browser, app_url):
    page = open_app(browser, app_url, viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                    has_touch=True)
    yield page
    page.context.close()


def test_every_tab_name_is_on_screen_at_phone_width(phone, test_output):
    for name in TAB_NAMES:
        tab = phone.get_by_role("tab", name=name)
        assert tab.is_visible(), f"the {name!r} tab is hidden at phone width"
        box = tab.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390 + 1, f"{name!r} runs off the screen"
    phone.get_by_role("tab", name="MIDI generation").click()
    phone.locator("#gen-run").wait_for(state="visible")
    phone.screenshot(path=str(test_output / "phone_generation.png"), full_page=False)


def test_a_fresh_tab_at_phone_width_is_its_inputs_not_empty_frames(phone):
    """Before anything is run, a tab holds its intro and inputs: result frames appear with their results
    (the empty Analysis page was about 3,000 px tall at 420 px, mostly empty plot frames)."""
    heights = {}
    for name in TAB_NAMES:
        phone.get_by_role("tab", name=name).click()
        phone.wait_for_timeout(300)
        heights[name] = phone.evaluate("() => document.documentElement.scrollHeight")
    # measured at 390 px: Analysis 1,900 px (it was about 3,000), every other tab under 3,000 with six tabs; the
    # seventh (Sample library) wraps the tab bar onto one more line, about 40 px on every tab
    assert heights["Audio analysis"] < 2400 and max(heights.values()) < 3100, heights
