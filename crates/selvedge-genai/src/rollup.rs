//! Token roll-ups: an `invoke_agent` / `invoke_workflow` span gets the summed
//! usage of the model calls beneath it.
//!
//! Kept by OTel span id, from the conformed spans: [`GenAiTracer`] notes a
//! container as it starts and, while any container is open, every span that
//! starts beneath one (plain spans in between included — a finished model
//! call only knows its direct parent); the [`ConformedSpan`] of a finished
//! model call adds its token counts to its container, and a container's
//! span writes the sums onto it as it ends (children end first). A span that is a
//! GenAI span only by values recorded after it started is rolled up by
//! [`GenAiProcessor`], which conforms it. The spans are kept in trees by
//! trace (a container and all beneath it share a trace id), so agents running
//! on many threads seldom share a lock. While no container is open, each side
//! costs one atomic load.
//!
//! [`GenAiTracer`]: crate::GenAiTracer
//! [`GenAiProcessor`]: crate::GenAiProcessor
//! [`ConformedSpan`]: crate::ConformedSpan

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex, PoisonError};

use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry::KeyValue;

use crate::metrics::Tokens;

/// Roll-up attribute: input tokens of every model call beneath an agent or workflow span.
pub const ROLLUP_INPUT_TOKENS: &str = "selvedge.rollup.gen_ai.usage.input_tokens";
/// Roll-up attribute: output tokens of every model call beneath an agent or workflow span.
pub const ROLLUP_OUTPUT_TOKENS: &str = "selvedge.rollup.gen_ai.usage.output_tokens";
/// Roll-up attribute: how many model calls ran beneath an agent or workflow span.
pub const ROLLUP_MODEL_CALLS: &str = "selvedge.rollup.gen_ai.model_calls";

/// Spans tracked at most per tree (there are [`SHARDS`]); past this, spans
/// starting beneath a container in that tree are not followed (their usage
/// is not rolled up) until some end.
const MAX_TRACKED: usize = 65_536;

/// What a container has summed so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Sums {
    input: Option<i64>,
    output: Option<i64>,
    calls: i64,
}

impl Sums {
    fn add(&mut self, other: Sums) {
        let add = |a: &mut Option<i64>, b: Option<i64>| {
            if let Some(b) = b {
                *a = Some(a.unwrap_or(0).saturating_add(b));
            }
        };
        add(&mut self.input, other.input);
        add(&mut self.output, other.output);
        self.calls += other.calls;
    }

    /// The roll-up attributes (none when no model call ran beneath).
    pub(crate) fn attributes(&self) -> impl Iterator<Item = KeyValue> {
        let calls = (self.calls > 0).then_some(self.calls);
        [
            calls.and(self.input).map(|n| (ROLLUP_INPUT_TOKENS, n)),
            calls.and(self.output).map(|n| (ROLLUP_OUTPUT_TOKENS, n)),
            calls.map(|n| (ROLLUP_MODEL_CALLS, n)),
        ]
        .into_iter()
        .flatten()
        .map(|(k, n)| KeyValue::new(k, n))
    }
}

#[derive(Debug)]
enum Node {
    /// An agent or workflow, with the container it runs in, if any.
    Container { within: Option<SpanId>, sums: Sums },
    /// Any other span started beneath a container.
    Beneath(SpanId),
}

/// The open containers and the spans beneath them.
#[derive(Debug, Default)]
pub(crate) struct Tree {
    nodes: HashMap<SpanId, Node>,
    containers: usize,
}

impl Tree {
    /// The container `id` is (or runs beneath).
    fn container_of(&self, id: SpanId) -> Option<SpanId> {
        match self.nodes.get(&id)? {
            Node::Container { .. } => Some(id),
            Node::Beneath(c) => Some(*c),
        }
    }

    /// A span started, as a child of `parent`.
    pub(crate) fn started(&mut self, id: SpanId, parent: SpanId, container: bool) {
        if self.nodes.len() >= MAX_TRACKED {
            return;
        }
        let within = self.container_of(parent);
        let node = match (container, within) {
            (true, within) => {
                self.containers += 1;
                Node::Container {
                    within,
                    sums: Sums::default(),
                }
            }
            (false, Some(c)) => Node::Beneath(c),
            (false, None) => return,
        };
        if let Some(Node::Container { .. }) = self.nodes.insert(id, node) {
            // The same id twice (not from one SDK): keep the count right.
            self.containers -= 1;
        }
    }

