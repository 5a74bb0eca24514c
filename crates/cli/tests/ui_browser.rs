//! The dashboard in a real browser: the installed Chromium, driven over the
//! DevTools protocol. These tests fail (never skip) when Chromium is missing:
//! `apt-get install -y chromium` (scripts/test.sh installs it).
//! Screenshots of every view land in `target/ui-screenshots/`.

#[path = "../../../tests/common/mod.rs"]
mod common;
mod ui_support;

use std::time::{Duration, Instant};

use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::{Browser, Tab};
use ui_support::{browser, seed, target_dir, Dashboard, IMG, SCRIPT};

/// Evaluates `expression` until it is JSON-equal to `want` (10 s at most).
fn wait_for(tab: &Tab, expression: &str, want: serde_json::Value) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = eval(tab, expression);
        if got == want {
            return got;
        }
        assert!(
            Instant::now() < deadline,
            "{expression}: {got} after 10 s, waiting for {want}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Evaluates `expression` until it is true (10 s at most).
fn wait_true(tab: &Tab, expression: &str) {
    wait_for(tab, expression, serde_json::Value::Bool(true));
}

fn eval(tab: &Tab, expression: &str) -> serde_json::Value {
    tab.evaluate(expression, false)
        .unwrap_or_else(|err| panic!("{expression}: {err}"))
        .value
        .unwrap_or(serde_json::Value::Null)
}

fn screenshot(tab: &Tab, name: &str) {
    let png = tab
        .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
        .expect("screenshot");
    let dir = target_dir().join("ui-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
}

/// Pixels of the chart line's colour (#2f6fde) on the first canvas under
/// `selector`: more than background and grid means a series was drawn.
const LINE_PIXELS: &str = r#"(() => {
  const c = document.querySelector(SELECTOR);
  if (!c || !c.width) return 0;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4)
    if (d[i + 3] > 200 && Math.abs(d[i] - 47) < 30 && Math.abs(d[i + 1] - 111) < 30 && Math.abs(d[i + 2] - 222) < 30) n++;
  return n;
})()"#;

fn line_pixels(tab: &Tab, selector: &str) -> u64 {
    eval(
        tab,
        &LINE_PIXELS.replace("SELECTOR", &format!("{selector:?}")),
    )
    .as_u64()
    .unwrap_or(0)
}

const ROWS: &str = "document.querySelectorAll('#runs tbody tr').length";
const FIRST_ID: &str =
    "(document.querySelector('#runs tbody tr td:nth-child(2)') || {}).textContent";

struct Fixture {
    _store: tempfile::TempDir,
    _profile: tempfile::TempDir,
    ui: Dashboard,
    experiment: String,
    _browser: Browser,
    tab: std::sync::Arc<Tab>,
}

fn fixture() -> Fixture {
    let store = common::local_store();
    let experiment = common::unique("browser");
    seed(store.path().to_str().unwrap(), &experiment).expect("seed runs");
    let ui = Dashboard::start(store.path().to_str().unwrap());
    let profile = tempfile::tempdir().expect("profile dir");
    let browser = browser(&profile);
    let tab = browser.new_tab().expect("tab");
    tab.set_default_timeout(Duration::from_secs(15));
    Fixture {
        _store: store,
        _profile: profile,
        ui,
        experiment,
        _browser: browser,
        tab,
    }
}

