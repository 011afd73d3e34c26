//! The keys and algorithms that open an SK payload: `--sk-ei`, `--sk-er`, `--sk-ai` and
//! `--sk-ar` as strongSwan logs them (`ike 4`), and `--encr` / `--integ` by strongSwan's proposal
//! keyword or IANA name, or inferred from the keys' lengths when one algorithm alone fits.
//!
//! Keys are secrets: they go into a [`Secret`] as they are parsed, and no message says more of
//! one than its option, its length or the position of a bad character.

use std::ffi::OsStr;

use clap::builder::TypedValueParser;
use clap::error::ErrorKind;
use ike::crypto::Secret;
use ike::crypto::encr::Encr;
use ike::crypto::integ::Integ;
use ike::crypto::sk::SkKeys;
use ike::wire::Flags;

use super::proposal;

/// The `--encr` values, for help and errors.
pub const ENCR_NAMES: &str = "aes128, aes192, aes256 (AES_CBC_128/192/256), aes128gcm16, \
                              aes256gcm16 (AES_GCM_16_128/256), chacha20poly1305 \
                              (CHACHA20_POLY1305)";
/// The `--integ` values, for help and errors.
pub const INTEG_NAMES: &str = "sha1 (HMAC_SHA1_96), sha256 (HMAC_SHA2_256_128), sha384 \
                               (HMAC_SHA2_384_192), sha512 (HMAC_SHA2_512_256)";

/// Parses a key in hex straight into a [`Secret`]; its errors never show the value.
#[derive(Debug, Clone, Copy)]
pub struct KeyParser;

impl TypedValueParser for KeyParser {
    type Value = Secret;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<Secret, clap::Error> {
        let option = arg
            .and_then(clap::Arg::get_long)
            .map_or_else(|| "key".to_owned(), |long| format!("--{long}"));
        // clap's own message would quote the value: this one does not.
        parse_key(value).map_err(|why| {
            clap::Error::raw(
                ErrorKind::ValueValidation,
                format!("{option}: {why}\n\nFor more information, try '--help'.\n"),
            )
            .with_cmd(cmd)
        })
    }
}

/// Hex, with whitespace, colons and one leading `0x` ignored (a key copied from a log). The
/// text is checked before any byte is decoded, so the bytes exist only inside the [`Secret`].
fn parse_key(value: &OsStr) -> Result<Secret, String> {
    let text = value
        .to_str()
        .ok_or("not hex: the value is not even UTF-8")?;
    let body = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    let ignored = |c: char| c.is_whitespace() || c == ':';
    let mut digits = 0;
    for (at, c) in body.chars().enumerate() {
        if !ignored(c) && !c.is_ascii_hexdigit() {
            return Err(format!(
                "not hex: character {} is not a hex digit",
                at + 1 + text.len() - body.len()
            ));
        }
        digits += usize::from(!ignored(c));
    }
    if digits == 0 {
        return Err("empty".to_owned());
    }
    if digits % 2 == 1 {
        return Err(format!(
            "odd number of hex digits ({digits}): the last byte is incomplete"
        ));
    }
    let mut bytes = Vec::with_capacity(digits / 2);
    let mut high = None;
    for c in body.chars().filter(|&c| !ignored(c)) {
        let digit = c.to_digit(16).unwrap_or_default() as u8;
        match high.take() {
            None => high = Some(digit),
            Some(h) => bytes.push((h << 4) | digit),
        }
    }
    Ok(Secret::new(bytes))
}

/// `--encr`: a strongSwan proposal keyword or an IANA name, in any case.
pub fn parse_encr(name: &str) -> Result<Encr, String> {
    let lower = name.to_ascii_lowercase();
    let iana = lower.strip_prefix("encr_").unwrap_or(&lower);
    Ok(match iana {
        "aes128" | "aes" | "aes_cbc_128" => Encr::AesCbc { key_len: 16 },
        "aes192" | "aes_cbc_192" => Encr::AesCbc { key_len: 24 },
        "aes256" | "aes_cbc_256" => Encr::AesCbc { key_len: 32 },
        "aes128gcm16" | "aes128gcm128" | "aes_gcm_16_128" => Encr::AesGcm16 { key_len: 16 },
        "aes256gcm16" | "aes256gcm128" | "aes_gcm_16_256" => Encr::AesGcm16 { key_len: 32 },
        "chacha20poly1305" | "chacha20_poly1305" => Encr::ChaCha20Poly1305,
        _ => return Err(format!("decode can decrypt {ENCR_NAMES}")),
    })
}

