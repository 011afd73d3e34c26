//! The IKE sockets: UDP on port 500 and on the NAT traversal port 4500, exempt from IPsec
//! policies.
//!
//! Without the exemption an IKE message to a peer whose address our own policies cover (a
//! host-to-host tunnel, or a gateway inside a protected subnet) would be sent into the tunnel
//! it is negotiating. strongSwan and Libreswan set the same per-socket bypass.
//!
//! On port 4500 IKE shares the socket with ESP in UDP (RFC 3948): the socket is marked for
//! UDP encapsulation, so the kernel takes the ESP packets (they start with a non-zero SPI) and
//! passes up the rest; IKE messages there start with four zero bytes, the non-ESP marker, and a
//! lone 0xFF byte is a NAT keepalive.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, RawFd};

use tokio::net::UdpSocket;

/// Binds a UDP socket on `addr` with IPsec bypass policies in both directions.
pub fn bind(addr: SocketAddr) -> io::Result<UdpSocket> {
    let socket = std::net::UdpSocket::bind(addr)
        .map_err(|e| io::Error::new(e.kind(), format!("bind {addr}: {e}")))?;
    socket.set_nonblocking(true)?;
    for dir in [POLICY_IN, POLICY_OUT] {
        bypass(socket.as_raw_fd(), addr.ip(), dir)
            .map_err(|e| io::Error::new(e.kind(), format!("IPsec bypass on {addr}: {e}")))?;
    }
    UdpSocket::from_std(socket)
}

/// Binds the NAT traversal socket on `addr` (port 4500): bypass policies as [`bind`], and
/// UDP encapsulation of ESP (UDP_ENCAP_ESPINUDP).
pub fn bind_nat_t(addr: SocketAddr) -> io::Result<UdpSocket> {
    let socket = bind(addr)?;
    set_int(
        socket.as_raw_fd(),
        libc::SOL_UDP,
        UDP_ENCAP,
        UDP_ENCAP_ESPINUDP,
    )
    .map_err(|e| io::Error::new(e.kind(), format!("UDP encapsulation on {addr}: {e}")))?;
    Ok(socket)
}

/// The four zero bytes before an IKE message on port 4500 (RFC 3948 2.2).
pub const NON_ESP_MARKER: [u8; 4] = [0; 4];

/// What arrived on a port 4500 socket: the IKE message after the non-ESP marker, or None for
/// a keepalive or anything else.
pub fn unmark(datagram: &[u8]) -> Option<&[u8]> {
    datagram.strip_prefix(&NON_ESP_MARKER[..])
}

/// What to send on a port 4500 socket: an IKE message behind the non-ESP marker; a
/// keepalive as it is.
pub fn mark(bytes: &[u8]) -> Vec<u8> {
    if bytes == ike::task::nat::KEEPALIVE {
        return bytes.to_vec();
    }
    [&NON_ESP_MARKER[..], bytes].concat()
}

/// linux/udp.h: the UDP_ENCAP socket option and its ESP-in-UDP value.
const UDP_ENCAP: i32 = 100;
const UDP_ENCAP_ESPINUDP: i32 = 2;

#[allow(unsafe_code)]
fn set_int(fd: RawFd, level: i32, name: i32, value: i32) -> io::Result<()> {
    // SAFETY: `fd` is an open socket owned by the caller for the duration of the call; the
    // option value points to `value`, a live i32 whose size is passed, which the kernel only
    // reads.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&raw const value).cast(),
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// linux/xfrm.h: XFRM_POLICY_IN and XFRM_POLICY_OUT.
const POLICY_IN: u8 = 0;
const POLICY_OUT: u8 = 1;
/// linux/in.h IP_XFRM_POLICY and linux/in6.h IPV6_XFRM_POLICY.
const IP_XFRM_POLICY: i32 = 17;
const IPV6_XFRM_POLICY: i32 = 35;
/// sizeof(struct xfrm_userpolicy_info) on Linux (selector 56, lifetime cfg 64, current 32,
/// priority, index, dir, action, flags, share, padded to 8).
const USERPOLICY_LEN: usize = 168;

/// A `struct xfrm_userpolicy_info` that allows everything in `dir` for this socket: an empty
/// selector of the socket's family (the kernel refuses one without a family), no limits.
fn userpolicy(family: u16, dir: u8) -> [u8; USERPOLICY_LEN] {
    let mut policy = [0u8; USERPOLICY_LEN];
    // xfrm_selector.family at offset 40, host byte order.
    policy[40..42].copy_from_slice(&family.to_ne_bytes());
    // xfrm_lifetime_cfg (offset 56, eight u64 limits): XFRM_INF everywhere.
    policy[56..120].fill(0xff);
    // dir at 160; action XFRM_POLICY_ALLOW (0) at 161.
    policy[160] = dir;
    policy
}

#[allow(unsafe_code)]
fn bypass(fd: RawFd, addr: IpAddr, dir: u8) -> io::Result<()> {
    let (level, name, family) = match addr {
        IpAddr::V4(_) => (libc::IPPROTO_IP, IP_XFRM_POLICY, libc::AF_INET as u16),
        IpAddr::V6(_) => (libc::IPPROTO_IPV6, IPV6_XFRM_POLICY, libc::AF_INET6 as u16),
    };
    let policy = userpolicy(family, dir);
    // SAFETY: `fd` is an open socket owned by the caller for the duration of the call; the
    // option value points to `policy`, a live buffer of exactly the length passed, which the
    // kernel only reads.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            policy.as_ptr().cast(),
            USERPOLICY_LEN as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_non_esp_marker_goes_on_ike_and_off_again_but_not_on_keepalives() {
        let marked = mark(b"ike");
        assert_eq!(marked, b"\0\0\0\0ike");
        assert_eq!(unmark(&marked), Some(&b"ike"[..]));
        assert_eq!(mark(&[0xff]), [0xff]);
        assert_eq!(unmark(&[0xff]), None);
        assert_eq!(
            unmark(&[1, 2, 3, 4, 5]),
            None,
            "ESP the kernel did not take"
        );
    }

    #[test]
    fn userpolicy_layout() {
        let p = userpolicy(2, POLICY_OUT);
        assert_eq!(&p[40..42], &2u16.to_ne_bytes());
        assert!(p[56..120].iter().all(|&b| b == 0xff));
        assert_eq!((p[160], p[161]), (1, 0));
        assert!(p[..40].iter().all(|&b| b == 0) && p[120..160].iter().all(|&b| b == 0));
    }
}
