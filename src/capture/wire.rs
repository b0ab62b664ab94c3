//! Reaching a server as libpq does, and never waiting on it forever.
//!
//! - Hosts of a multi-host string are tried in order (or shuffled with
//!   `load_balance_hosts=random`), each within `connect_timeout`, until one takes the session
//!   and has the `target_session_attrs` asked for (any, read-write, read-only, primary,
//!   standby, prefer-standby); the host reached is returned, for the snapshot and the reports.
//! - TCP keepalives are on by default (libpq's `keepalives*` and `tcp_user_timeout` honoured):
//!   a half-open connection or a dead pooler ends the session instead of holding it.
//! - Every socket is watched ([`Watch`]): while a caller waits for a reply it armed the watch
//!   for (the statement timeout plus a margin), a server, network or pooler that stops
//!   answering (a stopped backend, a proxy that swallows replies) ends the connection with an
//!   error naming the wait, so the run ends in one line instead of hanging.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::MakeTlsConnect;
use tokio_postgres::Client;

use super::Target;
use crate::conninfo::{Endpoint, ProcessEnv, Resolved, SessionAttrs};
use crate::error::{Error, Result};

/// What a connection gave: the client, the watch over its socket, the host it reached.
pub struct Connected {
    pub client: Client,
    pub watch: Watch,
    /// `user@host:port/dbname` of the host the session is on.
    pub reached: String,
}

/// How long a reply may take before the connection is given up: `statement_timeout` (the
/// server cancels by then and answers) plus a margin for the network and the client's own
/// pace.
pub fn reply_deadline(statement_timeout: Duration) -> Duration {
    statement_timeout + (statement_timeout / 4).max(Duration::from_secs(10))
}

/// Connects to `target`: libpq's defaults, each host in turn, TLS, keepalives.
pub async fn connect(target: &Target, application_name: &str) -> Result<Connected> {
    let r = target
        .conninfo
        .resolve(&ProcessEnv)
        .map_err(|m| Error::env(&target.name, m))?;
    let config = r.to_config(application_name);
    let tls = crate::tls::connector(&r).map_err(|m| Error::env(&target.name, m))?;
    let mut order: Vec<usize> = (0..r.endpoints.len()).collect();
    if r.load_balance {
        shuffle(&mut order);
    }
    let passes: &[SessionAttrs] = match r.target_session_attrs {
        SessionAttrs::PreferStandby => &[SessionAttrs::Standby, SessionAttrs::Any],
        other => &[other],
    };
    let timeout = r.connect_timeout.unwrap_or(Duration::from_secs(10));
    let mut failures: Vec<(String, String, Option<tokio_postgres::Error>)> = Vec::new();
    for (pass, want) in passes.iter().enumerate() {
        for &i in &order {
            let e = &r.endpoints[i];
            let at = r.describe_at(e);
            let watch = Watch::new(&target.name);
            let attempt = tokio::time::timeout(timeout, open(&r, e, &config, &tls, &watch));
            let client = match attempt.await {
                Err(_) => {
                    failures.push((
                        at,
                        format!("timed out after {} s (connect_timeout)", timeout.as_secs()),
                        None,
                    ));
                    continue;
                }
                Ok(Err(Opened::Io(m))) => {
                    failures.push((at, m, None));
                    continue;
                }
                Ok(Err(Opened::Pg(err))) => {
                    let m = super::connect_message(&r, &at, &err);
                    failures.push((at, m, Some(err)));
                    continue;
                }
                Ok(Ok(c)) => c,
            };
            match has(&client, *want).await {
                Ok(None) => {
                    return Ok(Connected {
                        client,
                        watch,
                        reached: at,
                    })
                }
                Ok(Some(is)) => {
                    // prefer-standby's first pass passes over primaries silently: the second
                    // takes any host.
                    if !(passes.len() > 1 && pass == 0) {
                        failures.push((at, is, None));
                    }
                }
                Err(err) => failures.push((
                    at,
                    format!("cannot tell its role: {}", super::db_message(&err)),
                    None,
                )),
            }
        }
    }
    Err(failed(target, &r, failures))
}

