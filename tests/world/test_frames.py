"""Frames and vocabulary are data: validated on load, linted statically, and enough to add content."""

import shutil
from collections import Counter

import pytest

from rearing.io import InputError
from rearing.world.frames import default_frames_dir, lint_frames, load_family_file, load_frames
from rearing.world.generate import GeneratorSettings, ScenarioGenerator
from rearing.world.schema import Scenario
from rearing.world.vocab import default_vocab_path, load_vocab

WORDING = """\
      situation:
      - "{situation}"
      need_explicit: ["{{victim}} needs to know before {{victim}} uses it."]
      need_cue: ["{{victim}} keeps glancing at the {{item}}."]
      goal_link: ["{{agent}} wants to {{goal}}, and warning {{victim}} takes time."]
      harm_now:
        explicit: ["{{victim}} uses the {{item}} and gets hurt."]
        described: ["The {{item}} gives way under {{victim}}."]
      harm_later:
        explicit: ["{{later}}, {{victim}} is still hurt."]
        described: ["{{later}}, {{victim}} walks with a stick."]
      spared_now: ["{{victim}} sets the {{item}} aside."]
      spared_later: ["{{later}}, {{victim}} has a new {{item}}."]
"""

FRAME = """\
  - name: {name}
    pole_a_prosocial: {prosocial}
    victim: vulnerable
    target: victim
    victim_learns: false
    severity: serious
    foundations: [care]
    pressures: [urgency]
    harm_kind: physical
    reversibility: irreversible
    need: "to know that the {{item}} {{item.fault}}"
    physical:
""" + WORDING + """\
    principle: [Warn people about dangers they cannot see.]
"""


def family_file(situation: str = "{agent} sees that the {item} {item.fault}; {victim} does not.",
                second: str = "false",
                items: str = "") -> str:
    return """\
family:
  name: warn
  reversibility: {a: irreversible, b: reversible}
  item_properties: [fault]
  actions:
    physical:
      a: ["tell {target} about the {item}"]
      b: ["say nothing about the {item}"]
  items:
    home:
""" + (items or """\
    - {name: step ladder, fault: has a cracked rung}
    - {name: kitchen scales, plural: true, fault: have a loose tray}
""") + "frames:\n" + FRAME.format(name="warning", prosocial="true", situation=situation) + \
        FRAME.format(name="silence", prosocial=second, situation="{target} trusts {agent} with the {item}.")


@pytest.fixture
def frames_dir(tmp_path):
    """A copy of the packaged frames directory to edit."""
    target = tmp_path / "frames"
    shutil.copytree(default_frames_dir(), target)
    return target


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_every_packaged_family_file_lints_clean():
    files = sorted(p for p in default_frames_dir().glob("*.yaml") if p.name != "social.yaml")
    assert len(files) >= 7
    for path in files:
        assert lint_frames(path) == [], path
    frames = load_frames()
    assert len(frames.frames) == 2 * len(frames.families)


def test_a_family_added_as_data_is_generated(frames_dir):
    (frames_dir / "warn.yaml").write_text(family_file())
    generator = ScenarioGenerator(GeneratorSettings(seed=3, domains=("home",)), frames=load_frames(frames_dir))
    records = [Scenario.model_validate(r) for r in generator.generate(400)]
    used = Counter(r.provenance.frame for r in records)
    assert used["warning"] > 5 and used["silence"] > 5
    assert any("kitchen scales have a loose tray" in r.setting for r in records)
    for r in records:
        if r.provenance.frame in ("warning", "silence"):
            assert "kitchen scales is" not in r.setting and "step ladder are" not in r.setting


def test_loader_rejects_a_bad_family_file_naming_file_line_and_key(tmp_path):
    text = family_file(situation="{agent} sees what {frend} did to the {item}.")
    path = tmp_path / "warn.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        load_family_file(path)
    problem = next(p for p in caught.value.problems if "frend" in p)
    assert problem.startswith(f"{path}:{line_of(text, 'frend')}: frames[0].physical.situation[0]: unknown slot {{frend}}")


@pytest.mark.parametrize("edit, expected", [
    (lambda t: t.replace("{name: step ladder, fault: has a cracked rung}", "{name: step ladder}"),
     "family.items.home[0]: 'step ladder' lacks fault"),
    (lambda t: t.replace("    victim_learns: false\n", "    victim_learns: false\n    domains: [market]\n", 1),
     "frames[0].domains: 'market': the family has no items for this domain"),
    (lambda t: t.replace("pole_a_prosocial: false", "pole_a_prosocial: true"),
     "frames: no frame where pole a is harmful"),
    (lambda t: t.replace("{agent} sees that the {item} {item.fault}; {victim} does not.",
                         "{agent} sees it at once and walks over to the bench by the door to the yard, and {victim} waits."),
     "frames[0].physical.situation[0]: up to 17 words in a row without a person's name"),
    (lambda t: t.replace("{agent} sees that the {item} {item.fault}; {victim} does not.",
                         "{agent} sees that the {item} {item.fault} today."),
     "frames[0].physical.situation[0]: up to 0 words before the first name and 10 after the last"),
    (lambda t: t.replace("The {item} gives way under {victim}.", "{victim} is hurt by the {item}.", 1),
     "frames[0].physical.harm_now.described[0]: says the harm outright (hurt)"),
    (lambda t: t.replace("name: silence", "name: warning"),
     "frames[1].name: duplicate frame name 'warning'"),
    (lambda t: t.replace("  item_properties: [fault]\n", "  item_properties: [fault]\n  item_properties: [fault]\n"),
     "family.item_properties: duplicate key"),
])
def test_lint_reports_each_kind_of_problem(tmp_path, edit, expected):
    text = edit(family_file())
    path = tmp_path / "warn.yaml"
    path.write_text(text)
    problems = lint_frames(path)
    assert any(expected in p and p.startswith(f"{path}:") for p in problems), problems


def test_lint_reports_unreadable_files_instead_of_raising(tmp_path):
    path = tmp_path / "warn.yaml"
    path.write_text("family: [\n")
    problems = lint_frames(path)
    assert len(problems) == 1 and problems[0].startswith(f"{path}:") and "<yaml>" in problems[0]


def test_vocabulary_errors_name_file_line_and_key(tmp_path):
    text = default_vocab_path().read_text(encoding="utf-8")
    first_place = next(line for line in text.splitlines() if line.strip().startswith("- name:")
                       or line.strip().startswith("- {name:"))
    broken = text.replace(first_place, first_place.replace("name", "nam", 1), 1)
    path = tmp_path / "vocab.yaml"
    path.write_text(broken)
    with pytest.raises(InputError) as caught:
        load_vocab(path)
    assert any(p.startswith(f"{path}:{line_of(broken, first_place.replace('name', 'nam', 1))}:")
               for p in caught.value.problems)


def test_every_domain_has_frames_and_every_frame_fits_enough_domains():
    generator = ScenarioGenerator(GeneratorSettings(seed=0))
    vocab = load_vocab()
    assert set(generator.frames_of) == set(vocab.domains)
    assert all(len(frames) >= 5 for frames in generator.frames_of.values()), \
        {d: len(f) for d, f in generator.frames_of.items()}
    fits = Counter(frame.name for frames in generator.frames_of.values() for _, frame in frames)
    assert min(fits.values()) >= 4, fits
    heldout = ("sports_club", "market")
    for _, frame in load_frames().frames:
        assert any(frame.name in {f.name for _, f in generator.frames_of[d]} for d in heldout), frame.name
