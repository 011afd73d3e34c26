//! The VICI wire format (strongSwan `src/libcharon/plugins/vici/README.md`): segments, packets
//! and the message tree.
//!
//! ```text
//! segment:  +--------------------+----------------------------------+
//!           | length (u32, BE)   | packet (length bytes, <= 512 KiB) |
//!           +--------------------+----------------------------------+
//! packet:   | type (u8) | [name length (u8) | name] | [message]     |
//!             named types: CMD_REQUEST, EVENT_REGISTER, EVENT_UNREGISTER, EVENT
//!             with a message: CMD_REQUEST, CMD_RESPONSE, EVENT
//! message:  a sequence of elements, each a type byte, then
//!             SECTION_START 1  name (u8 length)       opens a section
//!             SECTION_END   2                         closes the last open section
//!             KEY_VALUE     3  name, value (u16 length, BE)
//!             LIST_START    4  name                   opens a list (lists do not nest)
//!             LIST_ITEM     5  value                  only inside a list
//!             LIST_END      6                         closes the list
//! ```
//!
//! Parsers take untrusted bytes and return a typed [`Error`] saying at which byte and why they
//! stop; they never panic, always end, allocate in proportion to the input only (a length field
//! is checked against the bytes left before anything is reserved for it), and refuse sections
//! nested deeper than [`MAX_DEPTH`]. Emitting what was parsed gives the same bytes.

use core::fmt;

/// The largest packet a segment may carry: strongSwan's `VICI_MESSAGE_SIZE_MAX` (512 KiB).
pub const MAX_SEGMENT: usize = 512 * 1024;
/// The bytes of a segment's length field.
pub const LENGTH_LEN: usize = 4;
/// The deepest nesting of sections we accept. swanctl's deepest request
/// (`connections.NAME.children.NAME.*` in `load-conn`) nests four; the limit keeps every
/// recursive walk of a parsed tree (emit, compare, drop) shallow.
pub const MAX_DEPTH: usize = 32;
/// Names carry an 8-bit length.
pub const MAX_NAME: usize = u8::MAX as usize;
/// Values carry a 16-bit length.
pub const MAX_VALUE: usize = u16::MAX as usize;

/// The packet type, the first byte of a packet: an open newtype, so a type we do not know is
/// still reported by number.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PacketType(pub u8);

impl PacketType {
    /// A named request message.
    pub const CMD_REQUEST: PacketType = PacketType(0);
    /// An unnamed response message for a request.
    pub const CMD_RESPONSE: PacketType = PacketType(1);
    /// An unnamed answer to a request for a command the server does not have.
    pub const CMD_UNKNOWN: PacketType = PacketType(2);
    /// A named event registration request.
    pub const EVENT_REGISTER: PacketType = PacketType(3);
    /// A named event deregistration request.
    pub const EVENT_UNREGISTER: PacketType = PacketType(4);
    /// An unnamed answer to a successful (de)registration.
    pub const EVENT_CONFIRM: PacketType = PacketType(5);
    /// An unnamed answer to a failed (de)registration.
    pub const EVENT_UNKNOWN: PacketType = PacketType(6);
    /// A named event message.
    pub const EVENT: PacketType = PacketType(7);

    /// The README's name for this type, when it is one.
    pub fn name(self) -> Option<&'static str> {
        const NAMES: [&str; 8] = [
            "CMD_REQUEST",
            "CMD_RESPONSE",
            "CMD_UNKNOWN",
            "EVENT_REGISTER",
            "EVENT_UNREGISTER",
            "EVENT_CONFIRM",
            "EVENT_UNKNOWN",
            "EVENT",
        ];
        NAMES.get(usize::from(self.0)).copied()
    }

    /// Whether a name follows the type byte.
    pub fn is_named(self) -> bool {
        matches!(
            self,
            PacketType::CMD_REQUEST
                | PacketType::EVENT_REGISTER
                | PacketType::EVENT_UNREGISTER
                | PacketType::EVENT
        )
    }

    /// Whether a message follows the type byte (and the name).
    pub fn has_message(self) -> bool {
        matches!(
            self,
            PacketType::CMD_REQUEST | PacketType::CMD_RESPONSE | PacketType::EVENT
        )
    }
}

