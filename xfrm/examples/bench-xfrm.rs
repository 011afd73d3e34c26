//! Installs many SAs and policies through `Xfrm::apply` (pipelined) in the caller's network
//! namespace, for `scripts/bench-xfrm`, which times it against `ip -batch` with the same
//! entries. Prints the entries it installed and the time the kernel took to take them.
//!
//!   bench-xfrm sa-pairs N   N inbound/outbound AES-GCM-128 tunnel SA pairs, plus an out and
//!                           an in policy per pair
//!   bench-xfrm policies N   N out policies alone
//!   bench-xfrm ip-batch sa-pairs|policies N   prints the same entries as `ip -batch` input

use std::net::{IpAddr, Ipv6Addr};
use std::process::ExitCode;
use std::time::Instant;

use xfrm::{
    Action, Aead, Change, Crypto, Direction, Key, Lifetime, Mode, PolicyId, PolicySpec, Prefix,
    Priority, Proto, SaId, SaSpec, Selector, Spi, Template, Xfrm,
};

const REQID: u32 = 0x4b00_0000;
const SPI_BASE: u32 = 0xc000_0000;
/// The kernel's priority for every benchmark policy: one value keeps both sides identical.
const PRIORITY: u32 = 1000;

fn gateway(n: u16) -> IpAddr {
    IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, n))
}

/// The `i`th host of the documentation network `net` (2001:db8:NET::/48).
fn host(net: u16, i: u32) -> IpAddr {
    IpAddr::V6(Ipv6Addr::new(
        0x2001,
        0xdb8,
        net,
        0,
        0,
        0,
        (i >> 16) as u16,
        i as u16,
    ))
}

fn key(i: u32) -> Vec<u8> {
    let mut k = vec![0x5a; 20];
    k[..4].copy_from_slice(&i.to_be_bytes());
    k
}

fn sa(i: u32, inbound: bool) -> SaSpec {
    let (src, dst) = if inbound {
        (gateway(2), gateway(1))
    } else {
        (gateway(1), gateway(2))
    };
    let spi = SPI_BASE + 2 * i + u32::from(inbound);
    SaSpec {
        id: SaId {
            dst,
            spi: Spi(spi),
            proto: Proto::Esp,
            mark: None,
        },
        src,
        mode: Mode::Tunnel,
        reqid: REQID + i,
        crypto: Crypto::Aead {
            alg: Aead::AesGcm16,
            key: Key::new(key(spi)),
        },
        selector: None,
        encap: None,
        replay_window: 32,
        esn: false,
        lifetime: Lifetime::default(),
        if_id: None,
        set_mark: None,
    }
}

fn policy(i: u32, dir: Direction) -> PolicySpec {
    let (a, b) = (Prefix::host(host(1, i)), Prefix::host(host(2, i)));
    let (selector, src, dst) = match dir {
        Direction::Out => (Selector::new(a, b), gateway(1), gateway(2)),
        _ => (Selector::new(b, a), gateway(2), gateway(1)),
    };
    PolicySpec {
        id: PolicyId {
            selector: selector.expect("one family"),
            dir,
            mark: None,
            if_id: None,
        },
        action: Action::Allow,
        templates: vec![Template {
            src,
            dst,
            proto: Proto::Esp,
            mode: Mode::Tunnel,
            reqid: REQID + i,
            spi: None,
            optional: false,
        }],
        priority: Priority::Fixed(PRIORITY),
        lifetime: Lifetime::default(),
    }
}

fn changes(workload: &str, n: u32) -> Option<Vec<Change>> {
    let mut out = Vec::new();
    match workload {
        "sa-pairs" => {
            for i in 0..n {
                out.push(Change::AddSa(sa(i, true)));
                out.push(Change::AddSa(sa(i, false)));
                out.push(Change::AddPolicy(policy(i, Direction::Out)));
                out.push(Change::AddPolicy(policy(i, Direction::In)));
            }
        }
        "policies" => out.extend((0..n).map(|i| Change::AddPolicy(policy(i, Direction::Out)))),
        _ => return None,
    }
    Some(out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The same change as an `ip -batch` line.
fn ip_line(change: &Change) -> String {
    match change {
        Change::AddSa(s) => {
            let Crypto::Aead { key, .. } = &s.crypto else {
                unreachable!("the benchmark installs AES-GCM only")
            };
            format!(
                "xfrm state add src {} dst {} proto esp spi {:#x} reqid {} mode tunnel \
                 replay-window 32 aead rfc4106(gcm(aes)) 0x{} 128",
                s.src,
                s.id.dst,
                s.id.spi.0,
                s.reqid,
                hex(key.as_bytes())
            )
        }
        Change::AddPolicy(p) => {
            let t = &p.templates[0];
            let dir = if p.id.dir == Direction::Out {
                "out"
            } else {
                "in"
            };
            format!(
                "xfrm policy add src {} dst {} dir {dir} priority {PRIORITY} tmpl src {} dst {} \
                 proto esp reqid {} mode tunnel",
                p.id.selector.src, p.id.selector.dst, t.src, t.dst, t.reqid
            )
        }
        _ => unreachable!("the benchmark only adds"),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (print_batch, workload, n) = match args.as_slice() {
        ["ip-batch", w, n] => (true, *w, n.parse::<u32>().ok()),
        [w, n] => (false, *w, n.parse::<u32>().ok()),
        _ => (false, "", None),
    };
    let Some(changes) = n.and_then(|n| changes(workload, n)) else {
        eprintln!("usage: bench-xfrm [ip-batch] sa-pairs|policies N");
        return ExitCode::from(2);
    };
    if print_batch {
        for c in &changes {
            println!("{}", ip_line(c));
        }
        return ExitCode::SUCCESS;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("tokio runtime");
    rt.block_on(async {
        let x = match Xfrm::open() {
            Ok(x) => x,
            Err(e) => {
                eprintln!("bench-xfrm: {e}");
                return ExitCode::FAILURE;
            }
        };
        let start = Instant::now();
        let results = match x.apply(&changes).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("bench-xfrm: {e}");
                return ExitCode::FAILURE;
            }
        };
        let took = start.elapsed();
        let failed: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
        if let Some(first) = failed.first() {
            eprintln!(
                "bench-xfrm: {} of {} changes failed, first: {first}",
                failed.len(),
                changes.len()
            );
            return ExitCode::FAILURE;
        }
        println!(
            "{} entries in {:.1} ms",
            changes.len(),
            took.as_secs_f64() * 1e3
        );
        ExitCode::SUCCESS
    })
}
