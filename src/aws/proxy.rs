//! Why a call through a proxy failed. The HTTP client says only "tunnel error: unsuccessful"
//! (or that the connection was reset) when the proxy turns the request away; after such a
//! failure creds asks the proxy itself, once, what it answers to the same `CONNECT`, and names
//! the proxy, the variable it came from, and its status (407: credentials wanted; 401 or 403:
//! the ones given were refused).

use std::io::{Read, Write};
use std::time::Duration;

/// The variables the HTTP client reads a proxy from, per scheme, in its order (upper case
/// first): the one list `proxy_for` and `crate::settings::proxies` read.
pub const VARIABLES: &[(&str, &[&str])] = &[
    ("https", &["HTTPS_PROXY", "https_proxy"]),
    ("http", &["HTTP_PROXY", "http_proxy"]),
    ("any", &["ALL_PROXY", "all_proxy"]),
];

/// The variables that take hosts out of the proxies, upper case first.
pub const NO_PROXY: &[&str] = &["NO_PROXY", "no_proxy"];

/// The proxy the HTTP client used for `endpoint`, as the environment names it: the variable
/// and its value. The same variables and order as the client's (`HTTPS_PROXY` for https,
/// `HTTP_PROXY` for http, then `ALL_PROXY`; upper case first; `NO_PROXY` takes hosts out).
pub fn proxy_for(
    endpoint: &str,
    get: &dyn Fn(&str) -> Option<String>,
) -> Option<(&'static str, String)> {
    let (scheme, rest) = endpoint.split_once("://")?;
    let host = host_of(rest);
    let no_proxy = NO_PROXY.iter().find_map(|n| get(n)).unwrap_or_default();
    let excluded = no_proxy.split(',').map(str::trim).any(|n| {
        !n.is_empty()
            && (n == "*"
                || n.trim_start_matches('.') == host
                || host.ends_with(&format!(".{}", n.trim_start_matches('.'))))
    });
    if excluded {
        return None;
    }
    let wanted = if scheme == "https" { "https" } else { "http" };
    VARIABLES
        .iter()
        .filter(|(s, _)| *s == wanted || *s == "any")
        .flat_map(|(_, names)| names.iter())
        .find_map(|n| get(n).filter(|v| !v.is_empty()).map(|v| (*n, v)))
}

/// `host` of `host:port/path` (brackets of an IPv6 address kept).
fn host_of(rest: &str) -> &str {
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    }
}

/// `host:port` of an endpoint URL (the scheme's port when none is given).
fn target_of(endpoint: &str) -> Option<String> {
    let (scheme, rest) = endpoint.split_once("://")?;
    let authority = rest.split(['/', '?']).next()?;
    let has_port = match authority.rfind(']') {
        Some(end) => authority.get(end..).is_some_and(|t| t.contains(':')),
        None => authority.contains(':'),
    };
    Some(match has_port {
        true => authority.to_string(),
        false => format!("{authority}:{}", if scheme == "https" { 443 } else { 80 }),
    })
}

/// The proxy URL with its password hidden.
pub fn shown(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let user = url
                .get(scheme.saturating_add(3)..at)
                .unwrap_or_default()
                .split(':')
                .next()
                .unwrap_or_default();
            format!(
                "{}{user}:***{}",
                url.get(..scheme.saturating_add(3)).unwrap_or_default(),
                url.get(at..).unwrap_or_default()
            )
        }
        _ => url.to_string(),
    }
}

/// The `CONNECT` request for `target` through `proxy` (a URL, perhaps with `user:password@`),
/// and the proxy's `host:port`.
pub fn connect_request(proxy: &str, target: &str) -> Option<(String, Vec<u8>)> {
    let rest = proxy.split_once("://").map_or(proxy, |(_, r)| r);
    let authority = rest.split('/').next()?;
    let (userinfo, address) = match authority.rsplit_once('@') {
        Some((u, a)) => (Some(u), a),
        None => (None, authority),
    };
    let address = match address.contains(':') {
        true => address.to_string(),
        false => format!("{address}:80"),
    };
    let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some(userinfo) = userinfo {
        let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
        let decoded = format!(
            "{}:{}",
            crate::wire::percent_decode(user),
            crate::wire::percent_decode(password)
        );
        request.push_str(&format!(
            "Proxy-Authorization: Basic {}\r\n",
            aws_smithy_types::base64::encode(decoded.as_bytes())
        ));
    }
    request.push_str("\r\n");
    Some((address, request.into_bytes()))
}

/// What a proxy's status line `status` says, for the error: `None` when it let the request
/// through (2xx).
pub fn refusal(
    status: u16,
    reason: &str,
    variable: &str,
    proxy: &str,
    has_credentials: bool,
) -> Option<String> {
    let who = format!("the proxy {} (from {variable})", shown(proxy));
    let reason = reason.trim();
    match status {
        200..=299 => None,
        407 if !has_credentials => Some(format!(
            "{who} asks for credentials (HTTP 407 {reason}); put them in {variable} (http://USER:PASSWORD@HOST:PORT)"
        )),
        401 | 403 | 407 if has_credentials => Some(format!(
            "{who} refused the credentials in {variable} (HTTP {status} {reason}); check the user and password there"
        )),
        _ => Some(format!(
            "{who} refused the connection (HTTP {status} {reason}); check {variable}, and that the proxy lets you reach AWS"
        )),
    }
}

