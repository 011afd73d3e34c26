//! Network-namespace handling against the real kernel. Needs root: `scripts/test` runs these
//! (`cargo nextest run --run-ignored only`) when it runs as root. Every test works in
//! namespaces it creates and removes; the host's own namespace is only read.

use std::process::Command;

use xfrm::NetNs;

/// Interface names listed by the kernel for the calling thread's network namespace.
fn interfaces() -> Vec<String> {
    let dev = std::fs::read_to_string("/proc/thread-self/net/dev").unwrap();
    // Two header lines, then "  name: counters...".
    dev.lines()
        .skip(2)
        .filter_map(|line| line.split(':').next())
        .map(|name| name.trim().to_owned())
        .collect()
}

fn ip(args: &[&str]) -> String {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
#[ignore = "root: needs CAP_SYS_ADMIN and CAP_NET_ADMIN"]
fn root_create_gives_an_empty_namespace_and_leaves_the_caller_alone() {
    let host = NetNs::current().unwrap().id().unwrap();
    let ns = NetNs::create().unwrap();
    assert_ne!(ns.id().unwrap(), host);

    let (inside_id, inside_ifaces) = ns
        .run(|| (NetNs::current().unwrap().id().unwrap(), interfaces()))
        .unwrap();
    assert_eq!(inside_id, ns.id().unwrap());
    assert_eq!(inside_ifaces, ["lo"]);

    assert_eq!(NetNs::current().unwrap().id().unwrap(), host);
}

#[test]
#[ignore = "root: needs CAP_SYS_ADMIN and CAP_NET_ADMIN"]
fn root_xfrm_state_and_spawned_processes_stay_in_the_namespace() {
    let selector = ["src", "198.51.100.77/32", "dst", "203.0.113.77/32"];
    let ns = NetNs::create().unwrap();
    let inside = ns
        .run(|| {
            let mut add = vec!["xfrm", "policy", "add"];
            add.extend(selector);
            add.extend(["dir", "out", "action", "block"]);
            ip(&add);
            let spi = ip(&[
                "xfrm",
                "state",
                "allocspi",
                "src",
                "192.0.2.1",
                "dst",
                "192.0.2.2",
                "proto",
                "esp",
                "min",
                "0xc0000100",
                "max",
                "0xc00001ff",
            ]);
            (ip(&["xfrm", "policy", "list"]), spi)
        })
        .unwrap();
    assert!(inside.0.contains("198.51.100.77/32"), "{}", inside.0);
    assert!(inside.1.contains("spi 0xc00001"), "{}", inside.1);

    let host = ip(&["xfrm", "policy", "list"]);
    assert!(
        !host.contains("198.51.100.77/32"),
        "leaked to the host: {host}"
    );
}

#[test]
#[ignore = "root: needs CAP_SYS_ADMIN and CAP_NET_ADMIN"]
fn root_named_namespace_is_entered() {
    let name = format!("ikerd-test-{}", std::process::id());
    ip(&["netns", "add", &name]);
    let result = std::panic::catch_unwind(|| {
        ip(&[
            "-n", &name, "link", "add", "name", "ikerd0", "type", "veth", "peer", "name", "ikerd1",
        ]);
        let ns = NetNs::named(&name).unwrap();
        ns.run(interfaces).unwrap()
    });
    ip(&["netns", "del", &name]);
    let ifaces = result.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    assert!(ifaces.iter().any(|i| i == "ikerd0"), "{ifaces:?}");
    assert!(!interfaces().iter().any(|i| i == "ikerd0"));
}
