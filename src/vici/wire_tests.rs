//! The VICI codec: known encodings byte for byte, round trips (property tests), and malformed
//! input of every kind the format can get wrong.

use proptest::prelude::*;

use super::*;

/// The encoding example of strongSwan's vici README, written out from its format description:
///
/// ```text
/// key1 = value1
/// section1 = {
///     sub-section = {
///         key2 = value2
///     }
///     list1 = [ item1, item2 ]
/// }
/// ```
const README_EXAMPLE: &[u8] = b"\x03\x04key1\x00\x06value1\
\x01\x08section1\
\x01\x0bsub-section\
\x03\x04key2\x00\x06value2\
\x02\
\x04\x05list1\
\x05\x00\x05item1\
\x05\x00\x05item2\
\x06\
\x02";

fn readme_example() -> Message {
    Message::new().with_value("key1", "value1").with_section(
        "section1",
        Message::new()
            .with_section("sub-section", Message::new().with_value("key2", "value2"))
            .with_list("list1", ["item1", "item2"]),
    )
}

fn emit(message: &Message) -> Vec<u8> {
    let mut out = Vec::new();
    message.emit(&mut out).unwrap();
    assert_eq!(out.len(), message.encoded_len());
    out
}

fn err(offset: usize, kind: ErrorKind) -> Error {
    Error { offset, kind }
}

#[test]
fn the_readme_example_parses_and_emits_byte_for_byte() {
    let parsed = Message::parse(README_EXAMPLE).unwrap();
    assert_eq!(parsed, readme_example());
    assert_eq!(emit(&parsed), README_EXAMPLE);
    assert_eq!(parsed.find_str("section1.sub-section.key2"), Some("value2"));
    let list = parsed.section("section1").unwrap().list("list1").unwrap();
    assert_eq!(list, [Value::from("item1"), Value::from("item2")]);
}

#[test]
fn items_keep_their_order() {
    let message = Message::new()
        .with_value("z", "1")
        .with_list("a", ["x"])
        .with_section("m", Message::new())
        .with_value("b", "2");
    let parsed = Message::parse(&emit(&message)).unwrap();
    let names: Vec<&str> = parsed.items.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["z", "a", "m", "b"]);
}

/// What swanctl sends for `--version --daemon`, and ikerd's answer, as segments.
#[test]
fn known_packets_byte_for_byte() {
    let cases: Vec<(Packet, &[u8])> = vec![
        (
            Packet::CmdRequest {
                command: "version".into(),
                message: Message::new(),
            },
            b"\x00\x00\x00\x09\x00\x07version",
        ),
        (
            Packet::CmdResponse(Message::new().with_value("daemon", "ikerd")),
            b"\x00\x00\x00\x10\x01\x03\x06daemon\x00\x05ikerd",
        ),
        (Packet::CmdUnknown, b"\x00\x00\x00\x01\x02"),
        (
            Packet::EventRegister("log".into()),
            b"\x00\x00\x00\x05\x03\x03log",
        ),
        (
            Packet::EventUnregister("log".into()),
            b"\x00\x00\x00\x05\x04\x03log",
        ),
        (Packet::EventConfirm, b"\x00\x00\x00\x01\x05"),
        (Packet::EventUnknown, b"\x00\x00\x00\x01\x06"),
        (
            Packet::Event {
                event: "log".into(),
                message: Message::new().with_value("msg", "hi"),
            },
            b"\x00\x00\x00\x0e\x07\x03log\x03\x03msg\x00\x02hi",
        ),
    ];
    for (packet, segment) in cases {
        assert_eq!(packet.to_segment().unwrap(), segment, "{packet:?}");
        let header: [u8; 4] = segment[..4].try_into().unwrap();
        assert_eq!(segment_len(header), Ok(segment.len() - 4));
        assert_eq!(Packet::parse(&segment[4..]), Ok(packet));
    }
}