    /// A span ended; `usage` is a model call's token counts. Returns a
    /// container's sums, to be set on it.
    pub(crate) fn ended(&mut self, id: SpanId, usage: Option<Tokens>) -> Option<Sums> {
        match self.nodes.remove(&id)? {
            Node::Beneath(c) => {
                if let (Some(t), Some(Node::Container { sums, .. })) =
                    (usage, self.nodes.get_mut(&c))
                {
                    sums.add(Sums {
                        input: t.input,
                        output: t.output,
                        calls: 1,
                    });
                }
                None
            }
            Node::Container { within, sums } => {
                self.containers -= 1;
                if let Some(Node::Container { sums: outer, .. }) =
                    within.and_then(|w| self.nodes.get_mut(&w))
                {
                    outer.add(sums);
                }
                if self.containers == 0 {
                    // Spans never seen ending (dropped by the sampler) go too.
                    self.nodes.clear();
                } else {
                    self.nodes
                        .retain(|_, n| !matches!(n, Node::Beneath(c) if *c == id));
                }
                Some(sums)
            }
        }
    }
}

/// Trees by trace: a container and everything beneath it share a trace id,
/// so concurrent agents in different traces seldom share a lock.
const SHARDS: usize = 16;

static TREES: LazyLock<[Mutex<Tree>; SHARDS]> = LazyLock::new(Default::default);

/// Containers open in all trees: while zero, nothing is tracked.
static OPEN: AtomicUsize = AtomicUsize::new(0);

fn tree(trace: TraceId) -> &'static Mutex<Tree> {
    // Trace ids are random: their low bits spread traces evenly.
    let shard = u128::from_be_bytes(trace.to_bytes()) as usize % SHARDS;
    &TREES[shard]
}

/// Whether the span `id` of `trace` is tracked (a container, or beneath one).
#[cfg(test)]
pub(crate) fn is_tracked(trace: TraceId, id: SpanId) -> bool {
    with_tree(trace, |tree| tree.nodes.contains_key(&id))
}

/// Whether any container is open (else spans need no tracking).
pub(crate) fn any_open() -> bool {
    OPEN.load(Ordering::Acquire) != 0
}

/// Runs `f` on the tree of `trace`, keeping [`OPEN`] in step with it.
fn with_tree<R>(trace: TraceId, f: impl FnOnce(&mut Tree) -> R) -> R {
    // Nothing in a tree's methods panics; a poisoned lock is still sound.
    let mut tree = tree(trace).lock().unwrap_or_else(PoisonError::into_inner);
    let before = tree.containers;
    let result = f(&mut tree);
    match tree.containers.cmp(&before) {
        std::cmp::Ordering::Greater => OPEN.fetch_add(tree.containers - before, Ordering::AcqRel),
        std::cmp::Ordering::Less => OPEN.fetch_sub(before - tree.containers, Ordering::AcqRel),
        std::cmp::Ordering::Equal => 0,
    };
    result
}

/// See [`Tree::started`].
pub(crate) fn started(trace: TraceId, id: SpanId, parent: SpanId, container: bool) {
    with_tree(trace, |tree| tree.started(id, parent, container));
}

