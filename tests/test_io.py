import os

import pytest
from pydantic import BaseModel

from rearing.io import InputError, atomic_open, read_jsonl, write_jsonl_atomic


class Item(BaseModel):
    id: str
    n: int


def test_atomic_write_leaves_old_file_when_interrupted(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_open(path) as handle:
        handle.write("half")
        raise RuntimeError("killed")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_read_jsonl_lists_every_bad_line(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"id": "a", "n": 1}\n\n{"id": "b", "n": "x"}\nnot json\n[1]\n{"id": "a", "n": 2}\n')
    with pytest.raises(InputError) as info:
        read_jsonl(path, Item, unique="id")
    problems = info.value.problems
    assert problems[0].startswith(f"{path}:3: n: ")
    assert problems[1].startswith(f"{path}:4: <json>: ")
    assert problems[2] == f"{path}:5: <record>: expected a JSON object, got list"
    assert problems[3] == f"{path}:6: id: duplicate 'a' (first on line 1)"


def test_read_jsonl_error_limit_counts_all(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text("nope\n" * 30)
    with pytest.raises(InputError) as info:
        read_jsonl(path, Item, error_limit=5)
    assert len(info.value.problems) == 5 and info.value.total == 30
    assert "and 25 more" in str(info.value)


def test_jsonl_round_trip(tmp_path):
    path = tmp_path / "x.jsonl"
    assert write_jsonl_atomic(path, [Item(id="a", n=1), {"id": "b", "n": 2}]) == 2
    assert [i.id for i in read_jsonl(path, Item)] == ["a", "b"]
