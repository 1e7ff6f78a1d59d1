"""The dashboard in a real browser: the running month is drawn as "so far" (a dotted
last segment, a hollow point, "(so far)" on its label), never as a drop. Only in the
unsuppressed view: suppressed figures stop at the last whole month."""

import pytest

from ..conftest import SCREENSHOTS
from ..support.reports import january_visits

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_running_month_is_dotted_and_labelled_so_far(
    page, browser_login, coordinator_cleo, site_a, site_b
):
    january_visits(site_a, site_b)
    page.set_viewport_size({"width": 1280, "height": 900})
    browser_login(page, coordinator_cleo)
    page.goto("/reports/dashboard/?months=6&view=unsuppressed")
    page.wait_for_selector("body[data-charts-ready=true]")
    drawn = page.evaluate(
        """() => {
          const chart = document.querySelector('canvas[data-series="visits"]').chart;
          const total = chart.data.datasets.find((d) => d.label === "All selected sites");
          const last = chart.data.labels.length - 1;
          return {
            label: chart.data.labels[last],
            earlier: chart.data.labels[last - 1],
            dash: total.segment.borderDash({p1DataIndex: last}),
            dashBefore: total.segment.borderDash({p1DataIndex: last - 1}) ?? null,
            hollow: total.pointBackgroundColor[last],
          };
        }"""
    )
    assert drawn["label"].endswith("(so far)") and "(so far)" not in drawn["earlier"]
    assert drawn["dash"] == [2, 5] and drawn["dashBefore"] is None
    assert drawn["hollow"] == "#fff"
    SCREENSHOTS.mkdir(exist_ok=True)
    page.locator("#charts").screenshot(path=str(SCREENSHOTS / "dashboard-so-far.png"))
