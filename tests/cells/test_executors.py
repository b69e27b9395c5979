"""The executors on small cells: same results in the same order, pinned workers, failures named,
dead workers retried, and files that travel through Ray's object store when the filesystem is not shared."""

from __future__ import annotations

import os
import sys

import cell_work
import pytest
import torch

from rearing.cells import Cell, CellFailed, CellShare, GridProgress, cell_share
from rearing.cells.display import progress_line
from rearing.cells.local import LocalExecutor, SerialExecutor, core_shares
from rearing.config import ExecutorConfig, ExperimentConfig
from rearing.io import InputError


def squares(n: int = 4) -> list[Cell]:
    return [Cell(name=f"square {i}", work=cell_work.where_am_i, args=(i,)) for i in range(n)]


def config(**executor) -> ExperimentConfig:
    return ExperimentConfig(executor=ExecutorConfig(**executor))


def test_the_pool_gives_the_serial_results_in_order_with_each_worker_on_its_own_core(tmp_path):
    serial = SerialExecutor(config()).run("square", squares(), tmp_path)
    pool = LocalExecutor(config(kind="local", workers=2))
    try:
        pooled = pool.run("square", squares(), tmp_path)
    finally:
        pool.close()
    assert [r["value"] for r in pooled] == [r["value"] for r in serial] == [0, 1, 4, 9]
    cores = {r["pid"]: tuple(r["cores"]) for r in pooled}
    assert all(r["threads"] == 1 for r in pooled)
    if len(core_shares(2, 1)[0]) == 1:
        assert all(len(c) == 1 for c in cores.values())
        assert len(set(cores.values())) == len(cores), f"two workers share a core: {cores}"


def test_core_shares_are_disjoint_until_the_cores_run_out():
    shares = core_shares(1, 1)
    assert len(shares) == 1 and len(shares[0]) == 1
    too_many = core_shares(64, 64)
    assert all(share == too_many[0] for share in too_many), "oversubscribed workers are not pinned"


@pytest.mark.parametrize("kind", ["serial", "local"])
def test_a_cell_that_raises_names_itself_and_is_not_retried(tmp_path, kind):
    cell = Cell(name="eval bmn_developmental/seed_3", work=cell_work.fail, args=("scenario s0-12 has no options",))
    executor = (SerialExecutor(config()) if kind == "serial"
                else LocalExecutor(config(kind="local", workers=1)))
    with pytest.raises(CellFailed) as caught:
        executor.run("eval", [cell], tmp_path)
    getattr(executor, "close", lambda: None)()
    message = str(caught.value)
    assert "eval bmn_developmental/seed_3" in message and "ValueError: scenario s0-12 has no options" in message
    assert len(list((tmp_path / "attempts").iterdir())) == 1, "an error in our code must not be retried"
    if kind == "local":
        assert "cell_work.py" in message, "the worker's traceback is part of the error"


def test_a_killed_pool_worker_is_retried_and_nothing_is_lost(tmp_path):
    seen: list[GridProgress] = []
    pool = LocalExecutor(config(kind="local", workers=2), on_progress=seen.append)
    cells = [Cell(name=f"cell {i}", work=cell_work.die_once, args=(str(tmp_path / f"died-{i}"), i)) for i in range(3)]
    try:
        results = pool.run("train", cells, tmp_path)
    finally:
        pool.close()
    assert results == [1, 2, 3]
    assert seen[-1].done == 3 and seen[-1].failed == 0 and seen[-1].retried >= 3
    assert sorted(seen[-1].finished) == ["cell 0", "cell 1", "cell 2"], "each cell finishes once"


def test_a_worker_that_keeps_dying_fails_after_its_retries(tmp_path):
    pool = LocalExecutor(config(kind="local", workers=1, max_retries=1))
    with pytest.raises(CellFailed, match="its worker died 2 times"):
        pool.run("train", [Cell(name="train doomed/seed_0", work=cell_work.always_die)], tmp_path)
    pool.close()


