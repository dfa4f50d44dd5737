"""A page open in headless Chromium through Playwright, for the tests of the class report."""

from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")

#: Without these, Chromium waits on a network this machine does not have.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

INSTALL = ("The class report tests open the page in a browser: install Chromium with "
           "`apt-get install chromium` and the playwright package with `pip install -e '.[test]'`.")

PLOTS = ("plot-scores", "plot-pass-rate", "plot-time")


class Opened:
    """A report open in a page, with what the page reported while loading."""

    def __init__(self, browser, path: Path):
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.page = browser.new_page(viewport={"width": 1100, "height": 900})
        self.page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        self.page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        self.page.on("dialog", self._dialog)
        self.page.on("request", lambda r: r.url.startswith(("file:", "data:"))
                     or self.requests.append(r.url))
        self.page.goto(path.resolve().as_uri(), wait_until="load", timeout=10_000)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def counts(self) -> dict[str, str]:
        """The header's counts by their ``data-count`` key."""
        return self.page.eval_on_selector_all(
            "[data-count]", "els => Object.fromEntries(els.map(e => "
                            "[e.dataset.count, e.querySelector('dd').textContent]))")

    def column(self, table: str, index: int) -> list[str]:
        """The text of column ``index`` of ``table``'s body rows."""
        return [t.strip() for t in
                self.page.locator(f"#{table} tbody tr td:nth-child({index + 1})").all_inner_texts()]

    def assert_clean(self) -> None:
        """Nothing went wrong while loading, and nothing was fetched from outside the file."""
        assert self.console_errors == []
        assert self.page_errors == []
        assert self.dialogs == []
        assert self.requests == []

    def assert_plots_drawn(self) -> None:
        """Each plot is a visible inline SVG of nonzero size with drawn shapes in it."""
        for plot in PLOTS:
            svg = self.page.locator(f"#{plot} > svg")
            assert svg.count() == 1, plot
            assert svg.is_visible(), plot
            box = svg.bounding_box()
            assert box is not None and box["width"] > 100 and box["height"] > 100, (plot, box)
            assert svg.locator("path").count() > 3, plot

    def close(self) -> None:
        self.page.close()
