# Two commands for a fresh machine: `make demo` and `make test`.
# torch is installed first and pinned: on these machines pip then takes the local CPU wheel,
# whereas an unpinned torch would pull a multi-GB CUDA build. See README for GPU machines.
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.installed

.PHONY: demo test install clean bench

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[test]"
	$(PY) -m rearing.train.allocator install $(VENV)
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/rearing run --preset smoke

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) bench/bench_world_generate.py
	$(PY) bench/bench_corpus_build.py
	$(PY) bench/bench_train.py
	$(PY) bench/bench_scorer.py
	$(PY) bench/bench_agentic.py

clean:
	rm -rf $(VENV) runs .pytest_cache
