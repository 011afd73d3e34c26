//! The settings syntax: sections, values, quoting, comments, includes, references and the
//! errors, each naming its file and line.

use std::path::{Path, PathBuf};

use super::settings::{parse_file, parse_str};
use super::tree::{Problem, Section, resolve};

fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/config/testdata")
        .join(rel)
}

fn parse(text: &str) -> Section {
    parse_str(Path::new("/etc/swanctl/swanctl.conf"), text).expect("parses")
}

fn parse_err(text: &str) -> Problem {
    parse_str(Path::new("/etc/swanctl/swanctl.conf"), text).expect_err("fails")
}

/// The value at a dotted path.
fn value<'a>(root: &'a Section, path: &str) -> Option<&'a str> {
    let (sections, key) = path.rsplit_once('.').unwrap_or(("", path));
    let section = sections
        .split('.')
        .filter(|s| !s.is_empty())
        .try_fold(root, |s, name| s.section(name))?;
    section.get(key)?.value.as_deref()
}

#[test]
fn sections_values_and_comments() {
    let root = parse(
        "# a comment\n\
         a = b\n\
         section-one {\n\
         \tsomevalue = asdf   # trailing comment\n\
         \tsubsection { othervalue = xxx }\n\
         \tspaced   =   several   words  here\n\
         \tempty =\n\
         }\n\
         section-one { more = 1 }\n",
    );
    assert_eq!(value(&root, "a"), Some("b"));
    assert_eq!(value(&root, "section-one.somevalue"), Some("asdf"));
    assert_eq!(
        value(&root, "section-one.subsection.othervalue"),
        Some("xxx")
    );
    // Parts of a value are joined by one space.
    assert_eq!(
        value(&root, "section-one.spaced"),
        Some("several words here")
    );
    let one = root.section("section-one").unwrap();
    assert_eq!(one.get("empty").unwrap().value, None);
    // A section written twice is one section.
    assert_eq!(value(&root, "section-one.more"), Some("1"));
    assert_eq!(root.sections.len(), 1);
    assert_eq!(one.get("somevalue").unwrap().at.line, 4);
    assert_eq!(one.get("more").unwrap().at.line, 9);
}

#[test]
fn later_values_replace_and_keep_their_place() {
    let root = parse("x = 1\ny = 2\nx = 3\n");
    let keys: Vec<_> = root
        .keys
        .iter()
        .map(|kv| (kv.key.as_str(), kv.value.as_deref()))
        .collect();
    assert_eq!(keys, [("x", Some("3")), ("y", Some("2"))]);
    assert_eq!(root.get("x").unwrap().at.line, 3);
}

#[test]
fn quoted_values_and_escapes() {
    let root = parse(
        "a = \"  spaces kept  \"\n\
         b = \"tab\\tnew\\nline \\\"quoted\\\" \\\\ \\x\"\n\
         c = \"joined \\\n\
         line\"\n\
         d = \"# not a comment\" # a comment\n\
         e = \"spans\n\
         lines\"\n\
         f = mixed \"quoted part\" tail\n\
         g = 'single quotes are plain'\n",
    );
    assert_eq!(value(&root, "a"), Some("  spaces kept  "));
    assert_eq!(value(&root, "b"), Some("tab\tnew\nline \"quoted\" \\ x"));
    assert_eq!(value(&root, "c"), Some("joined line"));
    assert_eq!(value(&root, "d"), Some("# not a comment"));
    assert_eq!(value(&root, "e"), Some("spans\nlines"));
    assert_eq!(value(&root, "f"), Some("mixed quoted part tail"));
    assert_eq!(value(&root, "g"), Some("'single quotes are plain'"));
    // Lines count on across a multi-line string.
    assert_eq!(root.get("f").unwrap().at.line, 8);
}

#[test]
fn include_key_is_a_key() {
    let root = parse("include = not a directive\n");
    assert_eq!(value(&root, "include"), Some("not a directive"));
}

#[test]
fn includes_with_globs_extend_sections() {
    let root = parse_file(&testdata("include/main.conf")).unwrap();
    // 10-first.conf replaced `first`, in its first place.
    let keys: Vec<&str> = root.keys.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(keys, ["first", "second", "last"]);
    assert_eq!(value(&root, "first"), Some("10"));
    assert_eq!(value(&root, "last"), Some("the end"));
    // inner.conf was read into `outer`, where its include stands.
    assert_eq!(value(&root, "outer.kept"), Some("before"));
    assert_eq!(value(&root, "outer.replaced"), Some("from inner"));
    // Matches are read in name order: 20-second replaces 10-first.
    assert_eq!(value(&root, "outer.added"), Some("by 20-second"));
    assert_eq!(value(&root, "outer.inner-section.depth"), Some("3"));
    // `*` does not match hidden files; notes.txt does not match `*.conf`.
    assert_eq!(value(&root, "hidden"), None);
    let at = &root.get("second").unwrap().at;
    assert!(at.file.ends_with("conf.d/20-second.conf"), "{at}");
    assert_eq!(at.line, 4);
}

#[test]
fn include_errors_name_the_include() {
    let problem = parse_file(&testdata("cycle/a.conf")).unwrap_err();
    assert!(problem.message.contains("include cycle"), "{problem}");
    assert!(problem.at.file.ends_with("cycle/b.conf"), "{problem}");
    assert_eq!(problem.at.line, 2);

    let path = testdata("include/missing-include.conf");
    let problem = parse_str(&path, "a = 1\ninclude does-not-exist.conf\n").unwrap_err();
    assert_eq!(problem.at.line, 2);
    assert!(problem.message.contains("no such file"), "{problem}");
    // A wildcard matching nothing is fine, as in strongSwan.
    parse_str(&path, "include nothing-here/*.conf\n").unwrap();

    let problem = parse_file(&testdata("does-not-exist.conf")).unwrap_err();
    assert!(problem.to_string().contains("cannot read"), "{problem}");
}

