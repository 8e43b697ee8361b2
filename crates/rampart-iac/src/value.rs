//! Resolved values: what a property will be at deploy time, as far as the template or plan tells.
//!
//! A value is known, a *stand-in* (a deploy-time name whose exact text does not matter to the
//! checks that accept it: the account id, a resource's generated name), a reference to another
//! resource of the same deployment, or *unknown* — a parameter without a default, an import from
//! another stack, Terraform's "known after apply". Checks never read an unknown value as a pass.

use crate::node::Pos;

/// Why a Terraform attribute is unknown when the configuration does not set it: AWS or the
/// provider chooses it (a KMS key's default key policy, a generated name).
pub const PROVIDER_DEFAULT: &str = "not set in the configuration: AWS's default, known after apply";

#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    /// A deploy-time value with a representative text (`${AWS::AccountId}` without `--account`).
    Symbol(String),
    /// Another resource of this deployment (`!Ref Bucket`, `!GetAtt Role.Arn`,
    /// `aws_s3_bucket.logs.id`), with a representative text.
    Ref {
        resource: String,
        text: String,
    },
    List(Vec<V>),
    /// Keys in document order, each with its position.
    Map(Vec<(String, Pos, V)>),
    /// Cannot be known before deploy; says why.
    Unknown(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct V {
    pub val: Val,
    pub pos: Pos,
}

/// A property as a check reads it.
#[derive(Debug, Clone, PartialEq)]
pub enum Got<T> {
    Yes(T),
    Absent,
    /// The property is set, but its value cannot be known before deploy (or is not of the
    /// expected type): where, and why.
    Unknown {
        why: String,
        pos: Pos,
    },
}

impl V {
    pub fn new(val: Val, pos: Pos) -> V {
        V { val, pos }
    }

    pub fn get(&self, key: &str) -> Option<&V> {
        match &self.val {
            Val::Map(m) => m.iter().find(|(k, _, _)| k == key).map(|(_, _, v)| v),
            _ => None,
        }
    }

    /// `path` of map keys; a list on the way takes its first element (Terraform writes nested
    /// blocks as one-element lists).
    pub fn at(&self, path: &[&str]) -> Option<&V> {
        let mut cur = self;
        for key in path {
            cur = match &cur.val {
                Val::List(items) => items.first()?.get(key)?,
                _ => cur.get(key)?,
            };
        }
        match &cur.val {
            Val::List(items) if items.len() == 1 && matches!(items[0].val, Val::Map(_)) => {
                Some(&items[0])
            }
            _ => Some(cur),
        }
    }

    /// The key's own position in its map (for "add this property here" messages).
    pub fn key_pos(&self, key: &str) -> Option<Pos> {
        match &self.val {
            Val::Map(m) => m.iter().find(|(k, _, _)| k == key).map(|(_, p, _)| *p),
            _ => None,
        }
    }

    pub fn items(&self) -> &[V] {
        match &self.val {
            Val::List(v) => v,
            _ => std::slice::from_ref(self),
        }
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self.val, Val::Unknown(_))
    }

    /// The first unknown value inside (depth first), with why.
    pub fn first_unknown(&self) -> Option<(&str, Pos)> {
        match &self.val {
            Val::Unknown(why) => Some((why, self.pos)),
            Val::List(v) => v.iter().find_map(V::first_unknown),
            Val::Map(m) => m.iter().find_map(|(_, _, v)| v.first_unknown()),
            _ => None,
        }
    }

    /// The resource this value refers to, if it is a reference.
    pub fn target(&self) -> Option<&str> {
        match &self.val {
            Val::Ref { resource, .. } => Some(resource),
            _ => None,
        }
    }

    fn unknown<T>(&self, why: impl Into<String>) -> Got<T> {
        Got::Unknown {
            why: why.into(),
            pos: self.pos,
        }
    }

    fn not_exact<T>(&self, what: &str) -> Option<Got<T>> {
        match &self.val {
            Val::Unknown(why) => Some(self.unknown(why.clone())),
            Val::Symbol(t) => Some(self.unknown(format!(
                "the {what} is decided at deploy time (stands for `{t}`)"
            ))),
            Val::Ref { resource, .. } => Some(self.unknown(format!(
                "the {what} comes from resource {resource} at deploy time"
            ))),
            _ => None,
        }
    }
}

