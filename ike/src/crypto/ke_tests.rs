//! Key-exchange known answers. X25519 from RFC 7748 6.1 and ECP-256 from RFC 5903 8.1; ECP-384,
//! ECP-521 and MODP-2048 with private keys of our choosing, the expected values computed by
//! independent implementations (OpenSSL through Python's `cryptography`, and Python integers):
//! `scripts/ke-vectors` prints them all.

use super::*;
use crate::crypto::testing::{SeededRandom, hex};

fn join(parts: &[&str]) -> Vec<u8> {
    hex(&parts.concat())
}

struct Vector {
    group: KeId,
    i: Vec<u8>,
    gi: Vec<u8>,
    r: Vec<u8>,
    gr: Vec<u8>,
    shared: Vec<u8>,
}

fn check(v: &Vector) {
    let i = KeyExchange::from_private(v.group, &v.i).unwrap();
    let r = KeyExchange::from_private(v.group, &v.r).unwrap();
    assert_eq!(i.public_value(), v.gi, "{} gi", v.group);
    assert_eq!(r.public_value(), v.gr, "{} gr", v.group);
    assert_eq!(
        i.shared_secret(&v.gr).unwrap().as_bytes(),
        v.shared,
        "{} i",
        v.group
    );
    assert_eq!(
        r.shared_secret(&v.gi).unwrap().as_bytes(),
        v.shared,
        "{} r",
        v.group
    );
}

#[test]
fn rfc7748_x25519() {
    check(&Vector {
        group: KeId::CURVE25519,
        i: hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"),
        gi: hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"),
        r: hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"),
        gr: hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"),
        shared: hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"),
    });
}

#[test]
fn rfc5903_ecp256() {
    check(&Vector {
        group: KeId::ECP_256,
        i: hex("c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433"),
        gi: join(&[
            "dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180",
            "5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3",
        ]),
        r: hex("c6ef9c5d78ae012a011164acb397ce2088685d8f06bf9be0b283ab46476bee53"),
        gr: join(&[
            "d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63",
            "56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab",
        ]),
        shared: hex("d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de"),
    });
}

#[test]
fn ecp384_and_ecp521_against_openssl() {
    check(&Vector {
        group: KeId::ECP_384,
        i: join(&[
            "70f6168e9abfb2179b5dd2d70dcd7567ed73e3d35ea37a0a43dc7ec0ac80f01b",
            "16098588a7bd5bed6de88a6689d6b2b4",
        ]),
        gi: join(&[
            "e79b92640f488dada89c959620febc27974271833b04019cca946c952c5ad64e",
            "3519e50e08c006e501de9f782721f4cdf14a4d09b9e9b527b9a07788160fa5e4",
            "947586576cbc892589ed25195fd7e9b22ac177e47c6524b740640a5c5c4faf55",
        ]),
        r: join(&[
            "68f182ac51d01870965987c6fcc2a7ecd3118e97180cac76198860f53ee1e649",
            "7bffbf7dd631f2615f821ad65c20ca1c",
        ]),
        gr: join(&[
            "01ef2f07ac39547aa4619c94eb7994180f0b4056bfe27f5cc4bd0fd26771b43b",
            "4937bd072ead375ecdf92f6f3785f5f114bf12c23c9252f022f13b3770f7a04e",
            "44faa64e14be7c7277ce670e893c7b5bc7b98edead5e807d1a76d74faf8b1bc4",
        ]),
        shared: join(&[
            "adfb76fa34e169f2030c985b2dc071ac852453d3ddf625edac1c849b5db61caf",
            "82d084964e6fbf4fa8fc24cc43c6403f",
        ]),
    });
    check(&Vector {
        group: KeId::ECP_521,
        i: join(&[
            "0013836bf7a7d80fc23a932840f30741d859fbaa7562090054f2ae41ceab5fb0",
            "dfb0a7f6bdddf6747afe05f31dcacbec60160d34ec1976be2d2abe122bca1830",
            "390d",
        ]),
        gi: join(&[
            "010222532d575b6ad4559223d66c4d5da24a704e6c8d9f17a5214d15e5b8c9b5",
            "a314beb6856920cd1381bf4c1418e801a3df055bd50fce9b2a02304707aed50f",
            "9eb30077bb8d55162f84b5a9ec9165c84bd2eeb4d63afa011e2a91b0e6f1b897",
            "f7a78bd1df3a631d15a54d39623cab3a5bc10406d4330154b8a0aa17dafe5595",
            "883962d7",
        ]),
        r: join(&[
            "000fb188d752647c2310d0b65d85103fb572164c221f8ac837c63f3b1f116199",
            "d21f11bd4af2827fc531d16436a475fdd2c2cd8b858108772bc44701d2c54965",
            "7139",
        ]),
        gr: join(&[
            "0119f9370cb6d03c399d8a05e6020bffc927e4cbe6ec585decc8b7d4b2305bb9",
            "1f970e8af79612e643d28693c8b268e4dfcae88bc65cdcf68153e2b4bbb1bc1e",
            "93d601a18e88b48b71e31287f3a23fc8830a0e29b3357bd16ca9f006339216b0",
            "58723dd8c3e701ca12d8369ba5f27f24cd4b7106132c02e0e281d2c4be381e16",
            "4f159a11",
        ]),
        shared: join(&[
            "00830774397c88984c44d4f1f78b422e0a8b23c520a858a7879cf373f241bc78",
            "41d3e9640dbb852c9149cf34230fb96e5668b3e40c03aeda52a08a2d58af23d3",
            "7719",
        ]),
    });
}