impl fmt::Debug for PacketType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "PacketType({})", self.0),
        }
    }
}

impl fmt::Display for PacketType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// The type of a message element, its first byte.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ElementType(pub u8);

impl ElementType {
    pub const SECTION_START: ElementType = ElementType(1);
    pub const SECTION_END: ElementType = ElementType(2);
    pub const KEY_VALUE: ElementType = ElementType(3);
    pub const LIST_START: ElementType = ElementType(4);
    pub const LIST_ITEM: ElementType = ElementType(5);
    pub const LIST_END: ElementType = ElementType(6);

    /// The README's name for this type, when it is one.
    pub fn name(self) -> Option<&'static str> {
        const NAMES: [&str; 6] = [
            "SECTION_START",
            "SECTION_END",
            "KEY_VALUE",
            "LIST_START",
            "LIST_ITEM",
            "LIST_END",
        ];
        usize::from(self.0)
            .checked_sub(1)
            .and_then(|i| NAMES.get(i).copied())
    }
}

impl fmt::Debug for ElementType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "ElementType({})", self.0),
        }
    }
}

impl fmt::Display for ElementType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Why bytes are not a valid VICI segment, packet or message, and where they stop being one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error {
    /// The byte at which the problem shows, counted from the start of what was parsed (the
    /// packet for [`RawPacket::parse`] and [`Packet::parse`], the message for
    /// [`Message::parse`]).
    pub offset: usize,
    pub kind: ErrorKind,
}

/// What is wrong; see [`Error`] for where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The bytes end inside the field named.
    Truncated(&'static str),
    /// A segment's length field is larger than [`MAX_SEGMENT`].
    SegmentTooLong(usize),
    /// A packet with nothing in it, not even a type.
    EmptyPacket,
    /// A packet type the README does not define.
    UnknownPacketType(PacketType),
    /// Bytes after a packet whose type carries no message, or after its name.
    TrailingBytes(PacketType),
    /// An element type the README does not define.
    UnknownElement(ElementType),
    /// An element where the message's structure does not allow it: LIST_ITEM or LIST_END
    /// outside a list, SECTION_END at the root.
    Misplaced(ElementType),
    /// An element other than LIST_ITEM or LIST_END inside a list.
    InsideList(ElementType),
    /// The message ends inside a section.
    UnclosedSection,
    /// The message ends inside a list.
    UnclosedList,
    /// Sections nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// A packet or element name that is not UTF-8 (the README: names are ASCII).
    BadName,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte {}: ", self.offset)?;
        match self.kind {
            ErrorKind::Truncated(what) => write!(f, "truncated {what}"),
            ErrorKind::SegmentTooLong(len) => {
                write!(
                    f,
                    "segment of {len} bytes exceeds the {MAX_SEGMENT}-byte limit"
                )
            }
            ErrorKind::EmptyPacket => f.write_str("empty packet"),
            ErrorKind::UnknownPacketType(ty) => write!(f, "unknown packet type {}", ty.0),
            ErrorKind::TrailingBytes(ty) => write!(f, "unexpected bytes after a {ty} packet"),
            ErrorKind::UnknownElement(ty) => write!(f, "unknown element type {}", ty.0),
            ErrorKind::Misplaced(ty) if ty == ElementType::SECTION_END => {
                f.write_str("SECTION_END without an open section")
            }
            ErrorKind::Misplaced(ty) if ty == ElementType::LIST_ITEM => {
                f.write_str("LIST_ITEM outside a list")
            }
            ErrorKind::Misplaced(ty) if ty == ElementType::LIST_END => {
                f.write_str("LIST_END without an open list")
            }
            ErrorKind::Misplaced(ty) => write!(f, "{ty} out of place"),
            ErrorKind::InsideList(ty) => write!(f, "{ty} inside a list"),
            ErrorKind::UnclosedSection => f.write_str("message ends inside a section"),
            ErrorKind::UnclosedList => f.write_str("message ends inside a list"),
            ErrorKind::TooDeep => write!(f, "sections nested deeper than {MAX_DEPTH}"),
            ErrorKind::BadName => f.write_str("name is not UTF-8"),
        }
    }
}