/// A boolean property; CloudFormation also accepts the strings `"true"`/`"false"`.
pub fn boolean(v: Option<&V>) -> Got<bool> {
    let Some(v) = v else { return Got::Absent };
    if let Some(g) = v.not_exact("value") {
        return g;
    }
    match &v.val {
        Val::Null => Got::Absent,
        Val::Bool(b) => Got::Yes(*b),
        Val::Str(s) if s.eq_ignore_ascii_case("true") => Got::Yes(true),
        Val::Str(s) if s.eq_ignore_ascii_case("false") => Got::Yes(false),
        _ => v.unknown("not a boolean"),
    }
}

/// A string property known exactly.
pub fn string(v: Option<&V>) -> Got<String> {
    let Some(v) = v else { return Got::Absent };
    if let Some(g) = v.not_exact("value") {
        return g;
    }
    match &v.val {
        Val::Null => Got::Absent,
        Val::Str(s) | Val::Num(s) => Got::Yes(s.clone()),
        Val::Bool(b) => Got::Yes(b.to_string()),
        _ => v.unknown("not a string"),
    }
}

/// An integer property known exactly.
pub fn integer(v: Option<&V>) -> Got<i64> {
    match string(v) {
        Got::Yes(s) => match s.trim().parse::<f64>() {
            Ok(n) if n.fract() == 0.0 => Got::Yes(n as i64),
            _ => v.map_or(Got::Absent, |v| v.unknown(format!("`{s}` is not a number"))),
        },
        Got::Absent => Got::Absent,
        Got::Unknown { why, pos } => Got::Unknown { why, pos },
    }
}

/// Set to anything at all (a key id, a reference): for "is a KMS key configured" questions. An
/// unknown value may still be empty, so it stays unknown.
pub fn present(v: Option<&V>) -> Got<bool> {
    match v.map(|v| &v.val) {
        None | Some(Val::Null) => Got::Yes(false),
        Some(Val::Str(s)) if s.is_empty() => Got::Yes(false),
        Some(Val::Unknown(why)) => Got::Unknown {
            why: why.clone(),
            pos: v.map(|v| v.pos).unwrap_or_default(),
        },
        Some(_) => Got::Yes(true),
    }
}

/// The value as JSON, stand-ins by their text (for policy documents): `Err` names the first
/// unknown part.
pub fn to_json(v: &V) -> Result<serde_json::Value, (String, Pos)> {
    use serde_json::Value as J;
    Ok(match &v.val {
        Val::Null => J::Null,
        Val::Bool(b) => J::Bool(*b),
        Val::Num(n) => n
            .parse::<serde_json::Number>()
            .map(J::Number)
            .unwrap_or_else(|_| J::String(n.clone())),
        Val::Str(s) | Val::Symbol(s) => J::String(s.clone()),
        Val::Ref { text, .. } => J::String(text.clone()),
        Val::List(items) => J::Array(items.iter().map(to_json).collect::<Result<_, _>>()?),
        Val::Map(m) => {
            let mut o = serde_json::Map::new();
            for (k, _, v) in m {
                o.insert(k.clone(), to_json(v)?);
            }
            J::Object(o)
        }
        Val::Unknown(why) => return Err((why.clone(), v.pos)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(val: Val) -> V {
        V::new(val, Pos { line: 3, column: 7 })
    }

    #[test]
    fn unknown_and_stand_ins_are_never_exact() {
        assert_eq!(boolean(Some(&v(Val::Str("TRUE".into())))), Got::Yes(true));
        assert_eq!(boolean(None), Got::Absent);
        assert!(
            matches!(boolean(Some(&v(Val::Unknown("p".into())))), Got::Unknown { pos, .. } if pos.line == 3)
        );
        assert!(matches!(
            boolean(Some(&v(Val::Symbol("x".into())))),
            Got::Unknown { .. }
        ));
        assert!(matches!(
            boolean(Some(&v(Val::Str("yes".into())))),
            Got::Unknown { .. }
        ));
        assert_eq!(integer(Some(&v(Val::Num("22".into())))), Got::Yes(22));
        assert_eq!(present(Some(&v(Val::Symbol("k".into())))), Got::Yes(true));
        assert!(to_json(&v(Val::List(vec![v(Val::Unknown("why".into()))]))).is_err());
    }
}
