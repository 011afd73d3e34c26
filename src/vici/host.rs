//! What the C library tells about the host, for `version` and `stats`: uname(2), the local
//! time, and malloc's statistics. The only unsafe code of the VICI server, each call with the
//! reason it is sound.

use std::ffi::CStr;
use std::time::{SystemTime, UNIX_EPOCH};

/// uname(2)'s names of the system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uname {
    pub sysname: String,
    pub release: String,
    pub machine: String,
}

/// uname(2), or `None` if it fails (it does not on Linux).
#[allow(unsafe_code)]
pub fn uname() -> Option<Uname> {
    // SAFETY: utsname is plain old data, for which all zeroes is a valid value.
    let mut names: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `names` is a valid, writable utsname that outlives the call.
    if unsafe { libc::uname(&mut names) } != 0 {
        return None;
    }
    Some(Uname {
        sysname: field(&names.sysname),
        release: field(&names.release),
        machine: field(&names.machine),
    })
}

/// A NUL-terminated field of utsname as text (the kernel terminates every field).
fn field(chars: &[libc::c_char]) -> String {
    let bytes: Vec<u8> = chars.iter().map(|&c| c as u8).collect();
    CStr::from_bytes_until_nul(&bytes)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `time` in local time as strongSwan prints times (`%T`): `Jan 05 13:04:09 2025`; strongSwan's
/// placeholder when the C library cannot convert it.
#[allow(unsafe_code)]
pub fn local_time(time: SystemTime) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = match time.duration_since(UNIX_EPOCH) {
        Ok(d) => libc::time_t::try_from(d.as_secs()).ok(),
        Err(_) => None,
    };
    let Some(secs) = secs else {
        return "--- -- --:--:-- ----".to_owned();
    };
    // SAFETY: tm is plain old data, for which all zeroes is a valid value.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the call; localtime_r is the thread-safe variant and
    // writes only `tm`.
    if unsafe { libc::localtime_r(&secs, &mut tm) }.is_null() {
        return "--- -- --:--:-- ----".to_owned();
    }
    let month = usize::try_from(tm.tm_mon)
        .ok()
        .and_then(|m| MONTHS.get(m))
        .unwrap_or(&"---");
    format!(
        "{month} {:02} {:02}:{:02}:{:02} {:04}",
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        tm.tm_year + 1900
    )
}

/// A duration as strongSwan prints a time difference (`%V`): whole days above two days, hours
/// above two hours, minutes above two minutes, else seconds; singular for one.
pub fn time_delta(secs: u64) -> String {
    const MINUTE: u64 = 60;
    const HOUR: u64 = 60 * MINUTE;
    const DAY: u64 = 24 * HOUR;
    let (count, unit) = if secs > 2 * DAY {
        (secs / DAY, "day")
    } else if secs > 2 * HOUR {
        (secs / HOUR, "hour")
    } else if secs > 2 * MINUTE {
        (secs / MINUTE, "minute")
    } else {
        (secs, "second")
    };
    let plural = if count == 1 { "" } else { "s" };
    format!("{count} {unit}{plural}")
}

/// glibc's heap figures, as strongSwan reports them under `mallinfo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mallinfo {
    /// Non-mmapped space allocated from the system (`arena`).
    pub sbrk: usize,
    /// Space in mmapped regions (`hblkhd`).
    pub mmap: usize,
    /// Bytes in use (`uordblks`).
    pub used: usize,
    /// Bytes free in the heap (`fordblks`).
    pub free: usize,
}

/// mallinfo2(3), with glibc (2.33 and later); `None` with another C library.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn mallinfo() -> Option<Mallinfo> {
    // SAFETY: mallinfo2 takes no arguments and returns a struct by value; glibc makes it
    // thread-safe by locking each arena while it reads it.
    let mi = unsafe { libc::mallinfo2() };
    Some(Mallinfo {
        sbrk: mi.arena,
        mmap: mi.hblkhd,
        used: mi.uordblks,
        free: mi.fordblks,
    })
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn mallinfo() -> Option<Mallinfo> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_deltas_as_strongswan_prints_them() {
        for (secs, text) in [
            (0, "0 seconds"),
            (1, "1 second"),
            (120, "120 seconds"),
            (121, "2 minutes"),
            (7200, "120 minutes"),
            (7201, "2 hours"),
            (2 * 86400, "48 hours"),
            (2 * 86400 + 1, "2 days"),
            (400 * 86400, "400 days"),
        ] {
            assert_eq!(time_delta(secs), text, "{secs}");
        }
    }

    #[test]
    fn local_time_has_strongswans_shape() {
        let text = local_time(SystemTime::now());
        // "Mon DD HH:MM:SS YYYY"
        let parts: Vec<&str> = text.split(' ').collect();
        assert_eq!(parts.len(), 4, "{text}");
        assert_eq!(parts[0].len(), 3, "{text}");
        assert_eq!(parts[1].len(), 2, "{text}");
        assert_eq!(parts[2].len(), 8, "{text}");
        assert!(parts[3].parse::<u32>().unwrap() >= 2025, "{text}");
    }

    #[test]
    fn uname_names_linux() {
        let names = uname().unwrap();
        assert_eq!(names.sysname, "Linux");
        assert!(!names.release.is_empty());
        assert_eq!(names.machine, std::env::consts::ARCH);
    }
}