/// See [`Tree::ended`].
pub(crate) fn ended(trace: TraceId, id: SpanId, usage: Option<Tokens>) -> Option<Sums> {
    with_tree(trace, |tree| tree.ended(id, usage))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u64) -> SpanId {
        SpanId::from(n)
    }

    fn usage(input: i64, output: i64) -> Option<Tokens> {
        Some(Tokens {
            input: Some(input),
            output: Some(output),
            ..Tokens::default()
        })
    }

    #[test]
    fn nested_containers_sum_through_plain_spans() {
        let mut t = Tree::default();
        t.started(id(1), SpanId::INVALID, true); // workflow
        t.started(id(2), id(1), true); // agent
        t.started(id(3), id(2), false); // plain span
        t.started(id(4), id(3), false); // chat beneath it
        t.started(id(5), id(1), false); // chat in the workflow itself
        assert_eq!(t.ended(id(4), usage(10, 2)), None);
        assert_eq!(t.ended(id(3), None), None);
        let agent = t.ended(id(2), None).expect("a container");
        assert_eq!(
            (agent.input, agent.output, agent.calls),
            (Some(10), Some(2), 1)
        );
        assert_eq!(t.ended(id(5), usage(1, 1)), None);
        let workflow = t.ended(id(1), None).expect("a container");
        assert_eq!(
            (workflow.input, workflow.output, workflow.calls),
            (Some(11), Some(3), 2)
        );
        assert!(t.nodes.is_empty() && t.containers == 0);
    }

    #[test]
    fn spans_outside_containers_and_unseen_ends_leave_nothing_behind() {
        let mut t = Tree::default();
        t.started(id(7), SpanId::INVALID, false);
        assert!(t.nodes.is_empty(), "no container: not tracked");
        t.started(id(1), SpanId::INVALID, true);
        t.started(id(2), id(1), false); // dropped by the sampler: never ends
        t.started(id(3), id(2), false);
        let sums = t.ended(id(1), None).expect("a container");
        assert_eq!(sums.attributes().count(), 0, "no model call, no roll-up");
        assert!(t.nodes.is_empty() && t.containers == 0);
        assert_eq!(t.ended(id(3), usage(1, 1)), None, "after its container");
    }

    #[test]
    fn an_id_seen_twice_keeps_the_container_count_right() {
        let mut t = Tree::default();
        t.started(id(2), SpanId::INVALID, true);
        t.started(id(1), SpanId::INVALID, true);
        t.started(id(1), SpanId::INVALID, true);
        assert_eq!(t.containers, 2);
        t.started(id(1), id(2), false);
        assert_eq!(t.containers, 1, "a container replaced by a plain span");
        assert_eq!(t.ended(id(1), None), None);
        assert!(t.ended(id(2), None).is_some());
        assert!(t.nodes.is_empty() && t.containers == 0);
    }

    #[test]
    fn roll_up_attributes_name_what_was_summed() {
        let sums = Sums {
            input: Some(31),
            output: None,
            calls: 3,
        };
        let attrs: Vec<_> = sums.attributes().collect();
        assert_eq!(
            attrs,
            [
                KeyValue::new(ROLLUP_INPUT_TOKENS, 31),
                KeyValue::new(ROLLUP_MODEL_CALLS, 3)
            ]
        );
    }

    /// A span of a random tree: its parent (an earlier span), what it is,
    /// and whether it is seen ending.
    #[derive(Debug, Clone, Copy)]
    enum Role {
        Container,
        ModelCall(i64, i64),
        Plain { ends: bool },
    }

    fn tree() -> impl proptest::strategy::Strategy<Value = Vec<(usize, Role)>> {
        use proptest::prelude::*;
        let role = prop_oneof![
            Just(Role::Container),
            (0..100_i64, 0..100_i64).prop_map(|(i, o)| Role::ModelCall(i, o)),
            any::<bool>().prop_map(|ends| Role::Plain { ends }),
        ];
        proptest::collection::vec((any::<proptest::sample::Index>(), role), 1..40).prop_map(
            |nodes| {
                // Node i's parent is an earlier node, or none (index i itself).
                nodes
                    .into_iter()
                    .enumerate()
                    .map(|(i, (parent, role))| (parent.index(i + 1), role))
                    .collect()
            },
        )
    }

    proptest::proptest! {
        #[test]
        fn every_container_gets_the_calls_beneath_it_at_any_depth(
            nodes in tree(),
            seed in proptest::prelude::any::<u64>(),
        ) {
            let parent = |i: usize| (nodes[i].0 != i).then_some(nodes[i].0);
            let span = |i: usize| id(i as u64 + 1);
            let mut t = Tree::default();
            for (i, (_, role)) in nodes.iter().enumerate() {
                let p = parent(i).map_or(SpanId::INVALID, span);
                t.started(span(i), p, matches!(role, Role::Container));
            }
            // Children end before their parents: a post-order, siblings in an
            // order from the seed.
            let mut children = vec![Vec::new(); nodes.len()];
            for i in 0..nodes.len() {
                if let Some(p) = parent(i) {
                    children[p].push(i);
                }
            }
            let mut order = Vec::new();
            let mut rng = seed;
            fn visit(i: usize, children: &mut [Vec<usize>], rng: &mut u64, order: &mut Vec<usize>) {
                let mut kids = std::mem::take(&mut children[i]);
                for k in (1..kids.len()).rev() {
                    *rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    kids.swap(k, (*rng >> 33) as usize % (k + 1));
                }
                for k in kids {
                    visit(k, children, rng, order);
                }
                order.push(i);
            }
            for root in (0..nodes.len()).filter(|i| parent(*i).is_none()) {
                visit(root, &mut children, &mut rng, &mut order);
            }
            let mut got = std::collections::HashMap::new();
            for i in order {
                let usage = match nodes[i].1 {
                    Role::ModelCall(input, output) => usage(input, output),
                    Role::Plain { ends: false } => continue,
                    _ => None,
                };
                if let Some(sums) = t.ended(span(i), usage) {
                    got.insert(i, sums);
                }
            }
            for (c, _) in nodes.iter().enumerate().filter(|(_, n)| matches!(n.1, Role::Container)) {
                // The model calls with `c` among their ancestors.
                let mut expected = Sums::default();
                for (m, (_, role)) in nodes.iter().enumerate() {
                    let Role::ModelCall(input, output) = *role else { continue };
                    let mut a = parent(m);
                    while let Some(x) = a {
                        if x == c {
                            expected.add(Sums { input: Some(input), output: Some(output), calls: 1 });
                            break;
                        }
                        a = parent(x);
                    }
                }
                proptest::prop_assert_eq!(got.get(&c), Some(&expected), "container {}", c);
            }
            proptest::prop_assert!(t.nodes.is_empty() && t.containers == 0, "nothing left: {:?}", t);
        }
    }
}
