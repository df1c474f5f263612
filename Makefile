# mshot: every target creates what it needs on a fresh machine.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAMPLE_VIDEO ?= data/sample/multishot_sample.mp4
OUT ?= out/sample

.PHONY: install run test lint proto bench up clean system-deps

$(STAMP): requirements/base.txt requirements/late.txt requirements/dev.txt pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -r requirements/base.txt -r requirements/dev.txt
	$(BIN)/pip install -q --no-deps -r requirements/late.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

install: $(STAMP) system-deps

system-deps:
	@bash scripts/system_deps.sh

proto: $(STAMP)
	$(BIN)/python -m grpc_tools.protoc -Iprotos --python_out=. --grpc_python_out=. --pyi_out=. protos/mshot/v1/*.proto

run: install
	$(BIN)/mshot run $(SAMPLE_VIDEO) --out $(OUT)

test: install
	$(BIN)/python -m pytest -q tests

lint: $(STAMP)
	$(BIN)/ruff check .

bench: install
	$(BIN)/python -m bench

up: install
	$(BIN)/mshot up

clean:
	rm -rf $(VENV) out .pytest_cache
