# selvedge developer recipes. `just --list` shows them.

rotel_version := "0.0.1a15"

# Run the quickstart (console trace trees; set OTEL_EXPORTER_OTLP_ENDPOINT to export).
run example="quickstart":
    cargo run --example {{example}}

# The test suite (the same command README.md and CI use).
test:
    cargo test --workspace

# End to end against the real rotel collector (from PyPI) and a real NATS server (Debian's nats-server).
e2e:
    python3 -c "import rotel" 2>/dev/null || pip install --quiet "rotel=={{rotel_version}}"
    SELVEDGE_ROTEL="$(python3 -c 'import rotel, os; print(os.path.join(os.path.dirname(rotel.__file__), "rotel-agent"))')" \
        cargo test -p selvedge-tests --test e2e_rotel -- --ignored --nocapture
    command -v nats-server >/dev/null || (apt-get update -qq && apt-get install -y -qq nats-server)
    SELVEDGE_NATS_SERVER="$(command -v nats-server)" cargo test -p selvedge-examples --test examples -- --ignored

# Export under load against rotel: 50k/100k spans/s, a black-hole collector, a 60 s soak (~3 min).
load:
    python3 -c "import rotel" 2>/dev/null || pip install --quiet "rotel=={{rotel_version}}"
    cargo build --release --example export_load
    SELVEDGE_ROTEL="$(python3 -c 'import rotel, os; print(os.path.join(os.path.dirname(rotel.__file__), "rotel-agent"))')" \
    SELVEDGE_LOAD_TOOL="$PWD/target/release/examples/export_load" \
        cargo test -p selvedge-tests --test load -- --ignored --nocapture --test-threads=1

# Criterion benchmarks, each variant in its own process (see docs/performance.md).
bench:
    for v in hand_assembled selvedge; do cargo bench -p selvedge --bench span_pipeline -- --exact "span/$v"; done
    for v in json/fmt json/selvedge json/json_subscriber json/json_subscriber_ids json/fmt_devnull json/init_tracing_otel_devnull text/fmt text/selvedge; do cargo bench --manifest-path benches/peers/Cargo.toml --bench log_line -- --exact "$v"; done

# The GenAI cost in time: (a) otel_only, the floor, (b) with_genai in alternating rounds, each in its own process; the ratios' medians (~25 s a round).
bench-genai rounds="7":
    #!/usr/bin/env bash
    set -euo pipefail
    # Absolute: cargo runs the benchmark in the package's directory, where
    # criterion would put a relative target directory's reports.
    if [ -n "${CARGO_TARGET_DIR:-}" ]; then export CARGO_TARGET_DIR=$(realpath -m "$CARGO_TARGET_DIR"); fi
    cargo bench -p selvedge-genai --bench genai_span --no-run 2>/dev/null
    # criterion's middle estimate, in ns.
    ns() { cargo bench -p selvedge-genai --bench genai_span -- --exact "genai/$1" \
        --warm-up-time 1 --measurement-time 4 2>/dev/null | awk '/time:/ {
            for (i = 1; $i != "time:"; i++) {}  # the name may sit on a line of its own
            v = $(i + 3); u = $(i + 4); f = (u == "ns") ? 1 : (u == "µs") ? 1000 : (u == "ms") ? 1e6 : 0
            printf "%.1f", v * f; exit }'; }
    # The run's fastest sample, in ns per span: noise from other work on the
    # machine only ever adds time, so the fastest sample is the steadier figure.
    fastest() { python3 -c 'import json, sys
    d = json.load(open(sys.argv[1]))
    print("%.1f" % min(t / i for t, i in zip(d["times"], d["iters"])))' \
        "${CARGO_TARGET_DIR:-target}/criterion/genai_$1/new/sample.json"; }
    ratio() { awk -v x="$1" -v y="$2" 'BEGIN { printf "%.3f", x / y }'; }
    floor=(); genai=(); floor_fast=(); genai_fast=()
    for r in $(seq 1 {{rounds}}); do
        a=$(ns otel_only); fa=$(fastest otel_only)
        f=$(ns floor); ff=$(fastest floor)
        b=$(ns with_genai); fb=$(fastest with_genai)
        floor+=("$(ratio "$f" "$a")"); genai+=("$(ratio "$b" "$a")")
        floor_fast+=("$(ratio "$ff" "$fa")"); genai_fast+=("$(ratio "$fb" "$fa")")
        printf 'round %s: (a) %s ns, floor %s ns (%s), (b) %s ns (%s); fastest samples %s / %s (%s) / %s (%s)\n' \
            "$r" "$a" "$f" "${floor[-1]}" "$b" "${genai[-1]}" "$fa" "$ff" "${floor_fast[-1]}" "$fb" "${genai_fast[-1]}"
    done
    median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        printf "%.3f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
    echo "median of the rounds' ratios: floor/(a) $(median "${floor[@]}"), (b)/(a) $(median "${genai[@]}")"
    echo "the same of the fastest samples: floor/(a) $(median "${floor_fast[@]}"), (b)/(a) $(median "${genai_fast[@]}")"

# The GenAI cost in instructions per span (cachegrind: deterministic, unlike time here);
# fails above the regression bound CI checks (crates/selvedge-genai/tests/instructions.rs).
bench-genai-instructions:
    cargo build --release -p selvedge-genai --example genai_cost
    SELVEDGE_GENAI_COST="$(realpath -m "${CARGO_TARGET_DIR:-target}")/release/examples/genai_cost" \
        cargo test -p selvedge-genai --test instructions -- --ignored --nocapture

# Formatting, clippy with warnings as errors, and the no-transport build.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
    cargo clippy -p selvedge --no-default-features --all-targets -- -D warnings
    cargo test -p selvedge --no-default-features --test without_transports

# API docs, warnings as errors.
doc:
    RUSTDOCFLAGS=-Dwarnings cargo doc --workspace --no-deps

# Fuzz extraction for a bounded time (needs `cargo install cargo-fuzz`; nightly flags via RUSTC_BOOTSTRAP).
fuzz seconds="60":
    RUSTC_BOOTSTRAP=1 cargo fuzz run extract -- -max_total_time={{seconds}}