impl std::error::Error for Error {}

/// Why a packet cannot be encoded: only our own code can build one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EmitError {
    /// A name longer than [`MAX_NAME`] bytes.
    NameTooLong(String),
    /// The value of the key named is longer than [`MAX_VALUE`] bytes.
    ValueTooLong(String),
    /// The packet is longer than [`MAX_SEGMENT`] bytes.
    PacketTooLong(usize),
}

impl fmt::Display for EmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmitError::NameTooLong(name) => write!(f, "name {name:?} longer than {MAX_NAME}"),
            EmitError::ValueTooLong(key) => write!(f, "value of {key:?} longer than {MAX_VALUE}"),
            EmitError::PacketTooLong(len) => {
                write!(
                    f,
                    "packet of {len} bytes exceeds the {MAX_SEGMENT}-byte limit"
                )
            }
        }
    }
}

impl std::error::Error for EmitError {}

/// The length of the packet a segment's 4-byte header announces, refused when larger than
/// [`MAX_SEGMENT`] (strongSwan drops such a client without reading on).
pub fn segment_len(header: [u8; LENGTH_LEN]) -> Result<usize, Error> {
    let len = u32::from_be_bytes(header) as usize;
    if len > MAX_SEGMENT {
        return Err(Error {
            offset: 0,
            kind: ErrorKind::SegmentTooLong(len),
        });
    }
    Ok(len)
}

/// A value: bytes, which strongSwan fills with strings (numbers in decimal, booleans `yes` and
/// `no`). `Debug` shows text as text and anything else as hex.
#[derive(Clone, PartialEq, Eq, Default, Hash)]
pub struct Value(pub Vec<u8>);

impl Value {
    /// The value as text, when it is UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        core::str::from_utf8(&self.0).ok()
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.as_str() {
            Some(s) => fmt::Debug::fmt(s, f),
            None => write!(f, "0x{}", hex(&self.0)),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value(s.as_bytes().to_vec())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value(s.into_bytes())
    }
}

impl From<Vec<u8>> for Value {
    fn from(bytes: Vec<u8>) -> Value {
        Value(bytes)
    }
}

impl From<&[u8]> for Value {
    fn from(bytes: &[u8]) -> Value {
        Value(bytes.to_vec())
    }
}

/// What a name stands for in a message or section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Value(Value),
    Section(Message),
    List(Vec<Value>),
}

/// A message: the implicit root section. Keys, sections and lists keep the order they came in
/// (or were added in), which is the order they are sent in. The README asks key names to be
/// unique within a section; parsing keeps what it is given, and lookups find the first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    pub items: Vec<(String, Item)>,
}

