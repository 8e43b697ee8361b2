//! Who made a call: the IAM identity behind a CloudTrail `userIdentity`, reduced to what
//! policies attach to — a role's sessions (`assumed-role/NAME/SESSION`) are the role, a user's
//! calls the user.
//!
//! Role and user names are unique within an account whatever their path, so an identity is
//! (partition, account, kind, name); `assumed-role` ARNs carry no path, and matching by name is
//! what makes `arn:aws:iam::A:role/team/app` match the sessions of `app`.

use rampart_trail::Event;
use serde::Serialize;
use serde_json::Value;

/// The kinds of principal a generated policy can be attached to (or, for federated users,
/// passed as the session policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    User,
    Role,
    Root,
    FederatedUser,
}

/// An identity borrowed from an ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Identity<'a> {
    pub partition: &'a str,
    pub account: &'a str,
    pub kind: Kind,
    /// The name without its path; empty for the root.
    pub name: &'a str,
}

impl<'a> Identity<'a> {
    /// The identity an ARN names: an IAM user or role (any path), an `assumed-role` session (its
    /// role), a federated user, or the account root. `None` for anything else.
    pub fn of_arn(arn: &'a str) -> Option<Identity<'a>> {
        let mut parts = arn.splitn(6, ':');
        let (Some("arn"), Some(partition), Some(service), Some(_region), Some(account), Some(res)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return None;
        };
        if account.is_empty() || partition.is_empty() {
            return None;
        }
        let last = |s: &'a str| s.rsplit('/').next().filter(|n| !n.is_empty());
        let (kind, name) = match (service, res.split_once('/')) {
            ("iam", None) if res == "root" => (Kind::Root, ""),
            ("iam", Some(("user", rest))) => (Kind::User, last(rest)?),
            ("iam", Some(("role", rest))) => (Kind::Role, last(rest)?),
            ("sts", Some(("assumed-role", rest))) => (
                Kind::Role,
                rest.split('/').next().filter(|n| !n.is_empty())?,
            ),
            ("sts", Some(("federated-user", rest))) => (Kind::FederatedUser, last(rest)?),
            _ => return None,
        };
        Some(Identity {
            partition,
            account,
            kind,
            name,
        })
    }

    /// Writes the canonical ARN (no path) into `out`, replacing what it held.
    pub fn write_arn(&self, out: &mut String) {
        out.clear();
        let (svc, res) = match self.kind {
            Kind::User => ("iam", "user/"),
            Kind::Role => ("iam", "role/"),
            Kind::Root => ("iam", "root"),
            Kind::FederatedUser => ("sts", "federated-user/"),
        };
        for s in [
            "arn:",
            self.partition,
            ":",
            svc,
            "::",
            self.account,
            ":",
            res,
            self.name,
        ] {
            out.push_str(s);
        }
    }

    /// The canonical ARN (no path): the key principals are grouped by.
    pub fn arn(&self) -> String {
        let mut s = String::new();
        self.write_arn(&mut s);
        s
    }
}

/// `userIdentity.arn` of an event, else its `sessionContext.sessionIssuer.arn`: read from the
/// reader's member index when it can answer, from the document otherwise.
pub fn caller_arn<'e>(ev: &'e Event<'_>) -> Option<&'e str> {
    if let Some(found) = ev.identity_member("arn") {
        if let Some(s) = found.and_then(|m| ev.member_str(&m)) {
            return Some(s);
        }
        // absent, or an escaped string: the document decides below
        if found.is_none() && matches!(ev.identity_member("sessionContext"), Some(None)) {
            return None;
        }
    }
    let ui = ev.doc()?.get("userIdentity")?;
    ui.get("arn")
        .and_then(Value::as_str)
        .or_else(|| ui.pointer("/sessionContext/sessionIssuer/arn")?.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_reduce_to_what_policies_attach_to() {
        let role = Identity::of_arn("arn:aws:iam::111122223333:role/team/app").unwrap();
        let session =
            Identity::of_arn("arn:aws:sts::111122223333:assumed-role/app/i-0abc").unwrap();
        assert_eq!(role, session);
        assert_eq!(role.arn(), "arn:aws:iam::111122223333:role/app");
        let user = Identity::of_arn("arn:aws:iam::111122223333:user/ops/alice").unwrap();
        assert_eq!((user.kind, user.name), (Kind::User, "alice"));
        assert_eq!(
            Identity::of_arn("arn:aws-cn:iam::111122223333:root")
                .unwrap()
                .arn(),
            "arn:aws-cn:iam::111122223333:root"
        );
        let fed = Identity::of_arn("arn:aws:sts::111122223333:federated-user/bob").unwrap();
        assert_eq!(fed.arn(), "arn:aws:sts::111122223333:federated-user/bob");
        assert_ne!(
            Identity::of_arn("arn:aws:iam::111122223333:user/app"),
            Identity::of_arn("arn:aws:iam::111122223333:role/app")
        );
        for bad in [
            "",
            "arn:aws:s3:::b",
            "arn:aws:iam::111122223333:role/",
            "arn:aws:iam:::user/x",
            "role/x",
        ] {
            assert_eq!(Identity::of_arn(bad), None, "{bad}");
        }
    }

    #[test]
    fn caller_from_the_index_or_the_document() {
        let fast = br#"{"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/a"}}"#;
        assert_eq!(
            caller_arn(&Event::parse(fast).unwrap()),
            Some("arn:aws:iam::1:user/a")
        );
        let escaped = br#"{"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user\/a"}}"#;
        assert_eq!(
            caller_arn(&Event::parse(escaped).unwrap()),
            Some("arn:aws:iam::1:user/a")
        );
        let issuer = br#"{"userIdentity":{"type":"AssumedRole","sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::1:role/r"}}}}"#;
        assert_eq!(
            caller_arn(&Event::parse(issuer).unwrap()),
            Some("arn:aws:iam::1:role/r")
        );
        let service = br#"{"userIdentity":{"type":"AWSService","invokedBy":"x"}}"#;
        assert_eq!(caller_arn(&Event::parse(service).unwrap()), None);
    }
}
