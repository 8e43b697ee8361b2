//! One-line errors that name the store (password redacted) and say what to do.

/// What went wrong, for callers that react differently (e.g. exit codes, tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The URL is not one the store understands.
    BadUrl,
    /// The database could not be reached or opened.
    Unreachable,
    /// The file is not an SQLite database (or is damaged).
    Corrupt,
    /// A database with tables that rampart did not create.
    Foreign,
    /// Written by a newer rampart: its schema version is above the one this binary knows.
    TooNew,
    /// `copy_to` into a store that already holds data.
    NotEmpty,
    /// A run asked for does not exist or is of the wrong kind.
    NotFound,
    /// A query or write failed.
    Database,
    /// Writing an export failed.
    Io,
}

/// A store error: `store URL: what happened; what to do`, one line, password redacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError {
    kind: ErrorKind,
    url: String,
    message: String,
}

impl StoreError {
    /// `url` may hold a password: it is redacted here, and any copy of the password in
    /// `message` (database drivers sometimes echo connection strings) is masked too.
    pub fn new(kind: ErrorKind, url: &str, message: impl Into<String>) -> StoreError {
        let mut message: String = message.into();
        if let Some(password) = password_of(url).filter(|p| !p.is_empty()) {
            message = message.replace(&password, "***");
        }
        let message = message.replace(['\n', '\r'], " ");
        StoreError {
            kind,
            url: redact_url(url),
            message: message.trim().to_string(),
        }
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The store's URL, password redacted.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "store {}: {}", self.url, self.message)
    }
}

impl std::error::Error for StoreError {}

/// The URL with its password replaced by `***` (URL user-info, `password=` query parameters
/// and `password=` words of a key=value connection string).
pub fn redact_url(url: &str) -> String {
    let mut out = url.to_string();
    if let Some((start, end)) = userinfo_password_span(&out) {
        out.replace_range(start..end, "***");
    }
    redact_key_values(&out)
}

/// The password of a URL or connection string, if it has one (percent-decoding is not applied:
/// the raw text is what could leak).
fn password_of(url: &str) -> Option<String> {
    if let Some((start, end)) = userinfo_password_span(url) {
        return Some(url[start..end].to_string());
    }
    let lower = url.to_ascii_lowercase();
    let at = lower.find("password=")?;
    let rest = &url[at + "password=".len()..];
    let end = rest.find(['&', ' ', ';']).unwrap_or(rest.len());
    Some(rest[..end].to_string())
}

/// Byte range of the password in `scheme://user:password@host...`.
fn userinfo_password_span(url: &str) -> Option<(usize, usize)> {
    let scheme_end = url.find("://")? + 3;
    let authority_end = url[scheme_end..]
        .find(['/', '?', '#'])
        .map(|i| scheme_end + i)
        .unwrap_or(url.len());
    let authority = &url[scheme_end..authority_end];
    let at = authority.rfind('@')?;
    let colon = authority[..at].find(':')?;
    Some((scheme_end + colon + 1, scheme_end + at))
}

/// `password=...` in a query string or key=value connection string becomes `password=***`.
fn redact_key_values(s: &str) -> String {
    let lower = s.to_ascii_lowercase();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while let Some(found) = lower[i..].find("password=") {
        let start = i + found + "password=".len();
        out.push_str(&s[i..start]);
        let end = s[start..]
            .find(['&', ' ', ';'])
            .map(|e| start + e)
            .unwrap_or(s.len());
        out.push_str("***");
        i = end;
    }
    out.push_str(&s[i..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_everywhere() {
        assert_eq!(
            redact_url("postgres://u:secret@127.0.0.1:1/db"),
            "postgres://u:***@127.0.0.1:1/db"
        );
        assert_eq!(
            redact_url("postgresql://u:p%40ss@h/db?sslmode=disable"),
            "postgresql://u:***@h/db?sslmode=disable"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            redact_url("postgres:///db?user=u&password=pw&host=/tmp"),
            "postgres:///db?user=u&password=***&host=/tmp"
        );
        assert_eq!(
            redact_url("host=h user=u password=pw dbname=d"),
            "host=h user=u password=*** dbname=d"
        );
        assert_eq!(redact_url("sqlite://rampart.db"), "sqlite://rampart.db");
    }

    #[test]
    fn errors_are_one_line_without_the_password() {
        let e = StoreError::new(
            ErrorKind::Unreachable,
            "postgres://u:secret@127.0.0.1:1/db",
            "cannot connect to postgres://u:secret@127.0.0.1:1/db:\nrefused",
        );
        let text = e.to_string();
        assert!(!text.contains("secret"), "{text}");
        assert!(text.contains("***"), "{text}");
        assert!(!text.contains('\n'), "{text}");
        assert!(text.starts_with("store postgres://u:***@127.0.0.1:1/db: "));
    }
}
