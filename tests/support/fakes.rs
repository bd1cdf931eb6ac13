//! Fakes for the flow's traits: a fixed clock, a terminal that records (and can play the
//! user), a browser that follows the login URL with plain HTTP, no tunnel, and a token
//! endpoint that answers from a script without a socket.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use integration_cli::browser::Browser;
use integration_cli::clock::Clock;
use integration_cli::error::Result;
use integration_cli::flow::{self, Deps, Options};
use integration_cli::report;
use integration_cli::transport::{Answer, Failure, Request, Sending, Transport, Transports};
use integration_cli::tunnel::{BoxFuture, OpenTunnel, Tunnel};
use integration_cli::ui::{Terminal, Waiting};
use url::Url;

use super::{Project, browse};

/// For flows that must not open a tunnel.
pub struct NoTunnel;
impl Tunnel for NoTunnel {
    fn open<'a>(
        &'a self,
        _: &'a Url,
        _: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Box<dyn OpenTunnel>>> {
        panic!("this flow must not open a tunnel")
    }
}

/// A token endpoint in memory: each request gets the next scripted answer (or failure),
/// and is kept for the test to read. A body past the limit asked for is refused, as the
/// real transport refuses it.
#[derive(Default)]
pub struct FakeTransport {
    pub script: Mutex<std::collections::VecDeque<std::result::Result<Answer, Failure>>>,
    pub sent: Mutex<Vec<Request>>,
    /// The endpoints a transport was made for, with the timeout each was given.
    pub made_for: Mutex<Vec<(String, Duration)>>,
    /// What `ready` says instead of yes: a network setting that cannot be used.
    pub not_ready: Mutex<Option<integration_cli::error::Error>>,
}

impl FakeTransport {
    /// A transport that answers each request with the next of `script`.
    pub fn answering(script: Vec<std::result::Result<Answer, Failure>>) -> Self {
        FakeTransport {
            script: Mutex::new(script.into()),
            ..FakeTransport::default()
        }
    }

    /// The `i`th request's body, read as a form.
    pub fn form(&self, i: usize) -> Vec<(String, String)> {
        url::form_urlencoded::parse(&self.sent.lock().unwrap()[i].body)
            .into_owned()
            .collect()
    }

    /// The `i`th request's header `name`, as text.
    pub fn header(&self, i: usize, name: &str) -> Option<String> {
        let sent = self.sent.lock().unwrap();
        let value = sent[i].headers.get(name)?;
        Some(value.to_str().unwrap().to_string())
    }
}

/// An answer with `content_type` and `body`.
pub fn answer(status: u16, content_type: &str, body: &str) -> Answer {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("content-type", content_type.parse().unwrap());
    Answer {
        status,
        headers,
        body: body.as_bytes().to_vec(),
    }
}

impl Transport for FakeTransport {
    fn ready(&self) -> Result<()> {
        match self.not_ready.lock().unwrap().take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn send(&self, request: Request, limit: usize) -> Sending<'_> {
        self.sent.lock().unwrap().push(request);
        let next = self.script.lock().unwrap().pop_front();
        let next = next.expect("a request the script has no answer for");
        Box::pin(async move {
            match next {
                Ok(answer) if answer.body.len() > limit => Err(Failure::TooLarge),
                other => other,
            }
        })
    }
}

impl Transports for FakeTransport {
    fn for_endpoint(&self, url: &str, timeout: Duration) -> Box<dyn Transport + '_> {
        self.made_for.lock().unwrap().push((url.into(), timeout));
        Box::new(self)
    }
}

pub struct FixedClock(pub SystemTime);
impl Clock for FixedClock {
    fn now(&self) -> SystemTime {
        self.0
    }
}

/// Plays the person at the terminal; when `drive` is set it also opens any login URL it is
/// shown, as a user on SSH would by copying it.
#[derive(Default)]
pub struct FakeTerminal {
    pub interactive: bool,
    pub choice: usize,
    pub drive: bool,
    pub prompts: Mutex<Vec<(String, Vec<String>)>>,
    pub said: Mutex<Vec<String>>,
    pub results: Mutex<Vec<String>>,
    /// What the user types at `input` prompts, in order; Enter (the default) when empty.
    pub answers: Mutex<std::collections::VecDeque<String>>,
    /// Plays the user on another machine: when shown the login URL, follows it in a
    /// "browser" that cannot reach the callback, and pastes the address it was sent to.
    pub paste_back: bool,
    /// Before the right address, paste one from another login (a forged state).
    pub paste_wrong_first: bool,
    /// The last login URL shown.
    pub login_url: Mutex<Option<String>>,
}

