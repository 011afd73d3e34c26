//! The IKE header (RFC 7296 3.1).
//!
//! ```text
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                       IKE SA Initiator's SPI                  |
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                       IKE SA Responder's SPI                  |
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Next Payload | MjVer | MnVer | Exchange Type |     Flags     |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                          Message ID                           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                            Length                             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use core::fmt;

use super::{Error, ExchangeType, PayloadType, be32};

/// Byte ranges of the header's fields.
mod field {
    use core::ops::Range;
    pub const SPI_I: Range<usize> = 0..8;
    pub const SPI_R: Range<usize> = 8..16;
    pub const NEXT_PAYLOAD: usize = 16;
    pub const VERSION: usize = 17;
    pub const EXCHANGE: usize = 18;
    pub const FLAGS: usize = 19;
    pub const MESSAGE_ID: Range<usize> = 20..24;
    pub const LENGTH: Range<usize> = 24..28;
}

/// An IKE SA's SPI: eight opaque bytes chosen by one side; all zero means "not chosen yet".
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct IkeSpi(pub [u8; 8]);

impl IkeSpi {
    /// The responder's SPI in an IKE_SA_INIT request (RFC 7296 3.1).
    pub const ZERO: IkeSpi = IkeSpi([0; 8]);

    pub fn is_zero(self) -> bool {
        self == Self::ZERO
    }
}

impl fmt::Debug for IkeSpi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", u64::from_be_bytes(self.0))
    }
}

impl fmt::Display for IkeSpi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// The Message ID of an IKE exchange (RFC 7296 2.2).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Debug)]
pub struct MessageId(pub u32);

/// The header's flags (RFC 7296 3.1).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags(pub u8);

impl Flags {
    /// Set in messages sent by the original initiator of the IKE SA.
    pub const INITIATOR: Flags = Flags(0x08);
    /// Set by an implementation that can speak a higher major version; we never set it.
    pub const VERSION: Flags = Flags(0x10);
    /// Set in responses.
    pub const RESPONSE: Flags = Flags(0x20);

    pub fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn is_initiator(self) -> bool {
        self.contains(Self::INITIATOR)
    }

    pub fn is_response(self) -> bool {
        self.contains(Self::RESPONSE)
    }
}

impl core::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

impl fmt::Debug for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names = Vec::new();
        for (flag, name) in [
            (Self::INITIATOR, "I"),
            (Self::VERSION, "V"),
            (Self::RESPONSE, "R"),
        ] {
            if self.contains(flag) {
                names.push(name);
            }
        }
        let unknown = self.0 & !(0x08 | 0x10 | 0x20);
        if unknown != 0 {
            return write!(f, "[{}|{unknown:#04x}]", names.join("|"));
        }
        write!(f, "[{}]", names.join("|"))
    }
}

/// A read-only or writable view of the header at the start of a buffer.
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checks; field accessors may panic on a short buffer.
    pub fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Wraps untrusted bytes: the buffer must hold the header, and the header's length field
    /// must equal the buffer's length (a UDP datagram carries exactly one IKE message).
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    fn check_len(&self) -> Result<(), Error> {
        let len = self.buffer.as_ref().len();
        if len < Header::LEN {
            return Err(Error::Truncated("IKE header"));
        }
        let claimed = self.length() as usize;
        if claimed < Header::LEN || claimed != len {
            return Err(Error::BadLength("IKE header"));
        }
        Ok(())
    }

    pub fn spi_i(&self) -> IkeSpi {
        IkeSpi(
            self.buffer.as_ref()[field::SPI_I]
                .try_into()
                .unwrap_or_default(),
        )
    }

    pub fn spi_r(&self) -> IkeSpi {
        IkeSpi(
            self.buffer.as_ref()[field::SPI_R]
                .try_into()
                .unwrap_or_default(),
        )
    }

    pub fn next_payload(&self) -> PayloadType {
        PayloadType(self.buffer.as_ref()[field::NEXT_PAYLOAD])
    }

    pub fn major_version(&self) -> u8 {
        self.buffer.as_ref()[field::VERSION] >> 4
    }

    pub fn minor_version(&self) -> u8 {
        self.buffer.as_ref()[field::VERSION] & 0x0f
    }

    pub fn exchange(&self) -> ExchangeType {
        ExchangeType(self.buffer.as_ref()[field::EXCHANGE])
    }

    pub fn flags(&self) -> Flags {
        Flags(self.buffer.as_ref()[field::FLAGS])
    }

    pub fn message_id(&self) -> MessageId {
        MessageId(be32(self.buffer.as_ref(), field::MESSAGE_ID.start))
    }

    pub fn length(&self) -> u32 {
        be32(self.buffer.as_ref(), field::LENGTH.start)
    }

    /// The payload chain: everything after the header.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[Header::LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn buf(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }

    pub fn set_spi_i(&mut self, spi: IkeSpi) {
        self.buf()[field::SPI_I].copy_from_slice(&spi.0);
    }

    pub fn set_spi_r(&mut self, spi: IkeSpi) {
        self.buf()[field::SPI_R].copy_from_slice(&spi.0);
    }

    pub fn set_next_payload(&mut self, ty: PayloadType) {
        self.buf()[field::NEXT_PAYLOAD] = ty.0;
    }

    pub fn set_version(&mut self, major: u8, minor: u8) {
        self.buf()[field::VERSION] = (major << 4) | (minor & 0x0f);
    }

    pub fn set_exchange(&mut self, exchange: ExchangeType) {
        self.buf()[field::EXCHANGE] = exchange.0;
    }

    pub fn set_flags(&mut self, flags: Flags) {
        self.buf()[field::FLAGS] = flags.0;
    }

    pub fn set_message_id(&mut self, id: MessageId) {
        self.buf()[field::MESSAGE_ID].copy_from_slice(&id.0.to_be_bytes());
    }

    pub fn set_length(&mut self, len: u32) {
        self.buf()[field::LENGTH].copy_from_slice(&len.to_be_bytes());
    }
}

