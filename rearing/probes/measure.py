"""Probe one model: activations at the decision point, read-outs per layer, causal tests, stability.

Data flows one way: the items a probe reads (:func:`probe_items`) -> activations of every layer at
each item's decision point (:func:`decision_activations`) -> each layer's probes (:func:`fit_layers`) -> read-out rows
(:func:`readout_rows`),
causal rows (:func:`causal_rows`) and, given attacked copies of the model, stability rows
(:func:`stability_rows`). Every row is a :class:`rearing.probes.measures.ProbeRow`.

Ablation removes a direction at every position of a layer (necessity: can the model decide without
it?); steering adds it where the probe reads, at the decision point (the item's last prompt token)
and the answer's tokens (sufficiency: does pushing it there move the decision?). On general text the
loss check applies each edit at every position, so for steering the budget it reports is an upper
bound on the damage.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import torch

from rearing.config import ProbeConfig
from rearing.evals.evaluate import ModelRef, document_start
from rearing.evals.schema import AnswerKey, EvalItem
from rearing.evals.scorer import (
    ChoiceScores,
    best_choice,
    model_max_length,
    score_choices,
    score_settings,
    unchanged,
)
from rearing.io import InputError
from rearing.probes.hooks import ablation, capture, decoder_layers, hooked, intervention, steering
from rearing.probes.measures import ProbeRow, best_layer, retained
from rearing.probes.readout import (
    Estimate,
    Examples,
    LayerProbe,
    accuracy_of,
    control_labels,
    cosine,
    fit_layer,
    fold_accuracies,
    held_out_accuracies,
    linear_cka,
    mean_difference,
    probe,
    probe_direction,
    scenario_bootstrap,
    scenario_folds,
    unit,
)


@dataclass(frozen=True)
class ProbeItems:
    """The items probes read, with each one's label (1: its first choice is the prosocial one), scenario
    and suite, in one order shared by every array built from them."""

    items: list[EvalItem]
    labels: np.ndarray
    groups: np.ndarray
    suites: np.ndarray

    def mask(self, suite: str) -> np.ndarray:
        return self.suites == suite

    def examples(self, activations: np.ndarray, suite: str) -> Examples:
        mask = self.mask(suite)
        return Examples(activations[mask], self.labels[mask], self.groups[mask])


def probe_items(items: Sequence[EvalItem], keys: Mapping[str, AnswerKey], cfg: ProbeConfig) -> ProbeItems:
    """The unpressured items of the probe's suites in its formats; an error when the training suite has
    none (the run's eval did not build it, or no item is in ``probe.formats``)."""
    suites = {cfg.train_suite, *cfg.transfer_suites}
    chosen = [i for i in items if i.suite in suites and i.format in cfg.formats and i.pressure == "none"]
    if not any(i.suite == cfg.train_suite for i in chosen):
        formats = ", ".join(cfg.formats)
        raise InputError([f"probe.train_suite: no '{cfg.train_suite}' items in formats {formats} (is it in eval.suites?)"])
    if len({i.scenario_id for i in chosen if i.suite == cfg.train_suite}) < 2:
        why = "probes are cross-validated by scenario (raise eval.max_scenarios)"
        raise InputError([f"probe.train_suite: '{cfg.train_suite}' has items from fewer than 2 scenarios; {why}"])
    return ProbeItems(items=chosen, labels=np.array([int(keys[i.id].correct == 0) for i in chosen]),
                      groups=np.array([i.scenario_id for i in chosen]), suites=np.array([i.suite for i in chosen]))


def probed_layers(model, cfg: ProbeConfig) -> list[int]:
    """The blocks to probe, counted from 1; an error naming any the model does not have."""
    count = len(decoder_layers(model))
    if cfg.layers == "all":
        return list(range(1, count + 1))
    wrong = [layer for layer in cfg.layers if not 1 <= layer <= count]
    if wrong:
        raise InputError([f"probe.layers: {wrong} not in 1..{count} (the model's blocks)"])
    return sorted(set(cfg.layers))


def _requests(tokenizer, items: Sequence[EvalItem]) -> list[tuple[str, list[str]]]:
    start = document_start(tokenizer)
    return [(start + item.prompt, item.choices) for item in items]


def decision_activations(model, tokenizer, items: Sequence[EvalItem],
                         batch_size: int) -> tuple[np.ndarray, list[ChoiceScores]]:
    """The residual stream after every block at each item's decision point, ``[items, blocks, hidden]``
    (float32), and the items' choice scores from the same pass."""
    store: dict[int, torch.Tensor] = {}
    [scores] = score_settings(model, tokenizer, _requests(tokenizer, items), [capture(list(decoder_layers(model)),
                                                                                      store)],
                              batch_size=batch_size)
    return np.stack([store[i].numpy() for i in range(len(items))]), scores


def _row(ref: ModelRef, layer: int, metric: str, estimate: Estimate | float | None, **fields) -> ProbeRow:
    if isinstance(estimate, Estimate):
        return ProbeRow(model=ref.name, condition=ref.condition, seed=ref.seed, layer=layer, metric=metric,
                        value=estimate.value, ci_low=estimate.low, ci_high=estimate.high, **fields)
    return ProbeRow(model=ref.name, condition=ref.condition, seed=ref.seed, layer=layer, metric=metric,
                    value=None if estimate is None else float(estimate), **fields)


def fit_layers(pitems: ProbeItems, activations: np.ndarray, layers: Sequence[int],
               cfg: ProbeConfig) -> dict[int, LayerProbe]:
    """Each layer's probes on the training suite (per fold and on every item)."""
    return {layer: fit_layer(pitems.examples(activations[:, layer - 1], cfg.train_suite), cfg.folds,
                             cfg.inner_folds, cfg.c_grid) for layer in layers}


def readout_rows(ref: ModelRef, pitems: ProbeItems, activations: np.ndarray, fits: Mapping[int, LayerProbe],
                 cfg: ProbeConfig, seed: int, untrained: Mapping[int, Sequence[float]] | None = None) -> list[ProbeRow]:
    """Per layer: accuracy, control accuracy and selectivity (per fold too), and, given the untrained
    model's per-fold selectivity by layer, the excess over it; transfer to each transfer suite; at the
    best layer, the accuracy of the probe on its first principal components."""
    rows: list[ProbeRow] = []
    for layer, fitted in fits.items():
        source = pitems.examples(activations[:, layer - 1], cfg.train_suite)
        targets = {suite: pitems.examples(activations[:, layer - 1], suite) for suite in cfg.transfer_suites
                   if pitems.mask(suite).any()}
        twins = {suite: t for suite, t in targets.items() if np.isin(t.groups, source.groups).any()}
        scores = held_out_accuracies(fitted, source, twins)
        shuffled = source.with_labels(control_labels(source.groups, seed))
        control = fold_accuracies(shuffled, {}, scenario_folds(shuffled.groups, cfg.folds, shuffled.y),
                                  cfg.inner_folds, cfg.c_grid)["self"]
        accuracy = Estimate.of(scores["self"])
        per_fold = np.subtract(scores["self"], control)
        rows += [_row(ref, layer, "accuracy", accuracy), _row(ref, layer, "control_accuracy", Estimate.of(control)),
                 _row(ref, layer, "selectivity", Estimate.of(per_fold)),
                 *(_row(ref, layer, "selectivity", float(v), fold=k) for k, v in enumerate(per_fold))]
        if untrained is not None and layer in untrained:
            baseline = np.asarray(untrained[layer])
            rows.append(_row(ref, layer, "untrained_selectivity", Estimate.of(baseline)))
            excess = per_fold - baseline if len(baseline) == len(per_fold) else [per_fold.mean() - baseline.mean()]
            rows.append(_row(ref, layer, "selectivity_excess", Estimate.of(excess)))
        for suite, target in targets.items():
            if suite in twins:
                transfer = Estimate.of(scores[suite]) if scores[suite] else None
            else:
                transfer = scenario_bootstrap(fitted.full, target, seed)
            if transfer is not None:
                rows += [_row(ref, layer, "transfer_accuracy", transfer, suite=suite),
                         _row(ref, layer, "transfer_ratio", retained(transfer.value, accuracy.value, accuracy.low),
                              suite=suite)]
    rows += _pca_rows(ref, pitems, activations, rows, fits, cfg)
    return rows


def _pca_rows(ref: ModelRef, pitems: ProbeItems, activations: np.ndarray, rows: list[ProbeRow],
              fits: Mapping[int, LayerProbe], cfg: ProbeConfig) -> list[ProbeRow]:
    """The probe on 1, 2, 4, ... principal components of the best layer, up to the first count that
    keeps ``cfg.pca_share`` of its above-chance accuracy."""
    best = best_layer(rows)
    if best is None:
        return []
    source = pitems.examples(activations[:, best - 1], cfg.train_suite)
    folds = fits[best].folds
    full = next(r for r in rows if r.metric == "accuracy" and r.layer == best)
    smallest = min(len(fit) for fit, _ in folds) - 1
    counts = sorted({min(2**i, smallest, source.x.shape[1]) for i in range(16) if 2**i <= 2 * source.x.shape[1]})
    found, out = None, []
    for k in counts:
        accuracy = Estimate.of(fold_accuracies(source, {}, folds, cfg.inner_folds, cfg.c_grid, components=k)["self"])
        out.append(_row(ref, best, "pca_accuracy", accuracy, components=k))
        kept = retained(accuracy.value, full.value, full.ci_low)
        if kept is not None and kept >= cfg.pca_share:
            found = k
            break
    out.append(_row(ref, best, "pca_components", found))
    return out


def _log_odds(scores: Sequence[ChoiceScores]) -> np.ndarray:
    """Each item's log-odds of its first choice against the best other (summed log-probabilities)."""
    return np.array([s.sum_logprob[0] - max(s.sum_logprob[1:]) for s in scores])


def _accuracy(scores: Sequence[ChoiceScores], labels: np.ndarray) -> float:
    return float(np.mean([(best_choice(s.sum_logprob) == 0) == bool(y) for s, y in zip(scores, labels)]))


@dataclass(frozen=True)
class Directions:
    """A layer's directions to intervene along: the probe's, the class-mean difference, random ones;
    each one's mean projection over the items (what mean-ablation sets it to)."""

    named: dict[str, np.ndarray]
    random: list[np.ndarray]
    scale: float
    """The mean residual norm at the decision point: steering strengths are multiples of it."""
    means: dict[str, float]

    def every(self) -> list[tuple[str, np.ndarray]]:
        return [*self.named.items(), *((f"random_{i}", d) for i, d in enumerate(self.random))]


def layer_directions(pitems: ProbeItems, activations: np.ndarray, layer: int, fitted: LayerProbe,
                     cfg: ProbeConfig, seed: int) -> Directions:
    """The probe (fitted on every training-suite item) and class-mean directions of one layer, and
    ``cfg.random_directions`` random unit directions drawn from the activations' covariance with the
    named directions projected out (seeded by layer): directions the residual stream varies along as
    much as it typically does, other than the ones tested. Isotropic ones mostly point where the stream
    hardly varies, so ablating them does nearly nothing and any direction carrying variance would look
    causal against them; unprojected ones would share the tested signal wherever it dominates."""
    source = pitems.examples(activations[:, layer - 1], cfg.train_suite)
    rng = np.random.default_rng([seed, layer])
    stream = activations[:, layer - 1]
    named = {"probe": probe_direction(fitted.full), "mean_difference": mean_difference(source)}
    tested, _ = np.linalg.qr(np.stack(list(named.values()), axis=1))
    centered = stream - stream.mean(0)
    centered = centered - (centered @ tested) @ tested.T
    random = [unit(centered.T @ rng.standard_normal(len(stream))) for _ in range(cfg.random_directions)]
    found = Directions(named=named, random=random, scale=float(np.linalg.norm(stream, axis=1).mean()), means={})
    found.means.update({name: float((stream @ d).mean()) for name, d in found.every()})
    return found


def _z(effect: float, null: Sequence[float]) -> float | None:
    spread = float(np.std(null, ddof=1))
    return (effect - float(np.mean(null))) / spread if spread > 0 else None


def _steered(shift: Mapping[tuple, np.ndarray], layer: int, name: str, strength: float) -> float:
    """Half the mean change in log-odds from steering at -strength to +strength."""
    return float((shift[layer, name, strength] - shift[layer, name, -strength]).mean() / 2)


def causal_items(pitems: ProbeItems, cfg: ProbeConfig, seed: int) -> np.ndarray:
    """Indices of the items the causal tests score: items outside the training suite the directions
    were fitted on (all items when there are none), ``cfg.causal_items`` of them drawn with ``seed``."""
    pool = np.flatnonzero(~pitems.mask(cfg.train_suite))
    if not len(pool):
        pool = np.arange(len(pitems.items))
    if len(pool) <= cfg.causal_items:
        return pool
    return np.sort(np.random.default_rng([seed, 1]).choice(pool, cfg.causal_items, replace=False))


def causal_rows(ref: ModelRef, model, tokenizer, pitems: ProbeItems, activations: np.ndarray,
                fits: Mapping[int, LayerProbe], cfg: ProbeConfig, seed: int, general: Sequence[str]) -> list[ProbeRow]:
    """Per layer and direction: ablation's and steering's effect on the items' decisions, as z-scores
    against the random directions, and the loss change on ``general`` text.

    Ablation sets the projection on the direction to its mean over the items at every position of the
    layer (so no later layer reads the direction back from earlier tokens, and no activation leaves the
    range the model saw); its effect is how far the log-odds move away from the right answer.
    Steering adds the direction at the decision point and the answer's tokens only (the prompt's prefix
    is run once and shared by every strength and direction); its effect is how far it moves the
    log-odds towards the first choice, the label's side. The directions are fitted on the training
    suite and tested on the other suites' items (:func:`causal_items`)."""
    blocks = decoder_layers(model)
    chosen = causal_items(pitems, cfg, seed)
    requests = _requests(tokenizer, [pitems.items[i] for i in chosen])
    toward = 2.0 * pitems.labels[chosen] - 1.0  # log-odds times this: towards the right answer
    directions = {layer: layer_directions(pitems, activations, layer, fitted, cfg, seed)
                  for layer, fitted in fits.items()}
    plain = score_choices(model, tokenizer, requests, batch_size=cfg.batch_size)
    before, accuracy_before = _log_odds(plain), _accuracy(plain, pitems.labels[chosen])
    shift: dict[tuple[int, str, float | None], np.ndarray] = {}
    accuracy: dict[tuple[int, str], float] = {}
    plans: list[tuple[int, str, float]] = []
    settings = [unchanged]
    for layer, found in directions.items():
        for name, direction in found.every():
            vector = torch.from_numpy(direction).float()
            with hooked(blocks[layer - 1], ablation(vector, found.means[name])):
                ablated = score_choices(model, tokenizer, requests, batch_size=cfg.batch_size)
            shift[layer, name, None] = _log_odds(ablated) - before
            accuracy[layer, name] = _accuracy(ablated, pitems.labels[chosen]) - accuracy_before
            for strength in cfg.steer_strengths:
                for sign in (1.0, -1.0):
                    plans.append((layer, name, sign * strength))
                    settings.append(intervention(blocks[layer - 1], steering(sign * strength * found.scale * vector)))
    steered = score_settings(model, tokenizer, requests, settings, batch_size=cfg.batch_size)
    unsteered = _log_odds(steered[0])
    for plan, scores in zip(plans, steered[1:], strict=True):
        shift[plan] = _log_odds(scores) - unsteered

    def harm(layer: int, name: str) -> float:
        return float(-(shift[layer, name, None] * toward).mean())

    rows: list[ProbeRow] = []
    for layer, found in directions.items():
        randoms = [f"random_{i}" for i in range(len(found.random))]
        null_ablation = [harm(layer, r) for r in randoms]
        for name in found.named:
            rows += [_row(ref, layer, "ablation_effect", harm(layer, name), direction=name),
                     _row(ref, layer, "ablation_accuracy_change", accuracy[layer, name], direction=name),
                     _row(ref, layer, "ablation_z", _z(harm(layer, name), null_ablation), direction=name)]
            for strength in cfg.steer_strengths:
                effect = _steered(shift, layer, name, strength)
                null = [_steered(shift, layer, r, strength) for r in randoms]
                rows += [_row(ref, layer, "steering_effect", effect, direction=name, strength=strength),
                         _row(ref, layer, "steering_z", _z(effect, null), direction=name, strength=strength)]
        rows += [_row(ref, layer, "ablation_effect", float(np.mean(null_ablation)), direction="random"),
                 _row(ref, layer, "ablation_accuracy_change", float(np.mean([accuracy[layer, r] for r in randoms])),
                      direction="random")]
    rows += _general_rows(ref, model, tokenizer, directions, cfg, general)
    return rows


def _general_rows(ref: ModelRef, model, tokenizer, directions: Mapping[int, Directions], cfg: ProbeConfig,
                  general: Sequence[str], docs_per_pass: int = 4) -> list[ProbeRow]:
    """The loss change and KL on held-out general text of ablating, and of steering at the strongest
    strength (both signs, the larger change kept), every named direction, applied at every position.
    Documents go through a few at a time, so a large vocabulary's log-probabilities stay small."""
    if not general:
        return []
    blocks = decoder_layers(model)
    limit = min(cfg.general_tokens, model_max_length(model, tokenizer))
    documents = [tokenizer(text)["input_ids"][:limit] for text in general]
    batches = [documents[i : i + docs_per_pass] for i in range(0, len(documents), docs_per_pass)]
    strongest = max(cfg.steer_strengths)

    def measure(edit=None) -> tuple[list[torch.Tensor], float]:
        """Per batch the log-probabilities (moved to the CPU), and the mean loss; KL needs the former."""
        kept, losses = [], []
        for batch in batches:
            ids = torch.zeros(len(batch), max(map(len, batch)), dtype=torch.long)
            mask = torch.zeros_like(ids, dtype=torch.bool)
            for k, row in enumerate(batch):
                ids[k, : len(row)], mask[k, : len(row)] = torch.tensor(row), True
            with hooked(blocks[edit[0] - 1], edit[1]) if edit else nullcontext():
                logp = model(input_ids=ids.to(model.device)).logits[:, :-1].float().log_softmax(-1).cpu()
            scored = mask[:, 1:]
            losses.append(-logp.gather(-1, ids[:, 1:, None])[..., 0][scored])
            kept.append(logp[scored])
        return kept, float(torch.cat(losses).mean())

    rows = []
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            reference, base_loss = measure()
            for layer, found in directions.items():
                for name, direction in found.named.items():
                    vector = torch.from_numpy(direction).float()
                    edits = {"ablation": [ablation(vector, found.means[name])],
                             "steering": [steering(s * strongest * found.scale * vector) for s in (1.0, -1.0)]}
                    for kind, kind_edits in edits.items():
                        changes = []
                        for edit in kind_edits:
                            changed, edited_loss = measure((layer, edit))
                            kl = torch.cat([(r.exp() * (r - c)).sum(-1) for r, c in zip(reference, changed)]).mean()
                            changes.append((edited_loss - base_loss, float(kl)))
                        worst = max(changes, key=lambda c: c[1])
                        strength = strongest if kind == "steering" else None
                        rows += [_row(ref, layer, "general_loss_change", worst[0], direction=name, strength=strength,
                                      suite=f"general:{kind}"),
                                 _row(ref, layer, "general_kl", worst[1], direction=name, strength=strength,
                                      suite=f"general:{kind}")]
    finally:
        model.train(was_training)
    return rows


def stability_rows(ref: ModelRef, pitems: ProbeItems, fits: Mapping[int, LayerProbe], before: np.ndarray,
                   after: np.ndarray, cfg: ProbeConfig, attack: str, attack_k: int) -> list[ProbeRow]:
    """Per layer, the model before an attack against after it (activations of the same items): the
    cosine of each direction, the pre-attack probes' accuracy on post-attack activations of the
    scenarios each held out, and linear CKA."""
    rows = []
    fields = {"attack": attack, "attack_k": attack_k}
    for layer, fitted in fits.items():
        pre = pitems.examples(before[:, layer - 1], cfg.train_suite)
        post = pitems.examples(after[:, layer - 1], cfg.train_suite)
        post_fit = fitted.full if after is before else probe(post, cfg.inner_folds, cfg.c_grid)
        held_out = [accuracy_of(model, post.where(held)) for (_, held), model in zip(fitted.folds, fitted.per_fold)]
        rows += [_row(ref, layer, "direction_cosine", cosine(probe_direction(fitted.full), probe_direction(post_fit)),
                      direction="probe", **fields),
                 _row(ref, layer, "direction_cosine", cosine(mean_difference(pre), mean_difference(post)),
                      direction="mean_difference", **fields),
                 _row(ref, layer, "pre_probe_accuracy", Estimate.of(held_out), **fields),
                 _row(ref, layer, "cka", linear_cka(before[:, layer - 1], after[:, layer - 1]), **fields)]
    return rows
