"""The browser walk: every page of a role's menu and the pages one link away from them
(a visit and its correction, a participant, follow-ups, the stock card, a report…), one
address per route, as staff reach them. Used by the accessibility and layout tests."""

from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

from django.urls import Resolver404, resolve

SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"  # ignored by git
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}

# Not pages: downloads, the API, the Django admin, the log-out form's address.
NOT_PAGES = ("/logout/", "/admin/", "/api/", ".csv", "/download/")


def menu_paths(page) -> list[str]:
    """The addresses of the signed-in person's menu, folded entries included (found by
    place, not by the nav's label, which is translated)."""
    return page.locator("#menu-panel nav a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )


def _route(href: str):
    """(view name, query parameter names) of a page address of the app, else None."""
    parts = urlsplit(href)
    if parts.netloc or not parts.path.startswith("/") or any(p in href for p in NOT_PAGES):
        return None
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    return match.view_name, tuple(sorted(parse_qs(parts.query, keep_blank_values=True)))


def walk(page):
    """Go to each page of the walk in turn: the menu's pages, then the first link found on
    them to each other route. Yields (path, response) while the page is there; the
    caller looks at it without going elsewhere."""
    menu = menu_paths(page)
    seen, queue = set(), []

    def add(href):
        route = _route(href)
        if route is not None and route not in seen:
            seen.add(route)
            queue.append(href)

    for href in menu:
        add(href)
    for path in queue:  # the queue grows while the menu's pages are read
        response = page.goto(path)
        yield path, response
        if path in menu:
            for link in page.locator("main a[href]").evaluate_all(
                "links => links.map(a => a.getAttribute('href'))"
            ):
                add(link)


def horizontal_overflow(page) -> int:
    """How far the page scrolls sideways, in CSS pixels (0: it fits)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def screenshot(page, name: str) -> None:
    """Save the whole page as tests/screenshots/<name>.png, for people to look at."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def open_menu(page) -> None:
    """Unfold the whole menu as a person would: the Menu button on a narrow screen, More
    on a wide one. Every entry is visible afterwards."""
    for toggle in (page.locator("#topbar .menu-toggle"), page.locator("#topbar .nav-more-toggle")):
        if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
            toggle.click()


def log_out(page) -> None:
    """Log out from the menu as a person handing the phone on would, and wait for the
    login page (the logout form first wipes the device, then submits)."""
    open_menu(page)
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login/")


def go_to_menu_entry(page, label: str) -> None:
    """Open the menu as far as needed, follow one of its entries and wait until its page
    has loaded: a click only starts the navigation, and reading the page straight after
    it can land between the old document and the new one."""
    open_menu(page)
    follow(page, page.locator("nav[aria-label=Main]").get_by_role("link", name=label, exact=True))


def follow(page, link) -> None:
    """Click a link and wait until the page it leads to has loaded."""
    target = urljoin(page.url, link.get_attribute("href"))
    link.click()
    page.wait_for_url(target)
