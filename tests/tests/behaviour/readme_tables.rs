//! The README's benchmark tables are the benchmark scripts' output, verbatim: `bash bench/all.sh`
//! writes `bench/results/*.md`, and this fails if the README says anything else.

#[test]
fn the_readme_embeds_every_benchmark_table_as_generated() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    for table in ["dispatch", "jwt", "load", "load-postgres", "compile"] {
        let generated = std::fs::read_to_string(format!("{root}/bench/results/{table}.md")).unwrap();
        assert!(readme.contains(&generated), "README.md does not embed bench/results/{table}.md as generated");
    }
    let whoami = std::fs::read_to_string(format!("{root}/bench/results/callgrind-whoami.txt")).unwrap();
    let ratio = whoami.lines().find_map(|l| l.strip_prefix("authn / hand-written = ")).unwrap();
    assert!(readme.contains(&format!("**{ratio}×**")), "the README's instruction ratio is not {ratio}");
}
