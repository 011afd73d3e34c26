//! Security associations: what the caller describes ([`SaSpec`]), what the kernel reports
//! ([`SaInfo`]), and their translation to and from `struct xfrm_usersa_info` plus attributes
//! (linux/xfrm.h).

use std::net::IpAddr;

use netlink_packet_xfrm::{
    Alg, AlgAead, AlgAuth, EncapTmpl, Id, LifetimeConfig, Mark as NlMark, ReplayEsn, UserSaId,
    UserSaInfo, XfrmAttrs,
};

use crate::algorithm::{Aead, Crypto, Integrity, Key, name_field, name_of, wipe};
use crate::error::{Error, Op, Result};
use crate::types::{Counters, Lifetime, Limits, Mark, Mode, Proto, Selector, Spi};
use crate::wire;

/// XFRM_STATE_ESN, XFRM_STATE_ALIGN4 and XFRM_STATE_AF_UNSPEC of linux/xfrm.h.
const XFRM_STATE_ESN: u8 = 128;
const XFRM_STATE_ALIGN4: u8 = 64;
const XFRM_STATE_AF_UNSPEC: u8 = 32;
/// UDP_ENCAP_ESPINUDP of linux/udp.h: ESP in UDP per RFC 3948.
const UDP_ENCAP_ESPINUDP: u16 = 2;
/// XFRM_INF of linux/xfrm.h: no byte or packet limit.
const XFRM_INF: u64 = u64::MAX;
/// The largest replay window the kernel accepts (XFRMA_REPLAY_ESN_MAX, in bits).
pub const MAX_REPLAY_WINDOW: u32 = 4096;

/// What identifies an SA in the kernel: destination, SPI, protocol, and the mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SaId {
    pub dst: IpAddr,
    pub spi: Spi,
    pub proto: Proto,
    pub mark: Option<Mark>,
}

/// UDP encapsulation of ESP for NAT traversal (RFC 3948).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encap {
    pub sport: u16,
    pub dport: u16,
}

impl Encap {
    /// Both ends on the NAT-T port 4500 (RFC 3947 4).
    pub const NAT_T: Encap = Encap {
        sport: 4500,
        dport: 4500,
    };
}

/// An SA to install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaSpec {
    pub id: SaId,
    pub src: IpAddr,
    pub mode: Mode,
    pub reqid: u32,
    pub crypto: Crypto,
    /// Which packets the SA may carry. `None` leaves the selector open (tunnel mode, where the
    /// policy decides).
    pub selector: Option<Selector>,
    pub encap: Option<Encap>,
    /// Replay window in packets (RFC 4303 3.4.3); 0 disables the check (outbound SAs).
    pub replay_window: u32,
    /// Extended sequence numbers (RFC 4303 2.2.1). The kernel needs a replay window of at
    /// least 1 with ESN.
    pub esn: bool,
    pub lifetime: Lifetime,
    pub if_id: Option<u32>,
    /// Mark to set on packets this SA produced (XFRMA_SET_MARK).
    pub set_mark: Option<Mark>,
}

/// An SA as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaInfo {
    pub spec: SaSpec,
    pub counters: Counters,
}

impl SaSpec {
    /// Checks what the kernel would reject less clearly.
    pub(crate) fn validate(&self, op: Op) -> Result<()> {
        self.crypto.validate(self.id.proto, op)?;
        if self.src.is_ipv4() != self.id.dst.is_ipv4() {
            return Err(Error::bad_input(
                op,
                format!("SA mixes address families: {} -> {}", self.src, self.id.dst),
            ));
        }
        if self.replay_window > MAX_REPLAY_WINDOW {
            return Err(Error::bad_input(
                op,
                format!(
                    "replay window {} is above the kernel's {MAX_REPLAY_WINDOW}",
                    self.replay_window
                ),
            ));
        }
        if self.esn && self.replay_window == 0 {
            // xfrm_init_replay(): ESN with a zero window is -EINVAL on Linux 6.1.
            return Err(Error::bad_input(
                op,
                "ESN needs a replay window of at least 1",
            ));
        }
        if self.encap.is_some() && self.id.proto != Proto::Esp {
            return Err(Error::bad_input(op, "only ESP can be UDP-encapsulated"));
        }
        Ok(())
    }

