"""Where every artifact of a run lives, in one place, and what a stage is.

A run directory holds one folder per stage (``world/``, ``corpus/``, ``train/``, ``eval/``, ``probe/``,
``analysis/``, ``report/``), ``manifest.json``, ``preregistration.json`` and copies of the report
(``report.html``, ``report.md``) to open by hand. Each stage builds into a hidden partial
folder that the pipeline swaps in when the stage finishes, so a stage is handed the root it writes to
and wraps it in its own layout (``CorpusLayout(out_dir)``); what it reads from upstream it finds
through ``RunLayout``. No stage, command or test spells a path by hand: a file name lives here, or
(for a format with its own reader and writer, like a token stream) beside that format's one definition.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rearing.config import ExperimentConfig

MANIFEST = "manifest.json"
PREREGISTRATION = "preregistration.json"
HELD_OUT_SPLITS = ("eval", "shift_domain", "shift_vocab")
"""The held-out splits, which items and episodes draw from (``rearing.evals.schema.Split``)."""
SPLITS = ("train", *HELD_OUT_SPLITS)
"""Every split the world stage writes, in order."""


UNTRAINED = "untrained"
"""The condition label of the untrained null models the eval stage scores beside the trained arms
(``untrained/seed_0``); reserved, so no condition of a run may take it."""


def model_name(condition: str, seed: int) -> str:
    """A trained arm's name in result rows: its job folder under ``train/`` (``bmn_shuffled/seed_0``)."""
    return f"{condition}/seed_{seed}"


@dataclass(frozen=True)
class SplitsLayout:
    """A folder of splits: one scenarios JSONL per split and the split report."""

    root: Path

    def split(self, name: str) -> Path:
        return self.root / f"{name}.jsonl"

    @property
    def report(self) -> Path:
        return self.root / "split_report.json"


@dataclass(frozen=True)
class WorldLayout:
    root: Path

    @property
    def scenarios(self) -> Path:
        return self.root / "scenarios.jsonl"

    @property
    def splits(self) -> SplitsLayout:
        return SplitsLayout(self.splits_dir)

    @property
    def splits_dir(self) -> Path:
        return self.root / "splits"

    @property
    def split_report(self) -> Path:
        """What the split kept, excluded and why (``SplitResult.report``)."""
        return self.splits.report

    def split(self, name: str) -> Path:
        return self.splits.split(name)

    @property
    def llm_report(self) -> Path:
        """What the LLM world backend did: model, answers by source, scenarios that kept their templates."""
        return self.root / "llm_world.json"


@dataclass(frozen=True)
class CorpusLayout:
    root: Path

    @property
    def tokenizer(self) -> Path:
        return self.root / "tokenizer"

    @property
    def stats(self) -> Path:
        return self.root / "stats.json"

    def stream(self, condition: str) -> Path:
        """A condition's token stream directory (its files: ``rearing.corpus.stream``)."""
        return self.root / condition

    @property
    def audit(self) -> Path:
        """Per condition, which content units each scenario's documents carry (the content ledger)."""
        return self.root / "audit.json"

    def llm_report(self, condition: str) -> Path:
        return self.root / f"llm_render_{condition}.json"

    def conditions(self) -> list[str]:
        """The conditions whose streams were written (in name order)."""
        from rearing.corpus.stream import TOKENS_FILE

        return sorted(p.parent.name for p in self.root.glob(f"*/{TOKENS_FILE}"))


TRAIN_SUMMARY = "train_summary.json"


@dataclass(frozen=True)
class JobLayout:
    """One training job's folder (a model of the train stage, or an attacked copy in the evals)."""

    root: Path

    @property
    def model(self) -> Path:
        """The trained model (``save_pretrained`` + tokenizer): what every later stage loads."""
        return self.root / "model"

    def snapshot(self, step: int) -> Path:
        """The model as it was after ``step`` steps, when the job was asked to keep snapshots."""
        return self.root / f"snapshot_{step}"

    @property
    def checkpoint(self) -> Path:
        return self.root / "checkpoint"

    @property
    def summary(self) -> Path:
        return self.root / TRAIN_SUMMARY

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.jsonl"

    @property
    def consumed(self) -> Path:
        """Every window start trained on, in order."""
        return self.root / "consumed.npy"

    @property
    def tensorboard(self) -> Path:
        return self.root / "tensorboard"

    @property
    def mlflow_db(self) -> Path:
        return self.root / "mlflow.db"

    def stream(self, phase: int | None = None) -> Path:
        """A stream re-encoded with the job's own tokenizer (the default one, or a phase's)."""
        return self.root / "stream" if phase is None else self.root / "streams" / str(phase)


