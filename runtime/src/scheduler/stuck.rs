//! Which stuck tasks wait for each other: the cycles of the wait-for graph
//! that a deadlock report names as causes.
//!
//! A task of a stuck set waits, through other stuck tasks, for itself
//! exactly when it is in a strongly connected component of the wait-for
//! graph with more than one task, or waits for itself directly. The
//! components come from Tarjan's algorithm, written with an explicit stack
//! (a chain of 10^5 tasks would overflow a recursive one), in time linear
//! in the tasks and their waits; asking "does this task reach that one"
//! per pair would be quadratic, and reports come when a program is stuck
//! with every task it spawned.

use super::StuckTask;
use std::collections::HashMap;

/// The wait-for graph of a stuck set, by task id.
pub struct WaitCycles {
    /// Component number of each stuck task.
    component: HashMap<u64, usize>,
}

impl WaitCycles {
    pub fn new(stuck: &[StuckTask]) -> WaitCycles {
        let position: HashMap<u64, usize> = stuck
            .iter()
            .enumerate()
            .map(|(i, s)| (s.task.id(), i))
            .collect();
        // Edges between stuck tasks only: a task outside the set (never
        // spawned, or running) is in no cycle of it.
        let edges: Vec<Vec<usize>> = stuck
            .iter()
            .map(|s| {
                s.waits_for
                    .iter()
                    .filter_map(|d| position.get(&d.id()).copied())
                    .collect()
            })
            .collect();
        let numbers = components(&edges);
        WaitCycles {
            component: stuck
                .iter()
                .zip(numbers)
                .map(|(s, c)| (s.task.id(), c))
                .collect(),
        }
    }

    /// Whether stuck task `task`, waiting directly for `dependency`, is
    /// waited for by it in turn (through stuck tasks): a cycle.
    pub fn closes_cycle(&self, task: u64, dependency: u64) -> bool {
        match (self.component.get(&task), self.component.get(&dependency)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        }
    }
}

/// The strongly connected component of each node of the graph `edges`
/// (node i's successors), numbered from 0.
fn components(edges: &[Vec<usize>]) -> Vec<usize> {
    const UNSEEN: usize = usize::MAX;
    let n = edges.len();
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut component = vec![UNSEEN; n];
    let (mut next_index, mut next_component) = (0, 0);
    for root in 0..n {
        if index[root] != UNSEEN {
            continue;
        }
        // Each frame: a node and how many of its edges were followed.
        let mut frames = vec![(root, 0)];
        index[root] = next_index;
        low[root] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (node, ref mut followed)) = frames.last_mut() {
            if let Some(&next) = edges[node].get(*followed) {
                *followed += 1;
                if index[next] == UNSEEN {
                    index[next] = next_index;
                    low[next] = next_index;
                    next_index += 1;
                    stack.push(next);
                    on_stack[next] = true;
                    frames.push((next, 0));
                } else if on_stack[next] {
                    low[node] = low[node].min(index[next]);
                }
                continue;
            }
            frames.pop();
            if let Some(&(parent, _)) = frames.last() {
                low[parent] = low[parent].min(low[node]);
            }
            if low[node] == index[node] {
                while let Some(member) = stack.pop() {
                    on_stack[member] = false;
                    component[member] = next_component;
                    if member == node {
                        break;
                    }
                }
                next_component += 1;
            }
        }
    }
    component
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether j reaches i from i's successor j, by search: the definition.
    fn reaches(edges: &[Vec<usize>], from: usize, to: usize) -> bool {
        let mut seen = vec![false; edges.len()];
        let mut next = vec![from];
        while let Some(node) = next.pop() {
            if node == to {
                return true;
            }
            if !std::mem::replace(&mut seen[node], true) {
                next.extend(&edges[node]);
            }
        }
        false
    }

    #[test]
    fn components_agree_with_reachability_on_small_graphs() {
        // Every graph of 4 nodes whose edges come from a 16-bit mask.
        for mask in 0u32..1 << 16 {
            let edges: Vec<Vec<usize>> = (0..4)
                .map(|i| (0..4).filter(|j| mask >> (i * 4 + j) & 1 == 1).collect())
                .collect();
            let numbers = components(&edges);
            for i in 0..4 {
                for &j in &edges[i] {
                    assert_eq!(
                        numbers[i] == numbers[j],
                        reaches(&edges, j, i),
                        "mask {mask:#x}, edge {i} -> {j}"
                    );
                }
            }
        }
    }

    #[test]
    fn long_chains_and_cycles_take_no_deep_recursion() {
        let n = 200_000;
        let chain: Vec<Vec<usize>> = (0..n)
            .map(|i| if i + 1 < n { vec![i + 1] } else { vec![] })
            .collect();
        let numbers = components(&chain);
        assert_ne!(numbers[0], numbers[1]);
        let cycle: Vec<Vec<usize>> = (0..n).map(|i| vec![(i + 1) % n]).collect();
        let numbers = components(&cycle);
        assert!(numbers.iter().all(|&c| c == numbers[0]));
    }
}
