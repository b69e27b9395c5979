"""The report stage on a real (tiny) run: one self-contained page, verdict first, the same bytes every
time, what is missing said in words, and a Markdown summary."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from rearing.cli import app
from rearing.io import read_json, write_json_atomic
from rearing.layout import ReportLayout, RunLayout
from rearing.pipeline import run_config
from rearing.report.blocks import Figure, Missing, SideBySide
from rearing.report.render import render_html, render_markdown
from rearing.report.sections import BUILDERS, build_report, section_texts
from rearing.report.stage import run_report


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_report_is_written_at_the_run_root_and_in_its_stage(reported):
    layout = RunLayout(reported)
    assert layout.report_html.read_bytes() == layout.report.html.read_bytes()
    assert layout.report_markdown.read_bytes() == layout.report.markdown.read_bytes()
    assert "report" in read_json(layout.manifest)["stages"]


def test_the_same_run_gives_the_same_bytes_wherever_it_lies(reported, tmp_path):
    layout = RunLayout(reported)
    moved = tmp_path / "elsewhere" / "run"
    shutil.copytree(reported, moved)
    for out in (tmp_path / "first", tmp_path / "second"):
        run_report(run_config(moved), RunLayout(moved), out)
        assert sha(ReportLayout(out).html) == sha(layout.report_html)
        assert sha(ReportLayout(out).markdown) == sha(layout.report_markdown)


def test_the_page_fetches_nothing_and_carries_its_own_style_and_figures(reported):
    html = RunLayout(reported).report_html.read_text()
    assert not re.search(r"<(link|img|iframe|object|embed)\b", html)
    assert not re.search(r"""\b(src|href)\s*=\s*["'](?!#)""", html), "only in-page anchors may be linked"
    assert "@import" not in html and not re.search(r"url\((?!#)", html), "only in-page references"
    assert "<metadata>" not in html and "<?xml" not in html
    report = build_report(run_config(reported), RunLayout(reported))
    assert len(re.findall(r'<svg[^>]*class="plot"', html)) == report.figures > 0
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "an id used twice (clip paths of two figures clashing)"


def test_sections_come_in_the_order_of_the_words_file_verdict_first(reported):
    report = build_report(run_config(reported), RunLayout(reported))
    assert [s.id for s in report.sections] == list(section_texts())
    assert report.sections[0].id == "verdict"
    html = RunLayout(reported).report_html.read_text()
    positions = [html.index(f'<section id="{s.id}">') for s in report.sections]
    assert positions == sorted(positions)
    verdict = read_json(RunLayout(reported).analysis.verdict)
    assert html.index(verdict["verdict"]) < positions[1]
    assert report.verdict == verdict["verdict"]


def test_every_section_has_a_builder_and_words():
    assert set(section_texts()) == set(BUILDERS)


def test_what_this_run_lacks_is_said(reported):
    """The tiny run trains one seed and no general-only arm: its power table cannot be estimated, and
    it says so instead of leaving a blank."""
    report = build_report(run_config(reported), RunLayout(reported))
    missing = {b.what: b.why for s in report.sections for b in s.blocks if isinstance(b, Missing)}
    assert "the power table" in missing
    html = RunLayout(reported).report_html.read_text()
    assert "Not in this run: the power table." in html


