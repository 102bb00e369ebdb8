//! The local HTTP listeners, both on 127.0.0.1 only: the sign-in redirect of the PKCE flow
//! ([`TcpRedirects`]) and the requests of `creds exec --server`'s credential endpoint
//! ([`answer_one`]). One request per connection, bounded in size and time, answered and closed.

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
        use io::BufRead;
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
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        // The request line only, and at most 8 KiB of it: nothing else is needed.
        let mut line = String::new();
        if io::BufReader::new(io::Read::take(&stream, 8192))
            .read_line(&mut line)
            .is_err()
        {
            return Ok(None);
        }
        let target = line.split_whitespace().nth(1).unwrap_or("").to_string();
        let mut stream = stream;
        Ok(Some(RedirectRequest::new(target, move |status, body| {
            http_reply(&mut stream, status, "text/html; charset=utf-8", body)
        })))
    }
}

/// One HTTP/1.1 request on `stream` (at most 16 KiB, 5 s to arrive), answered and closed.
pub fn answer_one(mut stream: std::net::TcpStream, answer: &Answer<'_>) {
    use std::io::Read;
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 2048];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
        }
    }
    let text = String::from_utf8_lossy(&buf);
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

/// Writes one HTTP/1.1 response that closes the connection (the local listeners' only kind).
fn http_reply(stream: &mut impl std::io::Write, status: u16, content_type: &str, body: &str) {
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
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
