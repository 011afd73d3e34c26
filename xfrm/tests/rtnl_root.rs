//! rtnetlink helpers against the host's kernel, in throwaway network namespaces. Needs root;
//! `scripts/test` runs these as root (`--run-ignored only`).

mod common;

use std::time::Duration;

use common::*;
use xfrm::{ErrorKind, NetEvent, NetEvents, NetNs, Prefix, Rtnetlink, TunnelRoute};

/// A namespace with a veth pair v0/v1, both up, v0 holding 192.0.2.1/24 and 2001:db8::1/64.
fn namespace() -> NetNs {
    let ns = NetNs::create().unwrap();
    ns.run(|| {
        ip(&["link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
        ip(&["addr", "add", "192.0.2.1/24", "dev", "v0"]);
        ip(&["addr", "add", "2001:db8::1/64", "dev", "v0", "nodad"]);
        ip(&["link", "set", "v0", "up"]);
        ip(&["link", "set", "v1", "up"]);
    })
    .unwrap();
    ns
}

#[test]
#[ignore = "root: needs CAP_NET_ADMIN"]
fn root_virtual_ips_are_added_listed_and_removed() {
    block_on(async {
        let ns = namespace();
        let rt = Rtnetlink::open_in(&ns).unwrap();
        let v0 = rt.link_index("v0").await.unwrap();
        let missing = rt.link_index("nonexistent0").await.unwrap_err();
        assert_eq!(missing.kind(), ErrorKind::NotFound, "{missing}");
        let gone = rt
            .delete_address(v0, addr("192.0.2.78"), 32)
            .await
            .unwrap_err();
        assert_eq!(gone.kind(), ErrorKind::NotFound, "{gone}");

        for (vip, len) in [(addr("192.0.2.77"), 32), (addr("2001:db8::77"), 128)] {
            rt.add_address(v0, vip, len).await.unwrap();
            let listed = rt.addresses(Some(v0)).await.unwrap();
            assert!(listed.contains(&(v0, vip, len)), "{listed:?}");
            let again = rt.add_address(v0, vip, len).await.unwrap_err();
            assert_eq!(again.kind(), ErrorKind::Exists, "{again}");
            let shown = ns.run(|| ip(&["addr", "show", "dev", "v0"])).unwrap();
            assert!(shown.contains(&format!("{vip}/{len}")), "{shown}");

            rt.delete_address(v0, vip, len).await.unwrap();
            let listed = rt.addresses(Some(v0)).await.unwrap();
            assert!(!listed.iter().any(|(_, a, _)| *a == vip), "{listed:?}");
        }
        // The namespace's own addresses are untouched.
        let listed = rt.addresses(None).await.unwrap();
        assert!(listed.contains(&(v0, addr("192.0.2.1"), 24)), "{listed:?}");
    });
}

#[test]
#[ignore = "root: needs CAP_NET_ADMIN"]
fn root_tunnel_routes_go_to_table_220_behind_a_rule() {
    block_on(async {
        let ns = namespace();
        let rt = Rtnetlink::open_in(&ns).unwrap();
        let v0 = rt.link_index("v0").await.unwrap();
        assert_eq!(rt.source_for(addr("203.0.113.5")).await.unwrap(), None);

        for family in [addr("192.0.2.1"), addr("2001:db8::1")] {
            rt.install_rule(family).await.unwrap();
            // Installing it twice is fine: the daemon does so at every start.
            rt.install_rule(family).await.unwrap();
        }
        let rules = ns.run(|| ip(&["rule", "list"])).unwrap();
        assert!(rules.contains("220:\tfrom all lookup 220"), "{rules}");
        let rules6 = ns.run(|| ip(&["-6", "rule", "list"])).unwrap();
        assert!(rules6.contains("220:\tfrom all lookup 220"), "{rules6}");

        let route = TunnelRoute {
            dst: Prefix::new(addr("203.0.113.0"), 24).unwrap(),
            src: Some(addr("192.0.2.1")),
            gateway: Some(addr("192.0.2.2")),
            ifindex: v0,
        };
        rt.add_tunnel_route(&route).await.unwrap();
        let table = ns.run(|| ip(&["route", "show", "table", "220"])).unwrap();
        assert!(
            table.contains("203.0.113.0/24 via 192.0.2.2 dev v0 proto static src 192.0.2.1"),
            "{table}"
        );
        let main = ns.run(|| ip(&["route", "show"])).unwrap();
        assert!(!main.contains("203.0.113.0/24"), "leaked into main: {main}");
        assert_eq!(
            rt.source_for(addr("203.0.113.5")).await.unwrap(),
            Some(addr("192.0.2.1"))
        );

        let v6 = TunnelRoute {
            dst: Prefix::new(addr("2001:db8:b::"), 48).unwrap(),
            src: Some(addr("2001:db8::1")),
            gateway: None,
            ifindex: v0,
        };
        rt.add_tunnel_route(&v6).await.unwrap();
        assert_eq!(
            rt.source_for(addr("2001:db8:b::9")).await.unwrap(),
            Some(addr("2001:db8::1"))
        );

        rt.delete_tunnel_route(&route).await.unwrap();
        rt.delete_tunnel_route(&v6).await.unwrap();
        assert_eq!(rt.source_for(addr("203.0.113.5")).await.unwrap(), None);
        let gone = rt.delete_tunnel_route(&route).await.unwrap_err();
        assert_eq!(gone.kind(), ErrorKind::NotFound, "{gone}");

        for family in [addr("192.0.2.1"), addr("2001:db8::1")] {
            rt.remove_rule(family).await.unwrap();
            rt.remove_rule(family).await.unwrap();
        }
        let rules = ns.run(|| ip(&["rule", "list"])).unwrap();
        assert!(!rules.contains("lookup 220"), "{rules}");
        assert!(
            rules.contains("lookup main"),
            "the main table's rule went too: {rules}"
        );
        let rules6 = ns.run(|| ip(&["-6", "rule", "list"])).unwrap();
        assert!(!rules6.contains("lookup 220"), "{rules6}");
    });
}

#[test]
#[ignore = "root: needs CAP_NET_ADMIN"]
fn root_address_and_link_changes_are_reported() {
    block_on(async {
        let ns = namespace();
        let rt = Rtnetlink::open_in(&ns).unwrap();
        let v0 = rt.link_index("v0").await.unwrap();
        let mut events = NetEvents::subscribe_in(&ns).unwrap();

        rt.add_address(v0, addr("192.0.2.99"), 32).await.unwrap();
        let wanted = NetEvent::AddressAdded {
            ifindex: v0,
            addr: addr("192.0.2.99"),
            prefix_len: 32,
        };
        expect_event(&mut events, &wanted).await;

        rt.delete_address(v0, addr("192.0.2.99"), 32).await.unwrap();
        let wanted = NetEvent::AddressRemoved {
            ifindex: v0,
            addr: addr("192.0.2.99"),
            prefix_len: 32,
        };
        expect_event(&mut events, &wanted).await;

        ns.run(|| ip(&["link", "set", "v0", "down"])).unwrap();
        let down = NetEvent::LinkChanged {
            ifindex: v0,
            name: Some("v0".into()),
            up: false,
        };
        expect_event(&mut events, &down).await;
    });
}

/// Waits for `wanted`, skipping other events (the kernel reports more than one per change).
async fn expect_event(events: &mut NetEvents, wanted: &NetEvent) {
    let mut seen = Vec::new();
    let found = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(event) = events.next().await {
            if &event == wanted {
                return true;
            }
            seen.push(event);
        }
        false
    })
    .await;
    assert_eq!(found, Ok(true), "no {wanted:?}; saw {seen:?}");
}