#[test]
fn runs_table_filters_sorts_and_keeps_its_state_in_the_url() {
    let f = fixture();
    let tab = &f.tab;
    tab.navigate_to(&f.ui.url("/"))
        .unwrap()
        .wait_until_navigated()
        .unwrap();
    tab.wait_for_element(&format!("a[href='/experiments/{}']", f.experiment))
        .unwrap();
    screenshot(tab, "experiments");
    tab.find_element(&format!("a[href='/experiments/{}']", f.experiment))
        .unwrap()
        .click()
        .unwrap();
    wait_for(tab, ROWS, 3.into());
    wait_true(
        tab,
        "document.getElementById('runs-summary').textContent.includes('of 3 runs')",
    );

    // A filter typed in the box changes the rows, and lands in the URL.
    tab.find_element("input.filter").unwrap().click().unwrap();
    tab.type_str(r#"{"params.lr": {"$gte": 0.1}}"#)
        .unwrap()
        .press_key("Enter")
        .unwrap();
    wait_for(tab, ROWS, 2.into());
    wait_true(
        tab,
        "new URLSearchParams(location.search).get('filter') === '{\"params.lr\": {\"$gte\": 0.1}}'",
    );

    // Sorting by clicking a column header: a metric sorts best first, then
    // the other way; a parameter ascending, then descending.
    tab.find_element("th[data-key='metrics.f1']")
        .unwrap()
        .click()
        .unwrap();
    wait_for(tab, FIRST_ID, "alpha".into());
    tab.find_element("th[data-key='metrics.f1']")
        .unwrap()
        .click()
        .unwrap();
    wait_for(tab, FIRST_ID, "evil".into());
    tab.find_element("th[data-key='params.lr']")
        .unwrap()
        .click()
        .unwrap();
    wait_for(tab, FIRST_ID, "alpha".into());
    tab.find_element("th[data-key='params.lr']")
        .unwrap()
        .click()
        .unwrap();
    wait_for(tab, FIRST_ID, "evil".into());
    wait_true(
        tab,
        "new URLSearchParams(location.search).get('sort') === 'params.lr:-1'",
    );

    // A bad filter shows the engine's message inline and keeps the rows.
    tab.evaluate("document.querySelector('input.filter').value = ''", false)
        .unwrap();
    tab.find_element("input.filter").unwrap().click().unwrap();
    tab.type_str(r#"{"a": {"$frobnicate": 1}}"#)
        .unwrap()
        .press_key("Enter")
        .unwrap();
    wait_true(
        tab,
        "document.getElementById('filter-error').textContent.includes('$frobnicate')",
    );
    assert_eq!(eval(tab, ROWS), 2);

    // Reloading the URL restores filter, sort and columns.
    let url = format!(
        "/experiments/{}?filter={}&sort=metrics.f1:1&cols=params.kind,metrics.f1",
        f.experiment,
        ui_support::q("{}")
    );
    tab.navigate_to(&f.ui.url(&url))
        .unwrap()
        .wait_until_navigated()
        .unwrap();
    wait_for(tab, ROWS, 3.into());
    wait_for(tab, FIRST_ID, "evil".into());
    wait_for(
        tab,
        "[...document.querySelectorAll('#runs thead th')].map(t => t.dataset.key || '').slice(4).join(',')",
        "params.kind,metrics.f1".into(),
    );
    screenshot(tab, "runs");

    // The group-by chart: $group over every matching run.
    tab.find_element("#group-panel > summary")
        .unwrap()
        .click()
        .unwrap();
    wait_true(
        tab,
        "document.querySelector('select[aria-label=\"group key\"]').options.length > 0",
    );
    tab.evaluate("(() => { const g = document.querySelector('select[aria-label=\"group key\"]'); g.value = 'params.kind'; const m = document.querySelector('select[aria-label=\"metric\"]'); m.value = 'metrics.f1'; })()", false).unwrap();
    tab.find_element("#group-panel button")
        .unwrap()
        .click()
        .unwrap();
    wait_true(
        tab,
        "document.querySelectorAll('#group-panel tbody tr').length === 2",
    );
    assert!(
        line_pixels(tab, "canvas.groupchart") > 100,
        "the group-by bars are drawn"
    );
    screenshot(tab, "group-by");
}

#[test]
fn a_run_shows_its_tree_artifacts_and_charts_and_zooms() {
    let f = fixture();
    let tab = &f.tab;
    tab.navigate_to(
        &f.ui
            .url(&format!("/experiments/{}/runs/alpha", f.experiment)),
    )
    .unwrap()
    .wait_until_navigated()
    .unwrap();
    tab.wait_for_element("#run-tree").unwrap();
    wait_true(
        tab,
        "document.querySelector('#artifacts tbody td').textContent === 'model'",
    );
    wait_true(
        tab,
        "document.getElementById('run-status').textContent === 'finished'",
    );
    // One chart per series: the logged one and the pushed list.
    wait_for(
        tab,
        "[...document.querySelectorAll('.chart')].map(c => c.dataset.key).join(',')",
        "metrics.acc,metrics.loss".into(),
    );
    let acc = ".chart[data-key='metrics.acc'] canvas";
    wait_true(
        tab,
        &format!("Number(document.querySelector(\"{acc}\").dataset.drawn) > 100"),
    );
    assert!(line_pixels(tab, acc) > 300, "the series is drawn");
    // The NaN run of steps is flagged.
    wait_true(tab, "document.querySelector(\".chart[data-key='metrics.acc'] .flag\").textContent.includes('NaN from step 4000')");
    screenshot(tab, "run");

    // Drag across the middle of the plot: the chart asks for the new range.
    let drag = format!(
        r#"(() => {{
      const c = document.querySelector("{acc}");
      const r = c.getBoundingClientRect(), y = r.top + r.height / 2;
      c.dispatchEvent(new MouseEvent('mousedown', {{clientX: r.left + r.width * 0.4, clientY: y, bubbles: true}}));
      c.dispatchEvent(new MouseEvent('mousemove', {{clientX: r.left + r.width * 0.6, clientY: y, bubbles: true}}));
      window.dispatchEvent(new MouseEvent('mouseup', {{clientX: r.left + r.width * 0.6, clientY: y}}));
    }})()"#
    );
    eval(tab, &drag);
    wait_true(
        tab,
        &format!("Number(document.querySelector(\"{acc}\").dataset.first) > 1000"),
    );
    let first = eval(
        tab,
        &format!("Number(document.querySelector(\"{acc}\").dataset.first)"),
    );
    let last = eval(
        tab,
        &format!("Number(document.querySelector(\"{acc}\").dataset.last)"),
    );
    assert!(
        last.as_i64().unwrap() < 4000 && first.as_i64().unwrap() < last.as_i64().unwrap(),
        "{first}..{last}"
    );
    // Zoomed in this far, every point is there: finer than the full view.
    wait_true(
        tab,
        &format!("Number(document.querySelector(\"{acc}\").dataset.drawn) > 500"),
    );
    // Hover shows exact values.
    eval(tab, &format!("(() => {{ const c = document.querySelector(\"{acc}\"); const r = c.getBoundingClientRect(); c.dispatchEvent(new MouseEvent('mousemove', {{clientX: r.left + r.width / 2, clientY: r.top + 50, bubbles: true}})); }})()"));
    wait_true(tab, "document.querySelector(\".chart[data-key='metrics.acc'] .tip\").textContent.startsWith('step ')");
    screenshot(tab, "run-zoomed");
    // Log scale and smoothing redraw without losing the line.
    tab.evaluate("(() => { const s = document.querySelector('select[aria-label=\"y scale\"]'); s.value = 'log'; s.dispatchEvent(new Event('change')); })()", false).unwrap();
    wait_true(tab, "document.querySelector(\".chart[data-key='metrics.acc'] .flag\").textContent.includes('log scale')");
    // Double-click resets to the whole series.
    eval(tab, &format!("document.querySelector(\"{acc}\").dispatchEvent(new MouseEvent('dblclick', {{bubbles: true}}))"));
    wait_true(tab, &format!("document.querySelector(\"{acc}\").dataset.first === '0' && document.querySelector(\"{acc}\").dataset.last === '4999'"));
}

