"""The report: a run's artifacts read into one self-contained HTML page and a Markdown summary.

``inputs`` loads what the run wrote, ``sections`` builds the page's sections (``blocks``) with one
builder each (``headline``, ``outcomes``, ``internals``, ``example``), ``figures`` draws them as SVG,
``render`` lays them out with the Jinja2 templates, ``stage`` runs it last in the pipeline and
``browser`` opens the page in headless Chromium to check it.
"""

STAGE = "report"
"""The report stage's name (its folder in a run)."""
