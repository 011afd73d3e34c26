//! Shell wildcards for `include` (`*`, `?`, `[...]`), as glob(3) expands them for strongSwan:
//! matches sorted by name, names starting with `.` only matched by a pattern that does too.

use std::fs;
use std::path::{Component, Path, PathBuf};

pub fn has_wildcard(pattern: &str) -> bool {
    pattern.contains(['*', '?', '['])
}

/// The existing paths matching `pattern`, sorted; the pattern itself when it has no wildcard
/// and exists.
pub fn expand(pattern: &Path) -> Vec<PathBuf> {
    let mut paths = vec![PathBuf::new()];
    for component in pattern.components() {
        let part = component.as_os_str().to_string_lossy();
        if !matches!(component, Component::Normal(_)) || !has_wildcard(&part) {
            paths.iter_mut().for_each(|p| p.push(component));
            continue;
        }
        let mut next = Vec::new();
        for dir in &paths {
            let listing = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            let Ok(entries) = fs::read_dir(listing) else {
                continue;
            };
            let mut names: Vec<String> = entries
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|name| !name.starts_with('.') || part.starts_with('.'))
                .filter(|name| matches(part.as_bytes(), name.as_bytes()))
                .collect();
            names.sort();
            next.extend(names.into_iter().map(|name| dir.join(name)));
        }
        paths = next;
    }
    paths.retain(|p| !p.as_os_str().is_empty() && p.exists());
    paths
}

/// Whether `name` matches the wildcard `pattern`.
pub fn matches(pattern: &[u8], name: &[u8]) -> bool {
    // Backtracking to the last `*` is enough for one path component.
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        let step = match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, n));
                p += 1;
                continue;
            }
            Some(b'?') => Some(p + 1),
            Some(b'[') => class(pattern, p, name[n]),
            Some(&c) => (c == name[n]).then_some(p + 1),
            None => None,
        };
        match (step, star) {
            (Some(next), _) => {
                p = next;
                n += 1;
            }
            (None, Some((sp, sn))) => {
                p = sp + 1;
                n = sn + 1;
                star = Some((sp, sn + 1));
            }
            (None, None) => return false,
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// Matches `c` against the class `[...]` at `pattern[at]`; the index after the class when it
/// matches. An unclosed `[` is a literal.
fn class(pattern: &[u8], at: usize, c: u8) -> Option<usize> {
    let mut i = at + 1;
    let negate = matches!(pattern.get(i), Some(b'!' | b'^'));
    if negate {
        i += 1;
    }
    let start = i;
    let mut found = false;
    while let Some(&first) = pattern.get(i) {
        if first == b']' && i > start {
            return (found != negate).then_some(i + 1);
        }
        if pattern.get(i + 1) == Some(&b'-') && pattern.get(i + 2).is_some_and(|&b| b != b']') {
            found |= (first..=pattern[i + 2]).contains(&c);
            i += 3;
        } else {
            found |= first == c;
            i += 1;
        }
    }
    (c == b'[').then_some(at + 1)
}
