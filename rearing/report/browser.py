"""Open a report the way a reader does, in a real browser, and say what went wrong.

Headless Chromium (Debian's ``chromium`` package, or ``REARING_CHROMIUM``) driven by Playwright with
that executable: the page is opened from ``file://`` with the browser offline and every request that
is not the file itself blocked and recorded, so a report that would fetch anything fails the check.
Playwright is an optional extra (``pip install 'rearing[browser]'``).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from rearing.io import atomic_open

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync")
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")
VIEWPORT = {"width": 1280, "height": 900}
"""A laptop screen: the screenshot is what a reader sees before scrolling."""


class BrowserUnavailable(RuntimeError):
    """No Playwright or no Chromium: says how to install the missing one."""


def find_chromium() -> Path:
    given = os.environ.get("REARING_CHROMIUM")
    if given:
        if not Path(given).is_file():
            raise BrowserUnavailable(f"REARING_CHROMIUM={given}: no such file")
        return Path(given)
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise BrowserUnavailable("no Chromium found: install Debian's package (sudo apt-get install chromium) or set "
                             "REARING_CHROMIUM to a Chromium or Chrome executable")


@dataclass
class PageCheck:
    """What the browser saw: the page's title, verdict and figures, and everything that went wrong."""

    url: str
    title: str = ""
    verdict: str | None = None
    figures: int = 0
    rendered_figures: int = 0
    """Figures whose SVG the browser laid out with a non-zero size."""
    requests: list[str] = field(default_factory=list)
    """Every request other than the file itself (each one blocked)."""
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    screenshot: Path | None = None

    @property
    def problems(self) -> list[str]:
        found = [f"request for something other than the file: {url}" for url in self.requests]
        found += [f"page error: {error}" for error in self.page_errors]
        found += [f"console error: {error}" for error in self.console_errors]
        if self.rendered_figures != self.figures:
            found.append(f"{self.figures - self.rendered_figures} of {self.figures} figures were not laid out")
        return found


def check_page(html: Path, screenshot: Path | None = None, full_page: bool = False) -> PageCheck:
    """Open ``html`` offline in headless Chromium; record requests, errors, the verdict and the figures,
    and (when ``screenshot`` is given) write what the first screen shows as PNG."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise BrowserUnavailable("the browser check needs Playwright: pip install 'rearing[browser]'") from None
    executable = find_chromium()
    url = Path(html).resolve().as_uri()
    check = PageCheck(url=url)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), args=list(CHROMIUM_FLAGS), headless=True)
        try:
            context = browser.new_context(offline=True, viewport=VIEWPORT, java_script_enabled=True)

            def route(request_route) -> None:
                if request_route.request.url == url:
                    request_route.continue_()
                else:
                    check.requests.append(request_route.request.url)
                    request_route.abort()

            context.route("**/*", route)
            page = context.new_page()
            page.on("pageerror", lambda error: check.page_errors.append(str(error)))
            page.on("console", lambda message: check.console_errors.append(message.text)
                    if message.type == "error" else None)
            page.goto(url, wait_until="load")
            check.title = page.title()
            call = page.locator("#verdict-call")
            check.verdict = call.text_content().strip() if call.count() else None
            check.figures = page.locator("figure svg.plot").count()
            check.rendered_figures = page.evaluate(
                "() => Array.from(document.querySelectorAll('figure svg.plot'))"
                ".filter(svg => svg.getBoundingClientRect().width > 0 && svg.getBoundingClientRect().height > 0).length")
            if screenshot is not None:
                png = page.screenshot(full_page=full_page)
                with atomic_open(screenshot, "wb", encoding=None) as handle:
                    handle.write(png)
                check.screenshot = Path(screenshot)
        finally:
            browser.close()
    return check