@dataclass(frozen=True)
class TrainLayout:
    root: Path

    def job(self, condition: str, seed: int) -> Path:
        """One model's folder (see :class:`JobLayout`), named by :func:`model_name`."""
        return self.root / model_name(condition, seed)

    def model(self, condition: str, seed: int) -> Path:
        return JobLayout(self.job(condition, seed)).model

    def summaries(self) -> list[Path]:
        """Every finished model's training summary, in (condition, seed) folder order."""
        return sorted(self.root.glob(f"*/seed_*/{TRAIN_SUMMARY}"))


@dataclass(frozen=True)
class ItemsLayout:
    """An items folder: items and their answer keys in separate files, and the build report."""

    root: Path

    @property
    def items(self) -> Path:
        return self.root / "items.jsonl"

    @property
    def keys(self) -> Path:
        return self.root / "keys.jsonl"

    @property
    def report(self) -> Path:
        return self.root / "items_report.json"


@dataclass(frozen=True)
class AttackLayout:
    """One model's attack work: per attack kind, its training stream and the fine-tuned copy."""

    root: Path

    def stream(self, kind: str) -> Path:
        return self.root / f"stream_{kind}"

    def job(self, kind: str) -> Path:
        """The attacked copy's training folder (see :class:`JobLayout`)."""
        return self.root / kind


@dataclass(frozen=True)
class EvalLayout:
    root: Path

    @property
    def items(self) -> Path:
        """The items folder (see :class:`ItemsLayout`)."""
        return self.root / "items"

    @property
    def checks(self) -> Path:
        return self.root / "checks.json"

    @property
    def results(self) -> Path:
        return self.root / "results.parquet"

    @property
    def agentic(self) -> Path:
        return self.root / "agentic.parquet"

    @property
    def summary(self) -> Path:
        return self.root / "summary.json"

    @property
    def per_model(self) -> Path:
        """Each model's finished rows, kept as they finish so a killed stage resumes."""
        return self.root / "models"

    def model_rows(self, name: str) -> Path:
        """One model's finished result rows (``name`` as :func:`model_name` gives it)."""
        return self.per_model / f"{_stem(name)}.parquet"

    def model_episodes(self, name: str) -> Path:
        """One model's finished episode rows; written after its result rows, so it marks the model done."""
        return self.per_model / f"{_stem(name)}.agentic.parquet"

    def untrained(self, seed: int) -> Path:
        """The untrained null model of one training seed (a Hugging Face checkpoint folder)."""
        return self.root / "untrained" / f"seed_{seed}"

    def attacked(self, name: str, kind: str, k: int) -> Path:
        """One model's copy after ``k`` steps of an attack (a Hugging Face checkpoint folder), kept when
        ``eval.keep_attacked`` is set so the probes can measure what the attack did to representations."""
        return self.attacked_copies(name) / kind / f"k_{k}"

    def attacked_copies(self, name: str) -> Path:
        """Every kept attacked copy of one model (``<kind>/k_<k>``)."""
        return self.root / "attacked" / _stem(name)

    @property
    def attack_work(self) -> Path:
        return self.root / ".attack"

    def attack(self, name: str) -> AttackLayout:
        """Where one model's attacked copies are trained (removed when the stage ends)."""
        return AttackLayout(self.attack_work / _stem(name))


@dataclass(frozen=True)
class ProbeLayout:
    """The probe stage's output: per model a table, a summary and its activations; the run's summary."""

    root: Path

    def table(self, name: str) -> Path:
        """One model's probe rows (``rearing.probes.measures.ProbeRow``)."""
        return self.root / "tables" / f"{_stem(name)}.parquet"

    def model_summary(self, name: str) -> Path:
        """One model's headline measures; written last, so it marks the model done."""
        return self.root / "models" / f"{_stem(name)}.json"

    def activations(self, name: str) -> Path:
        """One model's decision-point activations: float16, one row per line of :meth:`activation_index`."""
        return self.root / "activations" / f"{_stem(name)}.npy"

    def activation_index(self, name: str) -> Path:
        """What each activation row is: model, layer, item, scenario, suite, format, stripped, label, attack."""
        return self.root / "activations" / f"{_stem(name)}.parquet"

    @property
    def summary(self) -> Path:
        return self.root / "summary.json"


