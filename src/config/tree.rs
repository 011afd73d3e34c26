//! The settings tree: sections of key/values that remember where they were written, and the
//! expansion of section references (strongswan.conf(5), "Referencing other sections").

use core::fmt;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// A file and a line in it (0: the file as a whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: Arc<Path>,
    pub line: u32,
}

impl Location {
    pub fn new(file: &Path, line: u32) -> Location {
        Location {
            file: Arc::from(file),
            line,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            0 => write!(f, "{}", self.file.display()),
            line => write!(f, "{}:{line}", self.file.display()),
        }
    }
}

/// One thing wrong with the configuration: where, which key (dotted path; empty for syntax
/// errors), and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub at: Location,
    pub key: String,
    pub message: String,
}

impl Problem {
    pub fn new(at: &Location, key: &str, message: String) -> Problem {
        Problem {
            at: at.clone(),
            key: key.to_string(),
            message,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.key.is_empty() {
            true => write!(f, "{}: {}", self.at, self.message),
            false => write!(f, "{}: {}: {}", self.at, self.key, self.message),
        }
    }
}

/// `key = value`; the value is None after an empty assignment (`key =`), which clears an
/// inherited value so the default applies.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: Option<String>,
    pub at: Location,
}

impl fmt::Debug for KeyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Secrets live in the tree as text until swanctl.rs wraps them: never print them.
        let value = match self.key.starts_with("secret") {
            true => self.value.as_ref().map(|_| "<secret>"),
            false => self.value.as_deref(),
        };
        write!(f, "{} = {:?} ({})", self.key, value, self.at)
    }
}

/// A section: key/values and subsections in the order first written, and the sections it
/// references (absolute dotted names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    pub at: Location,
    pub keys: Vec<KeyValue>,
    pub sections: Vec<Section>,
    pub references: Vec<(String, Location)>,
}

impl Section {
    pub fn new(name: String, at: Location) -> Section {
        Section {
            name,
            at,
            keys: Vec::new(),
            sections: Vec::new(),
            references: Vec::new(),
        }
    }

    /// Sets `key`; a later value replaces an earlier one but keeps its place.
    pub fn set(&mut self, key: String, value: Option<String>, at: Location) {
        match self.keys.iter_mut().find(|kv| kv.key == key) {
            Some(kv) => {
                kv.value = value;
                kv.at = at;
            }
            None => self.keys.push(KeyValue { key, value, at }),
        }
    }

    /// The subsection `name`, created if new: a section written twice is one section.
    pub fn section_mut(&mut self, name: String, at: Location) -> &mut Section {
        let index = match self.sections.iter().position(|s| s.name == name) {
            Some(index) => index,
            None => {
                self.sections.push(Section::new(name, at));
                self.sections.len() - 1
            }
        };
        &mut self.sections[index]
    }

    pub fn add_reference(&mut self, name: String, at: Location) {
        if !self.references.iter().any(|(r, _)| *r == name) {
            self.references.push((name, at));
        }
    }

    pub fn get(&self, key: &str) -> Option<&KeyValue> {
        self.keys.iter().find(|kv| kv.key == key)
    }

    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// The section at a dotted path below this one.
    fn find(&self, path: &str) -> Option<&Section> {
        path.split('.').try_fold(self, |s, name| s.section(name))
    }

    /// Adds what `other` has and this section lacks, recursively: own values win, inherited
    /// ones follow them (strongswan.conf(5)).
    fn inherit(&mut self, other: &Section) {
        for kv in &other.keys {
            if self.get(&kv.key).is_none() {
                self.keys.push(kv.clone());
            }
        }
        for sub in &other.sections {
            match self.sections.iter_mut().find(|s| s.name == sub.name) {
                Some(own) => own.inherit(sub),
                None => self.sections.push(sub.clone()),
            }
        }
    }

    fn size(&self) -> usize {
        1 + self.keys.len() + self.sections.iter().map(Section::size).sum::<usize>()
    }
}

/// A resolved tree larger than this came from references multiplying junk.
const MAX_RESOLVED_SIZE: usize = 1 << 20;

/// Expands every section reference of the tree rooted at `root`: each section gets the
/// key/values and subsections of the sections it names (left to right, transitively) that it
/// does not have itself. References form no cycles and name existing sections.
pub fn resolve(root: &Section) -> Result<Section, Vec<Problem>> {
    let mut resolver = Resolver {
        root,
        done: HashMap::new(),
        stack: Vec::new(),
        problems: Vec::new(),
        budget: MAX_RESOLVED_SIZE,
    };
    let resolved = resolver.section(root, "");
    match resolver.problems.is_empty() {
        true => Ok(resolved),
        false => Err(resolver.problems),
    }
}

struct Resolver<'a> {
    root: &'a Section,
    /// Resolved sections by address in the unresolved tree: each is resolved once.
    done: HashMap<*const Section, Section>,
    /// Sections being resolved, to find cycles.
    stack: Vec<*const Section>,
    problems: Vec<Problem>,
    budget: usize,
}

impl<'a> Resolver<'a> {
    /// `path` is the section's dotted name, for messages.
    fn section(&mut self, raw: &'a Section, path: &str) -> Section {
        let id = raw as *const Section;
        if let Some(done) = self.done.get(&id) {
            return done.clone();
        }
        self.stack.push(id);
        let mut out = Section::new(raw.name.clone(), raw.at.clone());
        out.keys = raw.keys.clone();
        for sub in &raw.sections {
            let sub_path = match path {
                "" => sub.name.clone(),
                _ => format!("{path}.{}", sub.name),
            };
            let resolved = self.section(sub, &sub_path);
            out.sections.push(resolved);
        }
        for (name, at) in &raw.references {
            let Some(target) = self.root.find(name) else {
                let message = format!("references section '{name}', which does not exist");
                self.problem(at, path, message);
                continue;
            };
            if self.stack.contains(&(target as *const Section)) {
                let message = format!("reference to '{name}' forms a cycle");
                self.problem(at, path, message);
                continue;
            }
            let inherited = self.section(target, name);
            out.inherit(&inherited);
        }
        self.stack.pop();
        let size = out.size();
        if size > self.budget {
            self.problem(
                &raw.at,
                path,
                "references expand beyond any sane size".into(),
            );
            out.sections.clear();
        } else {
            self.budget -= size;
        }
        self.done.insert(id, out.clone());
        out
    }

    fn problem(&mut self, at: &Location, key: &str, message: String) {
        let problem = Problem::new(at, key, message);
        if !self.problems.contains(&problem) {
            self.problems.push(problem);
        }
    }
}