impl Message {
    pub fn new() -> Message {
        Message::default()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Appends `name = value`.
    pub fn with_value(mut self, name: impl Into<String>, value: impl Into<Value>) -> Message {
        self.push(name, Item::Value(value.into()));
        self
    }

    /// Appends a section.
    pub fn with_section(mut self, name: impl Into<String>, section: Message) -> Message {
        self.push(name, Item::Section(section));
        self
    }

    /// Appends a list.
    pub fn with_list<V: Into<Value>>(
        mut self,
        name: impl Into<String>,
        items: impl IntoIterator<Item = V>,
    ) -> Message {
        let items = items.into_iter().map(Into::into).collect();
        self.push(name, Item::List(items));
        self
    }

    pub fn push(&mut self, name: impl Into<String>, item: Item) {
        self.items.push((name.into(), item));
    }

    /// The first item called `name`.
    pub fn item(&self, name: &str) -> Option<&Item> {
        self.items.iter().find(|(n, _)| n == name).map(|(_, i)| i)
    }

    /// The value of the key `name`.
    pub fn value(&self, name: &str) -> Option<&Value> {
        match self.item(name)? {
            Item::Value(v) => Some(v),
            _ => None,
        }
    }

    /// The value of the key `name`, when it is text.
    pub fn str(&self, name: &str) -> Option<&str> {
        self.value(name)?.as_str()
    }

    pub fn section(&self, name: &str) -> Option<&Message> {
        match self.item(name)? {
            Item::Section(s) => Some(s),
            _ => None,
        }
    }

    pub fn list(&self, name: &str) -> Option<&[Value]> {
        match self.item(name)? {
            Item::List(l) => Some(l),
            _ => None,
        }
    }

    /// The text value at a dotted path of section names and a key (`"uptime.running"`), as
    /// swanctl looks values up.
    pub fn find_str(&self, path: &str) -> Option<&str> {
        let mut section = self;
        let mut names = path.split('.').peekable();
        while let Some(name) = names.next() {
            if names.peek().is_none() {
                return section.str(name);
            }
            section = section.section(name)?;
        }
        None
    }

    /// Parses a whole message. `Error::offset` counts from `bytes[0]`.
    pub fn parse(bytes: &[u8]) -> Result<Message, Error> {
        Parser { bytes, pos: 0 }.message()
    }

    /// The encoding's length in bytes.
    pub fn encoded_len(&self) -> usize {
        self.items
            .iter()
            .map(|(name, item)| {
                2 + name.len()
                    + match item {
                        Item::Value(v) => 2 + v.0.len(),
                        Item::Section(s) => s.encoded_len() + 1,
                        Item::List(l) => l.iter().map(|v| 3 + v.0.len()).sum::<usize>() + 1,
                    }
            })
            .sum()
    }

    /// Appends the encoding to `out`.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EmitError> {
        for (name, item) in &self.items {
            match item {
                Item::Value(v) => {
                    out.push(ElementType::KEY_VALUE.0);
                    emit_name(name, out)?;
                    emit_value(name, v, out)?;
                }
                Item::Section(s) => {
                    out.push(ElementType::SECTION_START.0);
                    emit_name(name, out)?;
                    s.emit(out)?;
                    out.push(ElementType::SECTION_END.0);
                }
                Item::List(l) => {
                    out.push(ElementType::LIST_START.0);
                    emit_name(name, out)?;
                    for v in l {
                        out.push(ElementType::LIST_ITEM.0);
                        emit_value(name, v, out)?;
                    }
                    out.push(ElementType::LIST_END.0);
                }
            }
        }
        Ok(())
    }
}

fn emit_name(name: &str, out: &mut Vec<u8>) -> Result<(), EmitError> {
    let len = u8::try_from(name.len()).map_err(|_| EmitError::NameTooLong(name.to_owned()))?;
    out.push(len);
    out.extend_from_slice(name.as_bytes());
    Ok(())
}

fn emit_value(name: &str, value: &Value, out: &mut Vec<u8>) -> Result<(), EmitError> {
    let len = u16::try_from(value.0.len()).map_err(|_| EmitError::ValueTooLong(name.to_owned()))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&value.0);
    Ok(())
}

/// A section being parsed: its name and what it holds so far.
struct Open {
    name: String,
    message: Message,
}