/// One error for every host that failed: a single host's message as it is, else each host
/// with its reason.
fn failed(
    target: &Target,
    r: &Resolved,
    mut failures: Vec<(String, String, Option<tokio_postgres::Error>)>,
) -> Error {
    let want = r.target_session_attrs;
    if failures.len() == 1 {
        let (at, m, err) = failures.pop().expect("one failure");
        let m = if m.starts_with("is ") {
            format!(
                "{at} {m}, not a session target_session_attrs={} accepts; hint: name the host that is, or change target_session_attrs",
                want.name()
            )
        } else {
            m
        };
        return match err {
            Some(e) => Error::database(&target.name, m, &e),
            None => Error::env(&target.name, m),
        };
    }
    let each: Vec<String> = failures
        .iter()
        .map(|(at, m, _)| {
            let m = m
                .strip_prefix(&format!("cannot connect to {at}: "))
                .unwrap_or(m);
            format!(
                "{at} {}",
                if m.starts_with("is ") {
                    m.to_string()
                } else {
                    format!("failed ({m})")
                }
            )
        })
        .collect();
    Error::env(
        &target.name,
        format!(
            "no host of {} took a session with target_session_attrs={}: {}",
            r.describe(),
            want.name(),
            each.join("; ")
        ),
    )
}

/// `None` when the session is what `want` asks for, else what it is instead (libpq asks
/// `transaction_read_only` for read-write/read-only and `pg_is_in_recovery()` for
/// primary/standby).
async fn has(
    client: &Client,
    want: SessionAttrs,
) -> std::result::Result<Option<String>, tokio_postgres::Error> {
    let ask = |sql: &'static str| async move {
        let rows = client.simple_query(sql).await?;
        Ok::<_, tokio_postgres::Error>(
            rows.iter().find_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => {
                    r.get(0).map(|v| v == "on" || v == "t")
                }
                _ => None,
            }) == Some(true),
        )
    };
    Ok(match want {
        SessionAttrs::Any | SessionAttrs::PreferStandby => None,
        SessionAttrs::ReadWrite => ask("SHOW transaction_read_only")
            .await?
            .then(|| "is read-only".to_string()),
        SessionAttrs::ReadOnly => {
            (!ask("SHOW transaction_read_only").await?).then(|| "is read-write".to_string())
        }
        SessionAttrs::Primary => ask("SELECT pg_is_in_recovery()")
            .await?
            .then(|| "is a standby".to_string()),
        SessionAttrs::Standby => {
            (!ask("SELECT pg_is_in_recovery()").await?).then(|| "is a primary".to_string())
        }
    })
}

