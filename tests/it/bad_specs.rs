//! The bad-spec corpus: every file in fixtures/bad/ must fail with exit code 2, name the file,
//! the line (marked `# <-- error` in the fixture) and the field (its `# expect-field:` line;
//! `-` for a problem of the whole document, which names no field), and leave the output
//! folder untouched. Fixtures may hold bytes that are not UTF-8 (read lossily here).

use crate::support::common::*;

#[test]
fn every_bad_spec_is_rejected_with_a_located_error_and_nothing_written() {
    let dir = fixture("bad");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 70,
        "the corpus has only {} specs",
        files.len()
    );
    let mut failures = Vec::new();
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        let field = text
            .lines()
            .next()
            .unwrap()
            .strip_prefix("# expect-field: ")
            .expect("expect-field line")
            .split("  #")
            .next()
            .unwrap()
            .trim();
        let line = text
            .lines()
            .position(|l| l.contains("# <-- error"))
            .expect("an error marker")
            + 1;

        let out = tempfile::tempdir().unwrap();
        std::fs::write(out.path().join("keep.txt"), "untouched").unwrap();
        let generate = |format: &str| {
            run(&[
                "generate",
                "-f",
                path.to_str().unwrap(),
                "--out",
                out.path().to_str().unwrap(),
                "--diagnostics",
                format,
            ])
        };
        // What a person reads on a terminal, pinned per fixture (the diagnostic's text, its
        // source excerpt, its hint and the closing line).
        let human = generate("human");
        redactions(&[(&dir, "FIXTURES"), (out.path(), "OUT")]).bind(|| {
            insta::assert_snapshot!(
                format!("bad_{}", name.trim_end_matches(".yaml")),
                stderr(&human)
            );
        });
        // What a log, CI or an editor reads (the default when stderr is not a terminal): one
        // `file:line:col: field: message` line each, then its hint.
        let o = run(&[
            "generate",
            "-f",
            path.to_str().unwrap(),
            "--out",
            out.path().to_str().unwrap(),
        ]);
        let err = stderr(&o);
        let first = err.lines().next().unwrap_or_default().to_string();
        let mut why = Vec::new();
        if o.status.code() != Some(2) {
            why.push(format!("exit {:?}, expected 2", o.status.code()));
        }
        if !first.starts_with(&format!("{name}:{line}:")) {
            why.push(format!("first line does not point at {name}:{line}"));
        }
        if field == "-" {
            // A whole-document problem: `file:line:col: message`, no field path.
            let rest = first.splitn(4, ':').nth(3).unwrap_or_default();
            if !rest.starts_with(' ') || rest.trim_start().starts_with("apps") {
                why.push("first line names a field for a document problem".into());
            }
        } else if !first.contains(&format!(": {field}: ")) {
            why.push(format!("first line does not name the field `{field}`"));
        }
        if err.contains('\0') || err.contains('\u{1b}') {
            why.push("a control character reached the terminal".into());
        }
        if !err.contains("hint:") {
            why.push("no hint".into());
        }
        if !o.stdout.is_empty() {
            why.push("wrote to stdout".into());
        }
        let left = read_tree(out.path());
        if left.len() != 1 || left["keep.txt"] != "untouched" {
            why.push(format!(
                "the output folder changed: {:?}",
                left.keys().collect::<Vec<_>>()
            ));
        }
        if !why.is_empty() {
            failures.push(format!("{name}: {}\n    {first}", why.join("; ")));
        }
    }
    assert!(
        failures.is_empty(),
        "bad specs not handled as they should be:\n{}",
        failures.join("\n")
    );
}

#[test]
fn several_problems_are_all_reported() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("vault.yaml");
    std::fs::write(
        &spec,
        "apiVersion: kubectl-vault/v1alpha1\nkind: VaultStack\ncluster: Dev\nvault:\n  chart: {version: 0.30.0}\n  tls: t\noperator:\n  chart: {version: 0.10.0}\napps:\n  - name: a\n    namespace: b\n    secrets:\n      - name: s\n        kv: m/p\n        refreshAfter: 5x\n",
    )
    .unwrap();
    let o = run(&["generate", "-f", spec.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    redactions(&[(dir.path(), "TMP")]).bind(|| insta::assert_snapshot!("several_problems", err));
}

/// A spec saved with a UTF-8 byte-order mark (as some Windows editors do) is read as if it
/// had none.
#[test]
fn a_byte_order_mark_is_accepted() {
    let (with, without) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let text = std::fs::read_to_string(fixture("example.yaml")).unwrap();
    std::fs::write(with.path().join("vault.yaml"), format!("\u{feff}{text}")).unwrap();
    std::fs::write(without.path().join("vault.yaml"), &text).unwrap();
    let o = run(&[
        "generate",
        "-f",
        with.path().join("vault.yaml").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let plain = run(&[
        "generate",
        "-f",
        without.path().join("vault.yaml").to_str().unwrap(),
    ]);
    assert!(o.stdout == plain.stdout, "the BOM changed the output");
}

/// Inputs that would make the tool read or build without end are refused fast (exit 2).
#[test]
fn unbounded_inputs_are_refused_in_bounded_time() {
    let dir = tempfile::tempdir().unwrap();
    let head = "apiVersion: kubectl-vault/v1alpha1\nkind: VaultStack\ncluster: dev\noperator:\n  chart: {version: 0.10.0}\n";
    // 2,000 aliases of a 2,000-key map (the 59 KB spec that took 46 s and 3.6 GB).
    let mut aliases =
        format!("{head}vault:\n  chart: {{version: 0.30.0}}\n  values:\n    base: &m\n");
    for i in 0..2000 {
        aliases.push_str(&format!("      k{i}: v\n"));
    }
    aliases.push_str("    copies:\n");
    for _ in 0..2000 {
        aliases.push_str("      - *m\n");
    }
    // 100,000 levels of nesting.
    let deep = format!(
        "{head}vault:\n  chart: {{version: 0.30.0}}\n  values:\n    x: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let mut deep_block = format!("{head}vault:\n  chart: {{version: 0.30.0}}\n  values:\n");
    for i in 0..20_000 {
        deep_block.push_str(&format!("{}k{i}:\n", " ".repeat(4 + 2 * i)));
    }
    let replicas = format!("{head}vault:\n  chart: {{version: 0.30.0}}\n  replicas: 1000001\n");
    for (name, text) in [
        ("aliases.yaml", aliases),
        ("deep.yaml", deep),
        ("deep-block.yaml", deep_block),
        ("replicas.yaml", replicas),
    ] {
        let spec = dir.path().join(name);
        std::fs::write(&spec, text).unwrap();
        let started = std::time::Instant::now();
        let out = dir.path().join("out");
        let o = run(&[
            "generate",
            "-f",
            spec.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{name} took {:?}",
            started.elapsed()
        );
        assert!(!out.exists(), "{name}: wrote output");
        assert!(
            stderr(&o).starts_with(&format!("{name}:")),
            "{name}: {}",
            stderr(&o)
        );
    }
    // A device that never ends: read up to the limit, then refused.
    #[cfg(unix)]
    {
        let started = std::time::Instant::now();
        let o = run(&["generate", "-f", "/dev/zero"]);
        assert_eq!(o.status.code(), Some(2));
        assert!(stderr(&o).contains("larger than 4 MiB"), "{}", stderr(&o));
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }
}
