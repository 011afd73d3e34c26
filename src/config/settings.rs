//! strongSwan's settings syntax, shared by swanctl.conf(5) and strongswan.conf(5): a tree of
//! sections holding `key = value` pairs, with `#` comments, quoted values, `include <glob>`
//! and section references (`name : other.section { }`, strongSwan 5.7+).
//!
//! The grammar is the one strongSwan 5.9.8's `settings_lexer.l`/`settings_parser.y` accept:
//! names are any run of characters other than `. , : { } = " #`, space, tab and newline;
//! a value runs to the end of the line (or to `#` or `}`), its space-separated parts joined by
//! one space; a quoted part keeps its spaces and takes the escapes `\n \r \t`, `\<newline>`
//! (joins lines) and `\<char>`. Included files extend the section the `include` stands in:
//! sections of the same name merge, later values replace earlier ones and keep their place.
//!
//! [`parse_file`] gives the tree as written; [`resolve`](super::tree::resolve) expands the
//! references. Every value remembers its file and line; errors name them.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::glob;
use super::tree::{Location, Problem, Section};

/// Nesting beyond this is junk, not configuration; the bound keeps the recursive descent
/// from exhausting the stack.
const MAX_SECTION_DEPTH: usize = 64;
/// Includes nest this deep at most (strongSwan has no bound; a cycle there never ends).
const MAX_INCLUDE_DEPTH: usize = 16;

/// Parses `path` and everything it includes into one tree, references not yet expanded.
pub fn parse_file(path: &Path) -> Result<Section, Problem> {
    let mut root = Section::new(String::new(), Location::new(path, 0));
    let mut includes = Vec::new();
    parse_into(path, &mut root, 0, &mut includes, None)?;
    Ok(root)
}

/// Parses `text` as if read from `path` (includes resolve relative to it).
pub fn parse_str(path: &Path, text: &str) -> Result<Section, Problem> {
    let mut root = Section::new(String::new(), Location::new(path, 0));
    let file: Arc<Path> = Arc::from(path);
    let mut includes = vec![path.to_path_buf()];
    Parser::new(file, text.as_bytes(), &mut includes).statements(&mut root, 0, false)?;
    Ok(root)
}