#[test]
fn comparing_two_runs_overlays_charts_and_shows_only_differences() {
    let f = fixture();
    let tab = &f.tab;
    tab.navigate_to(&f.ui.url(&format!("/experiments/{}", f.experiment)))
        .unwrap()
        .wait_until_navigated()
        .unwrap();
    wait_for(tab, ROWS, 3.into());
    // Select alpha and beta, then Compare.
    for id in ["alpha", "beta"] {
        eval(tab, &format!("[...document.querySelectorAll('#runs tbody tr')].find(r => r.children[1].textContent === '{id}').querySelector('input').click()"));
    }
    tab.find_element("button.primary").unwrap().click().unwrap();
    wait_true(
        tab,
        "location.pathname.endsWith('/compare') && location.search === '?ids=alpha,beta'",
    );
    tab.wait_for_element("#compare-table").unwrap();
    wait_true(
        tab,
        "document.querySelector(\".chart[data-key='metrics.loss'] canvas\") !== null",
    );
    wait_true(tab, "Number(document.querySelector(\".chart[data-key='metrics.loss'] canvas\").dataset.lines) === 2");
    let all = eval(
        tab,
        "document.querySelectorAll('#compare-table tbody tr').length",
    )
    .as_u64()
    .unwrap();
    tab.find_element("#only-diff").unwrap().click().unwrap();
    let keys = "[...document.querySelectorAll('#compare-table tbody tr')].map(r => r.children[0].textContent)";
    wait_true(
        tab,
        &format!("{keys}.includes('params.lr') && !{keys}.includes('params.kind')"),
    );
    let differing = eval(
        tab,
        "document.querySelectorAll('#compare-table tbody tr').length",
    )
    .as_u64()
    .unwrap();
    assert!(differing < all, "{differing} of {all} rows differ");
    screenshot(tab, "compare");
}