#[test]
fn modp2048_against_python_integers() {
    let v = Vector {
        group: KeId::MODP_2048,
        i: join(&[
            "590626e6f297c43e67dcfecf909404874126b1f3646384120932b0af708b0daa",
            "590626e6f297c43e67dcfecf909404874126b1f3646384120932b0af708b0daa",
            "590626e6f297c43e67dcfecf909404874126b1f3646384120932b0af708b0daa",
            "590626e6f297c43e67dcfecf909404874126b1f3646384120932b0af708b0daa",
            "590626e6f297c43e67dcfecf909404874126b1f3646384120932b0af708b0daa",
            "590626e6f297c43e67dcfecf909404874126b1f3646384120932b0af708b0daa",
            "590626e6f297c43e67dcfecf909404874126b1f3646384120932b0af708b0daa",
            "590626e6f297c43e67dcfecf909404874126b1f3646384120932b0af708b0daa",
        ]),
        gi: join(&[
            "5682781d284ead6e1ebf1673795e16172d64119fbf077c5354e7df09adf2935b",
            "00db398827babc0ef20a008382636e85e453a1320f22956844685eb99b91e0fd",
            "aae91eb0a7ebe90067fee2362e7bbe5cf240363a622be1d1d84f7d9369105ee2",
            "dca3bd39556f6b1fef539f4d53306b8d7edfd6fa79c59d1ec9b14e074c228106",
            "e4cca98884dbc6aac249844ee74b02ee9e0d6c82c884cdfc4c1e7bd802f722ce",
            "364f8c3df337c5cafca588da32e18968689c2d8eb7a03327227c4a17ccf83fca",
            "fd5272b585b92da0c6a7cbee0e3a9220398c8167a2fe80cae082d253ea3c1d1a",
            "f100dc62d66b2a920396160a6c4007444020a16ccf5fa4d75e5f502a20b1033a",
        ]),
        r: join(&[
            "6da405714a80f9d963b61cc425496335872bd7fefe65ef8988dc96ff771906f6",
            "6da405714a80f9d963b61cc425496335872bd7fefe65ef8988dc96ff771906f6",
            "6da405714a80f9d963b61cc425496335872bd7fefe65ef8988dc96ff771906f6",
            "6da405714a80f9d963b61cc425496335872bd7fefe65ef8988dc96ff771906f6",
            "6da405714a80f9d963b61cc425496335872bd7fefe65ef8988dc96ff771906f6",
            "6da405714a80f9d963b61cc425496335872bd7fefe65ef8988dc96ff771906f6",
            "6da405714a80f9d963b61cc425496335872bd7fefe65ef8988dc96ff771906f6",
            "6da405714a80f9d963b61cc425496335872bd7fefe65ef8988dc96ff771906f6",
        ]),
        gr: vec![],
        shared: join(&[
            "64a0818695fc101c006e1b013fdc168be54810799deb1de11965ec0fef1b24ae",
            "7fc5303fb8b26a32848fa73ee3c92869bfb87729c39f315226caaba8245b6c7c",
            "b8a2af887c8e6f62547cca2bc5d58a44b66ca5e528d442cf49df277e83fd3f7e",
            "3c3eb14e242bc83630c8a0bd6854d82a17c65dfa3d7c3ad8166694b744e47f5b",
            "f9084ba6093cc0bbc036e56ffcf138b980e4d54c6f7cc9992c751745856100ae",
            "20a5f48d4696d65bfd47c5ce17f4fb885d2ebc2324d8beb9d8d72f07fe9aaa82",
            "ea263d9d5a6bbc5053b161ea31ea5ed1dccc84267b9f28d48193c4dbeaf2cccf",
            "aeb268fbbab116d58722ba7fec86e66d4d46cd19d841a67b8259c22d04812c2b",
        ]),
    };
    let i = KeyExchange::from_private(v.group, &v.i).unwrap();
    let r = KeyExchange::from_private(v.group, &v.r).unwrap();
    assert_eq!(i.public_value(), v.gi);
    assert_eq!(
        i.shared_secret(&r.public_value()).unwrap().as_bytes(),
        v.shared
    );
    assert_eq!(r.shared_secret(&v.gi).unwrap().as_bytes(), v.shared);
}