enum Opened {
    Io(String),
    Pg(tokio_postgres::Error),
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Opens the socket to `e`, starts the session on it (TLS as the string says), and runs the
/// connection on the current runtime.
async fn open(
    r: &Resolved,
    e: &Endpoint,
    config: &tokio_postgres::Config,
    tls: &tokio_postgres_rustls::MakeRustlsConnect,
    watch: &Watch,
) -> std::result::Result<Client, Opened> {
    let at = r.describe_at(e);
    let stream: Box<dyn Io> = if e.is_socket() {
        let dir = e.host.as_deref().unwrap_or("/tmp");
        let path = format!("{dir}/.s.PGSQL.{}", e.port);
        let s = if let Some(name) = path.strip_prefix('@') {
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
                .map_err(|err| Opened::Io(format!("cannot connect to {at}: {err}")))?;
            let s = std::os::unix::net::UnixStream::connect_addr(&addr)
                .and_then(|s| s.set_nonblocking(true).map(|()| s))
                .map_err(|err| Opened::Io(io_failure(&at, &err)))?;
            tokio::net::UnixStream::from_std(s)
        } else {
            tokio::net::UnixStream::connect(&path).await
        }
        .map_err(|err| Opened::Io(io_failure(&at, &err)))?;
        Box::new(s)
    } else {
        let addrs: Vec<SocketAddr> = match (e.hostaddr, &e.host) {
            (Some(a), _) => vec![SocketAddr::new(a, e.port)],
            (None, Some(h)) => tokio::net::lookup_host((h.as_str(), e.port))
                .await
                .map_err(|err| {
                    Opened::Io(format!(
                        "cannot connect to {at}: cannot resolve host name '{h}': {err}; hint: check the host name and DNS"
                    ))
                })?
                .collect(),
            (None, None) => return Err(Opened::Io("no host given".into())),
        };
        let mut last = None;
        let mut tcp = None;
        for a in addrs {
            match tokio::net::TcpStream::connect(a).await {
                Ok(s) => {
                    tcp = Some(s);
                    break;
                }
                Err(err) => last = Some(err),
            }
        }
        let tcp = match (tcp, last) {
            (Some(s), _) => s,
            (None, Some(err)) => return Err(Opened::Io(io_failure(&at, &err))),
            (None, None) => {
                return Err(Opened::Io(format!(
                    "cannot connect to {at}: the host name has no address"
                )))
            }
        };
        let _ = tcp.set_nodelay(true);
        let sock = socket2::SockRef::from(&tcp);
        if let Some(k) = r.keepalive {
            let ka = socket2::TcpKeepalive::new()
                .with_time(k.idle)
                .with_interval(k.interval)
                .with_retries(k.count);
            let _ = sock.set_tcp_keepalive(&ka);
        }
        if let Some(t) = r.tcp_user_timeout {
            let _ = sock.set_tcp_user_timeout(Some(t));
        }
        Box::new(tcp)
    };
    // The name a certificate is checked against: the host's name, else its address.
    let name = match (&e.host, e.hostaddr) {
        (Some(h), _) if !e.is_socket() => h.clone(),
        (_, Some(a)) => a.to_string(),
        _ => "localhost".into(),
    };
    let mut tls = tls.clone();
    let connector = <tokio_postgres_rustls::MakeRustlsConnect as MakeTlsConnect<
        Watched<Box<dyn Io>>,
    >>::make_tls_connect(&mut tls, &name)
    .map_err(|err| Opened::Io(format!("cannot connect to {at}: {err}")))?;
    let (client, connection) = config
        .connect_raw(Watched::new(stream, watch.clone()), connector)
        .await
        .map_err(Opened::Pg)?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

fn io_failure(at: &str, err: &io::Error) -> String {
    let hint = match err.kind() {
        io::ErrorKind::ConnectionRefused | io::ErrorKind::NotFound => {
            "; hint: check that the server runs and the host and port are right"
        }
        io::ErrorKind::TimedOut => "; hint: check the host, the network and firewalls",
        _ => "",
    };
    format!(
        "cannot connect to {at}: {}{hint}",
        crate::error::io_message(err)
    )
}

/// A random order of the hosts (`load_balance_hosts=random`): it only spreads sessions, so
/// a seed from the clock and the process is enough.
fn shuffle(order: &mut [usize]) {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        ^ u64::from(std::process::id()).rotate_left(32);
    order.shuffle(&mut rand::rngs::ChaCha8Rng::seed_from_u64(seed));
}

/// The waits armed on one connection: while one is armed and its deadline has passed with no
/// byte from the server for the margin, the socket fails and so does every statement on it.
#[derive(Clone)]
pub struct Watch(Arc<Mutex<Armed>>);

/// The environments whose connection a watch gave up, and why: the statements on it fail
/// with "connection closed", the reason is told from here.
static GAVE_UP: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

/// Why a watch on `env`'s connections gave up, if one did.
pub fn gave_up(env: &str) -> Option<String> {
    GAVE_UP
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .find(|(e, _)| e == env)
        .map(|(_, why)| why.clone())
}

#[derive(Default)]
struct Armed {
    env: String,
    /// How many waits are armed, the latest deadline among them, what they wait for.
    count: usize,
    deadline: Option<Instant>,
    what: String,
    within: Duration,
    /// The last byte from the server.
    last_read: Option<Instant>,
    /// The connection's task, parked on the socket: woken when a wait is armed, so it sets
    /// its timer.
    waker: Option<std::task::Waker>,
}

/// An armed wait; disarmed when dropped.
pub struct Waiting {
    watch: Watch,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        let mut a = self.watch.0.lock().unwrap_or_else(|e| e.into_inner());
        a.count = a.count.saturating_sub(1);
        if a.count == 0 {
            a.deadline = None;
        }
    }
}

impl Watch {
    fn new(env: &str) -> Watch {
        Watch(Arc::new(Mutex::new(Armed {
            env: env.to_string(),
            ..Default::default()
        })))
    }