/// `--integ`: a strongSwan proposal keyword or an IANA name, in any case.
pub fn parse_integ(name: &str) -> Result<Integ, String> {
    let lower = name.to_ascii_lowercase();
    let iana = lower.strip_prefix("auth_").unwrap_or(&lower);
    Ok(match iana {
        "sha1" | "sha" | "hmac_sha1_96" => Integ::HmacSha1_96,
        "sha256" | "sha2_256" | "hmac_sha2_256_128" => Integ::HmacSha256_128,
        "sha384" | "sha2_384" | "hmac_sha2_384_192" => Integ::HmacSha384_192,
        "sha512" | "sha2_512" | "hmac_sha2_512_256" => Integ::HmacSha512_256,
        _ => return Err(format!("decode checks {INTEG_NAMES}")),
    })
}

/// The algorithm as strongSwan names it in proposals: `AES_GCM_16_256`, `CHACHA20_POLY1305`.
pub fn encr_text(encr: Encr) -> String {
    let name = proposal::registry_name(proposal::encr_name(encr.id().0), encr.id().0.into());
    match encr.key_bits() {
        Some(bits) => format!("{name}_{bits}"),
        None => name,
    }
}

/// `HMAC_SHA2_256_128`.
pub fn integ_text(integ: Integ) -> String {
    proposal::registry_name(proposal::integ_name(integ.id().0), integ.id().0.into())
}

/// SK_e's length says the algorithm when only one that decode implements takes that many
/// bytes: an AEAD's SK_e ends with a 4-byte salt, so 20 bytes are AES_GCM_16_128 and 16, 24 or
/// 32 bytes AES-CBC; 36 bytes are AES_GCM_16_256 or CHACHA20_POLY1305.
fn infer_encr(len: usize) -> Result<Encr, String> {
    Ok(match len {
        16 | 24 | 32 => Encr::AesCbc { key_len: len },
        20 => Encr::AesGcm16 { key_len: 16 },
        36 => {
            return Err(
                "a 36-byte SK_e is AES_GCM_16_256 or CHACHA20_POLY1305 (a 32-byte \
                        key and the 4-byte salt): say which with --encr"
                    .to_owned(),
            );
        }
        _ => {
            return Err(format!(
                "no algorithm decode implements takes a {len}-byte SK_e: name it with --encr"
            ));
        }
    })
}

/// SK_a's length is its HMAC's output length, which differs for each one we implement.
fn infer_integ(len: usize) -> Result<Integ, String> {
    [
        Integ::HmacSha1_96,
        Integ::HmacSha256_128,
        Integ::HmacSha384_192,
        Integ::HmacSha512_256,
    ]
    .into_iter()
    .find(|integ| integ.key_len() == len)
    .ok_or_else(|| {
        format!("no algorithm decode implements takes a {len}-byte SK_a: name it with --integ")
    })
}

/// The options as given, before they are checked against each other.
#[derive(Debug, Default)]
pub struct Given<'a> {
    pub encr: Option<Encr>,
    pub integ: Option<Integ>,
    pub sk_ei: Option<&'a Secret>,
    pub sk_er: Option<&'a Secret>,
    pub sk_ai: Option<&'a Secret>,
    pub sk_ar: Option<&'a Secret>,
}

/// One direction's keys and their names.
#[derive(Debug)]
pub struct Side {
    pub keys: SkKeys,
    /// `SK_ei` or `SK_er`.
    pub encr_key: &'static str,
    /// `SK_ai` or `SK_ar`; `None` with an AEAD.
    pub integ_key: Option<&'static str>,
}

/// The keys of one or both directions of an IKE SA, checked against their algorithms.
#[derive(Debug)]
pub struct Keyring {
    pub encr: Encr,
    pub integ: Option<Integ>,
    /// Whether the algorithms came from the keys' lengths rather than --encr and --integ.
    pub inferred: bool,
    initiator: Option<Side>,
    responder: Option<Side>,
}