#[test]
fn markup_in_run_content_is_shown_as_text_and_never_run() {
    let f = fixture();
    let tab = &f.tab;
    let cols = ui_support::q("params.kind,params.note");
    let views = [
        format!("/experiments/{}?cols={cols}", f.experiment),
        format!("/experiments/{}/runs/evil", f.experiment),
        format!("/experiments/{}/compare?ids=evil,alpha", f.experiment),
    ];
    for (i, view) in views.iter().enumerate() {
        tab.navigate_to(&f.ui.url(view))
            .unwrap()
            .wait_until_navigated()
            .unwrap();
        if i == 0 {
            // The run left open is badged `running`.
            wait_true(
                tab,
                "document.querySelector('#runs .badge.running') !== null",
            );
        }
        wait_true(
            tab,
            &format!("document.getElementById('view').textContent.includes({SCRIPT:?})"),
        );
        wait_true(
            tab,
            &format!("document.getElementById('view').textContent.includes({IMG:?})"),
        );
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(
            eval(tab, "typeof window.__pwned"),
            "undefined",
            "{view}: injected markup ran"
        );
        assert_eq!(
            eval(
                tab,
                "document.querySelectorAll('#view img, #view script').length"
            ),
            0,
            "{view}"
        );
    }
    screenshot(tab, "injection");
}

#[test]
fn comparing_a_running_run_refreshes_by_itself() {
    let f = fixture();
    let tab = &f.tab;
    let live = yamlett::Run::builder()
        .uri(f._store.path().to_str().unwrap())
        .experiment(&f.experiment)
        .id("live")
        .open()
        .unwrap();
    {
        let _guard = live.enter();
        for step in 0..10 {
            live.log("metrics.live", step as f64).unwrap();
        }
    }
    tab.navigate_to(&f.ui.url(&format!(
        "/experiments/{}/compare?ids=live,alpha",
        f.experiment
    )))
    .unwrap()
    .wait_until_navigated()
    .unwrap();
    let last = |key: &str| {
        format!("(document.querySelector(\".chart[data-key='{key}'] canvas\") || {{dataset: {{}}}}).dataset.last")
    };
    wait_for(tab, &last("metrics.live"), "9".into());
    wait_true(
        tab,
        "document.querySelector('.legend .badge.running') !== null",
    );
    // Points logged after the page opened, a series begun since and a new
    // result all appear without a reload (the page polls every 4 s).
    {
        let _guard = live.enter();
        for step in 10..25 {
            live.log("metrics.live", step as f64).unwrap();
        }
        live.log("metrics.late", 1.0).unwrap();
        live.log("metrics.late", 2.0).unwrap();
        live.store("metrics.f1", 0.55).unwrap();
    }
    wait_for(tab, &last("metrics.live"), "24".into());
    wait_for(tab, &last("metrics.late"), "1".into());
    wait_true(
        tab,
        "[...document.querySelectorAll('#compare-table tbody tr')].some(r => r.children[0].textContent === 'metrics.f1' && r.children[1].textContent === '0.55')",
    );
    assert!(
        line_pixels(tab, ".chart[data-key='metrics.live'] canvas") > 0,
        "the live series is drawn"
    );
    screenshot(tab, "compare-live");
    // A finished run stops the polling: its badge says so.
    live.finish().unwrap();
    wait_true(
        tab,
        "document.querySelector('.legend .badge.running') === null",
    );
}