/// A cursor over untrusted bytes; every read checks the length first.
struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn error(&self, offset: usize, kind: ErrorKind) -> Error {
        Error { offset, kind }
    }

    fn take(&mut self, len: usize, what: &'static str) -> Result<&'a [u8], Error> {
        let rest = &self.bytes[self.pos..];
        if rest.len() < len {
            return Err(self.error(self.bytes.len(), ErrorKind::Truncated(what)));
        }
        self.pos += len;
        Ok(&rest[..len])
    }

    fn name(&mut self, what: &'static str) -> Result<&'a str, Error> {
        let at = self.pos;
        let len = self.take(1, what)?[0];
        let bytes = self.take(usize::from(len), what)?;
        core::str::from_utf8(bytes).map_err(|_| self.error(at, ErrorKind::BadName))
    }

    fn value(&mut self) -> Result<Value, Error> {
        let len = self.take(2, "value length")?;
        let len = u16::from_be_bytes([len[0], len[1]]);
        Ok(Value(self.take(usize::from(len), "value")?.to_vec()))
    }

    /// The message tree, built with an explicit stack of open sections so that nesting costs
    /// no recursion here; [`MAX_DEPTH`] bounds it for the recursive walks of the result.
    fn message(mut self) -> Result<Message, Error> {
        let mut current = Message::new();
        let mut open: Vec<Open> = Vec::new();
        let mut list: Option<(String, Vec<Value>)> = None;
        while self.pos < self.bytes.len() {
            let at = self.pos;
            let ty = ElementType(self.bytes[at]);
            self.pos += 1;
            match ty {
                ElementType::LIST_ITEM => match &mut list {
                    Some((_, items)) => items.push(self.value()?),
                    None => return Err(self.error(at, ErrorKind::Misplaced(ty))),
                },
                ElementType::LIST_END => match list.take() {
                    Some((name, items)) => current.push(name, Item::List(items)),
                    None => return Err(self.error(at, ErrorKind::Misplaced(ty))),
                },
                ElementType::SECTION_START
                | ElementType::SECTION_END
                | ElementType::KEY_VALUE
                | ElementType::LIST_START
                    if list.is_some() =>
                {
                    return Err(self.error(at, ErrorKind::InsideList(ty)));
                }
                ElementType::SECTION_START => {
                    let name = self.name("section name")?.to_owned();
                    if open.len() == MAX_DEPTH {
                        return Err(self.error(at, ErrorKind::TooDeep));
                    }
                    let parent = core::mem::take(&mut current);
                    open.push(Open {
                        name,
                        message: parent,
                    });
                }
                ElementType::SECTION_END => {
                    let Some(parent) = open.pop() else {
                        return Err(self.error(at, ErrorKind::Misplaced(ty)));
                    };
                    let section = core::mem::replace(&mut current, parent.message);
                    current.push(parent.name, Item::Section(section));
                }
                ElementType::KEY_VALUE => {
                    let name = self.name("key name")?.to_owned();
                    let value = self.value()?;
                    current.push(name, Item::Value(value));
                }
                ElementType::LIST_START => {
                    list = Some((self.name("list name")?.to_owned(), Vec::new()));
                }
                _ => return Err(self.error(at, ErrorKind::UnknownElement(ty))),
            }
        }
        if list.is_some() {
            return Err(self.error(self.pos, ErrorKind::UnclosedList));
        }
        if !open.is_empty() {
            return Err(self.error(self.pos, ErrorKind::UnclosedSection));
        }
        Ok(current)
    }
}

/// A packet split into its type, name and message bytes, the message not parsed yet: a server
/// can tell a bad packet from a good request with a bad message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawPacket<'a> {
    pub ty: PacketType,
    /// For the named types.
    pub name: Option<&'a str>,
    /// The message bytes, for the types that carry one; empty otherwise.
    pub message: &'a [u8],
    /// Where `message` starts in the packet, to place errors found in it.
    pub message_offset: usize,
}

impl<'a> RawPacket<'a> {
    /// Splits a packet (a segment's content, without its length field).
    pub fn parse(bytes: &'a [u8]) -> Result<RawPacket<'a>, Error> {
        let Some(&ty) = bytes.first() else {
            return Err(Error {
                offset: 0,
                kind: ErrorKind::EmptyPacket,
            });
        };
        let ty = PacketType(ty);
        if ty.name().is_none() {
            return Err(Error {
                offset: 0,
                kind: ErrorKind::UnknownPacketType(ty),
            });
        }
        let mut parser = Parser { bytes, pos: 1 };
        let name = match ty.is_named() {
            true => Some(parser.name("packet name")?),
            false => None,
        };
        let message_offset = parser.pos;
        if !ty.has_message() && message_offset < bytes.len() {
            return Err(Error {
                offset: message_offset,
                kind: ErrorKind::TrailingBytes(ty),
            });
        }
        Ok(RawPacket {
            ty,
            name,
            message: &bytes[message_offset..],
            message_offset,
        })
    }

    /// Parses the message; the error's offset counts from the start of the packet.
    pub fn parse_message(&self) -> Result<Message, Error> {
        Message::parse(self.message).map_err(|e| Error {
            offset: e.offset + self.message_offset,
            kind: e.kind,
        })
    }
}

/// A packet, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    CmdRequest { command: String, message: Message },
    CmdResponse(Message),
    CmdUnknown,
    EventRegister(String),
    EventUnregister(String),
    EventConfirm,
    EventUnknown,
    Event { event: String, message: Message },
}

