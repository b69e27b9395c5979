"""Frames and vocabulary are data: validated on load, linted statically, and enough to add content."""

from collections import Counter

import pytest

from rearing.io import InputError
from rearing.world.frames import default_frames_path, lint_frames, load_frames
from rearing.world.generate import GeneratorSettings, ScenarioGenerator
from rearing.world.vocab import default_vocab_path, load_vocab

PHRASINGS = """\
phrasings:
  trust_up: ["{who} trusts {agent}."]
  trust_down: ["{who} doubts {agent}."]
  reputation_up: ["people at the {place} praise {agent}."]
  reputation_down: ["people at the {place} avoid {agent}."]
  relationship_up: ["{who} and {agent} grow closer."]
  relationship_down: ["{who} and {agent} drift apart."]
  gain_self: ["{agent} gets {gain}."]
  cost_self: ["{agent} misses {gain}."]
  unseen: ["Nobody is watching {agent}."]
  partly_seen: ["{who} might notice."]
  seen: ["{who} is watching {agent}."]
  reward: ["{agent} could get {gain}."]
  conflict: ["{who} pulls {agent} the other way."]
  context: ["{agent} is at the {place}."]
  bystander_need: ["to see the {place} run smoothly"]
  relationships: [friend, neighbour]
  when: [today, tonight]
  later_short: [The next day]
  later_long: [Weeks later]
  target_relationship: peer
  target_need: "to hear back from {agent}"
  friend_relationship: close friend
  friend_need: "to keep {agent} close"
  bystander_relationship: acquaintance
"""

FRAME = """\
- name: {name}
  family: tell
  pole_a_prosocial: {prosocial}
  victim_is_target: true
  victim_role: peer
  target_role: peer
  foundations: [honesty]
  pressures: [peers]
  harm_kind: emotional
  reversibility: partly
  need: "to know about the {{item}}"
  situation:
  - "{situation}"
  need_explicit: ["{{target}} needs to know."]
  need_cue: ["{{target}} looks worried."]
  harm_now: ["{{target}} is caught out."]
  harm_later: ["{{later}}, {{target}} is still upset."]
  spared_now: ["{{target}} is ready."]
  spared_later: ["{{later}}, {{target}} is fine."]
  principle: [Say what others need to know.]
"""


def tiny_frame_file(situation: str = "{agent} knows something about the {item}.",
                    second_family: str = "tell") -> str:
    families = """\
families:
  tell:
    reversibility: {a: partly, b: reversible}
    pole_a: ["tell {target} about the {item}"]
    pole_b: ["say nothing about the {item}"]
    pole_a_digital: ["write to {target} about the {item}"]
    pole_b_digital: ["leave the {item} out of the thread"]
frames:
"""
    first = FRAME.format(name="warning", prosocial="true", situation=situation)
    second = FRAME.format(name="secret", prosocial="false", situation="{agent} was told a secret.")
    second = second.replace("family: tell", f"family: {second_family}")
    return families + first + second + PHRASINGS


def line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if fragment in line)


def test_tiny_frame_file_loads(tmp_path):
    path = tmp_path / "frames.yaml"
    path.write_text(tiny_frame_file())
    frames = load_frames(path)
    assert [f.name for f in frames.frames] == ["warning", "secret"]
    assert lint_frames(path) == []


def test_loader_rejects_a_bad_frame_file_naming_file_line_and_key(tmp_path):
    text = tiny_frame_file(situation="{agent} knows what {frend} did.", second_family="nosuch")
    text = text.replace("foundations: [honesty]", "foundations: [kindness]", 1)
    path = tmp_path / "frames.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        load_frames(path)
    problems = caught.value.problems
    slot = next(p for p in problems if "situation" in p)
    assert slot.startswith(f"{path}:{line_of(text, 'what {frend} did')}: frames[0].situation[0]: unknown slot {{frend}}")
    assert "(allowed slots: {agent}, {authority}," in slot
    assert any(p.startswith(f"{path}:{line_of(text, '[kindness]')}: frames[0].foundations[0]: ") for p in problems)
    assert f"{path}:{line_of(text, 'family: nosuch')}: frames[1].family: unknown family 'nosuch'; defined: tell" in problems
    assert any(p.startswith(f"{path}:{line_of(text, '  tell:')}: families.tell: no frame where pole a is harmful")
               for p in problems)


def test_slots_are_checked_per_field(tmp_path):
    text = tiny_frame_file().replace("[Say what others need to know.]", '["Say it to {target}."]')
    text = text.replace('context: ["{agent} is at the {place}."]', 'context: ["{who} is at the {place}."]')
    path = tmp_path / "frames.yaml"
    path.write_text(text)
    problems = lint_frames(path)
    assert any("frames[0].principle[0]: takes no slots" in p for p in problems)
    assert any("phrasings.context[0]: unknown slot {who}" in p for p in problems)
    assert len(problems) == 3  # the principle of both frames, the context line


