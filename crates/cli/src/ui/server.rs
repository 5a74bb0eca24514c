//! The HTTP side: a tiny_http listener, a few worker threads, the `Host`
//! check, routing, and the response headers every answer carries.

use std::net::SocketAddr;
use std::sync::Arc;

use tiny_http::{Header, Method, Request, Response, Server};

use super::api::{Api, Params};
use super::{assets, host};

/// Requests answered at once: the store is blocking, so a slow query holds
/// one worker while the others keep serving the page and the other charts.
const WORKERS: usize = 4;

/// Sent with every answer: scripts only from us (so an injected `<script>`
/// could not run even if it reached the DOM), no framing, no sniffing.
const SECURITY_HEADERS: &[(&str, &str)] = &[
    (
        "Content-Security-Policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
];

/// A bound dashboard, not yet serving.
pub struct Dashboard {
    server: Arc<Server>,
    api: Arc<Api>,
    host: String,
    port: u16,
}

impl Dashboard {
    /// Binds `addr`; `host` is the name the user gave (allowed in `Host`).
    pub fn bind(uri: Option<&str>, host: &str, addr: SocketAddr) -> anyhow::Result<Dashboard> {
        let server =
            Server::http(addr).map_err(|err| anyhow::anyhow!("cannot listen on {addr}: {err}"))?;
        let port = server
            .server_addr()
            .to_ip()
            .map(|a| a.port())
            .ok_or_else(|| anyhow::anyhow!("listening on {addr} gave no TCP port"))?;
        Ok(Dashboard {
            server: Arc::new(server),
            api: Arc::new(Api::new(uri)),
            host: host.to_string(),
            port,
        })
    }

    /// The URL the dashboard answers on.
    pub fn url(&self) -> String {
        if self.host.contains(':') {
            format!("http://[{}]:{}/", self.host, self.port)
        } else {
            format!("http://{}:{}/", self.host, self.port)
        }
    }

    /// Serves until the process ends.
    pub fn run(self) -> anyhow::Result<()> {
        let shared = Arc::new(self);
        let workers: Vec<_> = (0..WORKERS)
            .map(|_| {
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || {
                    for request in shared.server.incoming_requests() {
                        shared.answer(request);
                    }
                })
            })
            .collect();
        for worker in workers {
            worker
                .join()
                .map_err(|_| anyhow::anyhow!("a dashboard worker panicked"))?;
        }
        Ok(())
    }

    fn answer(&self, request: Request) {
        let reply = self.route(&request);
        let mut response = Response::from_data(reply.body).with_status_code(reply.status);
        response.add_header(header("Content-Type", reply.content_type));
        response.add_header(header("Cache-Control", "no-store"));
        for (name, value) in SECURITY_HEADERS {
            response.add_header(header(name, value));
        }
        // A client that went away is no error of ours.
        let _ = request.respond(response);
    }

    fn route(&self, request: &Request) -> Reply {
        if !matches!(request.method(), Method::Get | Method::Head) {
            return Reply::text(405, "the dashboard is read-only: GET only");
        }
        let host_header = request
            .headers()
            .iter()
            .find(|h| h.field.equiv("Host"))
            .map(|h| h.value.as_str());
        if !host::allowed(host_header, &self.host, self.port) {
            return Reply::text(
                403,
                "forbidden: this Host header is not the address the dashboard serves",
            );
        }
        let (path, query) = request.url().split_once('?').unwrap_or((request.url(), ""));
        let Some(segments) = segments(path) else {
            return Reply::text(400, "bad path");
        };
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        match segments.as_slice() {
            ["api", endpoint] => {
                let params: Params = form_urlencoded::parse(query.as_bytes())
                    .into_owned()
                    .collect();
                self.api_reply(endpoint, &params)
            }
            ["assets", name] => match assets::asset(name) {
                Some((content_type, body)) => Reply {
                    status: 200,
                    content_type,
                    body: body.as_bytes().to_vec(),
                },
                None => Reply::text(404, "no such asset"),
            },
            []
            | ["experiments", _]
            | ["experiments", _, "compare"]
            | ["experiments", _, "runs", _] => Reply {
                status: 200,
                content_type: "text/html; charset=utf-8",
                body: assets::PAGE.as_bytes().to_vec(),
            },
            _ => Reply::text(404, "not found"),
        }
    }

    fn api_reply(&self, endpoint: &str, params: &Params) -> Reply {
        let (status, value) = match self.api.handle(endpoint, params) {
            Ok(value) => (200, value),
            Err(err) => {
                if err.status() >= 500 {
                    // The library's messages hold no credential.
                    eprintln!("yamlett ui: /api/{endpoint}: {}", err.message());
                }
                (err.status(), serde_json::json!({ "error": err.message() }))
            }
        };
        Reply {
            status,
            content_type: "application/json",
            body: serde_json::to_vec(&value).unwrap_or_default(),
        }
    }
}

/// An answer before it becomes a tiny_http response.
struct Reply {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
}

impl Reply {
    fn text(status: u16, message: &str) -> Reply {
        Reply {
            status,
            content_type: "text/plain; charset=utf-8",
            body: message.as_bytes().to_vec(),
        }
    }
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes())
        .expect("static header names and values are valid")
}

/// The path's segments, percent-decoded; `None` for a path that is not
/// absolute, not UTF-8, or holds a `.`/`..` segment, a backslash or a NUL
/// (nothing is read from disk, but such a path is never a view either).
fn segments(path: &str) -> Option<Vec<String>> {
    let rest = path.strip_prefix('/')?;
    let mut out = Vec::new();
    for raw in rest.split('/') {
        let segment = percent_encoding::percent_decode_str(raw)
            .decode_utf8()
            .ok()?;
        if segment == "." || segment == ".." || segment.contains(['/', '\\', '\0']) {
            return None;
        }
        if !segment.is_empty() {
            out.push(segment.into_owned());
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::segments;

    #[test]
    fn paths_cannot_climb() {
        assert_eq!(
            segments("/experiments/a%20b/runs/x"),
            Some(vec![
                "experiments".into(),
                "a b".into(),
                "runs".into(),
                "x".into()
            ])
        );
        assert_eq!(segments("/"), Some(vec![]));
        assert_eq!(segments("/assets/../Cargo.toml"), None);
        assert_eq!(segments("/assets/..%2fCargo.toml"), None);
        assert_eq!(segments("/assets/%2e%2e/x"), None);
        assert_eq!(segments("/assets/a%5cb"), None);
        assert_eq!(segments("relative"), None);
    }
}