impl Packet {
    /// Parses a packet (a segment's content, without its length field).
    pub fn parse(bytes: &[u8]) -> Result<Packet, Error> {
        let raw = RawPacket::parse(bytes)?;
        let name = || raw.name.unwrap_or_default().to_owned();
        Ok(match raw.ty {
            PacketType::CMD_REQUEST => Packet::CmdRequest {
                command: name(),
                message: raw.parse_message()?,
            },
            PacketType::CMD_RESPONSE => Packet::CmdResponse(raw.parse_message()?),
            PacketType::CMD_UNKNOWN => Packet::CmdUnknown,
            PacketType::EVENT_REGISTER => Packet::EventRegister(name()),
            PacketType::EVENT_UNREGISTER => Packet::EventUnregister(name()),
            PacketType::EVENT_CONFIRM => Packet::EventConfirm,
            PacketType::EVENT_UNKNOWN => Packet::EventUnknown,
            _ => Packet::Event {
                event: name(),
                message: raw.parse_message()?,
            },
        })
    }

    pub fn ty(&self) -> PacketType {
        match self {
            Packet::CmdRequest { .. } => PacketType::CMD_REQUEST,
            Packet::CmdResponse(_) => PacketType::CMD_RESPONSE,
            Packet::CmdUnknown => PacketType::CMD_UNKNOWN,
            Packet::EventRegister(_) => PacketType::EVENT_REGISTER,
            Packet::EventUnregister(_) => PacketType::EVENT_UNREGISTER,
            Packet::EventConfirm => PacketType::EVENT_CONFIRM,
            Packet::EventUnknown => PacketType::EVENT_UNKNOWN,
            Packet::Event { .. } => PacketType::EVENT,
        }
    }

    /// The packet's encoding, without the segment's length field.
    pub fn emit(&self) -> Result<Vec<u8>, EmitError> {
        let (name, message) = match self {
            Packet::CmdRequest { command, message } => (Some(command), Some(message)),
            Packet::CmdResponse(message) => (None, Some(message)),
            Packet::EventRegister(name) | Packet::EventUnregister(name) => (Some(name), None),
            Packet::Event { event, message } => (Some(event), Some(message)),
            Packet::CmdUnknown | Packet::EventConfirm | Packet::EventUnknown => (None, None),
        };
        let len = 1 + name.map_or(0, |n| 1 + n.len()) + message.map_or(0, |m| m.encoded_len());
        if len > MAX_SEGMENT {
            return Err(EmitError::PacketTooLong(len));
        }
        let mut out = Vec::with_capacity(len);
        out.push(self.ty().0);
        if let Some(name) = name {
            emit_name(name, &mut out)?;
        }
        if let Some(message) = message {
            message.emit(&mut out)?;
        }
        Ok(out)
    }

    /// The packet as a segment: its length, then the packet.
    pub fn to_segment(&self) -> Result<Vec<u8>, EmitError> {
        let packet = self.emit()?;
        // emit() refused anything longer than MAX_SEGMENT, which fits in 32 bits.
        let len = packet.len() as u32;
        let mut segment = Vec::with_capacity(LENGTH_LEN + packet.len());
        segment.extend_from_slice(&len.to_be_bytes());
        segment.extend_from_slice(&packet);
        Ok(segment)
    }
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
