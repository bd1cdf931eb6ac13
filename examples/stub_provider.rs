//! The test suite's stub OAuth 2.0 provider as a program, for `scripts/demo.sh`: it lets a
//! newcomer watch a real login and refresh with no account anywhere. It approves every
//! login at once (no consent page).
//!
//!   stub_provider serve         print the provider's URL, serve until stdin closes
//!   stub_provider browse URL    play the browser: follow URL's redirects, print the page title

#[path = "../tests/support/stub.rs"]
#[allow(dead_code)]
mod stub;

use std::io::Read;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("serve") => {
            let provider = stub::Stub::start(stub::Behaviour::default());
            println!("{}", provider.url);
            // Runs until whoever started us closes our stdin (or kills us).
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
        }
        Some("browse") if args.len() == 2 => {
            let page = reqwest::blocking::get(&args[1])
                .and_then(|r| r.text())
                .unwrap_or_else(|e| format!("<title>browse failed: {e}</title>"));
            let title = page
                .split_once("<title>")
                .and_then(|(_, rest)| rest.split_once("</title>"))
                .map_or("(no title)", |(t, _)| t);
            eprintln!("[browser] the callback page says: {title}");
        }
        _ => {
            eprintln!("usage: stub_provider serve | stub_provider browse URL");
            std::process::exit(2);
        }
    }
}
