//! A minimal blocking HTTP/1.1 client (RFC 9112) for the few fetches of trust material: OCSP
//! requests (RFC 6960 appendix A, POST), CRLs (RFC 5280 §4.2.1.13, GET) and trusted lists
//! (TS 119 612 §6.1, GET over HTTPS). One request per connection (`Connection: close`), an
//! overall deadline, a size bound on the answer, redirects followed for GET only. HTTPS goes
//! through `native-tls`, already linked for the mailbox; no other crate is needed.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// Longest header section accepted.
const MAX_HEADER: usize = 64 * 1024;
/// Redirects followed for a GET.
const MAX_REDIRECTS: usize = 5;

/// How long and how much.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The whole exchange (connect, send, receive) must end within this.
    pub timeout: Duration,
    /// Largest body accepted, in bytes.
    pub max_bytes: usize,
}

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// Not an `http://` or `https://` address this client can use.
    #[error("unsupported address {0:?}")]
    Url(String),
    /// Connecting, sending or receiving failed (refused, reset, name not resolved).
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The deadline passed.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// TLS could not be set up.
    #[error("TLS: {0}")]
    Tls(String),
    /// The server answered with another status than 200.
    #[error("HTTP status {0}")]
    Status(u16),
    /// The answer is larger than allowed.
    #[error("answer larger than {0} bytes")]
    TooLarge(usize),
    /// The answer is not HTTP.
    #[error("malformed HTTP answer: {0}")]
    Protocol(&'static str),
}

/// An address split into what the request needs.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Url {
    tls: bool,
    host: String,
    port: u16,
    /// Path and query, starting with `/`.
    target: String,
}

fn parse_url(url: &str) -> Result<Url, HttpError> {
    let bad = || HttpError::Url(url.to_string());
    let (tls, rest) = if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else {
        return Err(bad());
    };
    let (authority, target) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let target = if target.starts_with('?') {
        format!("/{target}")
    } else {
        target.to_string()
    };
    if authority.contains('@') || authority.is_empty() {
        return Err(bad());
    }
    let default = if tls { 443 } else { 80 };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or_else(bad)?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| bad())?,
            None if after.is_empty() => default,
            None => return Err(bad()),
        };
        (h.to_string(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.parse().map_err(|_| bad())?),
            None => (authority.to_string(), default),
        }
    };
    if target.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return Err(bad());
    }
    Ok(Url {
        tls,
        host,
        port,
        target,
    })
}

enum Conn {
    Plain(TcpStream),
    Tls(Box<native_tls::TlsStream<TcpStream>>),
}

impl Conn {
    fn tcp(&self) -> &TcpStream {
        match self {
            Conn::Plain(s) => s,
            Conn::Tls(s) => s.get_ref(),
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            Conn::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            Conn::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
        }
    }
}

/// Time left before `deadline`, or the timeout error.
fn left(deadline: Instant, limits: &Limits) -> Result<Duration, HttpError> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
        .ok_or(HttpError::Timeout(limits.timeout))
}

fn connect(url: &Url, deadline: Instant, limits: &Limits) -> Result<Conn, HttpError> {
    let mut last = None;
    let mut stream = None;
    for addr in (url.host.as_str(), url.port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, left(deadline, limits)?) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let stream = match (stream, last) {
        (Some(s), _) => s,
        (None, Some(e)) if e.kind() == std::io::ErrorKind::TimedOut => {
            return Err(HttpError::Timeout(limits.timeout))
        }
        (None, Some(e)) => return Err(e.into()),
        (None, None) => return Err(HttpError::Url(url.host.clone())),
    };
    stream.set_read_timeout(Some(left(deadline, limits)?))?;
    stream.set_write_timeout(Some(left(deadline, limits)?))?;
    if !url.tls {
        return Ok(Conn::Plain(stream));
    }
    let connector = native_tls::TlsConnector::new().map_err(|e| HttpError::Tls(e.to_string()))?;
    let tls = connector
        .connect(&url.host, stream)
        .map_err(|e| HttpError::Tls(e.to_string()))?;
    Ok(Conn::Tls(Box::new(tls)))
}

