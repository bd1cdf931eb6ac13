//! The guard both our servers (the callback server, the sandbox) put before every route: a
//! request must be addressed, by `Host` (and by an absolute-form target, if it has one), to
//! one of the server's own names. A page on another site whose name now resolves to
//! 127.0.0.1 (DNS rebinding) is addressed to that site's name, and is turned away.

use axum::extract::Request;
use axum::http::header;

/// Whether `request` is addressed to one of `hosts` (lower-case `name:port` or `name`).
pub fn addressed_to(hosts: &[String], request: &Request) -> bool {
    head_addressed_to(hosts, request.headers(), request.uri())
}

/// `addressed_to`, from a request's head alone (for servers with another body type).
pub fn head_addressed_to(
    hosts: &[String],
    headers: &axum::http::HeaderMap,
    uri: &axum::http::Uri,
) -> bool {
    let ours = |name: &str| {
        let name = name.to_ascii_lowercase();
        hosts.contains(&name)
    };
    let authority = uri.authority().map(|a| a.as_str());
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or(authority);
    host.is_some_and(ours) && authority.is_none_or(ours)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(target: &str, host: Option<&str>) -> Request {
        let mut r = Request::builder().uri(target);
        if let Some(h) = host {
            r = r.header(header::HOST, h);
        }
        r.body(axum::body::Body::empty()).unwrap()
    }

    #[test]
    fn only_requests_addressed_to_our_names_pass() {
        let hosts = ["127.0.0.1:9002".to_string(), "localhost:9002".to_string()];
        assert!(addressed_to(
            &hosts,
            &request("/callback", Some("127.0.0.1:9002"))
        ));
        assert!(addressed_to(
            &hosts,
            &request("/callback", Some("LOCALHOST:9002"))
        ));
        assert!(!addressed_to(
            &hosts,
            &request("/callback", Some("rebind.example:9002"))
        ));
        assert!(!addressed_to(
            &hosts,
            &request("/callback", Some("127.0.0.1"))
        ));
        assert!(!addressed_to(&hosts, &request("/callback", None)));
        assert!(!addressed_to(
            &hosts,
            &request(
                "http://rebind.example:9002/callback",
                Some("127.0.0.1:9002")
            )
        ));
    }
}
