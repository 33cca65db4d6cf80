//! Dependencies point one way (issue 19): inside every crate of the workspace, no two modules
//! reach each other through `crate::` or `super::` paths, directly or around a loop. (Across
//! crates Cargo already refuses a cycle.) This is `cargo modules dependencies --acyclic` in a
//! test: it needs no tool installed, and fails naming every edge of a cycle with its file.
//!
//! How it reads the code: each `src/**/*.rs` file is a module (`config/model.rs` is
//! `config::model`); its non-test code (up to its `#[cfg(test)]` module) is scanned for
//! `crate::a::b…` and `super::x` paths, `use crate::{a, b::c}` groups included, after comments
//! are dropped. An edge A → B between two modules counts between the children of their nearest
//! common ancestor that hold them: `config::model` → `model` is `config` → `model`. A module
//! and its own descendants may refer to each other (`mod.rs` re-exports what its files define).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

mod common;

/// Module path (`["config", "model"]`) of each source file of one crate, and its text.
fn modules_of(src: &Path) -> Vec<(Vec<String>, PathBuf, String)> {
    let mut files = Vec::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(src).unwrap().with_extension("");
                let mut module: Vec<String> =
                    relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
                if matches!(module.last().map(String::as_str), Some("mod" | "lib" | "main")) {
                    module.pop();
                }
                // Binaries other than the library (src/bin, main.rs) are roots of their own.
                if relative.starts_with("bin") || relative == Path::new("main") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                files.push((module, path, text));
            }
        }
    }
    files
}

/// The code a module's graph is made of: comments dropped, the test module cut off.
fn production_code(text: &str) -> String {
    let code: String = text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
    match code.find("#[cfg(test)]") {
        Some(at) => code[..at].to_string(),
        None => code,
    }
}

/// The module paths a piece of code names after `prefix` (`crate::` or `super::`): `a::b`,
/// and each item of a `{a, b::c}` group.
fn paths_after(code: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(prefix) {
        // `foo_crate::` is not `crate::`.
        let before = rest[..at].chars().last();
        rest = &rest[at + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                found.push(segments(item.trim()));
            }
        } else {
            found.push(segments(rest));
        }
    }
    found.retain(|p| !p.is_empty());
    found
}

/// The leading `a::b::c` identifiers of `text`.
fn segments(text: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = text;
    loop {
        let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
        if end == 0 {
            break;
        }
        parts.push(rest[..end].to_string());
        match rest[end..].strip_prefix("::") {
            Some(next) => rest = next,
            None => break,
        }
    }
    parts
}

/// An edge between sibling modules: `from` and `to` under the same parent, with where it is.
type Edges = BTreeMap<(Vec<String>, Vec<String>), BTreeSet<String>>;

fn sibling_edges(src: &Path) -> Edges {
    let files = modules_of(src);
    let known: BTreeSet<Vec<String>> = files.iter().map(|(m, ..)| m.clone()).collect();
    let mut edges = Edges::new();
    for (module, path, text) in &files {
        let code = production_code(text);
        let mut targets: Vec<Vec<String>> = paths_after(&code, "crate::");
        if !module.is_empty() {
            // `super::` of `a/b.rs` is `a`; of `a/b/mod.rs` it is `a` too.
            let parent = &module[..module.len() - 1];
            targets.extend(paths_after(&code, "super::").into_iter().map(|p| [parent.to_vec(), p].concat()));
        }
        for target in targets {
            // The longest prefix that is a module of the crate (the rest names an item).
            let Some(to) = (1..=target.len()).rev().map(|n| target[..n].to_vec()).find(|p| known.contains(p)) else {
                continue;
            };
            let common = module.iter().zip(&to).take_while(|(a, b)| a == b).count();
            if common == module.len() || common == to.len() {
                continue; // a module and its own descendants
            }
            let (from, to) = (module[..=common].to_vec(), to[..=common].to_vec());
            let file = path.strip_prefix(src.parent().unwrap()).unwrap_or(path).display().to_string();
            edges.entry((from, to.clone())).or_default().insert(format!("{file} → {}", to.join("::")));
        }
    }
    edges
}