    /// The XFRM_MSG_NEWSA / UPDSA body. Keys are copied into the returned attributes: the
    /// caller wipes them with [`wipe_attrs`] once the message is serialized.
    pub(crate) fn to_wire(&self) -> (UserSaInfo, Vec<XfrmAttrs>) {
        let mut info = UserSaInfo::default();
        info.source(&self.src);
        info.destination(&self.id.dst);
        info.id.spi = self.id.spi.0;
        info.id.proto = self.id.proto.number();
        info.mode = self.mode.number();
        info.reqid = self.reqid;
        info.lifetime_cfg = lifetime_to_wire(&self.lifetime);
        if let Some(sel) = &self.selector {
            info.selector = wire::selector_to_wire(sel);
        } else if self.mode == Mode::Tunnel {
            // A tunnel carries inner packets of either family whatever the outer one (IPv4 in
            // IPv6 and back), as strongSwan installs tunnel SAs: XFRM_STATE_AF_UNSPEC, and a
            // selector without a family (copy_from_user_state() would fill in the SA's).
            info.flags |= XFRM_STATE_AF_UNSPEC;
        } else {
            info.selector.family = info.family;
        }
        if self.id.proto == Proto::Ah && self.id.dst.is_ipv4() {
            // RFC 4302 3.3.3.2.1: over IPv4 the ICV is padded to 32 bits, not the kernel's
            // default of 64; strongSwan and every other peer pad to 32.
            info.flags |= XFRM_STATE_ALIGN4;
        }
        let mut attrs = crypto_attrs(&self.crypto);
        // A window above 32 packets, or ESN, needs the bitmap form (XFRMA_REPLAY_ESN_VAL);
        // xfrm_usersa_info.replay_window is a u8 and the legacy bitmap 32 bits wide.
        if self.esn || self.replay_window > 32 {
            if self.esn {
                info.flags |= XFRM_STATE_ESN;
            }
            let bmp_len = self.replay_window.div_ceil(32);
            attrs.push(XfrmAttrs::ReplayStateEsn(ReplayEsn {
                bmp_len,
                oseq: 0,
                seq: 0,
                oseq_hi: 0,
                seq_hi: 0,
                replay_window: self.replay_window,
                bmp: vec![0; bmp_len as usize],
            }));
        } else {
            info.replay_window = self.replay_window as u8;
        }
        if let Some(encap) = self.encap {
            attrs.push(XfrmAttrs::EncapsulationTemplate(EncapTmpl {
                encap_type: UDP_ENCAP_ESPINUDP,
                encap_sport: encap.sport,
                encap_dport: encap.dport,
                encap_oa: Default::default(),
            }));
        }
        push_mark(&mut attrs, self.id.mark);
        if let Some(if_id) = self.if_id {
            attrs.push(XfrmAttrs::IfId(if_id));
        }
        if let Some(m) = self.set_mark {
            attrs.push(XfrmAttrs::MarkVal(m.value));
            attrs.push(XfrmAttrs::MarkMask(m.mask));
        }
        (info, attrs)
    }

    /// Reads an SA back from XFRM_MSG_NEWSA (a GETSA reply, a dump entry). Wipes the key bytes
    /// of `attrs` as it copies them.
    pub(crate) fn from_wire(info: &UserSaInfo, attrs: &mut [XfrmAttrs]) -> Result<SaInfo> {
        let bad = |what: &str| Error::protocol(Op::GetSa, what.to_string());
        let proto =
            Proto::from_number(info.id.proto).ok_or_else(|| bad("SA of unknown protocol"))?;
        let mode = Mode::from_number(info.mode).ok_or_else(|| bad("SA in an unsupported mode"))?;
        let v4 = info.family == wire::AF_INET;
        let src = wire::addr_from_wire(&info.saddr, v4);
        let dst = wire::addr_from_wire(&info.id.daddr, v4);
        let crypto = crypto_from_attrs(attrs).ok_or_else(|| bad("SA with unknown algorithms"))?;
        let mut spec = SaSpec {
            id: SaId {
                dst,
                spi: Spi(info.id.spi),
                proto,
                mark: None,
            },
            src,
            mode,
            reqid: info.reqid,
            crypto,
            selector: wire::selector_from_wire(&info.selector),
            encap: None,
            replay_window: u32::from(info.replay_window),
            esn: info.flags & XFRM_STATE_ESN != 0,
            lifetime: lifetime_from_wire(&info.lifetime_cfg),
            if_id: None,
            set_mark: None,
        };
        let mut counters = Counters {
            bytes: info.lifetime_cur.bytes,
            packets: info.lifetime_cur.packets,
            add_time: info.lifetime_cur.add_time,
            use_time: info.lifetime_cur.use_time,
            last_used: None,
            replay_dropped: info.stats.replay,
            integrity_failed: info.stats.integrity_failed,
        };
        let mut set_mark = Mark::default();
        let mut has_set_mark = false;
        for attr in attrs.iter() {
            match attr {
                XfrmAttrs::ReplayStateEsn(r) => spec.replay_window = r.replay_window,
                XfrmAttrs::EncapsulationTemplate(e) => {
                    spec.encap = Some(Encap {
                        sport: e.encap_sport,
                        dport: e.encap_dport,
                    })
                }
                XfrmAttrs::Mark(m) => {
                    spec.id.mark = Some(Mark {
                        value: m.value,
                        mask: m.mask,
                    })
                }
                XfrmAttrs::IfId(id) => spec.if_id = Some(*id),
                XfrmAttrs::MarkVal(v) => (set_mark.value, has_set_mark) = (*v, true),
                XfrmAttrs::MarkMask(m) => (set_mark.mask, has_set_mark) = (*m, true),
                XfrmAttrs::LastUsed(t) => counters.last_used = Some(*t),
                _ => {}
            }
        }
        if has_set_mark {
            spec.set_mark = Some(set_mark);
        }
        Ok(SaInfo { spec, counters })
    }
}

