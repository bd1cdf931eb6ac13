//! integration-cli as a library: the binary in `main.rs` wires these modules to the real
//! world; tests wire them to fakes (see `flow::Deps`).

pub mod approvals;
pub mod assertion;
pub mod browser;
pub mod callback;
pub mod clock;
pub mod commands;
pub mod config;
pub mod credentials;
pub mod demo;
pub mod discover;
pub mod error;
pub mod exec;
pub mod flow;
pub mod host;
pub mod html;
pub mod http;
pub mod init;
pub mod lifetime;
pub mod loopback;
pub mod project;
pub mod providers;
pub mod proxy;
pub mod recovery;
pub mod redact;
pub mod report;
pub mod sandbox;
pub mod secret;
pub mod server;
pub mod signals;
pub mod status;
pub mod template;
pub mod token;
pub mod transport;
pub mod tunnel;
pub mod ui;