@dataclass(frozen=True)
class AnalysisLayout:
    """The analysis stage's output: the verdict and every metric x condition with its interval."""

    root: Path

    @property
    def verdict(self) -> Path:
        return self.root / "verdict.json"

    @property
    def tables(self) -> Path:
        return self.root / "tables.parquet"


@dataclass(frozen=True)
class ReportLayout:
    """The report stage's output: the page and its Markdown summary (both also placed at the run's root)."""

    root: Path
    HTML = "report.html"
    MARKDOWN = "report.md"

    @property
    def html(self) -> Path:
        return self.root / self.HTML

    @property
    def markdown(self) -> Path:
        return self.root / self.MARKDOWN


def _stem(name: str) -> str:
    """A model name as one file name (``bmn_shuffled/seed_0`` -> ``bmn_shuffled__seed_0``)."""
    return name.replace("/", "__")


@dataclass(frozen=True)
class RunLayout:
    """A run directory: each stage's finished output and the manifest."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    @property
    def manifest(self) -> Path:
        return self.root / MANIFEST

    @property
    def preregistration(self) -> Path:
        """The analysis plan, frozen before the train stage starts (its hash is in the manifest)."""
        return self.root / PREREGISTRATION

    def stage_dir(self, stage: str) -> Path:
        return self.root / stage

    def partial_dir(self, stage: str) -> Path:
        """Where a stage is built before the pipeline swaps it in."""
        return self.root / f".{stage}.partial"

    def llm_cache(self, cache_dir: str | Path) -> Path:
        """An LLM backend's response cache: ``cache_dir`` as configured, relative to the run unless absolute."""
        cache = Path(cache_dir)
        return cache if cache.is_absolute() else self.root / cache

    @property
    def world(self) -> WorldLayout:
        return WorldLayout(self.stage_dir("world"))

    @property
    def corpus(self) -> CorpusLayout:
        return CorpusLayout(self.stage_dir("corpus"))

    @property
    def train(self) -> TrainLayout:
        return TrainLayout(self.stage_dir("train"))

    @property
    def eval(self) -> EvalLayout:
        return EvalLayout(self.stage_dir("eval"))

    @property
    def probe(self) -> ProbeLayout:
        return ProbeLayout(self.stage_dir("probe"))

    @property
    def analysis(self) -> AnalysisLayout:
        return AnalysisLayout(self.stage_dir("analysis"))

    @property
    def report(self) -> ReportLayout:
        return ReportLayout(self.stage_dir("report"))

    @property
    def report_html(self) -> Path:
        """The report where a reader looks for it: at the run's root (a copy of ``report/report.html``)."""
        return self.root / ReportLayout.HTML

    @property
    def report_markdown(self) -> Path:
        return self.root / ReportLayout.MARKDOWN

    @property
    def screenshot(self) -> Path:
        """The report as headless Chromium showed it (``rearing report --screenshot``)."""
        return self.root / "report.png"


StageFn = Callable[..., None]
"""A stage body: ``(config, run, out_dir)``, plus the executor when the stage has cells; reads upstream
outputs through ``run``, writes ``out_dir``."""


@dataclass(frozen=True)
class StageSpec:
    """One pipeline stage: its name, the config sections and upstream stages its cache key covers,
    its body, and any files outside the run it reads (their hashes join the key)."""

    name: str
    sections: tuple[str, ...]
    upstream: tuple[str, ...]
    run: StageFn
    external_inputs: Callable[[ExperimentConfig], list[Path]] = lambda config: []
    run_records: tuple[str, ...] = ()
    """Entries of the run's manifest the stage reads (the pre-registration's hash): they join its key."""
    published: tuple[str, ...] = ()
    """Files of the stage's output the pipeline also places at the run's root (the report, to open by hand)."""
    cells: bool = False
    """The stage works model by model: ``run`` takes a fourth argument, the executor its cells go to
    (:mod:`rearing.cells`)."""