/// A parsed answer.
struct Answer {
    status: u16,
    location: Option<String>,
    body: Vec<u8>,
}

fn exchange(
    url: &Url,
    method: &str,
    body: Option<(&str, &[u8])>,
    limits: &Limits,
) -> Result<Answer, HttpError> {
    let deadline = Instant::now() + limits.timeout;
    let mut conn = connect(url, deadline, limits)?;
    let default = if url.tls { 443 } else { 80 };
    let host = match (url.host.contains(':'), url.port == default) {
        (true, true) => format!("[{}]", url.host),
        (true, false) => format!("[{}]:{}", url.host, url.port),
        (false, true) => url.host.clone(),
        (false, false) => format!("{}:{}", url.host, url.port),
    };
    let mut head = format!(
        "{method} {} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: podawcza/{}\r\nAccept: */*\r\nConnection: close\r\n",
        url.target,
        env!("CARGO_PKG_VERSION")
    );
    if let Some((content_type, b)) = body {
        head.push_str(&format!(
            "Content-Type: {content_type}\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    head.push_str("\r\n");
    conn.write_all(head.as_bytes()).map_err(|e| io(e, limits))?;
    if let Some((_, b)) = body {
        conn.write_all(b).map_err(|e| io(e, limits))?;
    }
    conn.flush().map_err(|e| io(e, limits))?;
    read_answer(&mut conn, deadline, limits)
}

/// A socket timeout reads as the deadline passing.
fn io(e: std::io::Error, limits: &Limits) -> HttpError {
    match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
            HttpError::Timeout(limits.timeout)
        }
        _ => HttpError::Io(e),
    }
}

fn read_answer(conn: &mut Conn, deadline: Instant, limits: &Limits) -> Result<Answer, HttpError> {
    let bound = limits.max_bytes.saturating_add(MAX_HEADER);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let mut header_end = None;
    let mut content_length: Option<usize> = None;
    loop {
        conn.tcp().set_read_timeout(Some(left(deadline, limits)?))?;
        let n = conn.read(&mut chunk).map_err(|e| io(e, limits))?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
        if header_end.is_none() {
            header_end = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
            if header_end.is_none() && buf.len() > MAX_HEADER {
                return Err(HttpError::Protocol("header section too long"));
            }
            if let Some(end) = header_end {
                content_length = header(&buf[..end], "content-length")
                    .map(|v| {
                        v.parse()
                            .map_err(|_| HttpError::Protocol("bad Content-Length"))
                    })
                    .transpose()?;
                if content_length.is_some_and(|l| l > limits.max_bytes) {
                    return Err(HttpError::TooLarge(limits.max_bytes));
                }
            }
        }
        if buf.len() > bound {
            return Err(HttpError::TooLarge(limits.max_bytes));
        }
        if let (Some(end), Some(len)) = (header_end, content_length) {
            if buf.len() >= end + len {
                break;
            }
        }
    }
    let end = header_end.ok_or(HttpError::Protocol("no header section"))?;
    let head = &buf[..end];
    let status_line = head
        .split(|&b| b == b'\n')
        .next()
        .and_then(|l| std::str::from_utf8(l).ok())
        .ok_or(HttpError::Protocol("no status line"))?;
    let mut parts = status_line.split_whitespace();
    if !parts.next().is_some_and(|v| v.starts_with("HTTP/1.")) {
        return Err(HttpError::Protocol("not HTTP/1.x"));
    }
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or(HttpError::Protocol("no status code"))?;
    let location = header(head, "location");
    let chunked = header(head, "transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let mut body = buf.split_off(end);
    if chunked {
        body = dechunk(&body)?;
    } else if let Some(len) = content_length {
        if body.len() < len {
            return Err(HttpError::Protocol(
                "answer shorter than its Content-Length",
            ));
        }
        body.truncate(len);
    }
    if body.len() > limits.max_bytes {
        return Err(HttpError::TooLarge(limits.max_bytes));
    }
    Ok(Answer {
        status,
        location,
        body,
    })
}

/// The value of header `name` (lowercase), if present.
fn header(head: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(head);
    text.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_string())
    })
}