impl Terminal for FakeTerminal {
    fn interactive(&self) -> bool {
        self.interactive
    }
    fn choose(&self, prompt: &str, items: &[String]) -> Result<usize> {
        self.prompts
            .lock()
            .unwrap()
            .push((prompt.into(), items.to_vec()));
        Ok(self.choice)
    }
    fn input(&self, prompt: &str, default: Option<&str>) -> Result<String> {
        let answer = self.answers.lock().unwrap().pop_front();
        self.prompts.lock().unwrap().push((
            prompt.into(),
            default.into_iter().map(str::to_string).collect(),
        ));
        // Enter on an empty line takes the default, as dialoguer does.
        Ok(answer
            .filter(|a| !a.is_empty())
            .unwrap_or_else(|| default.unwrap_or_default().to_string()))
    }
    fn paste_lines(&self, forced: bool) -> Option<integration_cli::ui::PasteLines> {
        if !forced && !self.interactive {
            return None;
        }
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let paste_wrong_first = self.paste_wrong_first;
        if self.paste_back
            && let Some(url) = self.login_url.lock().unwrap().clone()
        {
            std::thread::spawn(move || {
                let address = reqwest::blocking::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .unwrap()
                    .get(&url)
                    .send()
                    .unwrap()
                    .headers()["location"]
                    .to_str()
                    .unwrap()
                    .to_string();
                if paste_wrong_first {
                    let state = url::Url::parse(&address)
                        .unwrap()
                        .query_pairs()
                        .find(|(k, _)| k == "state")
                        .map(|(_, v)| v.into_owned())
                        .unwrap();
                    let _ = tx.send(Ok(address.replace(&state, "fake-state-of-another-login")));
                }
                let _ = tx.send(Ok(address));
            });
        } else {
            // Kept open: a user who pastes nothing.
            std::mem::forget(tx);
        }
        Some(rx)
    }
    fn needed(&self, message: &str) {
        if let Some(url) = message
            .split_whitespace()
            .find(|w| w.starts_with("http") && w.contains("/authorize?"))
        {
            *self.login_url.lock().unwrap() = Some(url.to_string());
        }
        self.say(message);
    }
    fn say(&self, message: &str) {
        if self.drive
            && let Some(url) = message
                .split_whitespace()
                .find(|w| w.starts_with("http") && w.contains("/authorize?"))
        {
            let url = url.to_string();
            std::thread::spawn(move || browse(&url));
        }
        self.said.lock().unwrap().push(message.into());
    }
    fn warn(&self, message: &str) {
        self.said
            .lock()
            .unwrap()
            .push(format!("warning: {message}"));
    }
    fn result(&self, message: &str) {
        self.results.lock().unwrap().push(message.into());
    }
    fn waiting(&self, message: &str) -> Box<dyn Waiting> {
        self.said.lock().unwrap().push(message.into());
        struct Nothing;
        impl Waiting for Nothing {}
        Box::new(Nothing)
    }
}

pub struct FakeBrowser {
    pub works: bool,
}
impl Browser for FakeBrowser {
    fn open(&self, url: &str) -> std::result::Result<(), String> {
        if !self.works {
            return Err("no display".into());
        }
        let url = url.to_string();
        std::thread::spawn(move || browse(&url));
        Ok(())
    }
}

pub fn options(project: &Project) -> Options {
    Options {
        config: project.path.clone(),
        port: Some((0, "--port")),
        callback_timeout: Duration::from_secs(30),
        token_timeout: Duration::from_secs(10),
        ..Options::default()
    }
}

/// The flow's world made of fakes (borrowed, so the test reads them afterwards), with no
/// environment.
pub fn deps<'a>(
    terminal: &'a FakeTerminal,
    browser: &'a dyn Browser,
    tunnel: &'a dyn Tunnel,
    now: SystemTime,
) -> Deps<'a> {
    Deps {
        browser: Box::new(browser),
        clock: Box::new(FixedClock(now)),
        terminal: Box::new(terminal),
        env: Box::new(|_: &str| None),
        critical: flow::Critical::default(),
        tunnel: Box::new(tunnel),
        transports: Box::new(integration_cli::transport::Networks),
    }
}

pub fn run(
    opts: &Options,
    terminal: &FakeTerminal,
    browser: &FakeBrowser,
    now: SystemTime,
) -> Result<()> {
    run_with(opts, terminal, browser, &NoTunnel, now)
}

/// `run`, with a tunnel.
pub fn run_with(
    opts: &Options,
    terminal: &FakeTerminal,
    browser: &dyn Browser,
    tunnel: &dyn Tunnel,
    now: SystemTime,
) -> Result<()> {
    let deps = deps(terminal, browser, tunnel, now);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(flow::oauth2(opts, &deps))
        .map(|outcome| {
            let said = report::outcome::render(&outcome, opts.json, now);
            terminal.result(&said);
        })
}
