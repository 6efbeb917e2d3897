# The two commands of the README's quick start are `make demo` and `make test`.
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

.PHONY: demo test deps test-deps build generated lint bench

## Build the bundled example package into ./copr-results (installs missing system packages).
demo: deps build
	./target/debug/copr build examples/hello

## Run the whole test suite (installs what the tests need: rpm tools, copr-cli, PostgreSQL).
test: test-deps
	scripts/run-tests.sh

deps:
	scripts/install-deps.sh

test-deps:
	scripts/install-deps.sh --test

build:
	$(CARGO) build

## Refresh man/ and completions/ from the clap definitions.
generated:
	UPDATE_GENERATED=1 $(CARGO) test --test generated

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

bench:
	$(CARGO) run --release -- bench all