/// The IKE header, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub spi_i: IkeSpi,
    pub spi_r: IkeSpi,
    pub next_payload: PayloadType,
    pub major_version: u8,
    pub minor_version: u8,
    pub exchange: ExchangeType,
    pub flags: Flags,
    pub message_id: MessageId,
    /// The length of the whole message, header included.
    pub length: u32,
}

impl Header {
    /// The header's size on the wire.
    pub const LEN: usize = 28;
    /// RFC 7296 3.1: the major version we speak.
    pub const MAJOR_VERSION: u8 = 2;

    /// Parses the header of a whole message (see [`Packet::new_checked`]).
    pub fn parse(message: &[u8]) -> Result<Header, Error> {
        let packet = Packet::new_checked(message)?;
        Ok(Header {
            spi_i: packet.spi_i(),
            spi_r: packet.spi_r(),
            next_payload: packet.next_payload(),
            major_version: packet.major_version(),
            minor_version: packet.minor_version(),
            exchange: packet.exchange(),
            flags: packet.flags(),
            message_id: packet.message_id(),
            length: packet.length(),
        })
    }

    /// Writes the header into the first [`Header::LEN`] bytes of `buf`.
    pub fn emit(&self, buf: &mut [u8]) {
        let mut packet = Packet::new_unchecked(&mut buf[..Self::LEN]);
        packet.set_spi_i(self.spi_i);
        packet.set_spi_r(self.spi_r);
        packet.set_next_payload(self.next_payload);
        packet.set_version(self.major_version, self.minor_version);
        packet.set_exchange(self.exchange);
        packet.set_flags(self.flags);
        packet.set_message_id(self.message_id);
        packet.set_length(self.length);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::junk;

    // An IKE_SA_INIT request header as strongSwan sends it: SPIi set, SPIr zero, first payload
    // SA, version 2.0, flags I, message ID 0, length 28 (no payloads, for the test).
    const BYTES: [u8; 28] = [
        0x6a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f, 0x60, 0x71, 0, 0, 0, 0, 0, 0, 0, 0, 33, 0x20, 34, 0x08,
        0, 0, 0, 0, 0, 0, 0, 28,
    ];

    fn repr() -> Header {
        Header {
            spi_i: IkeSpi([0x6a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f, 0x60, 0x71]),
            spi_r: IkeSpi::ZERO,
            next_payload: PayloadType::SA,
            major_version: 2,
            minor_version: 0,
            exchange: ExchangeType::IKE_SA_INIT,
            flags: Flags::INITIATOR,
            message_id: MessageId(0),
            length: 28,
        }
    }

    #[test]
    fn parse() {
        assert_eq!(Header::parse(&BYTES), Ok(repr()));
    }

    #[test]
    fn emit() {
        let mut buf = [0xffu8; 28];
        repr().emit(&mut buf);
        assert_eq!(buf, BYTES);
    }

    #[test]
    fn round_trip() {
        let mut header = repr();
        header.flags = Flags::RESPONSE;
        header.message_id = MessageId(0xdead_beef);
        header.spi_r = IkeSpi([9; 8]);
        let mut buf = [0u8; 28];
        header.emit(&mut buf);
        assert_eq!(Header::parse(&buf), Ok(header));
    }

    #[test]
    fn truncated() {
        for len in 0..Header::LEN {
            assert_eq!(
                Header::parse(&BYTES[..len]),
                Err(Error::Truncated("IKE header"))
            );
        }
    }

    #[test]
    fn bad_length() {
        let mut longer = BYTES.to_vec();
        longer.push(0);
        assert_eq!(Header::parse(&longer), Err(Error::BadLength("IKE header")));
        let mut short_claim = BYTES;
        short_claim[27] = 27;
        assert_eq!(
            Header::parse(&short_claim),
            Err(Error::BadLength("IKE header"))
        );
    }

    #[test]
    fn junk_never_panics() {
        for mut bytes in junk(0x1ce) {
            if bytes.len() >= Header::LEN && bytes[0] % 2 == 0 {
                let len = bytes.len() as u32;
                bytes[24..28].copy_from_slice(&len.to_be_bytes());
            }
            if let Ok(header) = Header::parse(&bytes) {
                let mut buf = vec![0; Header::LEN];
                header.emit(&mut buf);
                assert_eq!(buf, bytes[..Header::LEN]);
            }
        }
    }

    #[test]
    fn flags_debug_names_bits() {
        assert_eq!(format!("{:?}", Flags::INITIATOR | Flags::RESPONSE), "[I|R]");
        assert_eq!(format!("{:?}", Flags(0x09)), "[I|0x01]");
    }
}
