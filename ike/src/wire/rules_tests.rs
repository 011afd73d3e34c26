use std::net::Ipv4Addr;

use super::*;
use crate::wire::{AuthMethod, KeId, ProtocolId};

fn sa() -> sa::Repr {
    sa::Repr {
        proposals: vec![sa::Proposal {
            number: 1,
            protocol: ProtocolId::IKE,
            spi: vec![],
            transforms: vec![sa::Transform::ke(KeId::CURVE25519)],
        }],
    }
}

fn ke() -> ke::Repr {
    ke::Repr {
        group: KeId::CURVE25519,
        data: vec![7; 32],
    }
}

fn nonce() -> nonce::Repr {
    nonce::Repr { data: vec![1; 32] }
}

fn ts() -> ts::Repr {
    ts::Repr {
        selectors: vec![ts::TrafficSelector::V4 {
            protocol: 0,
            start_port: 0,
            end_port: 65535,
            start: Ipv4Addr::new(198, 51, 100, 0),
            end: Ipv4Addr::new(198, 51, 100, 255),
        }],
    }
}

fn notify(ty: NotifyType) -> notify::Repr {
    notify::Repr::new(ty, &[])
}

fn check_round_trip(typed: Typed) {
    let (exchange, response) = typed.exchange();
    let payloads = typed.clone().into_payloads();
    assert_eq!(
        Typed::from_payloads(exchange, response, payloads),
        Ok(typed)
    );
}

#[test]
fn ike_sa_init_request() {
    let request = IkeSaInitRequest {
        sa: sa(),
        ke: ke(),
        nonce: nonce(),
        notifies: vec![
            notify(NotifyType::NAT_DETECTION_SOURCE_IP),
            notify(NotifyType::COOKIE),
        ],
        vendor_ids: vec![vendor::Repr { id: vec![1, 2] }],
    };
    let payloads = Typed::IkeSaInitRequest(request.clone()).into_payloads();
    // RFC 7296 2.6: the COOKIE notify is the first payload.
    assert!(matches!(&payloads[0], Payload::Notify(n) if n.ty == NotifyType::COOKIE));
    assert!(matches!(payloads[1], Payload::Sa(_)));
    let parsed = Typed::from_payloads(ExchangeType::IKE_SA_INIT, false, payloads).unwrap();
    let Typed::IkeSaInitRequest(parsed) = parsed else {
        panic!("{parsed:?}")
    };
    assert_eq!(
        (parsed.sa, parsed.ke, parsed.nonce),
        (request.sa, request.ke, request.nonce)
    );
    assert_eq!(parsed.notifies.len(), 2);
}

#[test]
fn ike_sa_init_request_needs_sa_ke_and_nonce() {
    for (missing, ty) in [(0, P::SA), (1, P::KE), (2, P::NONCE)] {
        let mut payloads = vec![
            Payload::Sa(sa()),
            Payload::Ke(ke()),
            Payload::Nonce(nonce()),
        ];
        payloads.remove(missing);
        assert_eq!(
            Typed::from_payloads(ExchangeType::IKE_SA_INIT, false, payloads),
            Err(Error::MissingPayload(ty))
        );
    }
}

#[test]
fn duplicates_and_strangers_are_refused() {
    let twice = vec![
        Payload::Sa(sa()),
        Payload::Ke(ke()),
        Payload::Nonce(nonce()),
        Payload::Nonce(nonce()),
    ];
    assert_eq!(
        Typed::from_payloads(ExchangeType::IKE_SA_INIT, false, twice),
        Err(Error::UnexpectedPayload(P::NONCE))
    );
    let auth_in_init = vec![Payload::Auth(auth::Repr {
        method: AuthMethod::SHARED_KEY_MIC,
        data: vec![],
    })];
    assert_eq!(
        Typed::from_payloads(ExchangeType::IKE_SA_INIT, false, auth_in_init),
        Err(Error::UnexpectedPayload(P::AUTH))
    );
    let sk_inside = vec![Payload::Sk {
        first: P::NONE,
        sk: super::super::sk::Repr { data: vec![] },
    }];
    assert_eq!(
        Typed::from_payloads(ExchangeType::INFORMATIONAL, false, sk_inside),
        Err(Error::UnexpectedPayload(P::SK))
    );
}

#[test]
fn unknown_non_critical_payloads_are_dropped() {
    let payloads = vec![
        Payload::Unknown {
            ty: PayloadType(200),
            critical: false,
            body: vec![1],
        },
        Payload::Notify(notify(NotifyType::INITIAL_CONTACT)),
    ];
    let typed = Typed::from_payloads(ExchangeType::INFORMATIONAL, false, payloads).unwrap();
    assert_eq!(
        typed,
        Typed::InformationalRequest(Informational {
            notifies: vec![notify(NotifyType::INITIAL_CONTACT)],
            ..Informational::default()
        })
    );
}

