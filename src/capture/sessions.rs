//! The one session pool: a few read-only sessions on one environment, and a queue of work
//! they share — each session takes the next item as soon as it is free, so one slow table or
//! query never holds up the rest. The profile reads tables through it, the planner plans
//! queries through it.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio_postgres::Client;

use super::{CaptureOptions, Target};
use crate::error::Result;

/// A read-only session that sets nothing for the session: each unit of work is a transaction
/// of its own, begun with the timeouts and settings it needs as `SET LOCAL`. Through a
/// transaction pooler (PgBouncer's `pool_mode = transaction`), which may give every transaction
/// another server connection, no setting of this tool reaches another client's transaction and
/// none of its own is missing from the connection a transaction gets.
pub struct Session {
    client: Client,
    watch: super::wire::Watch,
    opts: CaptureOptions,
    local: String,
    begin: String,
}

impl std::ops::Deref for Session {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl Session {
    /// Connects to `target`; `local` is more `SET LOCAL`s for every transaction (may be empty).
    pub async fn open(target: &Target, opts: &CaptureOptions, local: &str) -> Result<Session> {
        let super::wire::Connected { client, watch, .. } =
            super::wire::connect(target, super::APPLICATION_NAME).await?;
        Ok(Session {
            client,
            watch,
            opts: opts.clone(),
            local: local.to_string(),
            begin: opts.begin(local, None),
        })
    }

    /// Arms the session's watch for one statement's reply (its timeout plus a margin): a
    /// server that stops answering ends the session instead of holding the run.
    pub fn wait(&self) -> super::wire::Waiting {
        self.watch.arm(
            super::wire::reply_deadline(self.opts.statement_timeout),
            &format!(
                "a statement ran (statement_timeout {} s)",
                self.opts.statement_timeout.as_secs_f64()
            ),
        )
    }

    /// The statements that begin one of this session's transactions.
    pub fn begin_sql(&self) -> &str {
        &self.begin
    }

    /// Begins a transaction in the snapshot another session exported.
    pub async fn begin_in_snapshot(
        &self,
        id: &str,
    ) -> std::result::Result<(), tokio_postgres::Error> {
        self.client
            .batch_execute(&self.opts.begin(&self.local, Some(id)))
            .await
    }

    /// Runs `work` in a read-only transaction of its own, committed after it (rolled back after
    /// an error). The BEGIN goes out with the work's first statement, in one round trip.
    pub async fn transaction<'a, T, E, Fut>(
        &'a self,
        work: impl FnOnce(&'a Client) -> Fut,
    ) -> std::result::Result<T, E>
    where
        Fut: Future<Output = std::result::Result<T, E>> + 'a,
        E: From<tokio_postgres::Error>,
    {
        let _waiting = self.wait();
        let (begun, out) = tokio::join!(self.client.batch_execute(&self.begin), work(&self.client));
        match (begun, out) {
            (Err(e), _) => {
                let _ = self.client.batch_execute("ROLLBACK").await;
                Err(e.into())
            }
            (Ok(()), Ok(v)) => {
                self.client.batch_execute("COMMIT").await?;
                Ok(v)
            }
            (Ok(()), Err(e)) => {
                let _ = self.client.batch_execute("ROLLBACK").await;
                Err(e)
            }
        }
    }
}

pub struct Sessions {
    clients: Vec<Session>,
}

impl Sessions {
    /// Opens up to `n` (at least one) read-only sessions on `target` with `opts`'s timeouts,
    /// each transaction of each also running `local` (more `SET LOCAL`s; may be empty). The first session's failure is
    /// the error; a later one (a connection limit) leaves fewer sessions.
    pub async fn open(
        target: &Target,
        opts: &CaptureOptions,
        n: usize,
        local: &str,
    ) -> Result<Sessions> {
        let mut clients = Vec::new();
        for _ in 0..n.max(1) {
            match Session::open(target, opts, local).await {
                Ok(c) => clients.push(c),
                Err(e) if clients.is_empty() => return Err(e),
                Err(_) => break,
            }
        }
        Ok(Sessions { clients })
    }

    /// The sessions, for work that holds each on its own.
    pub fn into_sessions(self) -> Vec<Session> {
        self.clients
    }

    /// One session, for work that needs no more.
    pub fn first(&self) -> &Session {
        &self.clients[0]
    }

    /// Runs `work` on every item, the sessions sharing the queue; results in the items' order.
    pub async fn run<'a, T: Sync, R, F, Fut>(&'a self, items: &'a [T], work: F) -> Vec<R>
    where
        F: Fn(&'a Session, &'a T) -> Fut,
        Fut: Future<Output = R> + 'a,
    {
        let next = AtomicUsize::new(0);
        let lanes = self.clients.iter().map(|client| {
            let (next, work) = (&next, &work);
            async move {
                let mut out = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    out.push((i, work(client, item).await));
                }
                out
            }
        });
        let mut all: Vec<(usize, R)> = futures_util::future::join_all(lanes)
            .await
            .into_iter()
            .flatten()
            .collect();
        all.sort_by_key(|(i, _)| *i);
        all.into_iter().map(|(_, r)| r).collect()
    }
}
