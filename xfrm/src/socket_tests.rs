use netlink_packet_xfrm::{
    AlgAead, UserSaInfo, XfrmAttrs,
    state::{DelGetMessage, ModifyMessage},
};

use super::*;

fn add_sa_with_key(key: &[u8]) -> XfrmMessage {
    XfrmMessage::AddSa(ModifyMessage {
        user_sa_info: UserSaInfo::default(),
        nlas: vec![XfrmAttrs::EncryptionAlgAead(AlgAead {
            alg_name: crate::algorithm::name_field("rfc4106(gcm(aes))"),
            alg_key_len: (key.len() * 8) as u32,
            alg_icv_len: 128,
            alg_key: key.to_vec(),
        })],
    })
}

/// An NLMSG_ERROR the way the kernel builds it with NETLINK_CAP_ACK and NETLINK_EXT_ACK.
fn error_datagram(seq: u32, errno: i32, text: Option<&str>) -> Vec<u8> {
    let mut payload = (-errno).to_ne_bytes().to_vec();
    // The echoed request header (capped: header only).
    payload.extend_from_slice(&[0u8; 16]);
    let mut flags = NLM_F_CAPPED;
    if let Some(text) = text {
        flags |= NLM_F_ACK_TLVS;
        let mut value = text.as_bytes().to_vec();
        value.push(0);
        let len = 4 + value.len();
        payload.extend_from_slice(&(len as u16).to_ne_bytes());
        payload.extend_from_slice(&NLMSGERR_ATTR_MSG.to_ne_bytes());
        payload.extend_from_slice(&value);
        payload.resize(payload.len().next_multiple_of(4), 0);
    }
    let mut msg = ((16 + payload.len()) as u32).to_ne_bytes().to_vec();
    msg.extend_from_slice(&2u16.to_ne_bytes()); // NLMSG_ERROR
    msg.extend_from_slice(&flags.to_ne_bytes());
    msg.extend_from_slice(&seq.to_ne_bytes());
    msg.extend_from_slice(&0u32.to_ne_bytes());
    msg.extend_from_slice(&payload);
    msg
}

#[test]
fn encode_writes_one_message_with_its_key_and_sequence() {
    let key = [0x5au8; 20];
    let mut tx = Vec::new();
    let req = Request {
        msg: add_sa_with_key(&key),
        dump: false,
    };
    encode(&req, 7, &mut tx);
    drop(req);
    let found = tx.windows(key.len()).any(|w| w == key);
    assert!(found, "key not serialized");
    let parsed = parse_datagram(&tx);
    assert_eq!(parsed.len(), 1);
    assert_eq!(parsed[0].seq, 7);
    let Body::Message(m) = &parsed[0].body else {
        panic!("{:?}", parsed[0].body)
    };
    assert_eq!(m.message_type(), netlink_packet_xfrm::XFRM_MSG_NEWSA);
}

#[test]
fn wipe_message_clears_keys_of_requests_and_replies() {
    let mut msg = add_sa_with_key(&[1; 36]);
    wipe_message(&mut msg);
    let XfrmMessage::AddSa(m) = &msg else {
        panic!()
    };
    let XfrmAttrs::EncryptionAlgAead(a) = &m.nlas[0] else {
        panic!()
    };
    assert!(a.alg_key.is_empty());
    // Other messages pass through untouched.
    let mut get = XfrmMessage::GetSa(DelGetMessage {
        user_sa_id: Default::default(),
        nlas: vec![],
    });
    wipe_message(&mut get);
}

#[test]
fn encode_grows_the_buffer_without_leaving_copies() {
    let mut tx = Vec::with_capacity(8);
    tx.extend_from_slice(&[1, 2, 3]);
    tx.truncate(0);
    for seq in 1..=3 {
        let req = Request {
            msg: add_sa_with_key(&[seq as u8; 20]),
            dump: false,
        };
        encode(&req, seq, &mut tx);
    }
    let seqs: Vec<u32> = parse_datagram(&tx).iter().map(|p| p.seq).collect();
    assert_eq!(seqs, [1, 2, 3]);
}

#[test]
fn error_reply_carries_errno_and_extack_text() {
    let dgram = error_datagram(5, libc::EINVAL, Some("Invalid key length"));
    let parsed = parse_datagram(&dgram);
    assert_eq!(parsed.len(), 1);
    let Body::Ack { errno, extack } = &parsed[0].body else {
        panic!("{:?}", parsed[0].body)
    };
    assert_eq!(*errno, libc::EINVAL);
    assert_eq!(extack.as_deref(), Some("Invalid key length"));
}

#[test]
fn plain_ack_is_errno_zero() {
    let parsed = parse_datagram(&error_datagram(9, 0, None));
    assert!(matches!(
        parsed[0].body,
        Body::Ack {
            errno: 0,
            extack: None
        }
    ));
}

#[test]
fn pending_collects_replies_until_the_ack() {
    let mut p = Pending::new(3);
    p.absorb(Parsed {
        seq: 3,
        body: Body::Message(Box::new(add_sa_with_key(&[1; 20]))),
    });
    assert!(!p.complete);
    p.absorb(Parsed {
        seq: 3,
        body: Body::Ack {
            errno: 0,
            extack: None,
        },
    });
    assert!(p.complete);
    let Outcome::Done(replies) = p.finish() else {
        panic!()
    };
    assert_eq!(replies.len(), 1);

    let mut failed = Pending::new(4);
    failed.absorb(Parsed {
        seq: 4,
        body: Body::Done(libc::EPERM),
    });
    assert!(matches!(failed.finish(), Outcome::Failed { errno, .. } if errno == libc::EPERM));
}

