//! The binaries' command lines, as a user meets them.

use std::process::{Command, Output};

fn run(bin: &str, args: &[&str]) -> Output {
    Command::new(bin).args(args).output().expect("run binary")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn version_prints_name_and_crate_version() {
    for (bin, name) in [
        (env!("CARGO_BIN_EXE_ikerd"), "ikerd"),
        (env!("CARGO_BIN_EXE_ikerctl"), "ikerctl"),
    ] {
        let out = run(bin, &["--version"]);
        assert!(out.status.success(), "{name} --version failed");
        assert_eq!(
            stdout(&out),
            format!("{name} {}\n", env!("CARGO_PKG_VERSION"))
        );
    }
}

#[test]
fn help_describes_the_program_and_its_status() {
    for (bin, words) in [
        (env!("CARGO_BIN_EXE_ikerd"), "IKEv2 daemon for Linux"),
        (env!("CARGO_BIN_EXE_ikerctl"), "VICI protocol"),
    ] {
        let out = run(bin, &["--help"]);
        assert!(out.status.success());
        let text = stdout(&out);
        assert!(text.contains(words), "{text}");
        assert!(text.contains("Usage:"), "{text}");
        assert!(text.contains("Status:"), "{text}");
    }
}

#[test]
fn the_daemon_names_a_missing_configuration() {
    let out = run(
        env!("CARGO_BIN_EXE_ikerd"),
        &["--config", "/nonexistent/swanctl.conf"],
    );
    assert!(!out.status.success(), "ikerd claims success");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/swanctl.conf"), "{err}");
}

#[test]
fn check_config_reports_a_good_file_and_the_lines_of_a_bad_one() {
    let dir = std::env::temp_dir().join(format!("ikerd-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.conf");
    std::fs::write(
        &good,
        "connections {\n  c {\n    remote_addrs = 192.0.2.2\n    local { auth = psk\n id = moon.example }\n    remote { auth = psk\n id = sun.example }\n  }\n}\nsecrets {\n  ike { secret = 0x0102030405060708 }\n}\n",
    )
    .unwrap();
    let out = run(
        env!("CARGO_BIN_EXE_ikerd"),
        &["--check-config", "--config", good.to_str().unwrap()],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("1 connections, no errors"), "{text}");

    let bad = dir.join("bad.conf");
    std::fs::write(
        &bad,
        "connections {\n  c {\n    remote_addrs = 192.0.2.2\n    no_such_key = 1\n  }\n}\n",
    )
    .unwrap();
    let out = run(
        env!("CARGO_BIN_EXE_ikerd"),
        &["--check-config", "--config", bad.to_str().unwrap()],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("bad.conf:4") && err.contains("no_such_key"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn ikerctl_without_a_command_prints_usage() {
    let out = run(env!("CARGO_BIN_EXE_ikerctl"), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Usage: ikerctl [OPTIONS] <COMMAND>"), "{err}");
    for command in ["status", "list-sas", "initiate", "decode"] {
        assert!(err.contains(command), "{command}: {err}");
    }
}

#[test]
fn ikerctl_help_lists_only_the_commands_that_exist() {
    let text = stdout(&run(env!("CARGO_BIN_EXE_ikerctl"), &["--help"]));
    let commands: Vec<&str> = text
        .split("Commands:")
        .nth(1)
        .and_then(|rest| rest.split("Options:").next())
        .expect("a Commands section")
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert_eq!(
        commands,
        [
            "status",
            "list-sas",
            "list-conns",
            "list-pols",
            "list-certs",
            "initiate",
            "terminate",
            "rekey",
            "install",
            "uninstall",
            "stats",
            "version",
            "counters",
            "load-all",
            "load-conns",
            "load-creds",
            "load-authorities",
            "load-pools",
            "log",
            "decode",
            "completions",
            "help"
        ],
        "{text}"
    );
    for missing in ["load-everything", "--load-nothing"] {
        let out = run(env!("CARGO_BIN_EXE_ikerctl"), &[missing]);
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains(missing));
    }
}

#[test]
fn ikerctl_takes_swanctls_spelling_and_names_a_missing_daemon() {
    let ikerctl = env!("CARGO_BIN_EXE_ikerctl");
    let own = stdout(&run(ikerctl, &["--version"]));
    assert_eq!(stdout(&run(ikerctl, &["-V"])), own);
    assert_eq!(stdout(&run(ikerctl, &["version"])), own);
    for args in [
        &["--list-sas", "--uri", "unix:///nonexistent/charon.vici"][..],
        &["-l", "-u", "unix:///nonexistent/charon.vici"],
        &["--uri", "unix:///nonexistent/charon.vici", "status"],
        &["stats", "--uri=unix:///nonexistent/charon.vici"],
    ] {
        let out = run(ikerctl, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("is ikerd running? no socket at /nonexistent/charon.vici"),
            "{args:?}: {err}"
        );
    }
    let out = run(ikerctl, &["list-sas", "--uri", "tcp://127.0.0.1:4502"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unix:///PATH"));
    let out = run(ikerctl, &["--terminate"]);
    assert_eq!(out.status.code(), Some(2), "terminate needs a selector");
}

#[test]
fn ikerctl_writes_completions_for_three_shells() {
    for shell in ["bash", "zsh", "fish"] {
        let out = run(env!("CARGO_BIN_EXE_ikerctl"), &["completions", shell]);
        assert!(out.status.success(), "{shell}");
        assert!(stdout(&out).contains("list-sas"), "{shell}");
    }
}

#[test]
fn unknown_option_is_an_error_naming_it() {
    for bin in [env!("CARGO_BIN_EXE_ikerd"), env!("CARGO_BIN_EXE_ikerctl")] {
        let out = run(bin, &["--no-such-option"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("--no-such-option"));
    }
}
