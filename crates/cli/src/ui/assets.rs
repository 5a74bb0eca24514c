//! The page, its script and its styles, compiled into the binary: the
//! dashboard needs no network and no files next to the binary. Static paths
//! are looked up in this fixed table, never on disk, so no path can escape.

/// The page every view URL answers; its script draws the view the URL names.
pub const PAGE: &str = include_str!("assets/index.html");

/// The static files under `/assets/`: name, content type, body.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/app.js"),
    ),
    (
        "chart.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/chart.js"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("assets/style.css"),
    ),
];

/// The asset named `name` (`app.js`), with its content type.
pub fn asset(name: &str) -> Option<(&'static str, &'static str)> {
    ASSETS
        .iter()
        .find(|(asset, _, _)| *asset == name)
        .map(|(_, content_type, body)| (*content_type, *body))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13's budget: the page's own script and styles under 100 KB.
    #[test]
    fn page_script_and_styles_fit_the_budget() {
        let total: usize = PAGE.len() + ASSETS.iter().map(|(_, _, body)| body.len()).sum::<usize>();
        assert!(total < 100_000, "{total} bytes");
        assert!(asset("app.js").is_some());
        assert!(asset("../Cargo.toml").is_none());
    }

    /// Run content reaches the page as text only: the script never parses
    /// strings as HTML.
    #[test]
    fn script_never_parses_html() {
        for (name, _, body) in ASSETS {
            for sink in [
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "document.write",
                "eval(",
            ] {
                assert!(!body.contains(sink), "{name} uses {sink}");
            }
        }
    }
}