def test_the_progress_line_reads_as_a_grid():
    progress = GridProgress("eval", total=18, done=6, running=2, failed=0, seconds=120.0)
    assert progress_line(progress) == "eval: 6/18 cells done, 2 running, elapsed 2:00, ETA 4:00"
    assert GridProgress("eval", total=3).eta_seconds is None


def ray_executor(**settings):
    from rearing.cells.ray_cluster import RayExecutor

    return RayExecutor(config(kind="ray", **settings))


def test_ray_gives_the_serial_results_in_order(ray_instance, tmp_path):
    executor = ray_executor()
    assert executor.slots == 2, "the session's Ray instance has 2 CPUs, one per cell"
    results = executor.run("square", squares(), tmp_path)
    assert [r["value"] for r in results] == [0, 1, 4, 9]
    assert all(r["threads"] == 1 for r in results)


def test_ray_retries_a_killed_worker_but_not_an_error_of_ours(ray_instance, tmp_path):
    executor = ray_executor()
    assert executor.run("train", [Cell(name="train a/seed_0", work=cell_work.die_once,
                                       args=(str(tmp_path / "died"), 41))], tmp_path) == [42]
    with pytest.raises(CellFailed, match="ValueError: no such scenario") as caught:
        executor.run("eval", [Cell(name="eval a/seed_0", work=cell_work.fail, args=("no such scenario",))], tmp_path)
    assert "eval a/seed_0" in str(caught.value)
    assert len(list((tmp_path / "attempts").iterdir())) == 1
    with pytest.raises(CellFailed, match="worker or node died"):
        ray_executor(max_retries=1).run("train", [Cell(name="train b/seed_0", work=cell_work.always_die)], tmp_path)


@pytest.mark.parametrize("shared", ["yes", "no"])
def test_a_cells_files_reach_the_run_whether_or_not_workers_share_it(ray_instance, tmp_path, shared):
    run = tmp_path / "run"
    (run / "corpus").mkdir(parents=True)
    (run / "corpus" / "doc.txt").write_text("a lesson")
    cell = Cell(name="copy", work=cell_work.copy_upper, args=("corpus/doc.txt", "train/out/doc.txt"),
                reads=("corpus/doc.txt",), writes=("train/out",))
    [seen_root] = ray_executor(shared_filesystem=shared).run("copy", [cell], run)
    assert (run / "train" / "out" / "doc.txt").read_text() == "A LESSON"
    assert (seen_root == str(run.resolve())) == (shared == "yes"), "unshared cells run in a scratch copy"
    assert not (run / ".executor-token").exists()


def test_without_ray_the_error_says_how_to_get_it(monkeypatch):
    from rearing.cells.ray_cluster import require_ray

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(InputError, match=r"rearing\[ray\]"):
        require_ray()



def test_every_executor_and_the_dry_run_share_the_cores_by_one_rule():
    cores = len(os.sched_getaffinity(0))
    pool = LocalExecutor(config(kind="local", workers=2))
    assert (pool.threads, pool.workers) == (max(1, cores // 2), 2)
    assert cell_share(config(kind="local", workers=2)) == CellShare(pool.threads, pool.workers)
    fixed = ExperimentConfig(executor=ExecutorConfig(kind="local", workers=2), train={"threads": 3})
    assert cell_share(fixed).threads == 3, "train.threads fixes every cell's threads"
    assert cell_share(config(kind="ray", cpus_per_cell=1)).at_once == cores, "a local Ray instance is this machine"
    assert cell_share(config(kind="ray", address="auto")).at_once is None, "a cluster's size is unknown before joining"
    assert cell_share(config(kind="ray", address="auto", cpus_per_cell=4), cluster_cpus=16) == CellShare(4, 4)
    assert cell_share(config()).at_once == 1
    assert SerialExecutor(config(kind="local", workers=2)).threads == torch.get_num_threads(), \
        "an executor follows its own kind's rule, whatever the config names"
    assert cell_share(config(kind="ray", cpus_per_cell=0.1), cluster_cpus=2).at_once == 20
