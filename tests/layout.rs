//! The layout's rules, checked on the source: the top-level modules of `src/` import each
//! other without cycles, no command imports another, and every document a comment cites is in
//! the repository.

#![allow(clippy::disallowed_methods)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to (`None` for the crate roots).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    let name = first.trim_end_matches(".rs").to_string();
    (!matches!(name.as_str(), "lib" | "main")).then_some(name)
}

/// The top-level modules a text names through `crate::` (comment lines do not count).
fn references(text: &str) -> BTreeSet<String> {
    let code: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect();
    let text = code.join("\n");
    let mut found = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                let name = ident(part.trim());
                if !name.is_empty() {
                    found.insert(name);
                }
            }
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let Some(module) = module_of(&src, &file) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap();
        let edges = graph.entry(module.clone()).or_default();
        for target in references(&text) {
            if target != module {
                edges.insert(target);
            }
        }
    }
    graph
}

/// A cycle of the graph, if it has one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

#[test]
fn top_level_modules_have_no_import_cycles() {
    let graph = graph();
    assert!(graph.len() >= 15, "read the modules: {graph:?}");
    assert!(
        graph["walk"].contains("source"),
        "the scan sees imports: {graph:?}"
    );
    if let Some(cycle) = find_cycle(&graph) {
        panic!("import cycle: {}", cycle.join(" -> "));
    }
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    g.entry("a".into()).or_default().insert("b".into());
    g.entry("b".into()).or_default().insert("c".into());
    assert_eq!(find_cycle(&g), None);
    g.entry("c".into()).or_default().insert("a".into());
    assert_eq!(find_cycle(&g).unwrap(), ["a", "b", "c", "a"]);
    assert_eq!(
        references("use crate::{a, b::C};\nlet x = crate::d::e();\n/// see crate::z"),
        ["a", "b", "d"].iter().map(|s| s.to_string()).collect()
    );
}

#[test]
fn no_command_imports_another() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/commands");
    let mut files = Vec::new();
    sources(&dir, &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            // `super::NAME::` inside a command is another command (a path, not only a `use`).
            let sibling = line.match_indices("super::").any(|(i, _)| {
                line[i + "super::".len()..]
                    .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .next()
                    .is_some_and(|name| {
                        !name.is_empty() && line[i..].contains(&format!("super::{name}::"))
                    })
            });
            assert!(
                !line.contains("crate::commands") && !line.starts_with("use super::") && !sibling,
                "{}: `{line}`: commands share code through library modules",
                file.display()
            );
        }
    }
}

/// Every `*.md` file a comment names in backticks (`docs/aws-compat.md`, `README.md`) is in the
/// repository: the notes the code cites travel with it.
#[test]
fn every_cited_document_is_in_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    sources(&root.join("src"), &mut files);
    sources(&root.join("tests"), &mut files);
    let mut missing = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for line in text.lines().filter(|l| l.trim_start().starts_with("//")) {
            for (i, cited) in line.split('`').enumerate() {
                let named = i % 2 == 1 && cited.ends_with(".md") && !cited.contains([' ', '*']);
                if named && !root.join(cited).is_file() {
                    missing.push(format!("{}: {cited}", file.display()));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "cited but not in the repository: {missing:?}"
    );
}

/// The environment-variable table of `docs/reference.md` and the variables creds reads
/// (`creds::context::VARIABLES`, the only ones its environment snapshot holds) agree: every
/// variable read is documented, and every one documented is read. The home and cache
/// locations (`HOME`, `USERPROFILE`, ...) are in "Where files live", creds' own recursion guard
/// and renewal lock below the table, and Claude Code's variables `doctor` reads in
/// `docs/troubleshooting.md`.
#[test]
fn the_environment_table_lists_what_creds_reads() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let reference = std::fs::read_to_string(root.join("docs/reference.md")).unwrap();
    let table = reference
        .split("## Environment variables")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("docs/reference.md has an environment-variable table");
    let mut documented = BTreeSet::new();
    for row in table.lines().filter(|l| l.starts_with("| `")) {
        // The first cell; a variable another library reads itself is named in the second.
        let first = row.split(" | ").next().unwrap_or_default();
        let either_case = first.contains("(either case)");
        for (i, name) in first.split('`').enumerate() {
            if i % 2 == 1 {
                documented.insert(name.to_string());
                if either_case {
                    documented.insert(name.to_lowercase());
                }
            }
        }
    }
    // Documented on other pages of docs/ (checked to be there), or creds' own.
    let elsewhere = [
        (
            "reference.md",
            &[
                "HOME",
                "USERPROFILE",
                "HOMEDRIVE",
                "HOMEPATH",
                "XDG_CACHE_HOME",
                "LOCALAPPDATA",
                "_CREDS_PROFILE_CHAIN",
                "_CREDS_RENEWAL_LOCK",
            ][..],
        ),
        (
            "troubleshooting.md",
            &[
                "AWS_BEARER_TOKEN_BEDROCK",
                "CLAUDE_CODE_SKIP_BEDROCK_AUTH",
                "ANTHROPIC_BEDROCK_BASE_URL",
                "CLAUDE_CODE_USE_BEDROCK",
            ][..],
        ),
    ];
    for (page, names) in elsewhere {
        let text = std::fs::read_to_string(root.join("docs").join(page)).unwrap();
        for name in names {
            assert!(text.contains(name), "docs/{page} does not mention {name}");
            documented.insert(name.to_string());
        }
    }
    let read: BTreeSet<String> = creds::context::VARIABLES
        .iter()
        .map(|v| v.to_string())
        .collect();
    let undocumented: Vec<&String> = read.difference(&documented).collect();
    let unread: Vec<&String> = documented.difference(&read).collect();
    assert!(
        undocumented.is_empty() && unread.is_empty(),
        "read but not in docs/reference.md's table: {undocumented:?}; in the table but never read: {unread:?}"
    );
}