/// Reads one file into `into`; `from` is the `include` that asked for it.
fn parse_into(
    path: &Path,
    into: &mut Section,
    depth: usize,
    includes: &mut Vec<PathBuf>,
    from: Option<&Location>,
) -> Result<(), Problem> {
    let at = |message: String| match from {
        Some(loc) => Problem::new(loc, "", message),
        None => Problem::new(&Location::new(path, 0), "", message),
    };
    let canonical = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if includes.contains(&canonical) {
        return Err(at(format!(
            "include cycle: {} includes itself",
            path.display()
        )));
    }
    if includes.len() >= MAX_INCLUDE_DEPTH {
        return Err(at(format!(
            "includes nest deeper than {MAX_INCLUDE_DEPTH} files"
        )));
    }
    // An included file is named in the message; the top file is the location already.
    let name = match from {
        Some(_) => format!("{}: ", path.display()),
        None => String::new(),
    };
    let bytes = fs::read(path).map_err(|e| at(format!("{name}cannot read: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|_| at(format!("{name}not valid UTF-8")))?;
    includes.push(canonical);
    let file: Arc<Path> = Arc::from(path);
    let result = Parser::new(file, text.as_bytes(), includes).statements(into, depth, false);
    includes.pop();
    result
}

struct Parser<'a> {
    file: Arc<Path>,
    src: &'a [u8],
    pos: usize,
    line: u32,
    includes: &'a mut Vec<PathBuf>,
}

/// Bytes that end a name (settings_lexer.l's NAME class).
fn ends_name(b: u8) -> bool {
    matches!(
        b,
        b'#' | b'{' | b'}' | b':' | b'.' | b',' | b'=' | b'"' | b'\r' | b'\n' | b'\t' | b' '
    )
}

impl<'a> Parser<'a> {
    fn new(file: Arc<Path>, src: &'a [u8], includes: &'a mut Vec<PathBuf>) -> Parser<'a> {
        Parser {
            file,
            src,
            pos: 0,
            line: 1,
            includes,
        }
    }

    fn here(&self) -> Location {
        Location {
            file: self.file.clone(),
            line: self.line,
        }
    }

    fn error(&self, message: impl Into<String>) -> Problem {
        Problem::new(&self.here(), "", message.into())
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        if b == b'\n' {
            self.line += 1;
        }
        Some(b)
    }

    /// Skips spaces, newlines and comments between statements.
    fn skip_blank(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b' ' | b'\t' | b'\r' | b'\n' => {
                    self.bump();
                }
                b'#' => self.skip_comment(),
                _ => break,
            }
        }
    }

    fn skip_comment(&mut self) {
        while self.peek().is_some_and(|b| b != b'\n') {
            self.bump();
        }
    }

    fn skip_inline_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r')) {
            self.bump();
        }
    }

    fn name(&mut self) -> String {
        let start = self.pos;
        while self.peek().is_some_and(|b| !ends_name(b)) {
            self.bump();
        }
        String::from_utf8_lossy(&self.src[start..self.pos]).into_owned()
    }

    /// The statements of a section (or of a file when `closing` is false), up to its `}`.
    fn statements(
        &mut self,
        into: &mut Section,
        depth: usize,
        closing: bool,
    ) -> Result<(), Problem> {
        loop {
            self.skip_blank();
            let Some(b) = self.peek() else {
                return match closing {
                    true => Err(self.error(format!("section '{}' is missing its '}}'", into.name))),
                    false => Ok(()),
                };
            };
            match b {
                b'}' if closing => {
                    self.bump();
                    return Ok(());
                }
                b'}' => return Err(self.error("unexpected '}': no section is open")),
                b'"' => {
                    return Err(self.error("unexpected quoted string: only values may be quoted"));
                }
                b'{' | b'=' | b':' | b'.' | b',' => {
                    return Err(self.error(format!("unexpected '{}': expected a name", b as char)));
                }
                _ if self.at_include() => self.include(into, depth)?,
                _ => self.statement(into, depth)?,
            }
        }
    }

    /// `name = value`, `name { ... }` or `name : refs { ... }`.
    fn statement(&mut self, into: &mut Section, depth: usize) -> Result<(), Problem> {
        let at = self.here();
        let name = self.name();
        self.skip_blank();
        match self.bump() {
            Some(b'=') => {
                let value = self.value()?;
                into.set(name, value, at);
                Ok(())
            }
            Some(b'{') => self.section(into, name, at, Vec::new(), depth),
            Some(b':') => {
                let refs = self.references()?;
                self.skip_blank();
                if self.bump() != Some(b'{') {
                    return Err(
                        self.error(format!("expected '{{' after the references of '{name}'"))
                    );
                }
                self.section(into, name, at, refs, depth)
            }
            other => {
                let found = match other {
                    None => "the end of the file".to_string(),
                    Some(b'\n') => "the end of the line".to_string(),
                    Some(b) => format!("'{}'", b as char),
                };
                let message = format!("expected '=', '{{' or ':' after '{name}', found {found}");
                Err(Problem::new(&at, "", message))
            }
        }
    }

    fn section(
        &mut self,
        into: &mut Section,
        name: String,
        at: Location,
        refs: Vec<(String, Location)>,
        depth: usize,
    ) -> Result<(), Problem> {
        if depth >= MAX_SECTION_DEPTH {
            return Err(Problem::new(
                &at,
                "",
                format!("sections nest deeper than {MAX_SECTION_DEPTH}"),
            ));
        }
        let section = into.section_mut(name, at);
        for (reference, loc) in refs {
            section.add_reference(reference, loc);
        }
        self.statements(section, depth + 1, true)
    }

    /// `: a.b, c` — absolute names of the sections to inherit from.
    fn references(&mut self) -> Result<Vec<(String, Location)>, Problem> {
        let mut refs = Vec::new();
        loop {
            self.skip_blank();
            let at = self.here();
            let mut path = self.name();
            while self.peek() == Some(b'.') && !path.is_empty() {
                self.bump();
                let part = self.name();
                if part.is_empty() {
                    return Err(self.error("a reference may not end with '.'"));
                }
                path = format!("{path}.{part}");
            }
            if path.is_empty() {
                return Err(self.error("expected the name of a section to reference after ':'"));
            }
            refs.push((path, at));
            self.skip_blank();
            if self.peek() != Some(b',') {
                return Ok(refs);
            }
            self.bump();
        }
    }

    /// A value: parts up to the end of the line, `#` or `}`, joined by one space; None when
    /// there are none (`key =` clears a value, so its default applies).
    fn value(&mut self) -> Result<Option<String>, Problem> {
        let mut parts: Vec<String> = Vec::new();
        loop {
            self.skip_inline_space();
            match self.peek() {
                None | Some(b'\n' | b'#' | b'}') => break,
                Some(b'"') => {
                    self.bump();
                    parts.push(self.quoted()?);
                }
                Some(_) => {
                    let start = self.pos;
                    while self.peek().is_some_and(|b| !b"#}\"\r\n\t ".contains(&b)) {
                        self.bump();
                    }
                    parts.push(String::from_utf8_lossy(&self.src[start..self.pos]).into_owned());
                }
            }
        }
        Ok((!parts.is_empty()).then(|| parts.join(" ")))
    }

    /// The rest of a quoted string, its opening quote already read.
    fn quoted(&mut self) -> Result<String, Problem> {
        let start = self.here();
        let unterminated = || Problem::new(&start, "", "unterminated quoted string".to_string());
        let mut out = Vec::new();
        loop {
            match self.bump().ok_or_else(unterminated)? {
                b'"' => break,
                b'\r' => {}
                b'\\' => match self.bump().ok_or_else(unterminated)? {
                    b'n' => out.push(b'\n'),
                    b'r' => out.push(b'\r'),
                    b't' => out.push(b'\t'),
                    // A backslash before the end of the line joins the lines.
                    b'\n' => {}
                    b'\r' if self.peek() == Some(b'\n') => {
                        self.bump();
                    }
                    other => out.push(other),
                },
                other => out.push(other),
            }
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// settings_lexer.l: `include` followed by blanks and anything but `=` (`include = x` is
    /// a key named include).
    fn at_include(&self) -> bool {
        let rest = &self.src[self.pos..];
        let Some(after) = rest.strip_prefix(b"include") else {
            return false;
        };
        let blanks = after
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t'))
            .count();
        blanks > 0 && after.get(blanks).is_some_and(|&b| b != b'=')
    }

    fn include(&mut self, into: &mut Section, depth: usize) -> Result<(), Problem> {
        let at = self.here();
        self.pos += "include".len();
        self.skip_inline_space();
        let pattern = if self.peek() == Some(b'"') {
            self.bump();
            self.quoted()?
        } else {
            self.include_pattern()
        };
        if pattern.is_empty() {
            return Err(Problem::new(
                &at,
                "",
                "include: missing file pattern".to_string(),
            ));
        }
        let full = match Path::new(&pattern).is_absolute() {
            true => PathBuf::from(&pattern),
            false => self.file.parent().unwrap_or(Path::new("")).join(&pattern),
        };
        let files = glob::expand(&full);
        if files.is_empty() && !glob::has_wildcard(&pattern) {
            let message = format!("include: {}: no such file", full.display());
            return Err(Problem::new(&at, "", message));
        }
        for file in files.iter().filter(|f| f.is_file()) {
            parse_into(file, into, depth, self.includes, Some(&at))?;
        }
        Ok(())
    }

    /// An unquoted include pattern: up to a blank, `#` or `}`, which `\` may escape.
    fn include_pattern(&mut self) -> String {
        let mut out = Vec::new();
        while let Some(b) = self.peek() {
            match b {
                b'\n' | b'\t' | b' ' | b'#' | b'}' => break,
                b'\r' => {}
                b'\\' if matches!(self.src.get(self.pos + 1), Some(b'"' | b'#' | b'}' | b' ')) => {
                    self.bump();
                    out.push(self.src[self.pos]);
                }
                _ => out.push(b),
            }
            self.bump();
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}
