//! The commands that drive tunnels: `initiate`, `terminate` and `rekey`, with strongSwan's
//! request keys and answers. `initiate` and `terminate` answer once their SAs are up or gone
//! (or `timeout` milliseconds have passed), streaming the daemon's log lines about them as
//! `control-log` events meanwhile, as strongSwan's vici plugin does.

use std::io;
use std::time::Duration;

use tokio::net::UnixStream;
use tokio::sync::{mpsc, oneshot};

use super::server::{Client, next_news};
use super::wire::Message;
use super::{query, sas};
use crate::daemon::control::{LOG_QUEUE, LogLine, Selector};

/// The value of `key` as strongSwan's `get_int` reads it: `default` when absent or not a
/// number.
fn int(request: &Message, key: &str, default: i64) -> i64 {
    request
        .str(key)
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn id(request: &Message, key: &str) -> Option<u32> {
    u32::try_from(int(request, key, 0))
        .ok()
        .filter(|&id| id != 0)
}

/// The SAs a request selects by `ike`, `ike-id`, `child` and `child-id`.
pub fn selector(request: &Message) -> Selector {
    Selector {
        ike: request.str("ike").map(str::to_owned),
        ike_id: id(request, "ike-id"),
        child: request.str("child").map(str::to_owned),
        child_id: id(request, "child-id"),
    }
}

fn success(ok: bool) -> Message {
    Message::new().with_value("success", if ok { "yes" } else { "no" })
}

/// Waits for a command's answer, passing on its log lines up to `level` as `control-log`
/// events and the client's news; `None` when `timeout_ms` (if positive) passed first.
async fn follow<T>(
    client: &mut Client,
    stream: &mut UnixStream,
    mut log: mpsc::Receiver<LogLine>,
    mut done: oneshot::Receiver<T>,
    level: i64,
    timeout_ms: i64,
) -> io::Result<Option<Result<T, oneshot::error::RecvError>>> {
    let limit = u64::try_from(timeout_ms)
        .ok()
        .filter(|&ms| ms > 0)
        .map(|ms| tokio::time::Instant::now() + Duration::from_millis(ms));
    let deadline = async {
        match limit {
            Some(at) => tokio::time::sleep_until(at).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(deadline);
    let outcome = loop {
        tokio::select! {
            Some(line) = log.recv() => control_log(client, stream, &line, level).await?,
            result = &mut done => break Some(result),
            () = &mut deadline => break None,
            news = next_news(&mut client.news) => client.pass_on(stream, news).await?,
        }
    };
    // Lines sent before the answer are still queued.
    while let Ok(line) = log.try_recv() {
        control_log(client, stream, &line, level).await?;
    }
    Ok(outcome)
}

async fn control_log(
    client: &Client,
    stream: &mut UnixStream,
    line: &LogLine,
    level: i64,
) -> io::Result<()> {
    if i64::from(line.level) > level {
        return Ok(());
    }
    client
        .write_event(stream, "control-log", sas::log(line))
        .await
}

/// `initiate`: `child` and/or `ike` name what to start; `timeout` in ms (0 waits as long as
/// it takes, a negative one answers at once); `loglevel` (default 1) filters the log.
pub(super) async fn initiate(
    client: &mut Client,
    stream: &mut UnixStream,
    request: &Message,
) -> io::Result<Message> {
    let child = request.str("child").map(str::to_owned);
    let ike = request.str("ike").map(str::to_owned);
    let timeout_ms = int(request, "timeout", 0);
    let level = int(request, "loglevel", 1);
    let (kind, name) = match (&child, &ike) {
        (Some(child), _) => ("CHILD_SA", child.clone()),
        (None, Some(ike)) => ("IKE_SA", ike.clone()),
        (None, None) => return Ok(query::failure("missing configuration name")),
    };
    let (tx, rx) = mpsc::channel(LOG_QUEUE);
    let Some(done) = client.control.initiate(ike, child, tx).await else {
        return Ok(query::failure("the daemon is shutting down"));
    };
    if timeout_ms < 0 {
        return Ok(success(true));
    }
    Ok(
        match follow(client, stream, rx, done, level, timeout_ms).await? {
            Some(Ok(Ok(()))) => success(true),
            Some(Ok(Err(why))) => query::failure(&why),
            Some(Err(_)) => query::failure("the daemon is shutting down"),
            None => query::failure(&format!(
                "{kind} '{name}' not established after {timeout_ms}ms"
            )),
        },
    )
}

/// `terminate`: `ike` or `ike-id` name the IKE SAs to close; `timeout` and `loglevel` as for
/// `initiate`. Answers `matches` and `terminated`.
pub(super) async fn terminate(
    client: &mut Client,
    stream: &mut UnixStream,
    request: &Message,
) -> io::Result<Message> {
    let timeout_ms = int(request, "timeout", 0);
    let level = int(request, "loglevel", 1);
    let (tx, rx) = mpsc::channel(LOG_QUEUE);
    let Some(done) = client.control.terminate(selector(request), tx).await else {
        return Ok(query::failure("the daemon is shutting down"));
    };
    let answer = |matches: u32, terminated: u32, errmsg: Option<String>| {
        let mut m = success(errmsg.is_none())
            .with_value("matches", matches.to_string())
            .with_value("terminated", terminated.to_string());
        if let Some(errmsg) = errmsg {
            m = m.with_value("errmsg", errmsg);
        }
        m
    };
    if timeout_ms < 0 {
        return Ok(success(true));
    }
    Ok(
        match follow(client, stream, rx, done, level, timeout_ms).await? {
            Some(Ok(Ok(matches))) => answer(matches, matches, None),
            Some(Ok(Err(why))) => answer(0, 0, Some(why)),
            Some(Err(_)) => query::failure("the daemon is shutting down"),
            None => answer(
                0,
                0,
                Some(format!(
                    "terminating SA failed: not done after {timeout_ms}ms"
                )),
            ),
        },
    )
}

/// `rekey`: `child`/`child-id` select Child SAs, else `ike`/`ike-id` IKE SAs; answers how many
/// matched, and rekeys them in the background.
pub(super) async fn rekey(client: &mut Client, request: &Message) -> Message {
    let reauth = query::boolean(request, "reauth");
    match client.control.rekey(selector(request), reauth).await {
        Some(Ok(matches)) => success(true).with_value("matches", matches.to_string()),
        Some(Err(why)) => success(false)
            .with_value("matches", "0")
            .with_value("errmsg", why),
        None => query::failure("the daemon is shutting down"),
    }
}

/// `install` / `uninstall`: the trap policies of `child` (in `ike`, if given).
pub(super) async fn trap(client: &mut Client, request: &Message, install: bool) -> Message {
    match client.control.trap(selector(request), install).await {
        Some(Ok(())) => success(true),
        Some(Err(why)) => success(false).with_value("errmsg", why),
        None => query::failure("the daemon is shutting down"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_read_as_strongswan_reads_them() {
        let request = Message::new()
            .with_value("ike", "gw")
            .with_value("ike-id", "7")
            .with_value("child-id", "x");
        assert_eq!(
            selector(&request),
            Selector {
                ike: Some("gw".into()),
                ike_id: Some(7),
                child: None,
                child_id: None,
            }
        );
        assert_eq!(int(&request, "timeout", 0), 0);
        assert_eq!(
            int(&Message::new().with_value("timeout", "-1"), "timeout", 0),
            -1
        );
    }
}
