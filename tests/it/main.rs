//! The one integration test binary: real PostgreSQL clusters of two major versions (15 and 17),
//! started once per run and shared; each test works in databases of its own.

mod action;
mod bad_input;
mod catalog;
mod cli;
mod compare_live;
mod data;
mod edges;
mod fleet;
mod hardstop;
mod install;
mod plans;
mod pooler;
mod reach;
mod rehearse;
mod reports;
mod schedule;
mod seed;
mod session;
mod support;
mod tls;
mod zoo;