/// Asks the proxy that `endpoint`'s call went through what it answers to that `CONNECT`; the
/// reason it refused, if it did. At most 3 s; `None` when there is no proxy or it cannot be
/// asked.
#[allow(clippy::disallowed_methods)] // the variables the HTTP client itself read, and its proxy
pub fn why_refused(endpoint: &str) -> Option<String> {
    let get = |name: &str| std::env::var(name).ok();
    let (variable, proxy) = proxy_for(endpoint, &get)?;
    let target = target_of(endpoint)?;
    let (address, request) = connect_request(&proxy, &target)?;
    let has_credentials = proxy
        .split_once("://")
        .map_or(proxy.as_str(), |(_, r)| r)
        .contains('@');
    let addr = std::net::ToSocketAddrs::to_socket_addrs(&address)
        .ok()?
        .next()?;
    let mut stream = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(3)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    stream
        .set_write_timeout(Some(Duration::from_secs(3)))
        .ok()?;
    stream.write_all(&request).ok()?;
    let mut head = [0u8; 512];
    let n = stream.read(&mut head).ok()?;
    let line = String::from_utf8_lossy(head.get(..n)?)
        .lines()
        .next()?
        .to_string();
    let mut words = line.splitn(3, ' ');
    let _version = words.next()?;
    let status: u16 = words.next()?.parse().ok()?;
    refusal(
        status,
        words.next().unwrap_or(""),
        variable,
        &proxy,
        has_credentials,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn the_proxy_the_client_used() {
        let env = vars(&[
            ("HTTPS_PROXY", "http://u:p@proxy:3128"),
            ("http_proxy", "http://plain:8080"),
            ("NO_PROXY", "internal.example, .corp"),
        ]);
        assert_eq!(
            proxy_for("https://sts.us-east-1.amazonaws.com", &env),
            Some(("HTTPS_PROXY", "http://u:p@proxy:3128".into()))
        );
        assert_eq!(
            proxy_for("http://127.0.0.1:5000/", &env),
            Some(("http_proxy", "http://plain:8080".into()))
        );
        assert_eq!(proxy_for("https://internal.example/x", &env), None);
        assert_eq!(proxy_for("https://sts.corp", &env), None);
        assert_eq!(proxy_for("https://a.b.corp:8443", &env), None);
        let all = vars(&[("ALL_PROXY", "http://all:1")]);
        assert_eq!(
            proxy_for("https://x", &all),
            Some(("ALL_PROXY", "http://all:1".into()))
        );
        assert_eq!(proxy_for("https://x", &vars(&[])), None);
    }

    #[test]
    fn the_connect_request_carries_the_credentials() {
        let (address, request) = connect_request(
            "http://user:s%40cret@127.0.0.1:3128",
            "sts.amazonaws.com:443",
        )
        .unwrap();
        assert_eq!(address, "127.0.0.1:3128");
        assert_eq!(
            String::from_utf8(request).unwrap(),
            "CONNECT sts.amazonaws.com:443 HTTP/1.1\r\nHost: sts.amazonaws.com:443\r\nProxy-Authorization: Basic dXNlcjpzQGNyZXQ=\r\n\r\n"
        );
        let (_, request) = connect_request("proxy", "h:443").unwrap();
        assert!(!String::from_utf8(request)
            .unwrap()
            .contains("Authorization"));
        assert_eq!(
            target_of("https://sts.amazonaws.com/x").unwrap(),
            "sts.amazonaws.com:443"
        );
        assert_eq!(
            target_of("http://127.0.0.1:5000").unwrap(),
            "127.0.0.1:5000"
        );
        assert_eq!(target_of("https://[::1]").unwrap(), "[::1]:443");
    }

    #[test]
    fn what_the_proxy_said() {
        let proxy = "http://user:wrong@127.0.0.1:3128";
        assert_eq!(
            refusal(401, "Unauthorized", "HTTPS_PROXY", proxy, true).unwrap(),
            "the proxy http://user:***@127.0.0.1:3128 (from HTTPS_PROXY) refused the credentials in HTTPS_PROXY (HTTP 401 Unauthorized); check the user and password there"
        );
        assert!(refusal(
            407,
            "Proxy Authentication Required",
            "HTTPS_PROXY",
            proxy,
            true
        )
        .unwrap()
        .contains("refused the credentials in HTTPS_PROXY (HTTP 407"));
        assert!(refusal(
            407,
            "Proxy Authentication Required",
            "http_proxy",
            "http://p:1",
            false
        )
        .unwrap()
        .contains("(from http_proxy) asks for credentials (HTTP 407"));
        assert!(
            refusal(403, "Forbidden", "HTTPS_PROXY", "http://p:1", false)
                .unwrap()
                .contains("refused the connection (HTTP 403 Forbidden)")
        );
        assert_eq!(
            refusal(200, "Connection established", "HTTPS_PROXY", proxy, true),
            None
        );
        assert!(!refusal(401, "x", "HTTPS_PROXY", proxy, true)
            .unwrap()
            .contains("wrong"));
    }
}
