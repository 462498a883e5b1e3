//! The stage graph (petgraph): edges from `vis`, caltable, flag-layer,
//! model and `after` dependencies; a deterministic topological order (ties
//! broken by declaration order); downstream closures for `--from` and plans.

use std::collections::{BTreeSet, HashMap, HashSet};

use almacal_recipe::{DepKind, Recipe};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;

/// The DAG of a validated recipe (node weight = stage index).
pub struct Dag {
    pub graph: DiGraph<usize, DepKind>,
    nodes: Vec<NodeIndex>,
    index: HashMap<String, usize>,
    /// Stage indices in topological order.
    pub order: Vec<usize>,
}

impl Dag {
    /// Build the graph. The recipe loader has already rejected cycles; a
    /// cycle here would leave stages out of `order`.
    pub fn build(recipe: &Recipe) -> Self {
        let mut graph = DiGraph::new();
        let nodes: Vec<NodeIndex> = (0..recipe.stages.len())
            .map(|i| graph.add_node(i))
            .collect();
        let index: HashMap<String, usize> = recipe
            .stages
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), i))
            .collect();
        for (i, s) in recipe.stages.iter().enumerate() {
            for d in &s.deps {
                if let Some(&j) = index.get(&d.stage) {
                    graph.add_edge(nodes[j], nodes[i], d.kind);
                }
            }
        }
        // Kahn's algorithm, always taking the first-declared ready stage.
        let mut indeg: Vec<usize> = nodes
            .iter()
            .map(|n| {
                graph
                    .neighbors_directed(*n, Direction::Incoming)
                    .collect::<HashSet<_>>()
                    .len()
            })
            .collect();
        let mut ready: BTreeSet<usize> = (0..nodes.len()).filter(|i| indeg[*i] == 0).collect();
        let mut order = Vec::new();
        while let Some(i) = ready.pop_first() {
            order.push(i);
            let outs: HashSet<NodeIndex> = graph
                .neighbors_directed(nodes[i], Direction::Outgoing)
                .collect();
            for n in outs {
                let j = graph[n];
                indeg[j] -= 1;
                if indeg[j] == 0 {
                    ready.insert(j);
                }
            }
        }
        Self {
            graph,
            nodes,
            index,
            order,
        }
    }

    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// Direct upstream stages of `i` with the kinds of dependency.
    /// Stage indices in the order to start them when several are ready: the longest chain
    /// of stages downstream first (the critical path), ties in topological order.
    pub fn start_order(&self) -> Vec<usize> {
        let mut height = vec![1usize; self.nodes.len()];
        for &j in self.order.iter().rev() {
            for (u, _) in self.upstream(j) {
                height[u] = height[u].max(height[j] + 1);
            }
        }
        let mut order = self.order.clone();
        order.sort_by_key(|&i| std::cmp::Reverse(height[i]));
        order
    }

    pub fn upstream(&self, i: usize) -> Vec<(usize, DepKind)> {
        self.graph
            .edges_directed(self.nodes[i], Direction::Incoming)
            .map(|e| (self.graph[e.source()], *e.weight()))
            .collect()
    }

    /// `i` and every stage downstream of it.
    pub fn downstream_closure(&self, i: usize) -> HashSet<usize> {
        let mut seen = HashSet::new();
        let mut stack = vec![i];
        while let Some(k) = stack.pop() {
            if seen.insert(k) {
                stack.extend(
                    self.graph
                        .neighbors_directed(self.nodes[k], Direction::Outgoing)
                        .map(|n| self.graph[n]),
                );
            }
        }
        seen
    }
}