#[test]
fn raw_packets_place_the_message() {
    let packet = b"\x00\x05stats\x03\x01k\x00\x01v";
    let raw = RawPacket::parse(packet).unwrap();
    assert_eq!(raw.ty, PacketType::CMD_REQUEST);
    assert_eq!(raw.name, Some("stats"));
    assert_eq!(raw.message_offset, 7);
    assert_eq!(raw.parse_message(), Ok(Message::new().with_value("k", "v")));
    // An error in the message counts from the packet's start.
    let bad = RawPacket::parse(b"\x00\x05stats\x09").unwrap();
    assert_eq!(
        bad.parse_message(),
        Err(err(7, ErrorKind::UnknownElement(ElementType(9))))
    );
}

#[test]
fn segment_lengths_up_to_512_kib() {
    assert_eq!(segment_len([0, 8, 0, 0]), Ok(MAX_SEGMENT));
    assert_eq!(
        segment_len([0, 8, 0, 1]),
        Err(err(0, ErrorKind::SegmentTooLong(MAX_SEGMENT + 1)))
    );
    assert_eq!(
        segment_len([0xff; 4]),
        Err(err(0, ErrorKind::SegmentTooLong(u32::MAX as usize)))
    );
}

#[test]
fn malformed_messages_say_where_and_why() {
    use ErrorKind::*;
    let cases: &[(&[u8], Error)] = &[
        // Truncated at every field.
        (b"\x03", err(1, Truncated("key name"))),
        (b"\x03\x04ke", err(4, Truncated("key name"))),
        (b"\x03\x01k", err(3, Truncated("value length"))),
        (b"\x03\x01k\x00", err(4, Truncated("value length"))),
        (b"\x03\x01k\x00\x05abc", err(8, Truncated("value"))),
        (b"\x01", err(1, Truncated("section name"))),
        (b"\x04\x03li", err(4, Truncated("list name"))),
        (b"\x04\x01l\x05\x00", err(5, Truncated("value length"))),
        (b"\x04\x01l\x05\x00\x02a", err(7, Truncated("value"))),
        // Element types.
        (b"\x00", err(0, UnknownElement(ElementType(0)))),
        (
            b"\x03\x01k\x00\x00\x07",
            err(5, UnknownElement(ElementType(7))),
        ),
        (b"\xff", err(0, UnknownElement(ElementType(255)))),
        // Unbalanced sections and lists.
        (b"\x02", err(0, Misplaced(ElementType::SECTION_END))),
        (
            b"\x01\x01s\x02\x02",
            err(4, Misplaced(ElementType::SECTION_END)),
        ),
        (b"\x01\x01s", err(3, UnclosedSection)),
        (b"\x01\x01s\x01\x01t\x02", err(7, UnclosedSection)),
        (b"\x04\x01l", err(3, UnclosedList)),
        (b"\x04\x01l\x05\x00\x00", err(6, UnclosedList)),
        (b"\x05\x00\x00", err(0, Misplaced(ElementType::LIST_ITEM))),
        (b"\x06", err(0, Misplaced(ElementType::LIST_END))),
        (
            b"\x04\x01l\x06\x06",
            err(4, Misplaced(ElementType::LIST_END)),
        ),
        // Inside a list only items and its end.
        (
            b"\x04\x01l\x04\x01m",
            err(3, InsideList(ElementType::LIST_START)),
        ),
        (
            b"\x04\x01l\x01\x01s",
            err(3, InsideList(ElementType::SECTION_START)),
        ),
        (
            b"\x04\x01l\x02",
            err(3, InsideList(ElementType::SECTION_END)),
        ),
        (
            b"\x04\x01l\x03\x01k\x00\x00",
            err(3, InsideList(ElementType::KEY_VALUE)),
        ),
        // A section ended inside a list of the section.
        (
            b"\x01\x01s\x04\x01l\x02",
            err(6, InsideList(ElementType::SECTION_END)),
        ),
        // Names are text.
        (b"\x03\x01\xff\x00\x00", err(1, BadName)),
        (b"\x01\x02\xc3\x28\x02", err(1, BadName)),
    ];
    for (bytes, expected) in cases {
        assert_eq!(Message::parse(bytes), Err(*expected), "{bytes:02x?}");
        // The offset is inside the input or at its end, and the message says it.
        assert!(expected.offset <= bytes.len());
        assert!(
            expected
                .to_string()
                .starts_with(&format!("at byte {}: ", expected.offset))
        );
    }
    // A SECTION_END in a list is blamed on the list, whether or not a section is open.
    assert_eq!(
        Message::parse(b"\x01\x01s\x04\x01l\x02")
            .unwrap_err()
            .to_string(),
        "at byte 6: SECTION_END inside a list"
    );
}

