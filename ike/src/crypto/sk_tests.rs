use super::*;
use crate::crypto::testing::SeededRandom;
use crate::wire::{ExchangeType, Flags, IkeSpi, MessageId, NotifyType, id, notify};

fn header() -> Header {
    Header {
        spi_i: IkeSpi([1; 8]),
        spi_r: IkeSpi([2; 8]),
        next_payload: PayloadType::NONE,
        major_version: 2,
        minor_version: 0,
        exchange: ExchangeType::IKE_AUTH,
        flags: Flags::INITIATOR,
        message_id: MessageId(1),
        length: 0,
    }
}

fn inner() -> Vec<Payload> {
    vec![
        Payload::IdI(id::Repr::fqdn("moon.example")),
        Payload::Notify(notify::Repr::new(NotifyType::INITIAL_CONTACT, &[])),
    ]
}

fn suites() -> Vec<SkKeys> {
    let gcm = |key_len| SkKeys {
        encr: Encr::AesGcm16 { key_len },
        encr_key: Secret::new(vec![0x11; key_len + 4]),
        integ: None,
    };
    let cbc = |key_len, integ: Integ| SkKeys {
        encr: Encr::AesCbc { key_len },
        encr_key: Secret::new(vec![0x22; key_len]),
        integ: Some((integ, Secret::new(vec![0x33; integ.key_len()]))),
    };
    vec![
        gcm(16),
        gcm(32),
        SkKeys {
            encr: Encr::ChaCha20Poly1305,
            encr_key: Secret::new(vec![0x44; 36]),
            integ: None,
        },
        cbc(16, Integ::HmacSha256_128),
        cbc(24, Integ::HmacSha1_96),
        cbc(32, Integ::HmacSha384_192),
        cbc(32, Integ::HmacSha512_256),
    ]
}

#[test]
fn protect_then_unprotect_in_every_suite() {
    let mut rng = SeededRandom(3);
    for keys in suites() {
        let bytes = protect(&keys, &header(), &[], &inner(), &mut rng).unwrap();
        let opened = unprotect(&keys, &bytes).unwrap();
        assert_eq!(opened.inner, inner(), "{:?}", keys.encr);
        assert!(opened.unprotected.is_empty());
        assert_eq!(opened.header.length as usize, bytes.len());
        assert_eq!(opened.header.next_payload, PayloadType::SK);
        // CBC pads the plaintext to whole blocks.
        let body = bytes.len() - 28 - 4;
        if !keys.encr.is_aead() {
            let ciphertext = body - 16 - keys.icv_len();
            assert_eq!(ciphertext % 16, 0);
        }
    }
}

#[test]
fn any_changed_byte_fails_the_integrity_check() {
    let mut rng = SeededRandom(4);
    for keys in suites() {
        let bytes = protect(&keys, &header(), &[], &inner(), &mut rng).unwrap();
        // Header, SK payload header, IV, ciphertext and checksum are all covered.
        for at in 0..bytes.len() {
            let mut tampered = bytes.clone();
            tampered[at] ^= 0x01;
            let result = unprotect(&keys, &tampered);
            assert!(
                result.is_err(),
                "{:?}: byte {at} changed, still opened",
                keys.encr
            );
        }
    }
}

#[test]
fn wrong_keys_fail() {
    let mut rng = SeededRandom(5);
    let keys = &suites()[0];
    let bytes = protect(keys, &header(), &[], &inner(), &mut rng).unwrap();
    let mut other = keys.clone();
    other.encr_key = Secret::new(vec![0x12; 20]);
    assert_eq!(unprotect(&other, &bytes), Err(Error::IntegrityCheck));
}

#[test]
fn short_or_missing_sk_is_an_error() {
    let keys = &suites()[3];
    let plain = Message {
        header: header(),
        payloads: inner(),
    }
    .emit()
    .unwrap();
    assert_eq!(
        unprotect(keys, &plain),
        Err(Error::Wire(crate::wire::Error::MissingPayload(
            PayloadType::SK
        )))
    );
    let short = Message {
        header: header(),
        payloads: vec![Payload::Sk {
            first: PayloadType::IDI,
            sk: sk::Repr { data: vec![0; 20] },
        }],
    }
    .emit()
    .unwrap();
    assert_eq!(
        unprotect(keys, &short),
        Err(Error::Malformed("SK payload too short"))
    );
}

#[test]
fn bad_padding_after_a_valid_checksum_is_malformed() {
    // Encrypt by hand a plaintext whose pad-length byte claims more than there is.
    let keys = &suites()[3];
    let (integ, integ_key) = keys.integ.as_ref().unwrap();
    let mut plain = vec![0u8; 16];
    plain[15] = 200;
    let iv = [9u8; 16];
    keys.encr
        .cbc_encrypt(keys.encr_key.as_bytes(), &iv, &mut plain)
        .unwrap();
    let body = [&iv[..], &plain, &vec![0; integ.icv_len()]].concat();
    let mut bytes = Message {
        header: header(),
        payloads: vec![Payload::Sk {
            first: PayloadType::NONE,
            sk: sk::Repr { data: body },
        }],
    }
    .emit()
    .unwrap();
    let end = bytes.len() - integ.icv_len();
    let icv = integ.compute(integ_key.as_bytes(), &bytes[..end]).unwrap();
    bytes[end..].copy_from_slice(&icv);
    assert_eq!(
        unprotect(keys, &bytes),
        Err(Error::Malformed("SK padding longer than the data"))
    );
}

#[test]
fn mismatched_key_sets_are_refused() {
    let mut keys = suites()[0].clone();
    keys.integ = Some((Integ::HmacSha256_128, Secret::new(vec![0; 32])));
    let mut rng = SeededRandom(6);
    assert!(protect(&keys, &header(), &[], &inner(), &mut rng).is_err());
}

#[test]
fn authenticated_but_unparsable_contents_are_told_apart() {
    let keys = &suites()[0];
    let inner = [Payload::Unknown {
        ty: PayloadType(200),
        critical: true,
        body: vec![1],
    }];
    let bytes = protect(keys, &header(), &[], &inner, &mut SeededRandom(8)).unwrap();
    assert_eq!(
        unprotect(keys, &bytes),
        Err(Error::Inner(crate::wire::Error::UnsupportedCritical(
            PayloadType(200)
        )))
    );
}