/// The body of GETSA / DELSA: the SA's identity.
pub(crate) fn id_to_wire(id: &SaId) -> (UserSaId, Vec<XfrmAttrs>) {
    let mut sa_id = UserSaId::default();
    sa_id.destination(&id.dst);
    sa_id.spi = id.spi.0;
    sa_id.proto = id.proto.number();
    let mut attrs = Vec::new();
    push_mark(&mut attrs, id.mark);
    (sa_id, attrs)
}

fn push_mark(attrs: &mut Vec<XfrmAttrs>, mark: Option<Mark>) {
    if let Some(m) = mark {
        attrs.push(XfrmAttrs::Mark(NlMark {
            value: m.value,
            mask: m.mask,
        }));
    }
}

fn crypto_attrs(crypto: &Crypto) -> Vec<XfrmAttrs> {
    match crypto {
        Crypto::Aead { alg, key } => vec![XfrmAttrs::EncryptionAlgAead(AlgAead {
            alg_name: name_field(alg.kernel_name()),
            alg_key_len: bits(key),
            alg_icv_len: alg.icv_bits(),
            alg_key: key.as_bytes().to_vec(),
        })],
        Crypto::AesCbc {
            key,
            integrity,
            integrity_key,
        } => vec![
            XfrmAttrs::EncryptionAlg(Alg {
                alg_name: name_field("cbc(aes)"),
                alg_key_len: bits(key),
                alg_key: key.as_bytes().to_vec(),
            }),
            auth_attr(*integrity, integrity_key),
        ],
        Crypto::Auth { integrity, key } => vec![auth_attr(*integrity, key)],
    }
}

/// XFRMA_ALG_AUTH_TRUNC rather than XFRMA_ALG_AUTH: the latter leaves the truncation to the
/// kernel's table, which for hmac(sha256) is 96 bits (RFC 4868 needs 128).
fn auth_attr(integrity: Integrity, key: &Key) -> XfrmAttrs {
    XfrmAttrs::AuthenticationAlgTrunc(AlgAuth {
        alg_name: name_field(integrity.kernel_name()),
        alg_key_len: bits(key),
        alg_trunc_len: integrity.truncation_bits(),
        alg_key: key.as_bytes().to_vec(),
    })
}

fn bits(key: &Key) -> u32 {
    (key.len() * 8) as u32
}

/// Takes the key bytes out of a kernel algorithm attribute, checking the stated length.
fn take_key(key: &mut Vec<u8>, key_bits: u32) -> Option<Key> {
    let len = (key_bits / 8) as usize;
    let taken = (key.len() >= len).then(|| Key::from_slice(&key[..len]));
    wipe(key);
    taken
}

