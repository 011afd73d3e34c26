//! `ikerctl completions SHELL`: a completion script for bash, zsh or fish, written from the
//! command line's own definition, so it knows every command (in both spellings) and option.

use std::process::ExitCode;

use clap::CommandFactory;

use super::{Cli, SWANCTL, print};

/// Print a shell completion script.
///
/// The script completes the commands, both as subcommands and in swanctl's spelling
/// (--list-sas), and each command's options.
#[derive(Debug, clap::Args)]
#[command(long_about)]
#[command(after_long_help = "Examples:
  ikerctl completions bash > /etc/bash_completion.d/ikerctl
  ikerctl completions zsh > \"${fpath[1]}/_ikerctl\"
  ikerctl completions fish > ~/.config/fish/completions/ikerctl.fish")]
pub struct Args {
    /// The shell.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

pub fn run(args: &Args) -> ExitCode {
    print(&script(args.shell));
    ExitCode::SUCCESS
}

/// A command's name, one line of help, and its options (long name, short letter, help, whether
/// it takes a value).
struct Spec {
    name: String,
    about: String,
    options: Vec<(String, Option<char>, String, bool)>,
}

fn specs() -> Vec<Spec> {
    let cli = Cli::command();
    let global: Vec<_> = options(&cli);
    cli.get_subcommands()
        .map(|c| {
            let mut options = options(c);
            options.extend(global.iter().cloned());
            Spec {
                name: c.get_name().to_owned(),
                about: c.get_about().map(|a| a.to_string()).unwrap_or_default(),
                options,
            }
        })
        .collect()
}

fn options(c: &clap::Command) -> Vec<(String, Option<char>, String, bool)> {
    c.get_arguments()
        .filter_map(|a| {
            let long = a.get_long()?.to_owned();
            let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
            let value = a.get_action().takes_values();
            Some((long, a.get_short(), help, value))
        })
        .collect()
}

/// The swanctl spellings of a command: `--list-sas` and `-l`, or `--status` for ours.
fn spellings(name: &str) -> Vec<String> {
    match SWANCTL.iter().find(|(_, _, ours)| *ours == name) {
        Some((long, short, _)) => vec![format!("--{long}"), format!("-{short}")],
        None => vec![format!("--{name}")],
    }
}

/// Text safe inside single quotes.
fn quoted(s: &str) -> String {
    s.replace('\'', "'\\''")
}

pub fn script(shell: Shell) -> String {
    let specs = specs();
    match shell {
        Shell::Bash => bash(&specs),
        Shell::Zsh => zsh(&specs),
        Shell::Fish => fish(&specs),
    }
}

fn bash(specs: &[Spec]) -> String {
    let mut words: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
    words.extend(specs.iter().flat_map(|s| spellings(&s.name)));
    words.extend(["--uri".to_owned(), "--help".to_owned()]);
    let mut out = String::from(
        "# bash completion for ikerctl\n_ikerctl() {\n\
         \tlocal cur=\"${COMP_WORDS[COMP_CWORD]}\" cmd=\"\" i\n\
         \tfor ((i = 1; i < COMP_CWORD; i++)); do\n\
         \t\tcase \"${COMP_WORDS[i]}\" in\n\
         \t\t--uri | -u) ((i++)) ;;\n",
    );
    for s in specs {
        let mut names = vec![s.name.clone()];
        names.extend(spellings(&s.name));
        out.push_str(&format!(
            "\t\t{}) cmd={}; break ;;\n",
            names.join(" | "),
            s.name
        ));
    }
    out.push_str("\t\tesac\n\tdone\n\tcase \"$cmd\" in\n");
    out.push_str(&format!(
        "\t\"\") COMPREPLY=($(compgen -W '{}' -- \"$cur\")) ;;\n",
        words.join(" ")
    ));
    for s in specs {
        let mut opts: Vec<String> = s.options.iter().map(|o| format!("--{}", o.0)).collect();
        opts.push("--help".to_owned());
        if s.name == "completions" {
            opts.extend(["bash", "zsh", "fish"].map(str::to_owned));
        }
        out.push_str(&format!(
            "\t{}) COMPREPLY=($(compgen -W '{}' -- \"$cur\")) ;;\n",
            s.name,
            opts.join(" ")
        ));
    }
    out.push_str("\tesac\n}\ncomplete -o default -F _ikerctl ikerctl\n");
    out
}

fn zsh(specs: &[Spec]) -> String {
    let mut out =
        String::from("#compdef ikerctl\n\n_ikerctl() {\n\tlocal -a commands\n\tcommands=(\n");
    for s in specs {
        out.push_str(&format!(
            "\t\t'{}:{}'\n",
            s.name,
            quoted(&s.about.replace(':', "\\:"))
        ));
        for spelling in spellings(&s.name) {
            out.push_str(&format!(
                "\t\t'{}:{}'\n",
                spelling.replace(':', "\\:"),
                quoted(&s.about.replace(':', "\\:"))
            ));
        }
    }
    out.push_str("\t)\n\tif (( CURRENT == 2 )); then\n\t\t_describe -t commands 'ikerctl command' commands\n\t\treturn\n\tfi\n");
    out.push_str("\tlocal cmd=${words[2]}\n\tshift words\n\t(( CURRENT-- ))\n\tcase $cmd in\n");
    for s in specs {
        let mut names = vec![s.name.clone()];
        names.extend(spellings(&s.name));
        let mut args: Vec<String> = s
            .options
            .iter()
            .map(|(long, _, help, value)| {
                let help = quoted(&help.replace('[', "(").replace(']', ")"));
                if *value {
                    format!("'--{long}[{help}]:{long}:'")
                } else {
                    format!("'--{long}[{help}]'")
                }
            })
            .collect();
        if s.name == "completions" {
            args.push("'1:shell:(bash zsh fish)'".to_owned());
        }
        out.push_str(&format!(
            "\t{}) _arguments {} ;;\n",
            names.join("|"),
            args.join(" ")
        ));
    }
    out.push_str("\tesac\n}\n\n_ikerctl \"$@\"\n");
    out
}

fn fish(specs: &[Spec]) -> String {
    let mut out = String::from("# fish completion for ikerctl\ncomplete -c ikerctl -f\n");
    let all: Vec<String> = specs
        .iter()
        .flat_map(|s| std::iter::once(s.name.clone()).chain(spellings(&s.name)))
        .collect();
    let none = format!("not __fish_seen_subcommand_from {}", all.join(" "));
    for s in specs {
        out.push_str(&format!(
            "complete -c ikerctl -n '{none}' -a {} -d '{}'\n",
            s.name,
            quoted(&s.about)
        ));
        let mut names = vec![s.name.clone()];
        names.extend(spellings(&s.name));
        for (long, short, help, value) in &s.options {
            let short = short.map_or_else(String::new, |c| format!(" -s {c}"));
            let value = if *value { " -r" } else { "" };
            out.push_str(&format!(
                "complete -c ikerctl -n '__fish_seen_subcommand_from {}' -l {long}{short}{value} -d '{}'\n",
                names.join(" "),
                quoted(help)
            ));
        }
        if s.name == "completions" {
            out.push_str("complete -c ikerctl -n '__fish_seen_subcommand_from completions' -a 'bash zsh fish'\n");
        }
    }
    out
}