#[test]
fn generated_keys_agree_in_every_group() {
    let mut rng = SeededRandom(42);
    for group in [
        KeId::CURVE25519,
        KeId::ECP_256,
        KeId::ECP_384,
        KeId::ECP_521,
        KeId::MODP_2048,
        KeId::MODP_3072,
        KeId::MODP_4096,
    ] {
        assert!(KeyExchange::supports(group));
        let a = KeyExchange::generate(group, &mut rng).unwrap();
        let b = KeyExchange::generate(group, &mut rng).unwrap();
        let expected_len = match group {
            KeId::CURVE25519 => 32,
            KeId::ECP_256 => 64,
            KeId::ECP_384 => 96,
            KeId::ECP_521 => 132,
            KeId::MODP_2048 => 256,
            KeId::MODP_3072 => 384,
            _ => 512,
        };
        assert_eq!(a.public_value().len(), expected_len, "{group}");
        let ab = a.shared_secret(&b.public_value()).unwrap();
        assert_eq!(ab, b.shared_secret(&a.public_value()).unwrap(), "{group}");
        assert_ne!(a.public_value(), b.public_value());
    }
}

#[test]
fn invalid_public_values_are_refused() {
    let mut rng = SeededRandom(7);
    let x = KeyExchange::generate(KeId::CURVE25519, &mut rng).unwrap();
    // A low-order point (u = 0) gives an all-zero secret.
    assert_eq!(x.shared_secret(&[0; 32]), Err(Error::InvalidPublicValue));
    assert_eq!(x.shared_secret(&[9; 31]), Err(Error::InvalidPublicValue));
    let p = KeyExchange::generate(KeId::ECP_256, &mut rng).unwrap();
    let mut off_curve = p.public_value();
    off_curve[63] ^= 1;
    assert_eq!(p.shared_secret(&off_curve), Err(Error::InvalidPublicValue));
    assert_eq!(p.shared_secret(&[4; 65]), Err(Error::InvalidPublicValue));
    let m = KeyExchange::generate(KeId::MODP_2048, &mut rng).unwrap();
    let mut one = vec![0; 256];
    one[255] = 1;
    assert_eq!(m.shared_secret(&one), Err(Error::InvalidPublicValue));
    assert_eq!(
        m.shared_secret(&[0xff; 256]),
        Err(Error::InvalidPublicValue)
    );
    assert_eq!(m.shared_secret(&[2; 255]), Err(Error::InvalidPublicValue));
}

#[test]
fn unsupported_groups() {
    let mut rng = SeededRandom(1);
    for group in [KeId::MODP_1024, KeId::CURVE448, KeId(999)] {
        assert!(!KeyExchange::supports(group));
        assert_eq!(
            KeyExchange::generate(group, &mut rng).err(),
            Some(Error::Unsupported("key exchange method"))
        );
    }
}
