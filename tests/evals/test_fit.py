"""Prompts that fit: a many-shot k too long for a suite is skipped there, a few long prompts are cut
and counted, and more than the allowed share fails with what to change."""

import pytest

from rearing.evals.fit import prompt_fit
from rearing.evals.schema import EvalItem
from rearing.io import InputError


def item(n: int, suite: str = "format", pressure: str = "none", intensity: int = 0) -> EvalItem:
    return EvalItem(id=f"{suite}:s{n}:ab:{pressure}-{intensity}", suite=suite, scenario_id=f"s{n}", split="eval",
                    format="ab", pressure=pressure, intensity=intensity, prompt="p", choices=[" A", " B"],
                    calibration_prompt="q")


def test_a_many_shot_k_that_does_not_fit_a_suite_is_skipped_there_whole_and_reported():
    items = [item(i) for i in range(100)] + [item(i, "pressure", "many_shot", 1) for i in range(10)] \
        + [item(i, "pressure", "many_shot", 4) for i in range(10)] \
        + [item(i, "hidden_pressure", "many_shot", 4) for i in range(10)]
    needed = [100] * 100 + [200] * 10 + [300] * 9 + [600] + [300] * 10
    fit = prompt_fit(items, needed, 512, 0.01)
    assert fit.skipped_many_shot == {"pressure": [4]} and fit.skipped == {"pressure": 10}
    assert len(fit.kept) == 120 and not [i for i in fit.kept if i.intensity == 4 and i.suite == "pressure"]
    assert fit.to_dict()["cut"] == 0 and fit.to_dict()["longest_prompt"] == 600


def test_a_few_long_prompts_are_cut_and_counted_per_suite():
    items = [item(i) for i in range(200)]
    fit = prompt_fit(items, [100] * 198 + [513, 700], 512, 0.01)
    report = fit.to_dict()
    assert report["cut"] == 2 and report["cut_share"] == 0.01 and report["cut_by_suite"] == {"format": 2}
    assert len(fit.kept) == 200


def test_more_cuts_than_allowed_fail_naming_the_setting_to_change():
    items = [item(i) for i in range(100)]
    with pytest.raises(InputError, match=r"train.context_length: 2 of 100 prompts .* eval.max_cut_share"):
        prompt_fit(items, [100] * 98 + [513, 513], 512, 0.01)
    assert len(prompt_fit(items, [100] * 98 + [513, 513], 512, 0.05).kept) == 100