impl Given<'_> {
    /// Step 1: the encryption algorithm, named or inferred from SK_e's length, and whether it was
    /// inferred; every SK_e given has its length.
    fn encr(&self) -> Result<(Encr, bool), String> {
        let (encr, inferred) = match self.encr {
            Some(encr) => (encr, false),
            None => {
                let len = same_len(self.sk_ei, self.sk_er, "--sk-ei", "--sk-er")?;
                (infer_encr(len)?, true)
            }
        };
        let name = encr_text(encr);
        let detail = if encr.is_aead() {
            " (the key and the 4-byte salt)"
        } else {
            ""
        };
        for (key, option) in [(self.sk_ei, "--sk-ei"), (self.sk_er, "--sk-er")] {
            check_len(key, option, encr.keymat_len(), &name, detail)?;
        }
        Ok((encr, inferred))
    }

    /// Step 2: the integrity algorithm that goes with `encr`: none for an AEAD, else named or
    /// inferred from SK_a's length; every SK_a given has its length.
    fn integ(&self, encr: Encr) -> Result<(Option<Integ>, bool), String> {
        let name = encr_text(encr);
        if encr.is_aead() {
            if self.integ.is_some() {
                return Err(format!(
                    "--integ: {name} is an AEAD, which has no separate integrity algorithm"
                ));
            }
            if self.sk_ai.is_some() || self.sk_ar.is_some() {
                return Err(format!(
                    "{name} is an AEAD: it has no SK_a (--sk-ai, --sk-ar); its SK_e ends with \
                     the 4-byte salt"
                ));
            }
            return Ok((None, false));
        }
        if self.sk_ai.is_none() && self.sk_ar.is_none() {
            return Err(format!(
                "{name} needs its integrity key: give --sk-ai with --sk-ei, or --sk-ar with \
                 --sk-er (with an AEAD, SK_e ends with the 4-byte salt)"
            ));
        }
        let (integ, inferred) = match self.integ {
            Some(integ) => (integ, false),
            None => {
                let len = same_len(self.sk_ai, self.sk_ar, "--sk-ai", "--sk-ar")?;
                (infer_integ(len)?, true)
            }
        };
        for (key, option) in [(self.sk_ai, "--sk-ai"), (self.sk_ar, "--sk-ar")] {
            check_len(key, option, integ.key_len(), &integ_text(integ), "")?;
        }
        Ok((Some(integ), inferred))
    }

    /// Step 3: one direction's keys, `None` when its SK_e was not given (an SK_a without its SK_e
    /// has been refused).
    fn side(
        encr: Encr,
        integ: Option<Integ>,
        (encr_key, integ_key): (Option<&Secret>, Option<&Secret>),
        names: [&'static str; 2],
    ) -> Result<Option<Side>, String> {
        let Some(encr_key) = encr_key else {
            return Ok(None);
        };
        let integ_keys = match (integ, integ_key) {
            (None, _) => None,
            (Some(integ), Some(key)) => Some((integ, key.clone())),
            (Some(_), None) => {
                let [e_option, a_option] = names.map(option_of);
                return Err(format!(
                    "{e_option} without {a_option}: {} needs the integrity key too",
                    encr_text(encr)
                ));
            }
        };
        Ok(Some(Side {
            keys: SkKeys {
                encr,
                encr_key: encr_key.clone(),
                integ: integ_keys,
            },
            encr_key: names[0],
            integ_key: integ.map(|_| names[1]),
        }))
    }
}