    /// Arms a wait for a reply within `within` (for `what`, named in the error).
    pub fn arm(&self, within: Duration, what: &str) -> Waiting {
        let mut a = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let deadline = Instant::now() + within;
        a.count += 1;
        if a.deadline.is_none_or(|d| d < deadline) {
            a.deadline = Some(deadline);
            a.within = within;
            a.what = what.to_string();
        }
        if let Some(w) = a.waker.take() {
            w.wake();
        }
        Waiting {
            watch: self.clone(),
        }
    }

    fn park(&self, waker: &std::task::Waker) {
        let mut a = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if !a.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
            a.waker = Some(waker.clone());
        }
    }

    /// When the socket gives up, if a wait is armed: its deadline, pushed back while bytes
    /// arrive (a reply on its way is not a server that stopped answering).
    fn due(&self) -> Option<Instant> {
        let a = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let quiet = (a.within / 4).max(Duration::from_secs(5));
        a.deadline
            .map(|d| a.last_read.map_or(d, |r| d.max(r + quiet)))
    }

    fn read(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).last_read = Some(Instant::now());
    }

    fn expired(&self) -> io::Error {
        let a = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let why = format!(
            "no reply in {} s while {}: the server, the network or a pooler in between stopped answering",
            a.within.as_secs(),
            a.what
        );
        let mut gave_up = GAVE_UP.lock().unwrap_or_else(|e| e.into_inner());
        if !gave_up.iter().any(|(e, _)| *e == a.env) {
            gave_up.push((a.env.clone(), why.clone()));
        }
        io::Error::new(io::ErrorKind::TimedOut, why)
    }
}

/// A socket under a [`Watch`].
struct Watched<S> {
    inner: S,
    watch: Watch,
    timer: Pin<Box<tokio::time::Sleep>>,
}

impl<S> Watched<S> {
    fn new(inner: S, watch: Watch) -> Self {
        Watched {
            inner,
            watch,
            timer: Box::pin(tokio::time::sleep(Duration::from_secs(0))),
        }
    }

    /// `Err` once an armed wait is due; else the timer is set to wake the connection then.
    fn check(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        self.watch.park(cx.waker());
        let Some(due) = self.watch.due() else {
            return Ok(());
        };
        let due = tokio::time::Instant::from_std(due);
        if tokio::time::Instant::now() >= due {
            return Err(self.watch.expired());
        }
        self.timer.as_mut().reset(due);
        if self.timer.as_mut().poll(cx).is_ready() {
            return Err(self.watch.expired());
        }
        Ok(())
    }
}

use std::future::Future as _;

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    self.watch.read();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => match self.check(cx) {
                Ok(()) => Poll::Pending,
                Err(e) => Poll::Ready(Err(e)),
            },
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write(cx, buf) {
            Poll::Pending => match self.check(cx) {
                Ok(()) => Poll::Pending,
                Err(e) => Poll::Ready(Err(e)),
            },
            ready => ready,
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.inner).poll_flush(cx) {
            Poll::Pending => match self.check(cx) {
                Ok(()) => Poll::Pending,
                Err(e) => Poll::Ready(Err(e)),
            },
            ready => ready,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
