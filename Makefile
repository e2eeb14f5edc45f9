# The Storefront workbook. Every target is a thin wrapper around `python -m workbook`.
# Start here:  make lab    (learn)      make test    (prove everything works)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
WB     := $(BIN)/python -m workbook
LESSON ?=
STAGES ?=
EXERCISE ?=
N ?=
VERBOSE ?=
SERVICES ?=
PORT   ?= 8000
USERS  ?= 20
DURATION ?= 8
API_WORKERS ?=
BROKER ?= redis
# JupyterLab refuses to run as root (in a container, say) unless told it may.
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root)

# Python keeps each module it compiles in __pycache__ unless PYTHONDONTWRITEBYTECODE says not to,
# as some images and shells do. Every process the workbook starts (test workers, servers, Celery
# workers, notebook kernels) imports the same few hundred modules of its own, and compiling them
# all again costs each process seconds: the cache stays on here.
unexport PYTHONDONTWRITEBYTECODE

# Targets about one lesson stop early, with a clear message, when LESSON is missing.
need-lesson = $(if $(LESSON),,$(error Say which lesson, for example: make $@ LESSON=01))

.DEFAULT_GOAL := help
.PHONY: help lab test test-services test-browser check watch check-solutions serve mail diff bench reset hint serve-prod \
	progress doctor notebooks lock bench-check bench-test load coverage e2e migrate

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

# The environment is rebuilt whenever the lock or the project metadata changes.
$(BIN)/.installed: requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "The workbook needs Python 3.11 or newer; $(PYTHON) is $$($(PYTHON) --version)."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

lab: $(BIN)/.installed ## start JupyterLab on the repository, at notebook 00 (works offline)
	$(WB) lab $(LAB_ARGS)

test: $(BIN)/.installed ## run every stage, exercise, solution and notebook test (STAGES=00-07: those stages only)
	$(WB) test $(if $(STAGES),--stages $(STAGES))

test-services: $(BIN)/.installed ## the services tier, against PostgreSQL and Redis
	$(WB) test-services

test-browser: $(BIN)/.installed ## /docs of stage 07 in the system's Chromium (apt-get install chromium)
	$(BIN)/python -m pytest tests/browser --browser

check: $(BIN)/.installed ## check your exercises: make check LESSON=01 [EXERCISE=id] [VERBOSE=1]
	$(need-lesson)$(WB) check $(LESSON) $(EXERCISE) $(if $(VERBOSE),--verbose)

watch: $(BIN)/.installed ## re-check a lesson's exercises each time you save: make watch LESSON=01
	$(need-lesson)$(WB) watch $(LESSON)

check-solutions: $(BIN)/.installed ## prove the solutions pass (LESSON= for one lesson)
	$(WB) check-solutions $(LESSON)

serve: $(BIN)/.installed ## serve a stage (from 04: with broker, worker and mail server): make serve LESSON=01 [API_WORKERS=2]
	$(need-lesson)$(WB) serve $(LESSON) --port $(PORT) $(if $(API_WORKERS),--workers $(API_WORKERS))

serve-prod: $(BIN)/.installed ## the last stage on PostgreSQL and Redis, as in production: [API_WORKERS=3] [BROKER=redis|rabbitmq]
	$(WB) serve-prod $(LESSON) --port $(PORT) --workers $(or $(API_WORKERS),3) --broker $(BROKER)

mail: $(BIN)/.installed ## the mail the workbook's mail server received: make mail [N=3]
	$(WB) mail $(N)

diff: $(BIN)/.installed ## what a stage changed since the previous one: make diff LESSON=02
	$(need-lesson)$(WB) diff $(LESSON)

bench: $(BIN)/.installed ## measure over real HTTP: make bench LESSON=05 (blocked loop), LESSON=08 (HTTP client), LESSON=11 (read vs bare FastAPI)
	$(need-lesson)$(WB) bench $(LESSON)

load: $(BIN)/.installed ## a bounded Locust load test: make load LESSON=09 [USERS=20] [DURATION=8] (seconds) [SERVICES=1] (11)
	$(need-lesson)$(WB) load $(LESSON) --users $(USERS) --seconds $(DURATION) $(if $(SERVICES),--services)

e2e: $(BIN)/.installed ## one customer's whole journey through stage 11 run as 3 worker processes [SERVICES=1: PostgreSQL, Redis]
	$(WB) e2e $(if $(SERVICES),--services)

coverage: $(BIN)/.installed ## branch coverage of a stage's app under its tests, with a floor: make coverage LESSON=09
	$(need-lesson)$(WB) coverage $(LESSON)

migrate: $(BIN)/.installed ## every tenant's schema in WORKBOOK_DATABASE_URL to the newest migration [LESSON=11]
	$(WB) migrate $(or $(LESSON),11)

reset: $(BIN)/.installed ## put exercises back to their stub: make reset LESSON=01 [EXERCISE=id]
	$(need-lesson)$(WB) reset $(LESSON) $(EXERCISE)

hint: $(BIN)/.installed ## hints for a lesson's exercises: make hint LESSON=01 [EXERCISE=id]
	$(need-lesson)$(WB) hint $(LESSON) $(EXERCISE)

progress: $(BIN)/.installed ## every exercise, and how far you are with it
	$(WB) progress

doctor: $(BIN)/.installed ## is this machine ready for a workshop?
	$(WB) doctor

notebooks: $(BIN)/.installed ## re-execute notebooks and store their outputs (LESSON= for one)
	$(WB) notebooks $(LESSON)

bench-check: $(BIN)/.installed ## how long `make check` takes, per stage and per exercise
	$(BIN)/python -m workbook.speed check

bench-test: $(BIN)/.installed ## run `make test` once, show its time per stage and per notebook [STAGES=00-07]
	$(BIN)/python -m workbook.speed test $(if $(STAGES),--stages $(STAGES))

lock: $(BIN)/.installed ## re-pin packages from pyproject.toml, then regenerate environment.yml
	$(BIN)/python -m pip install --quiet uv
	$(WB) lock
