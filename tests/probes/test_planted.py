"""The probes on a model trained so that a planted feature decides its answer (``planted.py``), and on
the same architecture untrained: what a probe must find, and what it must not."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from planted import KEYWORDS, items, new_model, tokenizer, train
from transformers import GPT2Config, GPT2LMHeadModel

from rearing.config import ProbeConfig
from rearing.evals.evaluate import ModelRef
from rearing.probes.measure import causal_rows, decision_activations, fit_layers, probe_items, readout_rows
from rearing.probes.measures import headline
from rearing.probes.stage import selectivity_by_layer

CONFIG = ProbeConfig(formats=["judgment"], transfer_suites=["stripped"], causal_items=80)
GENERAL = ["red green apple stone ?", "blue river lamp door tree bird road ?", "cloud field violin ?"] * 2


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """The trained model, its untrained twin, and each one's probe rows (the trained model's measured
    against the untrained model's selectivity)."""
    tok = tokenizer(tmp_path_factory.mktemp("planted_tokenizer"))
    made, keys = items()
    pitems = probe_items(made, keys, CONFIG)
    trained = train(new_model(len(tok)), tok)
    untrained = new_model(len(tok), seed=1).eval()
    baseline = probed(untrained, tok, pitems, "untrained")
    selectivity = selectivity_by_layer(baseline)
    return tok, pitems, trained, probed(trained, tok, pitems, "trained", untrained=selectivity), baseline


def probed(model, tok, pitems, name: str, untrained=None):
    ref = ModelRef(path=None, name=name)
    activations, _ = decision_activations(model, tok, pitems.items, batch_size=32)
    fits = fit_layers(pitems, activations, [1, 2], CONFIG)
    rows = readout_rows(ref, pitems, activations, fits, CONFIG, seed=0, untrained=untrained)
    return rows + causal_rows(ref, model, tok, pitems, activations, fits, CONFIG, 0, GENERAL)


def value(rows, metric, layer, **fields):
    fields = {"fold": None, **fields}
    [row] = [r for r in rows if r.metric == metric and r.layer == layer
             and all(getattr(r, k) == v for k, v in fields.items())]
    return row.value


def test_the_planted_model_learned_its_task(planted):
    tok, pitems, trained, _, _ = planted
    _, base = decision_activations(trained, tok, pitems.items, batch_size=32)
    picks = np.array([int(s.sum_logprob[0] > s.sum_logprob[1]) for s in base])
    assert (picks == pitems.labels).mean() > 0.9
    assert len(np.unique(pitems.groups)) == len(KEYWORDS)


def test_the_probe_finds_the_feature_and_the_control_task_does_not(planted):
    _, _, _, rows, baseline = planted
    for layer in (1, 2):
        assert value(rows, "accuracy", layer) > 0.9
        assert abs(value(rows, "control_accuracy", layer) - 0.5) < 0.2
        assert value(rows, "selectivity", layer) > 0.3
        assert value(rows, "selectivity_excess", layer) > 0.3
        # on the untrained model of the same architecture there is nothing to read
        assert abs(value(baseline, "selectivity", layer)) < 0.2
    # the probe trained with the usual fillers reads the items made of fillers it never saw
    assert value(rows, "transfer_ratio", 2, suite="stripped") > 0.7
    summary = headline(rows, CONFIG.selectivity_min, CONFIG.surface_suite)
    assert summary["distributed"] == 1.0 and summary["surface_independent"] > 0.7


def test_ablating_the_found_direction_moves_decisions_far_more_than_random_ones(planted):
    _, _, _, rows, _ = planted
    layer = 2
    assert value(rows, "ablation_z", layer, direction="mean_difference") > 5
    found = value(rows, "ablation_effect", layer, direction="mean_difference")
    assert found > 10 * value(rows, "ablation_effect", layer, direction="random")
    assert value(rows, "ablation_accuracy_change", layer, direction="mean_difference") < -0.2
    assert value(rows, "ablation_accuracy_change", layer, direction="random") == pytest.approx(0.0, abs=0.02)
    # steering along the direction pushes the answer its way, beyond random directions of the same norm
    assert value(rows, "steering_effect", layer, direction="mean_difference", strength=1.0) > 0
    assert value(rows, "steering_z", layer, direction="mean_difference", strength=1.0) > 2
    # and the loss change on other text is reported for every intervention
    assert all(r.value is not None and r.value >= 0 for r in rows if r.metric == "general_kl")


def test_the_causal_null_of_an_untrained_model_is_no_effect(planted):
    _, _, _, _, baseline = planted
    assert abs(value(baseline, "ablation_accuracy_change", 2, direction="mean_difference")) < 0.1


def test_any_causal_lm_with_findable_layers_is_probed_alike(planted):
    tok, pitems, _, _, _ = planted
    torch.manual_seed(0)
    gpt2 = GPT2LMHeadModel(GPT2Config(vocab_size=len(tok), n_embd=32, n_layer=2, n_head=4, n_positions=32)).eval()
    rows = probed(gpt2, tok, pitems, "gpt2")
    for layer in (1, 2):
        assert value(rows, "accuracy", layer) is not None
        assert value(rows, "ablation_z", layer, direction="mean_difference") is not None
