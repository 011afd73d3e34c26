//! `ikerctl decode` opening SK payloads: the IKE_AUTH messages strongSwan 5.9.8 exchanged in
//! the three suites of `ike/testdata/strongswan-5.9.8-keys-*.txt`, decrypted with the keys
//! charon logged, their inner payloads checked against the logged plaintext; wrong keys, keys
//! of the wrong direction, missing algorithms and fragments; and no key ever in the output.

mod common;

use std::collections::HashMap;

use common::{Run, hex, ikerctl};
use ike::wire::message::{Message, Payload};
use ike::wire::{ExchangeType, Flags, PayloadType, skf};

const INTEGRITY: &str = "integrity check failed: wrong keys, or the message was altered";

/// One `strongswan-5.9.8-keys-*.txt` file: `name = hex` lines.
struct Vector {
    file: &'static str,
    values: HashMap<String, String>,
}

impl Vector {
    fn load(file: &'static str) -> Vector {
        let path = format!("{}/ike/testdata/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).expect(&path);
        let values = text
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| line.split_once(" = ").or_else(|| line.split_once(" =")))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect();
        Vector { file, values }
    }

    fn get(&self, key: &str) -> &str {
        self.values
            .get(key)
            .unwrap_or_else(|| panic!("{}: no {key}", self.file))
    }

