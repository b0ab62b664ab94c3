//! The statistics transplant: production's planner statistics (relation sizes, pg_stats)
//! restored into the new major's cluster, so both plan as production would.

use super::*;

/// Copies the old side's planner statistics into the new side (PostgreSQL 18's
/// `pg_restore_relation_stats` and `pg_restore_attribute_stats`, what pg_dump --statistics
/// emits): relation sizes, then every column's pg_stats. Returns (relations, columns) copied.
pub(super) async fn copy_statistics(old: &Target, new: &Target) -> Result<(usize, usize)> {
    let (a, b) = (
        crate::capture::connect(old).await?,
        crate::capture::connect(new).await?,
    );
    fn db(env: &str) -> impl Fn(tokio_postgres::Error) -> Error + '_ {
        move |e| Error::database(env, crate::capture::db_message(&e), &e)
    }
    let statements = crate::explain::transplant::statements(&a, None)
        .await
        .map_err(db(&old.name))?;
    for chunk in statements.chunks(200) {
        b.batch_execute(&chunk.join("; "))
            .await
            .map_err(db(&new.name))?;
    }
    let copied = crate::explain::transplant::relations_in(&statements);
    let attributes = statements.len() - copied;
    Ok((copied, attributes))
}
