//! The one session pool: a few read-only sessions on one environment, and a queue of work
//! they share — each session takes the next item as soon as it is free, so one slow table or
//! query never holds up the rest. The profile reads tables through it, the planner plans
//! queries through it.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio_postgres::Client;

use super::{CaptureOptions, Target};
use crate::error::{Error, Result};

pub struct Sessions {
    clients: Vec<Client>,
}

impl Sessions {
    /// Opens up to `n` (at least one) read-only sessions on `target` with `opts`'s timeouts,
    /// each then running `setup` (more `SET`s; may be empty). The first session's failure is
    /// the error; a later one (a connection limit) leaves fewer sessions.
    pub async fn open(
        target: &Target,
        opts: &CaptureOptions,
        n: usize,
        setup: &str,
    ) -> Result<Sessions> {
        let mut clients = Vec::new();
        for _ in 0..n.max(1) {
            match open_one(target, opts, setup).await {
                Ok(c) => clients.push(c),
                Err(e) if clients.is_empty() => return Err(e),
                Err(_) => break,
            }
        }
        Ok(Sessions { clients })
    }

    /// The sessions, for work that holds each on its own.
    pub fn into_clients(self) -> Vec<Client> {
        self.clients
    }

    /// One session, for work that needs no more.
    pub fn first(&self) -> &Client {
        &self.clients[0]
    }

    /// Runs `work` on every item, the sessions sharing the queue; results in the items' order.
    pub async fn run<'a, T: Sync, R, F, Fut>(&'a self, items: &'a [T], work: F) -> Vec<R>
    where
        F: Fn(&'a Client, &'a T) -> Fut,
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

async fn open_one(target: &Target, opts: &CaptureOptions, setup: &str) -> Result<Client> {
    let client = super::connect(target).await?;
    super::read_only_session(&client, &target.name, opts).await?;
    if !setup.is_empty() {
        client
            .batch_execute(setup)
            .await
            .map_err(|e| Error::database(&target.name, super::db_message(&e), &e))?;
    }
    Ok(client)
}