#[test]
fn malformed_packets_say_where_and_why() {
    use ErrorKind::*;
    let cases: &[(&[u8], Error)] = &[
        (b"", err(0, EmptyPacket)),
        (b"\x08", err(0, UnknownPacketType(PacketType(8)))),
        (b"\xff\x00", err(0, UnknownPacketType(PacketType(255)))),
        (b"\x00", err(1, Truncated("packet name"))),
        (b"\x00\x07vers", err(6, Truncated("packet name"))),
        (b"\x03\x02\xff\xfe", err(1, BadName)),
        (b"\x02\x00", err(1, TrailingBytes(PacketType::CMD_UNKNOWN))),
        (
            b"\x03\x03log\x01",
            err(5, TrailingBytes(PacketType::EVENT_REGISTER)),
        ),
        (
            b"\x05\x03",
            err(1, TrailingBytes(PacketType::EVENT_CONFIRM)),
        ),
        (
            b"\x00\x01v\x02",
            err(3, Misplaced(ElementType::SECTION_END)),
        ),
        (b"\x01\x01\x01s", err(4, UnclosedSection)),
        (b"\x07\x01e\x04\x01l", err(6, UnclosedList)),
    ];
    for (bytes, expected) in cases {
        assert_eq!(Packet::parse(bytes), Err(*expected), "{bytes:02x?}");
    }
}

/// A message `depth` sections deep.
fn nested(depth: usize) -> Vec<u8> {
    let mut bytes = b"\x01\x01s".repeat(depth);
    bytes.extend(std::iter::repeat_n(2, depth));
    bytes
}

#[test]
fn nesting_is_limited() {
    let deepest = Message::parse(&nested(MAX_DEPTH)).unwrap();
    assert_eq!(emit(&deepest), nested(MAX_DEPTH));
    assert_eq!(
        Message::parse(&nested(MAX_DEPTH + 1)),
        Err(err(3 * MAX_DEPTH, ErrorKind::TooDeep))
    );
    // Depth counts open sections, not sections seen: many siblings are fine.
    let siblings = b"\x01\x01s\x02".repeat(10 * MAX_DEPTH);
    assert_eq!(
        Message::parse(&siblings).unwrap().items.len(),
        10 * MAX_DEPTH
    );
}

#[test]
fn emitting_refuses_what_does_not_fit() {
    let long_name = "n".repeat(MAX_NAME + 1);
    let mut out = Vec::new();
    assert_eq!(
        Message::new()
            .with_value(long_name.as_str(), "v")
            .emit(&mut out),
        Err(EmitError::NameTooLong(long_name.clone()))
    );
    assert_eq!(
        Message::new()
            .with_value("k", vec![0u8; MAX_VALUE + 1])
            .emit(&mut out),
        Err(EmitError::ValueTooLong("k".into()))
    );
    assert_eq!(
        Message::new()
            .with_list("l", [vec![0u8; MAX_VALUE + 1]])
            .emit(&mut out),
        Err(EmitError::ValueTooLong("l".into()))
    );
    assert_eq!(
        Packet::EventRegister(long_name.clone()).emit(),
        Err(EmitError::NameTooLong(long_name))
    );
    // Nine values of 64 KiB are more than a segment holds.
    let mut big = Message::new();
    for i in 0..9 {
        big.push(format!("k{i}"), Item::Value(Value(vec![b'x'; MAX_VALUE])));
    }
    let len = 1 + big.encoded_len();
    assert_eq!(
        Packet::CmdResponse(big).emit(),
        Err(EmitError::PacketTooLong(len))
    );
    // The largest value fits, exactly.
    let max = Message::new().with_value("k", vec![b'x'; MAX_VALUE]);
    assert_eq!(Message::parse(&emit(&max)), Ok(max));
}