impl Keyring {
    /// Checks the options; `None` when no key was given. The errors are usage errors.
    pub fn new(g: &Given<'_>) -> Result<Option<Keyring>, String> {
        if [g.sk_ei, g.sk_er, g.sk_ai, g.sk_ar]
            .iter()
            .all(Option::is_none)
        {
            if g.encr.is_some() || g.integ.is_some() {
                let why = "--encr and --integ name the algorithms of keys: give the keys too \
                           (--sk-ei and --sk-ai, or --sk-er and --sk-ar)";
                return Err(why.to_owned());
            }
            return Ok(None);
        }
        // An SK_a without its SK_e is a mistake whatever the algorithms.
        for (e, a, names) in [
            (g.sk_ei, g.sk_ai, ["SK_ei", "SK_ai"]),
            (g.sk_er, g.sk_ar, ["SK_er", "SK_ar"]),
        ] {
            if e.is_none() && a.is_some() {
                let [e_option, a_option] = names.map(option_of);
                return Err(format!(
                    "{a_option} without {e_option}: SK_a checks, SK_e decrypts"
                ));
            }
        }
        let (encr, encr_inferred) = g.encr()?;
        let (integ, integ_inferred) = g.integ(encr)?;
        Ok(Some(Keyring {
            encr,
            integ,
            inferred: encr_inferred || integ_inferred,
            initiator: Given::side(encr, integ, (g.sk_ei, g.sk_ai), ["SK_ei", "SK_ai"])?,
            responder: Given::side(encr, integ, (g.sk_er, g.sk_ar), ["SK_er", "SK_ar"])?,
        }))
    }

    /// The keys that open a message with these flags: RFC 7296 2.14, SK_ei and SK_ai protect
    /// what the original initiator sends (I flag set), SK_er and SK_ar what the responder
    /// sends, requests and responses alike. The error is a usage error.
    pub fn side(&self, flags: Flags) -> Result<&Side, String> {
        let (side, sender, needed) = if flags.is_initiator() {
            (&self.initiator, "the original initiator (I flag set)", "ei")
        } else {
            (
                &self.responder,
                "the original responder (I flag clear)",
                "er",
            )
        };
        side.as_ref().ok_or_else(|| {
            let integ = if self.encr.is_aead() {
                String::new()
            } else {
                format!(" and --sk-a{}", &needed[1..])
            };
            format!("the message is from {sender}: decrypting it takes --sk-{needed}{integ}")
        })
    }

    /// `AES_CBC_128/HMAC_SHA2_256_128`.
    pub fn suite(&self) -> String {
        let mut out = encr_text(self.encr);
        if let Some(integ) = self.integ {
            out.push('/');
            out.push_str(&integ_text(integ));
        }
        out
    }
}

fn option_of(key_name: &str) -> String {
    format!("--{}", key_name.to_ascii_lowercase().replace('_', "-"))
}

/// The length both directions' keys share (they use the same algorithm).
fn same_len(
    a: Option<&Secret>,
    b: Option<&Secret>,
    a_name: &str,
    b_name: &str,
) -> Result<usize, String> {
    match (a, b) {
        (Some(a), Some(b)) if a.len() != b.len() => Err(format!(
            "{a_name} is {} bytes and {b_name} {}: both directions use the same algorithms",
            a.len(),
            b.len()
        )),
        (Some(key), _) | (None, Some(key)) => Ok(key.len()),
        (None, None) => Err(format!("{a_name} or {b_name} is needed")),
    }
}

