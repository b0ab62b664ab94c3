//! Tests that need no PostgreSQL: the comparers as tables of cases on built snapshots, and
//! every report format rendered from one fixture report and compared with its recorded text
//! (insta; `cargo insta review` or `INSTA_UPDATE=always` to accept a deliberate change).

mod builder;
mod comparers;
mod fleet;
mod formats;
mod layers;
mod objects;
mod packaging;
mod props;