#[test]
fn references_inherit() {
    let root = parse(
        "conn-defaults { rekey_time = 1h\n dpd_delay = 30s\n local { auth = psk } }\n\
         child-defaults { mode = transport\n esp_proposals = aes128gcm16 }\n\
         connections {\n\
           conn-a : conn-defaults {\n\
             dpd_delay = 10s\n\
             local { id = a.example }\n\
             children { child-a : child-defaults { mode = tunnel } }\n\
           }\n\
           conn-b : connections.conn-a, other { rekey_time = }\n\
         }\n\
         other { extra = from-other\n dpd_delay = 99s }\n",
    );
    let root = resolve(&root).unwrap();
    assert_eq!(value(&root, "connections.conn-a.dpd_delay"), Some("10s"));
    assert_eq!(value(&root, "connections.conn-a.rekey_time"), Some("1h"));
    assert_eq!(value(&root, "connections.conn-a.local.auth"), Some("psk"));
    assert_eq!(
        value(&root, "connections.conn-a.local.id"),
        Some("a.example")
    );
    let child = "connections.conn-a.children.child-a";
    assert_eq!(value(&root, &format!("{child}.mode")), Some("tunnel"));
    assert_eq!(
        value(&root, &format!("{child}.esp_proposals")),
        Some("aes128gcm16")
    );
    // conn-b inherits everything conn-a has, its own references included; left to right.
    let b = "connections.conn-b";
    assert_eq!(value(&root, &format!("{b}.dpd_delay")), Some("10s"));
    assert_eq!(value(&root, &format!("{b}.extra")), Some("from-other"));
    assert_eq!(
        value(&root, &format!("{b}.children.child-a.esp_proposals")),
        Some("aes128gcm16")
    );
    // An empty assignment clears the inherited value.
    let conn_b = root
        .section("connections")
        .unwrap()
        .section("conn-b")
        .unwrap();
    assert_eq!(conn_b.get("rekey_time").unwrap().value, None);
    // Own keys first, inherited ones after (strongswan.conf(5)).
    let keys: Vec<&str> = conn_b.keys.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(keys, ["rekey_time", "dpd_delay", "extra"]);
}

#[test]
fn reference_errors() {
    let root = parse("a : b { }\nb : c { }\nc : a { }\nd : nowhere { }\n");
    let problems = resolve(&root).unwrap_err();
    assert!(
        problems.iter().any(|p| p.message.contains("cycle")),
        "{problems:?}"
    );
    let missing = problems
        .iter()
        .find(|p| p.message.contains("does not exist"))
        .unwrap();
    assert_eq!((missing.at.line, missing.key.as_str()), (4, "d"));
    let root = parse("connections {\n x : conn-defaults { }\n}\n");
    let problem = &resolve(&root).unwrap_err()[0];
    assert_eq!(
        problem.to_string(),
        "/etc/swanctl/swanctl.conf:2: connections.x: references section 'conn-defaults', which does not exist"
    );
    let root = parse("connections { c : connections { } }\n");
    assert!(resolve(&root).is_err());
}

#[test]
fn syntax_errors_name_file_and_line() {
    let cases = [
        ("a = 1\nb {\nc = 2\n", 4, "missing its '}'"),
        ("a = 1\n}\n", 2, "unexpected '}'"),
        ("a = 1\n\n  \"quoted\" = 2\n", 3, "unexpected quoted string"),
        ("a.b = 1\n", 1, "after 'a', found '.'"),
        ("a = \"open\nb = 2\n", 1, "unterminated"),
        ("name\n", 1, "expected '=', '{' or ':'"),
        ("a : { }\n", 1, "expected the name of a section"),
        ("a : b c { }\n", 1, "expected '{'"),
        ("x {\n include\n}\n", 2, "after 'include', found '}'"),
    ];
    for (text, line, message) in cases {
        let problem = parse_err(text);
        assert_eq!(problem.at.line, line, "{text:?}: {problem}");
        assert!(problem.message.contains(message), "{text:?}: {problem}");
        assert!(
            problem
                .to_string()
                .starts_with(&format!("/etc/swanctl/swanctl.conf:{line}: "))
        );
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let text = "a {".repeat(100_000);
    assert!(parse_err(&text).message.contains("nest deeper"));
    let text = format!("x : {} {{ }}", "a.".repeat(10_000) + "b");
    let root = parse(&text);
    assert!(resolve(&root).is_err());
}

/// A seeded generator of junk made of the syntax's significant characters.
fn junk(seed: u64, len: usize) -> String {
    const ALPHABET: &[u8] = b"ab{}:.,=\"#\\ \t\r\n0x-*include secret";
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ALPHABET[(state % ALPHABET.len() as u64) as usize] as char
        })
        .collect()
}

#[test]
fn junk_never_panics() {
    let path = Path::new("/nonexistent/junk.conf");
    for seed in 0..3000 {
        let text = junk(seed, (seed % 200) as usize);
        if let Ok(root) = parse_str(path, &text) {
            let _ = resolve(&root);
            let _ = super::load_str(path, &text);
        }
    }
}

#[test]
fn secrets_never_show_in_debug() {
    let root = parse("secrets { ike { secret = hunter2 } }\n");
    assert!(!format!("{root:?}").contains("hunter2"));
}