#[test]
fn lookups() {
    let m = readme_example().with_value("bin", vec![0xff, 0x00]);
    assert_eq!(m.str("key1"), Some("value1"));
    assert_eq!(m.str("section1"), None, "a section is not a value");
    assert_eq!(m.section("key1"), None);
    assert_eq!(m.list("section1"), None);
    assert_eq!(m.value("bin"), Some(&Value(vec![0xff, 0x00])));
    assert_eq!(m.str("bin"), None, "not UTF-8");
    assert_eq!(format!("{:?}", m.value("bin").unwrap()), "0xff00");
    assert_eq!(m.find_str("section1.sub-section.key2"), Some("value2"));
    assert_eq!(m.find_str("section1.nothing.key2"), None);
    assert_eq!(m.find_str("key1.x"), None);
    // Duplicates are kept; lookups find the first.
    let dup = Message::new().with_value("k", "1").with_value("k", "2");
    let parsed = Message::parse(&emit(&dup)).unwrap();
    assert_eq!(parsed.str("k"), Some("1"));
    assert_eq!(parsed.items.len(), 2);
}

#[test]
fn type_names() {
    assert_eq!(format!("{:?}", PacketType::EVENT), "EVENT");
    assert_eq!(format!("{:?}", PacketType(9)), "PacketType(9)");
    assert_eq!(format!("{}", ElementType::LIST_END), "LIST_END");
    assert_eq!(format!("{:?}", ElementType(0)), "ElementType(0)");
    let named: Vec<u8> = (0..=8).filter(|&t| PacketType(t).is_named()).collect();
    assert_eq!(named, [0, 3, 4, 7]);
    let with_message: Vec<u8> = (0..=8).filter(|&t| PacketType(t).has_message()).collect();
    assert_eq!(with_message, [0, 1, 7]);
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        "[ -~]{0,12}".prop_map(Value::from),
        proptest::collection::vec(any::<u8>(), 0..24).prop_map(Value),
    ]
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z-]{0,10}", "\\PC{0,8}"]
}

fn message() -> impl Strategy<Value = Message> {
    let leaf = prop_oneof![
        value().prop_map(Item::Value),
        proptest::collection::vec(value(), 0..4).prop_map(Item::List),
    ];
    let item = leaf.prop_recursive(6, 64, 6, |inner| {
        proptest::collection::vec((name(), inner), 0..6)
            .prop_map(|items| Item::Section(Message { items }))
    });
    proptest::collection::vec((name(), item), 0..8).prop_map(|items| Message { items })
}

fn packet() -> impl Strategy<Value = Packet> {
    prop_oneof![
        (name(), message()).prop_map(|(command, message)| Packet::CmdRequest { command, message }),
        message().prop_map(Packet::CmdResponse),
        Just(Packet::CmdUnknown),
        name().prop_map(Packet::EventRegister),
        name().prop_map(Packet::EventUnregister),
        Just(Packet::EventConfirm),
        Just(Packet::EventUnknown),
        (name(), message()).prop_map(|(event, message)| Packet::Event { event, message }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn messages_round_trip(message in message()) {
        let bytes = emit(&message);
        prop_assert_eq!(Message::parse(&bytes), Ok(message));
    }

    #[test]
    fn packets_round_trip(packet in packet()) {
        let segment = packet.to_segment().unwrap();
        let len = segment_len(segment[..4].try_into().unwrap()).unwrap();
        prop_assert_eq!(len, segment.len() - 4);
        prop_assert_eq!(Packet::parse(&segment[4..]), Ok(packet));
    }

    /// Every prefix of a valid message that is not itself complete fails, and says so at a
    /// byte inside it.
    #[test]
    fn truncated_messages_fail_inside_the_input(message in message(), cut in any::<prop::sample::Index>()) {
        let bytes = emit(&message);
        prop_assume!(!bytes.is_empty());
        let prefix = &bytes[..cut.index(bytes.len())];
        if let Err(e) = Message::parse(prefix) {
            prop_assert!(e.offset <= prefix.len());
        }
    }

    /// Junk never panics; what parses re-emits to the same bytes.
    #[test]
    fn junk_parses_or_fails_cleanly(bytes in proptest::collection::vec(0u8..=7, 0..64)) {
        if let Ok(message) = Message::parse(&bytes) {
            prop_assert_eq!(emit(&message), bytes.clone());
        }
        if let Ok(packet) = Packet::parse(&bytes) {
            prop_assert_eq!(packet.emit().unwrap(), bytes);
        }
    }
}
