import pytest

from rearing.io import InputError
from rearing.world.ladder import default_ladder_path, load_ladder


def test_default_ladder_has_at_least_five_stages_growing_harder():
    ladder = load_ladder()
    assert len(ladder.stages) >= 5
    first, last = ladder.stages[0].factors, ladder.stages[-1].factors
    assert first.stakeholders[1] < last.stakeholders[1]
    assert first.harm_reward[1] < last.harm_reward[0]
    assert first.conflicting_principles < last.conflicting_principles
    assert first.mental_state_inference < last.mental_state_inference
    assert first.visibility == ["observed"] and "unobserved" in last.visibility


def test_user_ladder_errors_name_file_line_and_field(tmp_path):
    text = default_ladder_path().read_text().replace("conflicting_principles: 0.0", "conflicting_principles: 3", 1)
    path = tmp_path / "ladder.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        load_ladder(path)
    line = text.splitlines().index("      conflicting_principles: 3") + 1
    assert f"{path}:{line}: stages[0].factors.conflicting_principles:" in str(info.value)


def test_stage_ids_must_ascend(tmp_path):
    path = tmp_path / "ladder.yaml"
    path.write_text(default_ladder_path().read_text().replace("id: 2", "id: 9", 1))
    with pytest.raises(InputError, match="ascending"):
        load_ladder(path)