/// Decodes a chunked body (RFC 9112 §7.1); trailers are ignored.
fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, HttpError> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or(HttpError::Protocol("bad chunked encoding"))?;
        let size_text = std::str::from_utf8(&data[..line_end])
            .map_err(|_| HttpError::Protocol("bad chunk size"))?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| HttpError::Protocol("bad chunk size"))?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        let piece = data
            .get(..size)
            .ok_or(HttpError::Protocol("truncated chunk"))?;
        out.extend_from_slice(piece);
        data = data
            .get(size + 2..)
            .ok_or(HttpError::Protocol("truncated chunk"))?;
    }
}

/// Resolves a `Location` against the address it came from.
fn resolve(base: &Url, location: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        return location.to_string();
    }
    let scheme = if base.tls { "https" } else { "http" };
    let host = if base.host.contains(':') {
        format!("[{}]", base.host)
    } else {
        base.host.clone()
    };
    if location.starts_with('/') {
        format!("{scheme}://{host}:{}{location}", base.port)
    } else {
        let dir = base.target.rsplit_once('/').map_or("", |(d, _)| d);
        format!("{scheme}://{host}:{}{dir}/{location}", base.port)
    }
}

/// GETs `url`, following up to five redirects; the body of the final 200 answer.
pub fn get(url: &str, limits: &Limits) -> Result<Vec<u8>, HttpError> {
    let mut current = url.to_string();
    for _ in 0..=MAX_REDIRECTS {
        let u = parse_url(&current)?;
        let a = exchange(&u, "GET", None, limits)?;
        match (a.status, a.location) {
            (200, _) => return Ok(a.body),
            (301 | 302 | 303 | 307 | 308, Some(l)) => current = resolve(&u, &l),
            (s, _) => return Err(HttpError::Status(s)),
        }
    }
    Err(HttpError::Protocol("too many redirects"))
}

/// POSTs `body` as `content_type` to `url` (no redirects); the body of a 200 answer.
pub fn post(
    url: &str,
    content_type: &str,
    body: &[u8],
    limits: &Limits,
) -> Result<Vec<u8>, HttpError> {
    let u = parse_url(url)?;
    let a = exchange(&u, "POST", Some((content_type, body)), limits)?;
    match a.status {
        200 => Ok(a.body),
        s => Err(HttpError::Status(s)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_addresses() {
        let u = parse_url("http://ocsp.example.pl:8080/a/b?c=d").unwrap();
        assert_eq!(
            (u.tls, u.host.as_str(), u.port, u.target.as_str()),
            (false, "ocsp.example.pl", 8080, "/a/b?c=d")
        );
        let u = parse_url("https://ec.europa.eu").unwrap();
        assert_eq!((u.tls, u.port, u.target.as_str()), (true, 443, "/"));
        let u = parse_url("http://[::1]:81/x").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 81));
        assert!(parse_url("ldap://dir.example/cn=x").is_err());
        assert!(parse_url("http://user@host/").is_err());
        assert!(parse_url("http://host/a b").is_err());
    }

    #[test]
    fn decodes_chunks() {
        assert_eq!(
            dechunk(b"3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n").unwrap(),
            b"abcde"
        );
        assert!(dechunk(b"5\r\nab").is_err());
    }

    #[test]
    fn resolves_redirects() {
        let base = parse_url("http://h:81/dir/f.xml").unwrap();
        assert_eq!(resolve(&base, "/x.xml"), "http://h:81/x.xml");
        assert_eq!(resolve(&base, "y.xml"), "http://h:81/dir/y.xml");
        assert_eq!(resolve(&base, "https://o/z"), "https://o/z");
    }

    #[test]
    fn a_refused_connection_is_an_error() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let limits = Limits {
            timeout: Duration::from_secs(2),
            max_bytes: 1000,
        };
        assert!(matches!(
            get(&format!("http://127.0.0.1:{port}/"), &limits),
            Err(HttpError::Io(_))
        ));
    }
}