def test_a_run_without_probes_or_analysis_still_gets_a_whole_report(reported, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(reported, run)
    layout = RunLayout(run)
    for stage in ("probe", "analysis"):
        shutil.rmtree(layout.stage_dir(stage))
    manifest = read_json(layout.manifest)
    for stage in ("probe", "analysis", "report"):
        manifest["stages"].pop(stage)
    write_json_atomic(layout.manifest, manifest)
    report = build_report(run_config(run), layout)
    by_id = {s.id: s for s in report.sections}
    assert report.verdict is None
    assert any(isinstance(b, Missing) and "analysis stage has not run" in b.why for b in by_id["verdict"].blocks)
    assert all(isinstance(b, Missing) and "probe stage has not run" in b.why
               for b in by_id["representations"].blocks)
    assert any(isinstance(b, Figure) for b in by_id["suites"].blocks), "the eval's results are still shown"
    assert "No verdict" in render_markdown(report)
    render_html(report)


def test_departures_from_the_plan_are_shown_in_red(reported, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(reported, run)
    result = CliRunner().invoke(app, ["analyze", "--run", str(run), "--deviation", "a reason the reader must see"])
    assert result.exit_code == 0, result.output
    html = render_html(build_report(run_config(run), RunLayout(run)))
    box = re.search(r'<div class="deviations">(.*?)</div>', html, re.DOTALL)
    assert box and "a reason the reader must see" in box.group(1)


def test_the_markdown_summary_has_the_verdict_and_key_tables(reported):
    text = RunLayout(reported).report_markdown.read_text()
    verdict = read_json(RunLayout(reported).analysis.verdict)
    assert text.startswith("# The Rearing Paradigm")
    assert f"## Verdict\n\n**{verdict['verdict']}.**" in text
    assert "| condition |" in text
    assert "gate positive control" in text


def test_the_example_shows_one_training_scenario_in_every_condition(reported):
    layout = RunLayout(reported)
    report = build_report(run_config(reported), layout)
    example = next(s for s in report.sections if s.id == "example")
    side = next(b for b in example.blocks if isinstance(b, SideBySide))
    panels = {p.title: p.text for p in side.panels}
    assert set(panels) == set(read_json(layout.corpus.stats)["conditions"])
    assert list(panels)[:2] == ["bmn_developmental", "principle_flat"], "the primary contrast's arms first"
    scenario = re.search(r"scenario (\S+) in every condition", side.caption).group(1)
    told = {c: t for c, t in panels.items() if c != "general_only"}
    assert all(len(t) > 200 for t in told.values()) and len(set(told.values())) == len(told)
    assert " I " in told["bmn_developmental"] and " I " not in told["principle_flat"], "first person, third person"
    assert panels["general_only"].startswith("(renders no scenario")
    assert scenario in layout.report_html.read_text()


def test_report_command_prints_the_page_and_the_verdict_line(reported):
    result = CliRunner().invoke(app, ["report", "--run", str(reported)])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.strip().splitlines() if line.strip()]
    assert lines[-2].startswith("report:") and lines[-2].endswith("report.html")
    verdict = read_json(RunLayout(reported).analysis.verdict)
    assert lines[-1].startswith("verdict:") and verdict["verdict"] in lines[-1]


def test_a_simulated_many_seed_run_draws_seed_intervals(tmp_path):
    """A run holding only results (eight seeds per arm) and its verdict: the suite figure draws each
    condition's interval over seeds, the power table is filled in, every other part is said missing."""
    from rearing.analysis.metrics import Inputs
    from rearing.analysis.plan import preregistration, write_preregistration
    from rearing.analysis.simulate import simulate_results
    from rearing.analysis.stage import analyze_into
    from rearing.config import load_config
    from rearing.layout import AnalysisLayout

    config = load_config(preset="smoke")
    config = config.model_copy(update={"train": config.train.model_copy(update={"seeds": list(range(8))})})
    results = simulate_results({"bmn_developmental": 0.1, "principle_flat": 0.0, "untrained": -0.1}, 8, 60,
                               np.random.default_rng(0))
    layout = RunLayout(tmp_path / "run")
    (layout.root / "eval").mkdir(parents=True)
    results.assign(attack="none").to_parquet(layout.eval.results, index=False)
    prereg = preregistration(config)
    digest = write_preregistration(layout.preregistration, prereg)
    write_json_atomic(layout.manifest, {"name": "simulated", "config": config.model_dump(mode="json"),
                                        "stages": {"eval": {}, "analysis": {}},
                                        "preregistration": {"sha256": digest, "written": "", "late": False}})
    analyze_into(AnalysisLayout(layout.analysis.root), Inputs(results), prereg, digest)
    report = build_report(config, layout)
    by_id = {s.id: s for s in report.sections}
    assert report.verdict == "structure helps" or report.verdict == "inconclusive"
    assert not any(isinstance(b, Missing) and b.what == "the power table" for b in by_id["verdict"].blocks)
    suites = next(b for b in by_id["suites"].blocks if isinstance(b, Figure))
    assert suites.svg.count("<path") > 8
    for section in ("pressure", "agentic", "attack", "representations"):
        assert all(isinstance(b, Missing) for b in by_id[section].blocks), section
    render_html(report)


def test_a_deleted_page_at_the_run_root_comes_back_from_the_cached_stage(reported, tmp_path):
    from rearing.pipeline import run_pipeline

    run = tmp_path / "run"
    shutil.copytree(reported, run)
    layout = RunLayout(run)
    layout.report_html.unlink()
    layout.report_markdown.write_text("edited by hand")
    outcomes = run_pipeline(run_config(run), run)
    assert {o.status for o in outcomes} == {"cached"}
    assert layout.report_html.read_bytes() == layout.report.html.read_bytes()
    assert layout.report_markdown.read_bytes() == layout.report.markdown.read_bytes()
