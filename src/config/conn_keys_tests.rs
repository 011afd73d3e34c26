//! Connection keys beyond strongSwan's defaults: forced UDP encapsulation, MOBIKE and
//! fragmentation notes, XFRM interface ids and priority, IKE SA lifetimes and keyingtries.

use std::path::Path;
use std::time::Duration;

use super::load_str;

#[test]
fn connection_keys_beyond_the_defaults() {
    let text = "connections { c {\n\
                  local_addrs = 192.0.2.1\n\
                  remote_addrs = 192.0.2.2\n\
                  local { auth = psk }\n remote { auth = psk }\n\
                  children { c { } }\n\
                } }\n\
                secrets { ike { secret = abc } }\n";
    let loaded = load_str(Path::new("/etc/swanctl/swanctl.conf"), text).unwrap();
    let c = &loaded.connections[0];
    assert!(!c.encap);
    // MOBIKE and fragmentation asked for: noted, not refused; forced fragmentation refused.
    let asked = text.replace(
        "remote_addrs",
        "mobike = yes\nfragmentation = yes\nremote_addrs",
    );
    let asked = load_str(Path::new("/etc/swanctl/swanctl.conf"), &asked).unwrap();
    let notes: Vec<&str> = asked.notes.iter().map(|n| n.key.as_str()).collect();
    assert_eq!(
        notes,
        ["connections.c.mobike", "connections.c.fragmentation"]
    );
    assert!(asked.notes[0].message.contains("not supported yet"));
    assert!(loaded.notes.is_empty());
    let forced = text.replace("remote_addrs", "fragmentation = force\nremote_addrs");
    let e = load_str(Path::new("/etc/swanctl/swanctl.conf"), &forced).unwrap_err();
    assert!(e.to_string().contains("'force': not supported yet"), "{e}");
    let forced = text.replace("remote_addrs", "encap = yes\nremote_addrs");
    let forced = load_str(Path::new("/etc/swanctl/swanctl.conf"), &forced).unwrap();
    assert!(forced.connections[0].encap);

    // XFRM interface ids: the connection's for children without their own; priority.
    let xfrm = text
        .replace(
            "remote_addrs",
            "if_id_in = 0x2a\nif_id_out = 7\nremote_addrs",
        )
        .replace(
            "children { c { } }",
            "children { c { }\n d { if_id_out = 9\npriority = 1234 } }",
        );
    let xfrm = load_str(Path::new("/etc/swanctl/swanctl.conf"), &xfrm).unwrap();
    let kids: Vec<_> = xfrm.connections[0]
        .children
        .iter()
        .map(|c| c.xfrm)
        .collect();
    assert_eq!(
        kids.iter()
            .map(|x| (x.if_id_in, x.if_id_out, x.priority))
            .collect::<Vec<_>>(),
        [(Some(42), Some(7), None), (Some(42), Some(9), Some(1234))]
    );
    assert_eq!(c.children[0].xfrm, Default::default());
    for (bad, message) in [
        ("if_id_in = %unique", "only a fixed interface id"),
        ("if_id_out = 0", "0 is no interface id"),
        ("if_id_in = 0xzz", "'0xzz' is not a number"),
    ] {
        let text = text.replace("remote_addrs", &format!("{bad}\nremote_addrs"));
        let e = load_str(Path::new("/etc/swanctl/swanctl.conf"), &text).unwrap_err();
        assert!(e.to_string().contains(message), "{e}");
    }

    // IKE SA lifetimes: over_time a tenth of the longer interval, rand_time over_time but at
    // most half the shorter one (vici_config.c), keyingtries 1.
    let secs = Duration::from_secs;
    assert_eq!(
        (c.reauth_time, c.over_time, c.rand_time, c.keyingtries),
        (Duration::ZERO, secs(1440), secs(1440), 1)
    );
    for (keys, expected) in [
        (
            "reauth_time = 3h",
            Ok((secs(10800), secs(1440), secs(1440), 1)),
        ),
        (
            "rekey_time = 0\nreauth_time = 1h\nkeyingtries = 0",
            Ok((secs(3600), secs(360), secs(360), 0)),
        ),
        (
            "rekey_time = 20m\nover_time = 10m",
            Ok((Duration::ZERO, secs(600), secs(600), 1)),
        ),
        (
            "rekey_time = 10m\nover_time = 10m\nrand_time = 1m",
            Ok((Duration::ZERO, secs(600), secs(60), 1)),
        ),
        ("keyingtries = %forever", Err("expected a number of tries")),
        ("over_time = soon", Err("over_time")),
    ] {
        let text = text.replace("remote_addrs", &format!("{keys}\nremote_addrs"));
        let loaded = load_str(Path::new("/etc/swanctl/swanctl.conf"), &text);
        match (loaded, expected) {
            (Ok(l), Ok(want)) => {
                let c = &l.connections[0];
                let got = (c.reauth_time, c.over_time, c.rand_time, c.keyingtries);
                assert_eq!(got, want, "{keys}");
            }
            (Err(e), Err(message)) => assert!(e.to_string().contains(message), "{e}"),
            (got, want) => panic!("{keys}: {:?} vs {want:?}", got.map(|_| ())),
        }
    }
}

#[test]
fn marks_and_reqid_of_a_child() {
    let text = |child: &str| {
        format!(
            "connections {{ c {{\n local_addrs = 192.0.2.1\n remote_addrs = 192.0.2.2\n\
             local {{ auth = psk }}\n remote {{ auth = psk }}\n\
             children {{ c {{ {child} }} }}\n}} }}\nsecrets {{ ike {{ secret = abc }} }}\n"
        )
    };
    let path = Path::new("/etc/swanctl/swanctl.conf");
    let loaded = load_str(
        path,
        &text("mark_in = 0x2a/0xff\n mark_out = 7\n mark_in_sa = yes\n reqid = 5"),
    )
    .unwrap();
    let x = loaded.connections[0].children[0].xfrm;
    assert_eq!(
        (x.mark_in, x.mark_out, x.mark_in_sa, x.reqid),
        (Some((42, 0xff)), Some((7, u32::MAX)), true, Some(5))
    );
    let none = load_str(path, &text("mark_in = 0\n reqid = 0")).unwrap();
    let x = none.connections[0].children[0].xfrm;
    assert_eq!((x.mark_in, x.reqid), (None, None));
    for (bad, message) in [
        ("mark_out = %unique", "only a fixed mark"),
        ("mark_in = 5/blue", "'5/blue' is not a mark"),
        ("reqid = -1", "reqid"),
    ] {
        let e = load_str(path, &text(bad)).unwrap_err().to_string();
        assert!(e.contains(message), "{bad}: {e}");
    }
}
