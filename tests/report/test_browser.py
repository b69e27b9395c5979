"""The report in a real browser: headless Chromium from Debian, driven by Playwright, offline."""

from __future__ import annotations

import shutil

from rearing.io import read_json
from rearing.layout import RunLayout
from rearing.pipeline import run_config
from rearing.report.browser import check_page
from rearing.report.sections import build_report


def test_the_report_opens_from_disk_with_no_request_error_or_missing_figure(reported, chromium, artifacts):
    layout = RunLayout(reported)
    check = check_page(layout.report_html, layout.screenshot)
    assert check.problems == []
    assert check.url == layout.report_html.resolve().as_uri()
    verdict = read_json(layout.analysis.verdict)["verdict"]
    assert check.verdict == verdict
    assert verdict in check.title
    assert check.figures == build_report(run_config(reported), layout).figures > 0
    png = layout.screenshot.read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    shutil.copy(layout.report_html, artifacts / "report.html")
    shutil.copy(layout.screenshot, artifacts / "report.png")
    check_page(layout.report_html, artifacts / "report-full.png", full_page=True)


def test_the_check_fails_a_page_that_fetches_or_errs(chromium, tmp_path):
    """The browser check can fail: a page that asks for anything beyond itself, throws or logs an error."""
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><head><title>bad</title></head><body>'
                    '<img src="http://127.0.0.1:9/tracker.png"><figure><svg class="plot" width="0" height="0">'
                    '</svg></figure><script>console.error("broken"); undefinedFunction();</script></body></html>')
    check = check_page(page)
    problems = "\n".join(check.problems)
    assert "http://127.0.0.1:9/tracker.png" in problems
    assert "undefinedFunction" in problems
    assert "console error: broken" in problems
    assert "1 of 1 figures were not laid out" in problems
    assert check.verdict is None