    fn bytes(&self, key: &str) -> Vec<u8> {
        let text = self.get(key);
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    fn aead(&self) -> bool {
        self.get("sk_ai").is_empty()
    }

    /// Every key of the vector, to check that none is ever printed.
    fn keys(&self) -> Vec<&str> {
        ["sk_ei", "sk_er", "sk_ai", "sk_ar"]
            .into_iter()
            .map(|k| self.get(k))
            .filter(|k| !k.is_empty())
            .collect()
    }

    /// The options that open `message` (`ike_auth_request` or `_response`): the keys of its
    /// sender, and `algorithms`.
    fn args(&self, message: &str, algorithms: &[&'static str]) -> Vec<String> {
        let dir = if message.ends_with("request") {
            'i'
        } else {
            'r'
        };
        let mut args: Vec<String> = vec!["decode".into()];
        args.extend(algorithms.iter().map(|&a| a.to_owned()));
        args.push(format!("--sk-e{dir}"));
        args.push(self.get(&format!("sk_e{dir}")).to_owned());
        if !self.aead() {
            args.push(format!("--sk-a{dir}"));
            args.push(self.get(&format!("sk_a{dir}")).to_owned());
        }
        args.push(self.get(message).to_owned());
        args
    }
}

/// The vectors, each with the algorithm options that name its suite (strongSwan keywords for
/// the request, IANA names for the response; none where the keys' lengths say it).
fn vectors() -> [(Vector, [&'static [&'static str]; 2]); 3] {
    [
        (
            Vector::load("strongswan-5.9.8-keys-aes256gcm16-prfsha384-x25519.txt"),
            [&["--encr", "aes256gcm16"], &["--encr", "AES_GCM_16_256"]],
        ),
        (
            Vector::load("strongswan-5.9.8-keys-aes128-sha256-modp2048.txt"),
            [
                &[],
                &["--encr", "AES_CBC_128", "--integ", "AUTH_HMAC_SHA2_256_128"],
            ],
        ),
        (
            Vector::load("strongswan-5.9.8-keys-chacha20poly1305-prfsha256-ecp256.txt"),
            [
                &["--encr", "chacha20poly1305"],
                &["--encr", "CHACHA20_POLY1305"],
            ],
        ),
    ]
}

fn run(args: &[String]) -> Run {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ikerctl(&args, b"")
}

/// The output with runs of spaces made one, line by line: labels are aligned per block.
fn squeezed(out: &str) -> Vec<String> {
    out.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

fn assert_has(out: &str, expected: &[&str]) {
    let lines = squeezed(out);
    for line in expected {
        assert!(
            lines.iter().any(|l| l == line),
            "no line {line:?} in:\n{out}"
        );
    }
}

fn assert_no_key(v: &Vector, run: &Run) {
    for key in v.keys() {
        for (name, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            assert!(
                !text.to_lowercase().contains(&key[..16]),
                "{}: a key in {name}:\n{text}",
                v.file
            );
        }
    }
}

/// The inner payload types the `ike` crate finds in the plaintext charon logged.
fn logged_inner_types(v: &Vector, message: &str) -> Vec<String> {
    let outer = Message::parse(&v.bytes(message)).unwrap();
    let Some(Payload::Sk { first, .. }) = outer.payloads.last() else {
        panic!("{}: {message} has no SK payload", v.file);
    };
    Payload::parse_chain(*first, &v.bytes(&format!("{message}_inner")))
        .unwrap()
        .iter()
        .map(|p| p.ty().name().unwrap().to_owned())
        .collect()
}

fn inner_types(out: &str) -> Vec<String> {
    squeezed(out)
        .iter()
        .filter_map(|l| l.strip_prefix("inner payload "))
        .map(|l| {
            let (_, rest) = l.split_once(": ").unwrap();
            rest.split(',').next().unwrap().to_owned()
        })
        .collect()
}

#[test]
fn strongswan_ike_auth_messages_open_with_the_logged_keys() {
    for (v, algorithms) in vectors() {
        for (message, algorithms) in ["ike_auth_request", "ike_auth_response"]
            .into_iter()
            .zip(algorithms)
        {
            let run = run(&v.args(message, algorithms));
            let what = format!("{}: {message}", v.file);
            assert_eq!(run.code, Some(0), "{what}: {}", run.stderr);
            assert_eq!(run.stderr, "", "{what}");
            assert_no_key(&v, &run);
            let out = &run.stdout;
            assert_eq!(
                inner_types(out),
                logged_inner_types(&v, message),
                "{what}:\n{out}"
            );
            let padding = v.bytes(&format!("{message}_padding"));
            let (keys, kind) = match (message.ends_with("request"), v.aead()) {
                (true, true) => ("keys SK_ei", "request"),
                (true, false) => ("keys SK_ei, SK_ai", "request"),
                (false, true) => ("keys SK_er", "response"),
                (false, false) => ("keys SK_er, SK_ar", "response"),
            };
            assert_has(
                out,
                &[
                    "payload 1: SK, not critical, ".to_owned()
                        + &format!("{} bytes at byte 28", v.bytes(message).len() - 28),
                    keys.to_owned(),
                    format!("iv {}", v.get(&format!("{message}_iv"))),
                    "icv 16 bytes, verified".to_owned(),
                    format!("padding length {}", padding.last().unwrap()),
                    "identity sun.example".to_owned(),
                    "method SHARED_KEY_MIC (2)".to_owned(),
                    "notify type MOBIKE_SUPPORTED (16396)".to_owned(),
                    format!("rules: a valid IKE_AUTH {kind}"),
                ]
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            );
            if kind == "request" {
                assert_has(
                    out,
                    &[
                        "inner payload 1: IDI, not critical, 20 bytes at byte 0 of the \
                         decrypted data",
                        "identity moon.example",
                        "notify type INITIAL_CONTACT (16384)",
                    ],
                );
                for ty in ["AUTH", "SA", "TSI", "TSR", "IDR", "NOTIFY"] {
                    assert!(inner_types(out).iter().any(|t| t == ty), "{what}: {ty}");
                }
                assert!(out.contains("ESP:AES_"), "{what}: no Child SA proposal");
            } else {
                // charon's responder refused the Child SA in these runs: IDr, AUTH, notifies.
                assert_has(
                    out,
                    &[
                        "inner payload 1: IDR, not critical, 19 bytes at byte 0 of the \
                         decrypted data",
                        "notify type NO_PROPOSAL_CHOSEN (14)",
                    ],
                );
            }
        }
    }
}

#[test]
fn algorithms_say_where_they_came_from() {
    let [gcm, cbc, chacha] = vectors().map(|(v, _)| v);
    for (v, args, line) in [
        (
            &gcm,
            vec!["--encr", "aes256gcm16"],
            "algorithms AES_GCM_16_256",
        ),
        (
            &cbc,
            vec![],
            "algorithms AES_CBC_128/HMAC_SHA2_256_128 (from the keys' lengths)",
        ),
        (
            &cbc,
            vec!["--encr", "aes128"],
            "algorithms AES_CBC_128/HMAC_SHA2_256_128 (from the keys' lengths)",
        ),
        (
            &cbc,
            vec!["--encr", "aes128", "--integ", "sha256"],
            "algorithms AES_CBC_128/HMAC_SHA2_256_128",
        ),
        (
            &chacha,
            vec!["--encr", "ENCR_CHACHA20_POLY1305"],
            "algorithms CHACHA20_POLY1305",
        ),
    ] {
        let run = run(&v.args("ike_auth_request", &args));
        assert_eq!(run.code, Some(0), "{}: {}", v.file, run.stderr);
        assert_has(&run.stdout, &[line]);
    }
}

#[test]
fn with_both_directions_given_the_i_flag_chooses() {
    let [gcm, cbc, _] = vectors().map(|(v, _)| v);
    for (v, algorithms, opened_with) in [
        (
            &gcm,
            vec!["--encr", "aes256gcm16"],
            ["keys SK_ei", "keys SK_er"],
        ),
        (&cbc, vec![], ["keys SK_ei, SK_ai", "keys SK_er, SK_ar"]),
    ] {
        for (message, keys) in ["ike_auth_request", "ike_auth_response"]
            .into_iter()
            .zip(opened_with)
        {
            let mut args: Vec<String> = vec!["decode".into()];
            args.extend(algorithms.iter().map(|&a| a.to_owned()));
            for key in ["sk_ei", "sk_er", "sk_ai", "sk_ar"] {
                if !v.get(key).is_empty() {
                    args.push(format!("--{}", key.replace('_', "-")));
                    args.push(v.get(key).to_owned());
                }
            }
            args.push(v.get(message).to_owned());
            let run = run(&args);
            assert_eq!(run.code, Some(0), "{}: {message}: {}", v.file, run.stderr);
            assert_has(&run.stdout, &[keys]);
        }
    }
}

#[test]
fn altered_bytes_anywhere_give_a_clean_error() {
    let [_, cbc, _] = vectors().map(|(v, _)| v);
    let message = cbc.bytes("ike_auth_request");
    let mut args = cbc.args("ike_auth_request", &[]);
    for at in (0..message.len()).step_by(5) {
        let mut altered = message.clone();
        altered[at] ^= 0x80;
        *args.last_mut().unwrap() = hex(&altered);
        let run = run(&args);
        // The ICV covers every byte from the header on: each change is a malformed message
        // or a failed check, never a panic.
        assert_eq!(run.code, Some(1), "byte {at}: {}", run.stderr);
        assert!(run.stderr.starts_with("ikerctl decode: "), "byte {at}");
        assert!(run.elapsed.as_secs() < 1, "byte {at}: {:?}", run.elapsed);
        assert_no_key(&cbc, &run);
    }
}

#[test]
fn json_carries_the_decrypted_payloads() {
    for (v, algorithms) in vectors() {
        let mut args = v.args("ike_auth_request", algorithms[0]);
        args.insert(1, "--json".to_owned());
        let run = run(&args);
        assert_eq!(run.code, Some(0), "{}: {}", v.file, run.stderr);
        assert_no_key(&v, &run);
        let out = &run.stdout;
        assert_eq!(out.lines().count(), 1, "{out}");
        let keys = if v.aead() {
            r#""keys":["SK_ei"]"#
        } else {
            r#""keys":["SK_ei","SK_ai"]"#
        };
        let iv = format!(r#""iv":"{}""#, v.get("ike_auth_request_iv"));
        let padding = v.bytes("ike_auth_request_padding");
        let padding = format!(r#""padding_length":{}"#, padding.last().unwrap());
        for fragment in [
            r#""decrypted":{"algorithms":{"encryption":""#,
            keys,
            &iv,
            r#""icv":{"length":16,"verified":true,"value":""#,
            &padding,
            r#""payloads":[{"index":1,"type":{"name":"IDI","value":35},"critical":false,"offset":0,"length":20,"id_type":{"name":"ID_FQDN","value":2},"identity":"moon.example"}"#,
            r#""identity":"sun.example""#,
            r#""method":{"name":"SHARED_KEY_MIC","value":2}"#,
            r#""type":{"name":"SA","value":33}"#,
            r#""type":{"name":"TSI","value":44}"#,
            r#""type":{"name":"TSR","value":45}"#,
            r#""notify_type":{"name":"INITIAL_CONTACT","value":16384}"#,
            r#""rules":{"message":"IKE_AUTH request","valid":true}"#,
        ] {
            assert!(out.contains(fragment), "{}: no {fragment} in {out}", v.file);
        }
        assert!(!out.contains(r#""error""#), "{out}");
        assert_balanced(out);
    }
}

/// The key with its last hex digit changed.
fn altered(key: &str) -> String {
    let last = if key.ends_with('0') { '1' } else { '0' };
    format!("{}{last}", &key[..key.len() - 1])
}

#[test]
fn a_wrong_key_or_an_altered_message_fails_the_integrity_check() {
    for (v, algorithms) in vectors() {
        // With an AEAD the tag depends on SK_e; with CBC the ICV on SK_a.
        let checked = if v.aead() { "sk_ei" } else { "sk_ai" };
        let wrong_key = v
            .args("ike_auth_request", algorithms[0])
            .into_iter()
            .map(|a| if a == v.get(checked) { altered(&a) } else { a })
            .collect::<Vec<_>>();
        let mut message = v.bytes("ike_auth_request");
        let at = message.len() - 40;
        message[at] ^= 0x01;
        let mut wrong_message = v.args("ike_auth_request", algorithms[0]);
        *wrong_message.last_mut().unwrap() = hex(&message);
        for args in [wrong_key, wrong_message] {
            let run = run(&args);
            assert_eq!(run.code, Some(1), "{}: {}", v.file, run.stdout);
            assert_eq!(
                run.stderr,
                format!("ikerctl decode: payload 1 SK at byte 28: {INTEGRITY}\n"),
                "{}",
                v.file
            );
            assert!(run.stdout.contains("payload 1: SK"), "{}", run.stdout);
            assert!(!run.stdout.contains("inner payload 1:"), "{}", run.stdout);
            assert!(!run.stdout.contains("rules:"), "{}", run.stdout);
            assert_no_key(&v, &run);
        }
    }
}

#[test]
fn the_integrity_failure_in_json() {
    let [gcm, ..] = vectors().map(|(v, _)| v);
    let mut args = gcm.args("ike_auth_response", &["--encr", "aes256gcm16"]);
    let key = args.iter().position(|a| a == "--sk-er").unwrap() + 1;
    args[key] = altered(&args[key]);
    args.insert(1, "--json".to_owned());
    let run = run(&args);
    assert_eq!(run.code, Some(1));
    let error =
        format!(r#""error":{{"offset":28,"structure":"payload 1 SK","reason":"{INTEGRITY}"}}"#);
    assert!(run.stdout.contains(&error), "{}", run.stdout);
    assert!(!run.stdout.contains(r#""decrypted""#), "{}", run.stdout);
    assert_balanced(&run.stdout);
}

#[test]
fn a_wrong_cbc_encryption_key_is_pointed_at() {
    let [_, cbc, _] = vectors().map(|(v, _)| v);
    let args: Vec<String> = cbc
        .args("ike_auth_request", &[])
        .into_iter()
        .map(|a| {
            if a == cbc.get("sk_ei") {
                altered(&a)
            } else {
                a
            }
        })
        .collect();
    let run = run(&args);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(
        run.stderr
            .contains("(the ICV verified with SK_ai: is SK_ei right?)"),
        "{}",
        run.stderr
    );
    assert_no_key(&cbc, &run);
}

#[test]
fn keys_that_do_not_fit_are_usage_errors() {
    let [gcm, cbc, _] = vectors().map(|(v, _)| v);
    let request = |v: &Vector| v.get("ike_auth_request").to_owned();
    let cases: Vec<(&Vector, Vec<String>, &str)> = vec![
        // No algorithm: 36 bytes are AES_GCM_16_256 or CHACHA20_POLY1305.
        (
            &gcm,
            vec!["--sk-ei".into(), gcm.get("sk_ei").into(), request(&gcm)],
            "a 36-byte SK_e is AES_GCM_16_256 or CHACHA20_POLY1305",
        ),
        // The request comes from the initiator: the responder's keys do not open it.
        (
            &gcm,
            vec![
                "--encr".into(),
                "aes256gcm16".into(),
                "--sk-er".into(),
                gcm.get("sk_er").into(),
                request(&gcm),
            ],
            "the message is from the original initiator (I flag set): decrypting it takes \
             --sk-ei",
        ),
        (
            &cbc,
            vec![
                "--sk-er".into(),
                cbc.get("sk_er").into(),
                "--sk-ar".into(),
                cbc.get("sk_ar").into(),
                request(&cbc),
            ],
            "decrypting it takes --sk-ei and --sk-ai",
        ),
        (
            &cbc,
            vec![
                "--sk-ei".into(),
                cbc.get("sk_ei").into(),
                cbc.get("ike_auth_response").into(),
            ],
            "AES_CBC_128 needs its integrity key",
        ),
        (
            &cbc,
            vec![
                "--encr".into(),
                "aes256".into(),
                "--sk-ei".into(),
                cbc.get("sk_ei").into(),
                "--sk-ai".into(),
                cbc.get("sk_ai").into(),
                request(&cbc),
            ],
            "--sk-ei is 16 bytes; AES_CBC_256 takes 32",
        ),
        (
            &gcm,
            vec![
                "--encr".into(),
                "aes256gcm16".into(),
                "--integ".into(),
                "sha256".into(),
                "--sk-ei".into(),
                gcm.get("sk_ei").into(),
                request(&gcm),
            ],
            "AES_GCM_16_256 is an AEAD",
        ),
        (
            &gcm,
            vec!["--encr".into(), "aes256gcm16".into(), request(&gcm)],
            "give the keys too",
        ),
        // Errors about a key's text say where, never what.
        (
            &gcm,
            vec![
                "--encr".into(),
                "aes256gcm16".into(),
                "--sk-ei".into(),
                format!("{}x{}", &gcm.get("sk_ei")[..20], &gcm.get("sk_ei")[20..]),
                request(&gcm),
            ],
            "--sk-ei: not hex: character 21 is not a hex digit",
        ),
        (
            &gcm,
            vec![
                "--encr".into(),
                "aes999".into(),
                "--sk-ei".into(),
                gcm.get("sk_ei").into(),
                request(&gcm),
            ],
            "decode can decrypt aes128, aes192, aes256",
        ),
    ];
    for (v, args, expected) in cases {
        let mut full = vec!["decode".to_owned()];
        full.extend(args);
        let run = run(&full);
        assert_eq!(run.code, Some(2), "{full:?}: {}", run.stderr);
        assert!(
            run.stderr.contains(expected),
            "{expected:?} not in {}",
            run.stderr
        );
        assert!(run.stderr.contains("--help"), "{}", run.stderr);
        assert_eq!(run.stdout, "", "{full:?}");
        assert_no_key(v, &run);
    }
}

#[test]
fn the_non_esp_marker_and_stdin_work_with_keys() {
    let [gcm, ..] = vectors().map(|(v, _)| v);
    let mut args = gcm.args("ike_auth_request", &["--encr", "aes256gcm16"]);
    let message = args.pop().unwrap();
    let marked = format!("00000000{message}");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = ikerctl(&args, marked.as_bytes());
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_has(
        &run.stdout,
        &[
            "non-ESP marker (4 bytes, removed)",
            "payload 1: SK, not critical, 376 bytes at byte 32",
            "inner payload 1: IDI, not critical, 20 bytes at byte 0 of the decrypted data",
        ],
    );
}

#[test]
fn keys_for_a_message_in_the_clear_are_noted() {
    let [gcm, ..] = vectors().map(|(v, _)| v);
    let mut args = gcm.args("ike_auth_request", &["--encr", "aes256gcm16"]);
    *args.last_mut().unwrap() = gcm.get("ike_sa_init_request").to_owned();
    let run = run(&args);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "ikerctl decode: note: the message has no encrypted payload; the keys were not used\n"
    );
    assert_has(&run.stdout, &["rules: a valid IKE_SA_INIT request"]);
}

#[test]
fn fragments_are_not_reassembled_yet() {
    let [gcm, ..] = vectors().map(|(v, _)| v);
    let mut message = Message::parse(&gcm.bytes("ike_auth_request")).unwrap();
    assert_eq!(message.header.exchange, ExchangeType::IKE_AUTH);
    assert!(message.header.flags.contains(Flags::INITIATOR));
    let Some(Payload::Sk { sk, .. }) = message.payloads.pop() else {
        panic!("no SK payload");
    };
    message.payloads.push(Payload::Skf {
        first: PayloadType::IDI,
        skf: skf::Repr {
            number: 1,
            total: 2,
            data: sk.data,
        },
    });
    let bytes = hex(&message.emit().unwrap());

    let clear = ikerctl(&["decode", &bytes], b"");
    assert_eq!(clear.code, Some(0), "{}", clear.stderr);
    assert!(
        clear
            .stdout
            .contains("; fragments are not reassembled yet, so not decrypted"),
        "{}",
        clear.stdout
    );

    let mut args = gcm.args("ike_auth_request", &["--encr", "aes256gcm16"]);
    *args.last_mut().unwrap() = bytes;
    let run = run(&args);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert_eq!(
        run.stderr,
        "ikerctl decode: payload 1 SKF at byte 28: fragment 1 of 2: reassembling fragments \
         (RFC 7383) is not supported yet, so decode cannot decrypt them\n"
    );
    assert_no_key(&gcm, &run);
}

#[test]
fn decode_help_explains_decryption() {
    let run = ikerctl(&["decode", "--help"], b"");
    assert_eq!(run.code, Some(0));
    for words in [
        "--sk-ei <HEX>",
        "--sk-ar <HEX>",
        "--encr <NAME>",
        "--integ <NAME>",
        "aes256gcm16",
        "AUTH_HMAC_SHA2_256_128",
        "4-byte salt",
        "A 36-byte SK_e is",
        "AES_GCM_16_256 or CHACHA20_POLY1305: --encr is needed",
        "HMAC_SHA2_512_256",
    ] {
        let text = squeezed(&run.stdout).join(" ");
        assert!(text.contains(words), "no {words:?} in {}", run.stdout);
    }
}

/// Brackets and braces pair up outside strings: a cheap check that the JSON is well formed.
fn assert_balanced(json: &str) {
    let (mut stack, mut in_string, mut escaped) = (Vec::new(), false, false);
    for c in json.chars() {
        match (in_string, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (true, false, '"') | (false, _, '"') => in_string = !in_string,
            (false, _, '{' | '[') => stack.push(c),
            (false, _, '}') => assert_eq!(stack.pop(), Some('{')),
            (false, _, ']') => assert_eq!(stack.pop(), Some('[')),
            _ => {}
        }
    }
    assert!(stack.is_empty() && !in_string, "{json}");
}
