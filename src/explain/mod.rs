//! Plans, in one room: the corpus (`.sql` files read with sqlparser, [`corpus`], or the top of
//! pg_stat_statements, [`workload`]), EXPLAIN through a bounded pool of read-only sessions
//! ([`pool`]), and the replay of a corpus on live sides with counterfactual re-plans and
//! steering ([`replay`]). The plan tree a snapshot holds is [`crate::snapshot::plan`]; the
//! comparison of two plans is [`crate::compare::plan`].

pub mod corpus;
pub mod pool;
pub mod replay;
pub mod timed;
pub mod transplant;
pub mod workload;

pub use corpus::Query;
pub use pool::{explain_all, open_session, replan, steering, PlanOptions, WritePolicy};