fn crypto_from_attrs(attrs: &mut [XfrmAttrs]) -> Option<Crypto> {
    let mut aead = None;
    let mut cipher = None;
    let mut auth = None;
    for attr in attrs.iter_mut() {
        match attr {
            XfrmAttrs::EncryptionAlgAead(a) => {
                let alg = match name_of(&a.alg_name).as_str() {
                    "rfc4106(gcm(aes))" if a.alg_icv_len == 128 => Some(Aead::AesGcm16),
                    "rfc7539esp(chacha20,poly1305)" => Some(Aead::ChaCha20Poly1305),
                    _ => None,
                };
                let key = take_key(&mut a.alg_key, a.alg_key_len);
                aead = alg.zip(key);
            }
            XfrmAttrs::EncryptionAlg(a) => {
                let is_cbc = name_of(&a.alg_name) == "cbc(aes)";
                let key = take_key(&mut a.alg_key, a.alg_key_len);
                cipher = key.filter(|_| is_cbc);
            }
            XfrmAttrs::AuthenticationAlgTrunc(a) => {
                let integrity = Integrity::from_kernel(&name_of(&a.alg_name), a.alg_trunc_len);
                let key = take_key(&mut a.alg_key, a.alg_key_len);
                auth = integrity.zip(key);
            }
            XfrmAttrs::AuthenticationAlg(a) => wipe(&mut a.alg_key),
            _ => {}
        }
    }
    match (aead, cipher, auth) {
        (Some((alg, key)), None, None) => Some(Crypto::Aead { alg, key }),
        (None, Some(key), Some((integrity, integrity_key))) => Some(Crypto::AesCbc {
            key,
            integrity,
            integrity_key,
        }),
        (None, None, Some((integrity, key))) => Some(Crypto::Auth { integrity, key }),
        _ => None,
    }
}

/// Wipes every key byte in a request's attributes.
pub(crate) fn wipe_attrs(attrs: &mut [XfrmAttrs]) {
    for attr in attrs {
        match attr {
            XfrmAttrs::EncryptionAlgAead(a) => wipe(&mut a.alg_key),
            XfrmAttrs::EncryptionAlg(a) => wipe(&mut a.alg_key),
            XfrmAttrs::AuthenticationAlgTrunc(a) => wipe(&mut a.alg_key),
            XfrmAttrs::AuthenticationAlg(a) => wipe(&mut a.alg_key),
            XfrmAttrs::CompressionAlg(a) => wipe(&mut a.alg_key),
            _ => {}
        }
    }
}

pub(crate) fn lifetime_to_wire(l: &Lifetime) -> LifetimeConfig {
    LifetimeConfig {
        soft_byte_limit: l.soft.bytes.unwrap_or(XFRM_INF),
        hard_byte_limit: l.hard.bytes.unwrap_or(XFRM_INF),
        soft_packet_limit: l.soft.packets.unwrap_or(XFRM_INF),
        hard_packet_limit: l.hard.packets.unwrap_or(XFRM_INF),
        soft_add_expires_seconds: l.soft.add_seconds.unwrap_or(0),
        hard_add_expires_seconds: l.hard.add_seconds.unwrap_or(0),
        soft_use_expires_seconds: l.soft.use_seconds.unwrap_or(0),
        hard_use_expires_seconds: l.hard.use_seconds.unwrap_or(0),
    }
}

pub(crate) fn lifetime_from_wire(c: &LifetimeConfig) -> Lifetime {
    let count = |v: u64| (v != XFRM_INF).then_some(v);
    let secs = |v: u64| (v != 0).then_some(v);
    Lifetime {
        soft: Limits {
            bytes: count(c.soft_byte_limit),
            packets: count(c.soft_packet_limit),
            add_seconds: secs(c.soft_add_expires_seconds),
            use_seconds: secs(c.soft_use_expires_seconds),
        },
        hard: Limits {
            bytes: count(c.hard_byte_limit),
            packets: count(c.hard_packet_limit),
            add_seconds: secs(c.hard_add_expires_seconds),
            use_seconds: secs(c.hard_use_expires_seconds),
        },
    }
}

/// An SA's identity (mark included) and reqid, whatever its algorithms.
pub(crate) fn id_and_reqid(info: &UserSaInfo, attrs: &[XfrmAttrs]) -> Option<(SaId, u32)> {
    let (dst, spi, proto) = id_from_wire(&info.id, info.family)?;
    let mark = attrs.iter().find_map(|a| match a {
        XfrmAttrs::Mark(m) => Some(Mark {
            value: m.value,
            mask: m.mask,
        }),
        _ => None,
    });
    Some((
        SaId {
            dst,
            spi,
            proto,
            mark,
        },
        info.reqid,
    ))
}

/// The SA identity in an ALLOCSPI request's reply, and the reply's SPI.
pub(crate) fn allocated_spi(info: &UserSaInfo) -> Spi {
    Spi(info.id.spi)
}

/// The identity of an `Id` (from EXPIRE or ACQUIRE messages).
pub(crate) fn id_from_wire(id: &Id, family: u16) -> Option<(IpAddr, Spi, Proto)> {
    let proto = Proto::from_number(id.proto)?;
    Some((
        wire::addr_from_wire(&id.daddr, family == wire::AF_INET),
        Spi(id.spi),
        proto,
    ))
}

#[cfg(test)]
#[path = "sa_tests.rs"]
mod tests;
