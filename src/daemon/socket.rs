//! The IKE sockets: UDP on port 500, exempt from IPsec policies.
//!
//! Without the exemption an IKE message to a peer whose address our own policies cover (a
//! host-to-host tunnel, or a gateway inside a protected subnet) would be sent into the tunnel
//! it is negotiating. strongSwan and Libreswan set the same per-socket bypass.

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
    fn userpolicy_layout() {
        let p = userpolicy(2, POLICY_OUT);
        assert_eq!(&p[40..42], &2u16.to_ne_bytes());
        assert!(p[56..120].iter().all(|&b| b == 0xff));
        assert_eq!((p[160], p[161]), (1, 0));
        assert!(p[..40].iter().all(|&b| b == 0) && p[120..160].iter().all(|&b| b == 0));
    }
}
