//! The `Host` header check that defeats DNS rebinding: a page on
//! `evil.example` whose name is re-pointed at 127.0.0.1 sends
//! `Host: evil.example`, which we refuse, so its script cannot read runs.

/// Whether a request with this `Host` header may be answered by a server
/// listening on `port` and started with `--host served_host`: the port must
/// match, and the name must be an IP literal (no DNS, so no rebinding),
/// `localhost`, or the name the server was started with.
pub fn allowed(header: Option<&str>, served_host: &str, port: u16) -> bool {
    let Some(header) = header else {
        return false;
    };
    let header = header.trim();
    let (name, header_port) = match header.rsplit_once(':') {
        // `[::1]:8765`, `127.0.0.1:8765`, `localhost:8765`, but not a bare `[::1]`.
        Some((name, p)) if !p.contains(']') => (name, p.parse::<u16>().ok()),
        _ => (header, Some(80)),
    };
    if header_port != Some(port) {
        return false;
    }
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<std::net::IpAddr>().is_ok()
        || bare.eq_ignore_ascii_case("localhost")
        || bare.eq_ignore_ascii_case(served_host.trim_start_matches('[').trim_end_matches(']'))
}

#[cfg(test)]
mod tests {
    use super::allowed;

    #[test]
    fn only_our_names_and_port() {
        assert!(allowed(Some("127.0.0.1:8765"), "127.0.0.1", 8765));
        assert!(allowed(Some("localhost:8765"), "127.0.0.1", 8765));
        assert!(allowed(Some("[::1]:8765"), "::1", 8765));
        assert!(allowed(Some("box.lan:8765"), "box.lan", 8765));
        assert!(!allowed(Some("evil.example:8765"), "127.0.0.1", 8765));
        assert!(!allowed(Some("127.0.0.1:9999"), "127.0.0.1", 8765));
        assert!(!allowed(Some("localhost"), "127.0.0.1", 8765));
        assert!(!allowed(Some("[::1]"), "::1", 8765));
        assert!(!allowed(None, "127.0.0.1", 8765));
    }
}
