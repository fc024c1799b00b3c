# Two commands do all the set-up on a fresh machine (Python 3.11 as python3):
#   make demo   create .venv, install, start the local AWS, provision, run the drill
#   make test   create .venv if needed, then lint and every test
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
LOCAL_AWS_PORT ?= 4566

export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export LOCAL_AWS_PORT

.PHONY: bootstrap demo scheduled-run local-aws-start local-aws-stop local-aws-status local-aws-reset \
        provision verify restore replay teardown logs status dashboard test lint settings unit integration molecule sanity collection changelog bench clean

bootstrap: $(STAMP)

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

local-aws-start: $(STAMP)
	$(BIN)/python -m localaws start

local-aws-stop: $(STAMP)
	$(BIN)/python -m localaws stop

local-aws-status: $(STAMP)
	$(BIN)/python -m localaws status

local-aws-reset: $(STAMP)
	$(BIN)/python -m localaws reset

provision: $(STAMP)
	$(BIN)/ansible-playbook site.yml

verify: $(STAMP)
	$(BIN)/ansible-playbook playbooks/verify.yml

# Restore by hand (tier 2): make restore ARGS='-e dr_restore_table=ddbguard-demo'
restore: $(STAMP)
	$(BIN)/ansible-playbook playbooks/restore.yml $(ARGS)

# Redo what the monitors kept as failed (faults past every retry): make replay [ARGS='-e replay_table=orders']
replay: $(STAMP)
	$(BIN)/ansible-playbook playbooks/replay.yml $(ARGS)

teardown: $(STAMP)
	$(BIN)/ansible-playbook playbooks/teardown.yml $(ARGS)

# Follow the change monitors' decisions: make logs [OUTCOME=failed] [KEY=<pk value>] [TABLE=<name>] [SINCE=<minutes>]
# (python tools/logs.py --no-follow prints what is there and stops)
logs: $(STAMP)
	$(BIN)/python tools/logs.py

# One line per protected table, read on the target; exits non-zero naming what is off:
# make status [ARGS=--json] [INVENTORY=inventories/aws-example]
status: $(STAMP)
	$(BIN)/python tools/status.py $(ARGS)

# The CloudWatch dashboard site.yml puts, drawn as text from its data: make dashboard [HOURS=24]
dashboard: $(STAMP)
	$(BIN)/python tools/dashboard.py

# The plan's first scheduled run, now: on AWS it comes within 12 hours of site.yml; the
# local AWS runs it when asked (docs/emulator.md, row 35), so the drill finds its copies.
demo: local-aws-start provision scheduled-run verify

scheduled-run: $(STAMP)
	$(BIN)/python -m localaws run-plan --plan ddbguard-plan

# The files derived from the change monitor's table of settings (change_monitor/settings.py);
# lint fails when one is not current.
settings: $(STAMP)
	$(BIN)/python tools/settings.py

lint: $(STAMP)
	$(BIN)/python tools/settings.py --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/yamllint -s .
	$(BIN)/ansible-lint

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit collections/ansible_collections/ddbguard/dr/tests/unit

# Two workers, a test module each at a time (--dist loadfile): a module's tests keep their
# order and its local AWS; CI has two cores, and the tests spend much of their time waiting.
integration: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile tests/integration

# Every scenario (site.yml and one per role), each with a local AWS of its own on a free port.
# Every scenario, in two lanes at once (one local AWS per lane, each on a free port).
molecule: $(STAMP)
	$(BIN)/python tools/molecule_all.py

# ansible-test on the collection: the sanity tests and its own unit tests, each in a
# virtual environment of ansible-test's own (tools/sanity.sh says how, offline).
# ansible-test sanity and units, then antsibull-docs' collection docs lint (module and role
# docs, markup, references to this collection and those it depends on). The lint copies each
# collection it reads, through git when the collection is in a git work tree: the ceiling
# keeps git from taking the bundled amazon.aws in .venv/ (ignored by git) for part of this
# repository, which would copy none of its files.
sanity: $(STAMP)
	tools/sanity.sh sanity
	tools/sanity.sh units
	GIT_CEILING_DIRECTORIES=$(CURDIR) $(BIN)/antsibull-docs lint-collection-docs --plugin-docs \
	  --validate-collection-refs dependent collections/ansible_collections/ddbguard/dr

# The collection tarball operators install (ansible-galaxy collection install <file>).
collection: $(STAMP)
	$(BIN)/ansible-galaxy collection build --force --output-path build collections/ansible_collections/ddbguard/dr

# Release notes from changelogs/fragments/ (antsibull-changelog), for the version in galaxy.yml.
changelog: $(STAMP)
	cd collections/ansible_collections/ddbguard/dr && $(BIN)/antsibull-changelog release

test: lint sanity unit integration molecule

# Performance (minutes): rewrites docs/benchmarks.md with the machine and the date.
bench: $(STAMP)
	cd bench && $(BIN)/python run_all.py

clean:
	rm -rf build reports .pytest_cache .ruff_cache