/// The places that list what creds resolves (the README's first paragraph, `export --help`, the
/// Debian package's description) name every source it has.
#[test]
fn every_source_list_names_every_source() {
    const SOURCES: &[&str] = &[
        "IAM Identity Center",
        "aws login",
        "static keys",
        "keyring",
        "Environment",
        "Ec2InstanceMetadata",
        "EcsContainer",
        "web identity",
        "credential_process",
        "MFA",
        "role",
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let first_paragraph = readme.split("\n\n").nth(1).unwrap_or_default().to_string();
    let cli = std::fs::read_to_string(root.join("src/cli.rs")).unwrap();
    let export_help = cli
        .split("/// Print credentials for a profile")
        .nth(1)
        .and_then(|rest| rest.split("Export(ExportArgs)").next())
        .unwrap_or_default()
        .replace("    /// ", " ")
        .replace('\n', " ");
    let deb = std::fs::read_to_string(root.join("packaging/deb/build.sh")).unwrap();
    let description = deb
        .split("Description:")
        .nth(1)
        .and_then(|rest| rest.split("CONTROL").next())
        .unwrap_or_default()
        .replace("\n ", " ");
    for (place, text) in [
        (
            "the README's first paragraph",
            first_paragraph.replace('\n', " "),
        ),
        ("`creds export --help`", export_help),
        ("the Debian package's description", description),
    ] {
        let missing: Vec<&&str> = SOURCES.iter().filter(|s| !text.contains(**s)).collect();
        assert!(
            missing.is_empty(),
            "{place} does not name {missing:?}: {text}"
        );
    }
}

/// A source is registered in one place: `register!` in `src/source/mod.rs` names each module
/// of `src/source/` once, and no other file of `src/` lists the sources in a `match` of its own
/// (three or more variants of `Base` or `Source` in one file are such a list).
#[test]
fn every_source_is_registered_in_one_place() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let registry = std::fs::read_to_string(root.join("src/source/mod.rs")).unwrap();
    let start = registry
        .find("\nregister! {")
        .expect("src/source/mod.rs registers the sources with `register! {`");
    let block = &registry[start..];
    let block = &block[..block.find("\n}\n").expect("the end of register!")];
    let mut modules: Vec<String> = std::fs::read_dir(root.join("src/source"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n != "mod.rs"))
        .map(|p| p.file_stem().unwrap().to_str().unwrap().to_string())
        .collect();
    modules.sort();
    assert!(modules.len() >= 12, "{modules:?}");
    for module in &modules {
        let count = block.matches(&format!("({module}::")).count();
        assert_eq!(
            count, 1,
            "src/source/{module}.rs is registered {count} times in register!; a source is one line there"
        );
    }
    // docs/sources.md's table has a row for every base source, in the registry's order.
    let bases = block
        .split("bases: [")
        .nth(1)
        .and_then(|rest| rest.split("],").next())
        .unwrap_or_default();
    let registered: Vec<&str> = bases
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("//"))
        .filter_map(|l| l.split('(').next())
        .collect();
    let page = std::fs::read_to_string(root.join("docs/sources.md")).unwrap();
    let rows = page
        .lines()
        .filter(|l| l.starts_with("| ") && l[2..].starts_with(|c: char| c.is_ascii_digit()))
        .count();
    assert_eq!(
        rows,
        registered.len(),
        "docs/sources.md's table should have a row for each base source: {registered:?}"
    );
    let variants = |text: &str, prefix: &str| -> BTreeSet<String> {
        text.match_indices(prefix)
            .map(|(i, _)| {
                text[i + prefix.len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .collect::<String>()
            })
            .filter(|v| v.chars().next().is_some_and(|c| c.is_ascii_uppercase()))
            .filter(|v| v.chars().any(|c| c.is_ascii_lowercase()))
            .collect()
    };
    let mut files = Vec::new();
    sources(&root.join("src"), &mut files);
    for file in files {
        if file.starts_with(root.join("src/source")) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        for prefix in ["Base::", "Source::"] {
            let named = variants(text, prefix);
            assert!(
                named.len() < 3,
                "{} lists sources ({prefix}{named:?}): declare the behaviour in the source's own file instead",
                file.display()
            );
        }
    }
}