def test_lint_passes_the_packaged_frames():
    assert lint_frames(default_frames_path()) == []


def test_lint_reports_unknown_slot_and_missing_mirror_in_a_broken_copy(tmp_path):
    text = default_frames_path().read_text(encoding="utf-8")
    cue = '"{target} has no idea about the fault in the {item}."'
    broken = text.replace(cue, cue.replace("{item}", "{itme}"), 1)
    head = "- name: confidence\n  family: disclose\n  pole_a_prosocial: "
    assert head + "false" in broken
    broken = broken.replace(head + "false", head + "true", 1)
    path = tmp_path / "frames.yaml"
    path.write_text(broken)
    assert lint_frames(path) == [
        (f"{path}:{line_of(broken, '  disclose:')}: families.disclose: no frame where pole a is harmful "
         "(mirror rule: each family must be prosocial in one frame and harmful in another)"),
        (f"{path}:{line_of(broken, '{itme}')}: frames[0].need_explicit[0]: unknown slot {{itme}} (allowed slots: "
         "{agent}, {authority}, {defect}, {gain}, {goal}, {item}, {pastime}, {place}, {role}, {target}, "
         "{victim}, {when})"),
    ]


def test_lint_reports_duplicate_frame_names_and_keys(tmp_path):
    text = tiny_frame_file().replace("- name: secret", "- name: warning")
    text = text.replace("  harm_kind: emotional\n", "  harm_kind: emotional\n  harm_kind: physical\n", 1)
    path = tmp_path / "frames.yaml"
    path.write_text(text)
    lines = text.splitlines()
    second_name = [i for i, line in enumerate(lines, start=1) if line == "- name: warning"][1]
    assert lint_frames(path) == [
        (f"{path}:{line_of(text, 'harm_kind: physical')}: frames[0].harm_kind: duplicate key (first at line "
         f"{line_of(text, 'harm_kind: emotional')})"),
        f"{path}:{second_name}: frames[1].name: duplicate frame name 'warning' (first at frames[0])",
    ]


def test_lint_reports_unreadable_files_instead_of_raising(tmp_path):
    path = tmp_path / "frames.yaml"
    path.write_text("families: [\n")
    problems = lint_frames(path)
    assert len(problems) == 1 and problems[0].startswith(f"{path}:2: <yaml>:")
    assert lint_frames(tmp_path / "missing.yaml") == [f"{tmp_path / 'missing.yaml'}: no such file"]


def test_a_frame_added_as_data_is_generated(tmp_path):
    text = default_frames_path().read_text(encoding="utf-8")
    start = text.index("- name: hidden_fault")
    block = text[start:text.index("\n- name:", start + 1) + 1]
    new = block.replace("name: hidden_fault", "name: hidden_fault_again")
    path = tmp_path / "frames.yaml"
    path.write_text(text.replace("phrasings:\n", new + "\nphrasings:\n", 1))
    generator = ScenarioGenerator(GeneratorSettings(seed=3), frames=load_frames(path))
    used = Counter(r["provenance"]["frame"] for r in generator.generate(600))
    assert used["hidden_fault_again"] > 10


def test_packaged_vocabulary_loads_and_a_domain_added_as_data_is_generated(tmp_path):
    vocab = load_vocab()
    assert {"school", "ai_assistant"} <= set(vocab.domains)
    assert set(vocab.digital_domains) <= set(vocab.domains)
    text = default_vocab_path().read_text(encoding="utf-8")
    start = text.index("  school:\n")
    block = text[start:text.index("  workplace:\n")]
    path = tmp_path / "vocab.yaml"
    path.write_text(text.replace("  workplace:\n", block.replace("  school:", "  library:") + "  workplace:\n"))
    settings = GeneratorSettings(seed=1, domains=("library",))
    records = list(ScenarioGenerator(settings, vocab=load_vocab(path)).generate(50))
    assert {r["domain"] for r in records} == {"library"}


def test_vocabulary_errors_name_file_line_and_key(tmp_path):
    text = default_vocab_path().read_text(encoding="utf-8")
    broken = text.replace("    - library\n", "    - library {item}\n", 1)
    path = tmp_path / "vocab.yaml"
    path.write_text(broken)
    with pytest.raises(InputError) as caught:
        load_vocab(path)
    assert caught.value.problems == [
        (f"{path}:{line_of(broken, 'library {item}')}: domains.school.places[0]: "
         "vocabulary entries are plain text: no braces or {slots}")
    ]
    broken = text.replace("- ai_assistant\nnames:", "- ai_assistant\n- moon_base\nnames:", 1)
    path.write_text(broken)
    with pytest.raises(InputError) as caught:
        load_vocab(path)
    assert caught.value.problems == [
        f"{path}:{line_of(broken, '- moon_base')}: authority_domains[1]: unknown domain 'moon_base'; defined: "
        + ", ".join(load_vocab().domains)
    ]