fn check_len(
    key: Option<&Secret>,
    option: &str,
    expected: usize,
    algorithm: &str,
    detail: &str,
) -> Result<(), String> {
    match key {
        Some(key) if key.len() != expected => Err(format!(
            "{option} is {} bytes; {algorithm} takes {expected}{detail}",
            key.len()
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(len: usize) -> Secret {
        Secret::new(vec![0x42; len])
    }

    #[test]
    fn keys_parse_from_log_hex_and_errors_hide_them() {
        let parsed = parse_key(OsStr::new("0x2E:f0 62 37")).unwrap();
        assert_eq!(parsed.as_bytes(), [0x2e, 0xf0, 0x62, 0x37]);
        let bad = parse_key(OsStr::new("2ef06237zz")).unwrap_err();
        assert_eq!(bad, "not hex: character 9 is not a hex digit");
        assert!(parse_key(OsStr::new("2ef")).unwrap_err().contains("odd"));
        assert_eq!(parse_key(OsStr::new(" ")).unwrap_err(), "empty");
    }

    #[test]
    fn algorithms_by_strongswan_keyword_and_iana_name() {
        assert_eq!(
            parse_encr("aes256gcm16"),
            Ok(Encr::AesGcm16 { key_len: 32 })
        );
        assert_eq!(
            parse_encr("ENCR_AES_GCM_16_256"),
            Ok(Encr::AesGcm16 { key_len: 32 })
        );
        assert_eq!(parse_encr("AES_CBC_128"), Ok(Encr::AesCbc { key_len: 16 }));
        assert_eq!(parse_encr("aes128"), Ok(Encr::AesCbc { key_len: 16 }));
        assert_eq!(parse_encr("chacha20poly1305"), Ok(Encr::ChaCha20Poly1305));
        assert!(parse_encr("aes128ccm16").is_err());
        assert_eq!(parse_integ("sha256"), Ok(Integ::HmacSha256_128));
        assert_eq!(
            parse_integ("AUTH_HMAC_SHA2_256_128"),
            Ok(Integ::HmacSha256_128)
        );
        assert_eq!(parse_integ("sha1"), Ok(Integ::HmacSha1_96));
        assert_eq!(parse_integ("sha2_512"), Ok(Integ::HmacSha512_256));
        assert!(parse_integ("md5").is_err());
        assert_eq!(encr_text(Encr::AesGcm16 { key_len: 32 }), "AES_GCM_16_256");
        assert_eq!(encr_text(Encr::ChaCha20Poly1305), "CHACHA20_POLY1305");
        assert_eq!(integ_text(Integ::HmacSha384_192), "HMAC_SHA2_384_192");
    }

    #[test]
    fn lengths_infer_only_what_is_unambiguous() {
        let (e, a) = (key(16), key(32));
        let given = Given {
            sk_ei: Some(&e),
            sk_ai: Some(&a),
            ..Given::default()
        };
        let ring = Keyring::new(&given).unwrap().unwrap();
        assert_eq!(ring.suite(), "AES_CBC_128/HMAC_SHA2_256_128");
        assert!(ring.inferred);

        let gcm = key(20);
        let given = Given {
            sk_er: Some(&gcm),
            ..Given::default()
        };
        let ring = Keyring::new(&given).unwrap().unwrap();
        assert_eq!(ring.suite(), "AES_GCM_16_128");

        let ambiguous = key(36);
        let given = Given {
            sk_ei: Some(&ambiguous),
            ..Given::default()
        };
        assert!(Keyring::new(&given).unwrap_err().contains("--encr"));
    }

    #[test]
    fn inconsistent_options_are_refused() {
        let (k16, k32, k36) = (key(16), key(32), key(36));
        let cases = [
            (
                Given {
                    encr: Some(Encr::AesGcm16 { key_len: 32 }),
                    sk_ei: Some(&k32),
                    ..Given::default()
                },
                "--sk-ei is 32 bytes; AES_GCM_16_256 takes 36",
            ),
            (
                Given {
                    sk_ei: Some(&k16),
                    ..Given::default()
                },
                "needs its integrity key",
            ),
            (
                Given {
                    sk_ei: Some(&k16),
                    sk_ai: Some(&k32),
                    sk_er: Some(&k16),
                    ..Given::default()
                },
                "--sk-er without --sk-ar",
            ),
            (
                Given {
                    encr: Some(Encr::ChaCha20Poly1305),
                    sk_ei: Some(&k36),
                    sk_ai: Some(&k32),
                    ..Given::default()
                },
                "it has no SK_a",
            ),
            (
                Given {
                    sk_ai: Some(&k32),
                    ..Given::default()
                },
                "--sk-ai without --sk-ei",
            ),
            (
                Given {
                    integ: Some(Integ::HmacSha1_96),
                    ..Given::default()
                },
                "give the keys",
            ),
        ];
        for (given, expected) in cases {
            let error = Keyring::new(&given).unwrap_err();
            assert!(error.contains(expected), "{error:?} lacks {expected:?}");
        }
    }

    #[test]
    fn the_i_flag_chooses_the_keys() {
        let (e, a) = (key(16), key(32));
        let given = Given {
            sk_ei: Some(&e),
            sk_ai: Some(&a),
            ..Given::default()
        };
        let ring = Keyring::new(&given).unwrap().unwrap();
        let side = ring.side(Flags::INITIATOR).unwrap();
        assert_eq!((side.encr_key, side.integ_key), ("SK_ei", Some("SK_ai")));
        let error = ring.side(Flags::RESPONSE).unwrap_err();
        assert!(error.contains("takes --sk-er and --sk-ar"), "{error}");
    }
}