#[test]
fn ike_sa_init_response_accepts_or_notifies() {
    check_round_trip(Typed::IkeSaInitResponse(IkeSaInitResponse::Accept {
        sa: sa(),
        ke: ke(),
        nonce: nonce(),
        certreqs: vec![],
        notifies: vec![notify(NotifyType::IKEV2_FRAGMENTATION_SUPPORTED)],
        vendor_ids: vec![],
    }));
    let invalid_ke = notify::Repr::new(NotifyType::INVALID_KE_PAYLOAD, &[0, 19]);
    check_round_trip(Typed::IkeSaInitResponse(IkeSaInitResponse::Notify(vec![
        invalid_ke,
    ])));
    // Half an answer is neither.
    let half = vec![
        Payload::Sa(sa()),
        Payload::Notify(notify(NotifyType::COOKIE)),
    ];
    assert_eq!(
        Typed::from_payloads(ExchangeType::IKE_SA_INIT, true, half),
        Err(Error::MissingPayload(P::KE))
    );
    assert_eq!(
        Typed::from_payloads(ExchangeType::IKE_SA_INIT, true, vec![]),
        Err(Error::MissingPayload(P::SA))
    );
}

#[test]
fn ike_auth_child_payloads_come_together() {
    let child = ChildSaPayloads {
        sa: sa(),
        ts_i: ts(),
        ts_r: ts(),
    };
    check_round_trip(Typed::IkeAuthRequest(IkeAuthRequest {
        id_i: Some(id::Repr::fqdn("carol.example")),
        auth: Some(auth::Repr {
            method: AuthMethod::SHARED_KEY_MIC,
            data: vec![9; 32],
        }),
        child: Some(child.clone()),
        notifies: vec![notify(NotifyType::INITIAL_CONTACT)],
        ..IkeAuthRequest::default()
    }));
    check_round_trip(Typed::IkeAuthResponse(IkeAuthResponse {
        id_r: Some(id::Repr::fqdn("moon.example")),
        child: Some(child),
        ..IkeAuthResponse::default()
    }));
    // Childless (RFC 6023) is fine; an SA without traffic selectors is not.
    check_round_trip(Typed::IkeAuthResponse(IkeAuthResponse::default()));
    let no_ts = vec![Payload::Sa(sa()), Payload::TsI(ts())];
    assert_eq!(
        Typed::from_payloads(ExchangeType::IKE_AUTH, false, no_ts),
        Err(Error::MissingPayload(P::TSR))
    );
    let no_sa = vec![Payload::TsI(ts()), Payload::TsR(ts())];
    assert_eq!(
        Typed::from_payloads(ExchangeType::IKE_AUTH, true, no_sa),
        Err(Error::MissingPayload(P::SA))
    );
}

#[test]
fn create_child_sa() {
    let rekey_child = CreateChildSa {
        sa: sa(),
        nonce: nonce(),
        ke: Some(ke()),
        ts: Some((ts(), ts())),
        notifies: vec![notify::Repr::for_child(
            NotifyType::REKEY_SA,
            ProtocolId::ESP,
            0xc000_0001,
            &[],
        )],
        vendor_ids: vec![],
    };
    let payloads = Typed::CreateChildSaRequest(rekey_child.clone()).into_payloads();
    assert!(matches!(&payloads[0], Payload::Notify(n) if n.ty == NotifyType::REKEY_SA));
    check_round_trip(Typed::CreateChildSaRequest(rekey_child.clone()));
    check_round_trip(Typed::CreateChildSaResponse(CreateChildSaResponse::Accept(
        CreateChildSa {
            ts: None,
            notifies: vec![],
            ..rekey_child
        },
    )));
    check_round_trip(Typed::CreateChildSaResponse(CreateChildSaResponse::Notify(
        vec![notify(NotifyType::NO_PROPOSAL_CHOSEN)],
    )));
    let one_ts = vec![
        Payload::Sa(sa()),
        Payload::Nonce(nonce()),
        Payload::TsR(ts()),
    ];
    assert_eq!(
        Typed::from_payloads(ExchangeType::CREATE_CHILD_SA, false, one_ts),
        Err(Error::MissingPayload(P::TSI))
    );
    assert_eq!(
        Typed::from_payloads(ExchangeType::CREATE_CHILD_SA, false, vec![]),
        Err(Error::MissingPayload(P::SA))
    );
}

#[test]
fn informational() {
    check_round_trip(Typed::InformationalRequest(Informational {
        deletes: vec![delete::Repr::Ike],
        ..Informational::default()
    }));
    // An empty INFORMATIONAL is a liveness check.
    check_round_trip(Typed::InformationalResponse(Informational::default()));
    let nonce_in_info = vec![Payload::Nonce(nonce())];
    assert_eq!(
        Typed::from_payloads(ExchangeType::INFORMATIONAL, true, nonce_in_info),
        Err(Error::UnexpectedPayload(P::NONCE))
    );
}

#[test]
fn unknown_exchange() {
    assert_eq!(
        Typed::from_payloads(ExchangeType(99), false, vec![]),
        Err(Error::UnknownExchange(ExchangeType(99)))
    );
}