/// The strongly connected components with more than one module (Tarjan).
fn cycles(edges: &Edges) -> Vec<Vec<Vec<String>>> {
    let mut graph: BTreeMap<&Vec<String>, Vec<&Vec<String>>> = BTreeMap::new();
    for (from, to) in edges.keys() {
        graph.entry(from).or_default().push(to);
        graph.entry(to).or_default();
    }
    struct Tarjan<'a> {
        graph: &'a BTreeMap<&'a Vec<String>, Vec<&'a Vec<String>>>,
        index: BTreeMap<&'a Vec<String>, usize>,
        low: BTreeMap<&'a Vec<String>, usize>,
        stack: Vec<&'a Vec<String>>,
        found: Vec<Vec<Vec<String>>>,
    }
    impl<'a> Tarjan<'a> {
        fn visit(&mut self, v: &'a Vec<String>) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            for &w in &self.graph[v] {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.stack.contains(&w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    component.push(w.clone());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    self.found.push(component);
                }
            }
        }
    }
    let mut tarjan =
        Tarjan { graph: &graph, index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), found: Vec::new() };
    for v in graph.keys() {
        if !tarjan.index.contains_key(v) {
            tarjan.visit(v);
        }
    }
    tarjan.found
}

/// The reader sees what it must: a cycle is found, with the edges that make it.
#[test]
fn the_checker_finds_a_cycle_and_its_edges() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("config")).unwrap();
    std::fs::write(src.join("lib.rs"), "pub mod config;\npub mod model;\npub mod runner;\n").unwrap();
    std::fs::write(src.join("config/mod.rs"), "mod model;\nuse self::model::X; // crate::runner in a comment\n")
        .unwrap();
    std::fs::write(src.join("config/model.rs"), "use crate::{model::elm_config, fsutil};\n").unwrap();
    std::fs::write(src.join("model.rs"), "use crate::runner::latest;\n#[cfg(test)]\nuse crate::config::X;\n").unwrap();
    std::fs::write(src.join("runner.rs"), "fn f() { my_crate::config::x(); super::config::Y; }\n").unwrap();
    let edges = sibling_edges(&src);
    let pairs: Vec<(String, String)> = edges.keys().map(|(a, b)| (a.join("::"), b.join("::"))).collect();
    assert_eq!(
        pairs,
        [
            ("config".to_string(), "model".to_string()),
            ("model".into(), "runner".into()),
            ("runner".into(), "config".into())
        ]
    );
    let found = cycles(&edges);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].len(), 3);
}

/// Every crate of the workspace: its modules form no cycle.
#[test]
fn dependencies_point_one_way_in_every_crate() {
    let crates = common::workspace_root().join("crates");
    let mut report = Vec::new();
    let mut checked = 0;
    for entry in std::fs::read_dir(&crates).unwrap() {
        let src = entry.unwrap().path().join("src");
        if !src.is_dir() {
            continue;
        }
        let edges = sibling_edges(&src);
        checked += 1;
        for cycle in cycles(&edges) {
            let members: BTreeSet<&Vec<String>> = cycle.iter().collect();
            let mut lines = vec![format!(
                "cycle in {}: {}",
                src.display(),
                cycle.iter().map(|m| m.join("::")).collect::<Vec<_>>().join(", ")
            )];
            for ((from, to), places) in &edges {
                if members.contains(from) && members.contains(to) {
                    lines.extend(places.iter().map(|p| format!("  {} → {}: {p}", from.join("::"), to.join("::"))));
                }
            }
            report.push(lines.join("\n"));
        }
    }
    assert!(checked >= 5, "only {checked} crates under {}", crates.display());
    assert!(report.is_empty(), "modules that depend on each other:\n{}", report.join("\n"));
}
