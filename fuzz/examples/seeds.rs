//! Writes seed inputs for the fuzz targets: valid encodings, so the fuzzer starts past the
//! length and type checks instead of having to discover them.
//!
//! Usage: `seeds CORPUS_DIR [TARGET...]` writes `CORPUS_DIR/TARGET/seed-NAME` for the targets
//! named (every target when none is).

use std::path::Path;
use std::{env, fs, io, process};

use ikerd::vici::wire::{Message, Packet};

/// Named inputs.
type Seeds = Vec<(String, Vec<u8>)>;

fn main() {
    let args: Vec<String> = env::args().skip(1).collect();
    let Some((dir, targets)) = args.split_first() else {
        eprintln!("usage: seeds CORPUS_DIR [TARGET...]");
        process::exit(2);
    };
    let all = seeds();
    for name in targets {
        if !all.iter().any(|(target, _)| target == name) {
            eprintln!("seeds: no seeds for target {name}");
            process::exit(2);
        }
    }
    for (target, seeds) in all {
        if targets.is_empty() || targets.iter().any(|t| t == target) {
            write(&Path::new(dir).join(target), &seeds).unwrap_or_else(|e| {
                eprintln!("seeds: {target}: {e}");
                process::exit(1);
            });
        }
    }
}

fn write(dir: &Path, seeds: &Seeds) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    for (name, bytes) in seeds {
        fs::write(dir.join(format!("seed-{name}")), bytes)?;
    }
    Ok(())
}

/// Every target's seeds. A new target adds its entry here.
fn seeds() -> Vec<(&'static str, Seeds)> {
    vec![("vici", vici())]
}

/// Packets of every type, carrying messages with every element: what swanctl sends and what
/// a daemon answers.
fn vici() -> Seeds {
    let tree = Message::new().with_value("key1", "value1").with_section(
        "section1",
        Message::new()
            .with_section("sub-section", Message::new().with_value("key2", "value2"))
            .with_list("list1", ["item1", "item2"]),
    );
    let stats = Message::new()
        .with_section(
            "uptime",
            Message::new()
                .with_value("running", "5 minutes")
                .with_value("since", "Jan 01 00:00:00 2025"),
        )
        .with_value("scheduled", "0")
        .with_list("plugins", Vec::<&str>::new());
    let packets = [
        (
            "version",
            Packet::CmdRequest {
                command: "version".into(),
                message: Message::new(),
            },
        ),
        (
            "request",
            Packet::CmdRequest {
                command: "load-conn".into(),
                message: tree.clone(),
            },
        ),
        ("response", Packet::CmdResponse(stats)),
        ("unknown", Packet::CmdUnknown),
        ("register", Packet::EventRegister("log".into())),
        ("unregister", Packet::EventUnregister("log".into())),
        ("confirm", Packet::EventConfirm),
        ("event-unknown", Packet::EventUnknown),
        (
            "event",
            Packet::Event {
                event: "ike-updown".into(),
                message: tree,
            },
        ),
    ];
    packets
        .into_iter()
        .map(|(name, p)| (name.to_owned(), p.emit().expect("seed packets encode")))
        .collect()
}
