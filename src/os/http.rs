//! The local HTTP listeners, both on 127.0.0.1 only: the sign-in redirect of the PKCE flow
//! ([`TcpRedirects`]) and the requests of `creds exec --server`'s credential endpoint
//! ([`answer_one`]). One request per connection, bounded in size and time, answered and closed;
//! the endpoint serves its connections concurrently, at most [`MAX_CONNECTIONS`] at once.

use crate::context::{Answer, RedirectListener, RedirectRequest, Redirects};
use std::io;
use std::time::{Duration, Instant};

/// A TCP listener on 127.0.0.1 that reads each request's first line.
pub struct TcpRedirects;

struct TcpRedirectListener {
    listener: std::net::TcpListener,
    port: u16,
}

impl Redirects for TcpRedirects {
    #[allow(clippy::disallowed_methods)] // the one place that opens a listening socket
    fn listen(&self) -> io::Result<Box<dyn RedirectListener>> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        Ok(Box::new(TcpRedirectListener { listener, port }))
    }
}

impl RedirectListener for TcpRedirectListener {
    fn port(&self) -> u16 {
        self.port
    }

    #[allow(clippy::disallowed_methods)] // polls a real socket in real time
    fn next(&mut self, wait: Duration) -> io::Result<Option<RedirectRequest>> {
        let now = Instant::now();
        let until = now.checked_add(wait).unwrap_or(now);
        let stream = loop {
            match self.listener.accept() {
                Ok((stream, _)) => break stream,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if Instant::now() >= until {
                        return Ok(None);
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => return Err(e),
            }
        };
        stream.set_nonblocking(false)?;
        // The request, within one deadline (a connection that sends nothing, or a byte now and
        // then, holds the sign-in for at most that); only its first line is used.
        let mut stream = stream;
        let Some(head) = read_head(&mut stream, REQUEST_DEADLINE) else {
            return Ok(None);
        };
        let line = String::from_utf8_lossy(&head);
        let target = line
            .lines()
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("")
            .to_string();
        Ok(Some(RedirectRequest::new(target, move |status, body| {
            http_reply(&mut stream, status, "text/html; charset=utf-8", body)
        })))
    }
}

/// The most connections `creds exec --server` serves at once. One more closes the oldest that
/// is still sending its request ([`Reading`]); when every one is being answered, it is answered
/// 503 and closed at once.
pub const MAX_CONNECTIONS: usize = 64;
/// How long a connection has for its whole request: an SDK sends it at once, and a connection
/// that sends nothing, or a byte now and then, is closed when this runs out.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(2);
/// The longest a request may be.
const MAX_REQUEST: usize = 16 * 1024;

/// The connections still sending their request, oldest first: when [`MAX_CONNECTIONS`] are
/// open, a new one closes the oldest of these (a flood of idle connections evicts itself, and
/// an SDK's request, sent at once, is read before its turn comes).
#[derive(Default)]
pub struct Reading {
    waiting: std::sync::Mutex<std::collections::VecDeque<(u64, std::net::TcpStream)>>,
    next: std::sync::atomic::AtomicU64,
}

impl Reading {
    fn waiting(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::VecDeque<(u64, std::net::TcpStream)>> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Notes `stream` as reading; its number.
    pub fn add(&self, stream: &std::net::TcpStream) -> u64 {
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if let Ok(clone) = stream.try_clone() {
            self.waiting().push_back((id, clone));
        }
        id
    }

    /// Its request has been read (or it is done).
    pub fn done(&self, id: u64) {
        self.waiting().retain(|(i, _)| *i != id);
    }

    /// Closes the oldest connection still reading; whether there was one.
    pub fn evict_oldest(&self) -> bool {
        match self.waiting().pop_front() {
            Some((_, stream)) => {
                let _ = stream.shutdown(std::net::Shutdown::Both);
                true
            }
            None => false,
        }
    }
}

/// One HTTP/1.1 request on `stream` (at most 16 KiB, all of it within [`REQUEST_DEADLINE`]),
/// answered and closed; a request that does not arrive in time is closed unanswered. `read`
/// is called once the request has been read.
pub fn answer_one(mut stream: std::net::TcpStream, answer: &Answer<'_>, read: impl FnOnce()) {
    let _ = stream.set_write_timeout(Some(REQUEST_DEADLINE));
    let head = read_head(&mut stream, REQUEST_DEADLINE);
    read();
    let Some(head) = head else {
        return;
    };
    let text = String::from_utf8_lossy(&head);
    let mut lines = text.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let (method, path) = (
        first.next().unwrap_or_default(),
        first.next().unwrap_or_default(),
    );
    let authorization = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("authorization"))
        .map(|(_, value)| value.trim().to_string());
    let (status, body) = if method.is_empty() {
        (400, "{}".to_string())
    } else {
        answer(method, path, authorization.as_deref())
    };
    http_reply(&mut stream, status, "application/json", &body);
}

/// Turns a connection away at once: too many are open.
pub fn refuse_busy(mut stream: std::net::TcpStream) {
    let _ = stream.set_nonblocking(true);
    http_reply(
        &mut stream,
        503,
        "application/json",
        r#"{"Code":"Busy","Message":"too many connections to creds' credential endpoint; try again"}"#,
    );
}

/// The request's head (up to the blank line, or what came of it), read within `limit` of now;
/// `None` when nothing complete enough arrived in time.
#[allow(clippy::disallowed_methods)] // a deadline on a real socket, in real time
fn read_head(stream: &mut std::net::TcpStream, limit: Duration) -> Option<Vec<u8>> {
    use std::io::Read;
    let start = Instant::now();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 2048];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < MAX_REQUEST {
        let left = limit.saturating_sub(start.elapsed());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return None;
        }
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    (!buf.is_empty()).then_some(buf)
}

/// Writes one HTTP/1.1 response that closes the connection (the local listeners' only kind).
fn http_reply(stream: &mut impl std::io::Write, status: u16, content_type: &str, body: &str) {
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        503 => "Service Unavailable",
        405 => "Method Not Allowed",
        400 => "Bad Request",
        _ => "Internal Server Error",
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// Waits up to 100 ms for a connection (the child's exit is checked in between).
pub fn wait_readable(listener: &std::net::TcpListener) {
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        let mut fds = libc::pollfd {
            fd: listener.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the duration of the call.
        unsafe {
            libc::poll(&mut fds, 1, 100);
        }
    }
    #[cfg(not(unix))]
    {
        let _ = listener;
        #[allow(clippy::disallowed_methods)] // waits in real time for a real socket
        std::thread::sleep(Duration::from_millis(50));
    }
}
