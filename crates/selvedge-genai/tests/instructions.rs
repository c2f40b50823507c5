//! A guard on what the GenAI conventions cost per LLM-call span, counted in
//! instructions (valgrind's cachegrind), so that a change which makes them
//! dearer fails CI instead of waiting for someone to run the benchmarks.
//!
//! Counts, not time: on a shared two-core machine a time ratio moves by ±20 %
//! from run to run, an instruction count by well under 1 % (code layout, hash
//! seeds). The span and stacks are the criterion benchmark's, run by the
//! `genai_cost` example (release build) in a process of its own:
//! instructions per span = (count at 20 000 spans − count at 0) / 20 000.
//!
//! Ignored by default: it needs valgrind and the release example. CI runs it:
//! ```text
//! cargo build --release -p selvedge-genai --example genai_cost
//! SELVEDGE_GENAI_COST=$PWD/target/release/examples/genai_cost \
//!   cargo test -p selvedge-genai --test instructions -- --ignored --nocapture
//! ```

use std::process::Command;

/// The most (b) with_genai may cost against (a) otel_only, in instructions.
/// Measured: 1.098 for the LLM-call span, 1.089 with nothing sampled
/// (docs/performance.md). The issue's limit, 1.10, is in time; this bound
/// is a regression guard with room for the compiler's and the layout's
/// ±1 %, not the goal.
const MAX_RATIO: f64 = 1.12;

/// Spans per counted run.
const SPANS: u64 = 20_000;

/// Instructions `variant` of `genai_cost` executes for `spans` spans.
fn instructions(variant: &str, spans: u64) -> u64 {
    let tool = std::env::var("SELVEDGE_GENAI_COST")
        .expect("set SELVEDGE_GENAI_COST to the release build of the genai_cost example");
    // cargo runs the test in the package's directory: a relative path would
    // be read from there.
    assert!(
        std::path::Path::new(&tool).is_file(),
        "SELVEDGE_GENAI_COST={tool}: no such file (give an absolute path)"
    );
    let out = Command::new("valgrind")
        .args([
            "--tool=cachegrind",
            "--cache-sim=no",
            "--cachegrind-out-file=/dev/null",
        ])
        .arg(tool)
        .args([variant, &spans.to_string()])
        .output()
        .expect("run valgrind (is it installed?)");
    let report = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "genai_cost {variant} {spans}: {report}"
    );
    refs(&report).unwrap_or_else(|| panic!("no `I refs` line in: {report}"))
}

/// The `I refs` count of a cachegrind report (`==1== I   refs:      316,104,879`).
fn refs(report: &str) -> Option<u64> {
    let line = report.lines().find(|l| l.contains("I   refs:"))?;
    let count = line.rsplit(':').next()?.trim().replace(',', "");
    count.parse().ok()
}

fn per_span(variant: &str) -> f64 {
    (instructions(variant, SPANS) - instructions(variant, 0)) as f64 / SPANS as f64
}

#[test]
fn a_cachegrind_report_is_read() {
    let report = "==8386== Collected : 316104879\n==8386== \n==8386== I   refs:      316,104,879\n";
    assert_eq!(refs(report), Some(316_104_879));
    assert_eq!(refs("==1== I1  misses: 12\n"), None);
}

#[test]
#[ignore = "needs valgrind and the release genai_cost example; run by CI (see the module docs)"]
fn the_genai_conventions_cost_at_most_their_bound_in_instructions_per_span() {
    let print = |variant: &str, n: f64, base: Option<f64>| match base {
        Some(base) => println!(
            "{variant:<20} {n:>6.0} instructions per span (x{:.3})",
            n / base
        ),
        None => println!("{variant:<20} {n:>6.0} instructions per span"),
    };
    let otel_only = per_span("otel_only");
    print("otel_only", otel_only, None);
    // The least (b) can add (benches/common/floor.rs): printed, for the table.
    print("floor", per_span("floor"), Some(otel_only));
    let unsampled = per_span("otel_only_unsampled");
    print("otel_only_unsampled", unsampled, None);
    for (a, base, b) in [
        ("otel_only", otel_only, "with_genai"),
        ("otel_only_unsampled", unsampled, "with_genai_unsampled"),
    ] {
        let genai = per_span(b);
        print(b, genai, Some(base));
        let ratio = genai / base;
        assert!(
            ratio <= MAX_RATIO,
            "{b} costs x{ratio:.3} the instructions of {a} per span (bound x{MAX_RATIO})"
        );
    }
}
