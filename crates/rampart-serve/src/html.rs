//! Server-rendered HTML: escaping, the page frame, and the few form helpers every page uses.
//! No inline script or style anywhere (the CSP forbids both); the look is assets/style.css.

use crate::auth::Principal;

/// Escapes text for HTML element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes everything but unreserved characters (query values, `next=` targets).
pub fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `application/x-www-form-urlencoded` text (`+` is a space).
pub fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

const NAV: &[(&str, &str)] = &[
    ("/", "Overview"),
    ("/findings", "Findings"),
    ("/accounts", "Accounts"),
    ("/alerts", "Alerts"),
    ("/drift", "Drift"),
    ("/reports", "Reports"),
    ("/catalogue", "Catalogue"),
    ("/audit-log", "Audit log"),
];

/// A whole page: head with the embedded stylesheet and script, the navigation, the body.
pub fn page(title: &str, who: Option<&Principal>, body: &str) -> String {
    let nav = match who {
        Some(p) => {
            let links: String = NAV
                .iter()
                .map(|(href, label)| format!("<a href=\"{href}\">{label}</a>"))
                .collect();
            format!(
                "<nav id=\"nav\">{links}<span class=\"who\">{} ({})</span>\
                 <form method=\"post\" action=\"/logout\" id=\"logout-form\">{}\
                 <button type=\"submit\" id=\"logout\">Log out</button></form></nav>",
                esc(&p.name),
                p.role,
                csrf_field(p)
            )
        }
        None => String::new(),
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · rampart</title><link rel=\"stylesheet\" href=\"/static/style.css\">\
         <link rel=\"icon\" href=\"/static/icon.svg\" type=\"image/svg+xml\">\
         <script src=\"/static/app.js\" defer></script></head><body>\
         <header><img src=\"/static/icon.svg\" alt=\"\" width=\"24\" height=\"24\"> rampart</header>\
         {nav}<main><h1>{}</h1>{body}</main></body></html>",
        esc(title),
        esc(title)
    )
}

/// The hidden synchronizer-token field every state-changing form carries.
pub fn csrf_field(p: &Principal) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(p.csrf.as_deref().unwrap_or_default())
    )
}

/// A table from a header row and body rows (cells are HTML already).
pub fn table(id: &str, head: &[&str], rows: &[Vec<String>]) -> String {
    let th: String = head
        .iter()
        .map(|h| format!("<th>{}</th>", esc(h)))
        .collect();
    let body: String = rows
        .iter()
        .map(|r| {
            let tds: String = r.iter().map(|c| format!("<td>{c}</td>")).collect();
            format!("<tr>{tds}</tr>")
        })
        .collect();
    format!("<table id=\"{id}\"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>")
}