#[test]
fn truncated_and_junk_datagrams_do_not_panic() {
    let good = error_datagram(1, libc::EEXIST, Some("x"));
    for cut in 0..good.len() {
        let _ = parse_datagram(&good[..cut]);
    }
    let mut junk = good.clone();
    junk[0] = 0xff; // length beyond the datagram
    assert!(parse_datagram(&junk).is_empty());
    let mut tiny = good.clone();
    tiny[..4].copy_from_slice(&4u32.to_ne_bytes()); // shorter than a header
    assert!(parse_datagram(&tiny).is_empty());
    let mut state = 0x1234_5678u32;
    for _ in 0..200 {
        let bytes: Vec<u8> = (0..96)
            .map(|_| {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (state >> 16) as u8
            })
            .collect();
        let _ = parse_datagram(&bytes);
    }
}

#[test]
fn extack_without_capping_skips_the_whole_echoed_request() {
    // An uncapped error echoes the full request: its header says how long it is.
    let mut after_code = 24u32.to_ne_bytes().to_vec();
    after_code.extend_from_slice(&[0; 20]);
    after_code.extend_from_slice(&8u16.to_ne_bytes());
    after_code.extend_from_slice(&NLMSGERR_ATTR_MSG.to_ne_bytes());
    after_code.extend_from_slice(b"bad\0");
    assert_eq!(extack_message(&after_code, false).as_deref(), Some("bad"));
    assert_eq!(extack_message(&after_code[..10], false), None);
}

/// A bare header of `kind` with `payload` after it.
fn raw_message(kind: u16, payload: &[u8]) -> Vec<u8> {
    let mut msg = ((16 + payload.len()) as u32).to_ne_bytes().to_vec();
    msg.extend_from_slice(&kind.to_ne_bytes());
    msg.extend_from_slice(&0u16.to_ne_bytes());
    msg.extend_from_slice(&1u32.to_ne_bytes());
    msg.extend_from_slice(&0u32.to_ne_bytes());
    msg.extend_from_slice(payload);
    msg
}

#[test]
fn short_info_replies_and_unknown_types_do_not_reach_the_codec() {
    for kind in [0x22u16, 0x24] {
        let parsed = parse_datagram(&raw_message(kind, &[]));
        assert!(
            matches!(parsed[0].body, Body::Garbled(_)),
            "{kind:#x}: {parsed:?}"
        );
    }
    let parsed = parse_datagram(&raw_message(0x7777, &[1, 2]));
    assert!(matches!(parsed[0].body, Body::Ignored));
    // Every decoded type with a truncated body is an error, never a panic.
    for (kind, fixed) in DECODED {
        for len in [
            0,
            3,
            7,
            60,
            fixed.saturating_sub(1),
            fixed,
            fixed + 3,
            fixed + 8,
        ] {
            let _ = parse_datagram(&raw_message(kind, &vec![0xa5; len]));
        }
    }
}

#[test]
fn random_bodies_of_every_decoded_type_never_panic() {
    let mut state = 0x9e37_79b9u32;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    for (kind, fixed) in DECODED {
        for _ in 0..300 {
            let len = fixed + (next() % 300) as usize;
            let mut body: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            // Plausible attribute headers after the fixed part, so the attribute parsers run.
            let mut at = fixed.next_multiple_of(4);
            while at + 4 <= body.len() {
                let nla_len = 4 + (next() % 80) as u16;
                let nla_kind = (next() % 34) as u16;
                body[at..at + 2].copy_from_slice(&nla_len.to_ne_bytes());
                body[at + 2..at + 4].copy_from_slice(&nla_kind.to_ne_bytes());
                at += usize::from(nla_len).next_multiple_of(4);
            }
            let _ = parse_datagram(&raw_message(kind, &body));
        }
    }
}

#[test]
#[ignore = "root: needs CAP_NET_ADMIN"]
fn root_sequence_numbers_wrap_past_zero_within_a_window() {
    use netlink_packet_xfrm::policy::GetSpdInfoMessage;

    let ns = crate::NetNs::create().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut socket = XfrmSocket::open(Some(&ns), 0).unwrap();
        socket.seq = u32::MAX - 2;
        let requests = (0..5)
            .map(|_| Request {
                msg: XfrmMessage::GetSpdInfo(GetSpdInfoMessage { flags: 0 }),
                dump: false,
            })
            .collect();
        let limit = std::time::Duration::from_secs(5);
        let outcomes = tokio::time::timeout(limit, socket.transact(requests))
            .await
            .expect("the window never completed")
            .unwrap();
        assert_eq!(outcomes.len(), 5);
        for outcome in outcomes {
            let Outcome::Done(replies) = outcome else {
                panic!("{outcome:?}")
            };
            assert!(
                matches!(replies[..], [XfrmMessage::NewSpdInfo(_)]),
                "{replies:?}"
            );
        }
        // 0 was skipped: MAX-1, MAX, 1, 2, 3.
        assert_eq!(socket.next_seq(), 4);
    });
}
