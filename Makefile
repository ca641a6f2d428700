# The two commands (README.md): `make run` and `make test`. Everything else is a
# step of those, or `make bench`.
#   make run          install what is missing, build (release), load the demo, serve :8080
#   make test         install, build with ASan+UBSan, run every test, fuzz, check format
#   make bench        release build, benchmarks, docs/benchmarks.md
SHELL := /bin/bash
JOBS ?= $(shell nproc)
FUZZ_RUNS ?= 200000
DATA ?= data
LISTEN ?= 127.0.0.1:8080
CMAKE_GEN := -G Ninja
C_SOURCES = $(shell git ls-files '*.c' '*.h' 2>/dev/null || find src tests bench -name '*.[ch]')

.PHONY: all deps web build build-asan build-fuzz run demo test unit fuzz browser format format-check bench clean

all: build

deps:
	@./scripts/install-deps.sh

# The front end (web/, docs/web.md): rebuilt only when one of its sources changed.
WEB_SOURCES = $(shell find web/src web/console web/public -type f 2>/dev/null) \
	web/index.html web/vite.config.js web/package-lock.json
web: deps web/dist/index.html
web/dist/index.html: $(WEB_SOURCES) | deps
	cd web && npm run build --silent
	@touch $@

build: deps web
	cmake -S . -B build/release $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DGR_TESTS=OFF >/dev/null
	cmake --build build/release -j $(JOBS)

build-asan: deps
	cmake -S . -B build/asan $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DGR_SANITIZE=ON -DGR_BENCH=OFF >/dev/null
	cmake --build build/asan -j $(JOBS)

build-fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B build/fuzz $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DGR_FUZZ=ON >/dev/null
	cmake --build build/fuzz -j $(JOBS)

demo: build
	./build/release/grassroots demo --data $(DATA)

run: demo
	./build/release/grassroots serve --data $(DATA) --listen $(LISTEN)

unit: build-asan
	cd build/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --output-on-failure -j $(JOBS)

# Every fuzz target runs a fixed number of inputs from its seed corpus (bounded time).
fuzz: build-fuzz
	@set -e; for t in build/fuzz/tests/fuzz/fuzz_*; do \
		name=$$(basename $$t); corpus=tests/fuzz/corpus/$${name#fuzz_}; \
		mkdir -p build/fuzz/corpus/$$name; \
		echo "fuzz: $$name ($(FUZZ_RUNS) runs)"; \
		$$t -runs=$(FUZZ_RUNS) -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
			-print_final_stats=0 build/fuzz/corpus/$$name $$( [ -d $$corpus ] && echo $$corpus ) \
			>build/fuzz/$$name.log 2>&1 || { tail -50 build/fuzz/$$name.log; exit 1; }; \
	done; echo "fuzz: all targets ran clean"

# Browser tests (tests/browser/): chromium against the ASan server and the demo.
browser: build-asan web
	./tests/browser/run.sh

test: unit fuzz format-check browser
	@echo "make test: all passed"

format:
	clang-format -i $(C_SOURCES)

format-check:
	@clang-format --dry-run -Werror $(C_SOURCES) && echo "format-check: clean"

bench: build
	./bench/run.sh

clean:
	rm -rf build
