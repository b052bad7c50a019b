# Quitt: `make run` starts the whole stack, `make test` runs what CI runs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

APP := .venv/.installed
RASA_RT := .venv-rasa/.installed
MODEL := models/quitt.tar.gz
# The voice line's end-of-turn model (Smart Turn v3.2, taken from the pipecat-ai wheel).
TURN_MODEL := var/models/smart-turn-v3.2-cpu.onnx
# The model is stale when any training input or custom NLU component changed.
BOT_INPUTS := $(shell find bot/config.yml bot/domain bot/data nlu -type f \( -name '*.yml' -o -name '*.py' \) 2>/dev/null)
DEMO_CLAIMS := $(firstword $(wildcard ../shared/fixtures/demo_claims.json) data/demo_claims.json)

.PHONY: help install lock check-locks run test lint typecheck rasa-validate rasa-stories bench-nlu bench-sentiment bench-voice bench-load bench-judgement bench-import train chromium speech-tools web clean

help:
	@echo "make run        install what is missing, train if stale, start Rasa + actions + gateway on :8000"
	@echo "make test       install what is missing and run every check CI runs"
	@echo "make lock       re-resolve both runtimes into requirements/*.lock (run/test never resolve)"
	@echo "make bench-nlu  intent F1 per language (held-out) and entity accuracy"
	@echo "make bench-sentiment  sentiment P/R/F1 per class, escalation recall, false escalations, latency"
	@echo "make bench-voice  voice line: word error rate, entity accuracy, turn latency"
	@echo "make bench-load   throughput and p50/p95/p99 turn latency, gateway vs bare Rasa, 1 and 2 replicas"
	@echo "make bench-judgement  blind sets: false handoffs, escalation recall and reason, crisis help, intents, whole conversations"
	@echo "make bench-import  100,000 claims (CSV and JSON) on SQLite and PostgreSQL: time, peak memory, re-import"

$(APP): requirements/app.lock requirements/build.lock scripts/make-venv.sh pyproject.toml
	scripts/make-venv.sh app

$(RASA_RT): requirements/rasa.lock scripts/make-venv.sh
	scripts/make-venv.sh rasa

install: $(APP) $(RASA_RT) $(TURN_MODEL)

$(TURN_MODEL): scripts/install-turn-model.sh | $(APP)
	scripts/install-turn-model.sh $(TURN_MODEL)

# Re-resolve both runtimes on purpose and rewrite requirements/*.lock (uv, from PyPI).
lock:
	scripts/lock.sh

# The locks must agree with pyproject.toml and requirements/rasa.txt.
check-locks: $(APP)
	.venv/bin/python scripts/check_locks.py

$(MODEL): $(RASA_RT) $(BOT_INPUTS)
	scripts/rasa.sh train --config bot/config.yml --domain bot/domain --data bot/data \
	  --out models --fixed-model-name quitt
	@touch $(MODEL)

train: $(MODEL)

# The chat widget from the npm registry, as web/package-lock.json pins it.
web:
	scripts/install-web.sh

run: install web $(MODEL)
	.venv/bin/quitt db upgrade
	.venv/bin/quitt claims import --if-empty $(DEMO_CLAIMS)
	.venv/bin/quitt run

# ruff, and the layers: the import contracts in pyproject.toml ([tool.importlinter]).
lint: $(APP)
	.venv/bin/ruff check .
	.venv/bin/lint-imports

typecheck: $(APP)
	.venv/bin/mypy policy domain api

rasa-validate: $(RASA_RT)
	scripts/rasa.sh data validate --config bot/config.yml --domain bot/domain --data bot/data

# End-to-end test stories (DE and EN, happy and unhappy paths) through NLU and policies.
rasa-stories: $(MODEL)
	scripts/rasa.sh test core --stories bot/tests --model $(MODEL) --out results/stories \
	  --fail-on-prediction-errors

# Debian's Chromium for the console's browser test (installed once, from apt).
chromium:
	scripts/install-chromium.sh

# Debian's test voices (espeak-ng, SVOX Pico, MBROLA de6/de7): tests and bench-voice speak with them.
speech-tools:
	scripts/install-speech-tools.sh

test: check-locks install chromium speech-tools web $(MODEL) lint typecheck rasa-validate rasa-stories
	.venv/bin/python -m pytest -q

bench-nlu: install $(MODEL)
	.venv/bin/python -m bench.nlu

bench-sentiment: $(APP)
	.venv/bin/python -m bench.sentiment

# Voice line: WER and amount/date/reference accuracy per test voice (natural and espeak-ng), turn latency.
bench-voice: install speech-tools $(MODEL)
	.venv/bin/python scripts/bench_voice.py

# Load: gateway vs bare Rasa at 1/20/50 concurrent conversations, 1 and 2 Rasa replicas (PostgreSQL + Redis).
bench-load: install $(MODEL)
	.venv/bin/python scripts/bench_load.py

# Blind sets (tests/blind, never trained on) through the real gateway, dev and sealed splits.
bench-judgement: install $(MODEL)
	.venv/bin/python -m bench.judgement

# Claims import: 100,000 generated claims into fresh SQLite and PostgreSQL databases (dropped after).
bench-import: $(APP)
	.venv/bin/python -m bench.importer

clean:
	rm -rf models var results
