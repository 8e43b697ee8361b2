//! CloudFormation YAML into [`Node`]s.
//!
//! Why `saphyr-parser`: CloudFormation YAML needs the short-form intrinsic tags (`!Ref`,
//! `!GetAtt`, …) and we need the line and column of every key and value. `serde_yaml` drops
//! both (and is no longer maintained); `saphyr-parser` is the maintained YAML 1.2 event parser of
//! the `yaml-rust` line (successor of `yaml-rust2`), it reports each event's span and tag, and is
//! pure Rust with two small dependencies. We build the tree from its events ourselves.

use crate::node::{Key, Kind, MAX_DEPTH, Node, Pos, SyntaxError};
use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};
use std::collections::HashMap;

/// Aliases may expand a document at most this many nodes in total (the "billion laughs" bound).
const MAX_NODES: usize = 2_000_000;

/// Short-form tags and the long form they stand for.
fn long_form(tag: &str) -> Option<&'static str> {
    Some(match tag {
        "Ref" => "Ref",
        "Condition" => "Condition",
        "Sub" => "Fn::Sub",
        "GetAtt" => "Fn::GetAtt",
        "If" => "Fn::If",
        "Join" => "Fn::Join",
        "Select" => "Fn::Select",
        "Split" => "Fn::Split",
        "FindInMap" => "Fn::FindInMap",
        "Equals" => "Fn::Equals",
        "Not" => "Fn::Not",
        "And" => "Fn::And",
        "Or" => "Fn::Or",
        "Base64" => "Fn::Base64",
        "Cidr" => "Fn::Cidr",
        "GetAZs" => "Fn::GetAZs",
        "ImportValue" => "Fn::ImportValue",
        "Transform" => "Fn::Transform",
        "Length" => "Fn::Length",
        "ToJsonString" => "Fn::ToJsonString",
        _ => return None,
    })
}

fn pos(span: &Span) -> Pos {
    let m = span.start;
    Pos {
        line: m.line().min(u32::MAX as usize) as u32,
        column: (m.col() + 1).min(u32::MAX as usize) as u32,
    }
}

struct Frame {
    pos: Pos,
    tag: Option<Tag>,
    anchor: usize,
    /// Sequence items, or map keys and values alternately.
    items: Vec<Node>,
    is_map: bool,
}

/// Parses the first document of `text`.
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut nodes = 0usize;
    let mut root: Option<Node> = None;
    let mut last = Pos { line: 1, column: 1 };
    while let Some(ev) = parser.next_event() {
        let (ev, span) = ev.map_err(|e| SyntaxError {
            pos: Pos {
                line: e.marker().line() as u32,
                column: e.marker().col() as u32 + 1,
            },
            message: e.info().to_string(),
        })?;
        let at = pos(&span);
        last = at;
        let done = match ev {
            Event::Scalar(value, style, anchor, tag) => {
                let node = scalar(&value, style, tag.as_deref(), at)?;
                Some((node, anchor))
            }
            Event::SequenceStart(anchor, tag) => {
                open(&mut stack, at, tag.map(|t| t.into_owned()), anchor, false)?;
                None
            }
            Event::MappingStart(anchor, tag) => {
                open(&mut stack, at, tag.map(|t| t.into_owned()), anchor, true)?;
                None
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(f) = stack.pop() else {
                    return Err(SyntaxError {
                        pos: at,
                        message: "unbalanced collection end".into(),
                    });
                };
                let kind = if f.is_map {
                    map(f.items)?
                } else {
                    Kind::Seq(f.items)
                };
                let node = wrap(f.tag.as_ref(), Node::new(kind, f.pos))?;
                Some((node, f.anchor))
            }
            Event::Alias(id) => match anchors.get(&id) {
                Some(n) => {
                    nodes = nodes.saturating_add(count(n));
                    if nodes > MAX_NODES {
                        return Err(SyntaxError {
                            pos: at,
                            message: format!(
                                "aliases expand the document beyond {MAX_NODES} values"
                            ),
                        });
                    }
                    Some((n.clone(), 0))
                }
                None => {
                    return Err(SyntaxError {
                        pos: at,
                        message: "alias to an unknown anchor".into(),
                    });
                }
            },
            Event::DocumentEnd => break,
            _ => None,
        };
        if let Some((node, anchor)) = done {
            nodes += 1;
            if anchor > 0 {
                anchors.insert(anchor, node.clone());
            }
            match stack.last_mut() {
                Some(f) => f.items.push(node),
                None => {
                    root = Some(node);
                }
            }
        }
    }
    root.ok_or(SyntaxError {
        pos: last,
        message: "the document is empty".into(),
    })
}

fn open(
    stack: &mut Vec<Frame>,
    pos: Pos,
    tag: Option<Tag>,
    anchor: usize,
    is_map: bool,
) -> Result<(), SyntaxError> {
    if stack.len() >= MAX_DEPTH {
        return Err(SyntaxError {
            pos,
            message: format!("nesting deeper than {MAX_DEPTH} levels"),
        });
    }
    stack.push(Frame {
        pos,
        tag,
        anchor,
        items: Vec::new(),
        is_map,
    });
    Ok(())
}

fn count(n: &Node) -> usize {
    match &n.kind {
        Kind::Seq(v) => 1 + v.iter().map(count).sum::<usize>(),
        Kind::Map(m) => 1 + m.iter().map(|(_, v)| 1 + count(v)).sum::<usize>(),
        _ => 1,
    }
}

fn map(items: Vec<Node>) -> Result<Kind, SyntaxError> {
    let mut out: Vec<(Key, Node)> = Vec::with_capacity(items.len() / 2);
    let mut seen: HashMap<String, Pos> = HashMap::new();
    let mut it = items.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        let name = match k.kind {
            Kind::String(s) | Kind::Number(s) => s,
            Kind::Bool(b) => b.to_string(),
            Kind::Null => String::new(),
            _ => {
                return Err(SyntaxError {
                    pos: k.pos,
                    message: format!("a mapping key must be a scalar, not {}", k.kind_name()),
                });
            }
        };
        if let Some(first) = seen.insert(name.clone(), k.pos) {
            return Err(SyntaxError {
                pos: k.pos,
                message: format!("duplicate key `{name}` (first at {first})"),
            });
        }
        out.push((Key { name, pos: k.pos }, v));
    }
    Ok(Kind::Map(out))
}

/// `!Ref x` → `{"Ref": x}`; `!GetAtt A.B` → `{"Fn::GetAtt": ["A", "B"]}`; core-schema tags
/// (`!!str`) are honoured; an unknown local tag is an error naming it.
fn wrap(tag: Option<&Tag>, node: Node) -> Result<Node, SyntaxError> {
    let Some(tag) = tag else { return Ok(node) };
    if tag.handle == "!!" || tag.handle == "tag:yaml.org,2002:" {
        return Ok(node);
    }
    let Some(name) = long_form(&tag.suffix).filter(|_| tag.handle == "!") else {
        return Err(SyntaxError {
            pos: node.pos,
            message: format!(
                "unknown tag `{}{}`: CloudFormation's short forms are !Ref, !Sub, !GetAtt, !If, !Join, …",
                tag.handle, tag.suffix
            ),
        });
    };
    let at = node.pos;
    let value = if name == "Fn::GetAtt" {
        match &node.kind {
            Kind::String(s) => match s.split_once('.') {
                Some((res, attr)) => Node::new(
                    Kind::Seq(vec![
                        Node::new(Kind::String(res.into()), at),
                        Node::new(Kind::String(attr.into()), at),
                    ]),
                    at,
                ),
                None => node,
            },
            _ => node,
        }
    } else {
        node
    };
    Ok(Node::new(
        Kind::Map(vec![(
            Key {
                name: name.into(),
                pos: at,
            },
            value,
        )]),
        at,
    ))
}

fn scalar(
    value: &str,
    style: ScalarStyle,
    tag: Option<&Tag>,
    at: Pos,
) -> Result<Node, SyntaxError> {
    let forced_string = tag.is_some_and(|t| t.handle == "!!" && t.suffix == "str")
        || tag.is_some_and(|t| t.handle == "!");
    let kind = if style != ScalarStyle::Plain || forced_string {
        Kind::String(value.to_string())
    } else {
        plain(value)
    };
    wrap(tag, Node::new(kind, at))
}

/// YAML 1.2 core schema typing of a plain scalar.
fn plain(v: &str) -> Kind {
    match v {
        "" | "~" | "null" | "Null" | "NULL" => Kind::Null,
        "true" | "True" | "TRUE" => Kind::Bool(true),
        "false" | "False" | "FALSE" => Kind::Bool(false),
        _ if is_number(v) => Kind::Number(v.to_string()),
        _ => Kind::String(v.to_string()),
    }
}

fn is_number(v: &str) -> bool {
    let digits = v.strip_prefix(['-', '+']).unwrap_or(v);
    !digits.is_empty()
        && digits
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || b == b'.')
        && v.parse::<f64>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(n: &Node) -> (u32, u32) {
        (n.pos.line, n.pos.column)
    }

    #[test]
    fn short_forms_become_long_forms_with_positions() {
        let doc = parse(
            "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: !Sub '${AWS::StackName}-logs'\n      Arn: !GetAtt Key.Arn\n      Tags: [!Ref Env]\n",
        )
        .unwrap();
        let props = doc
            .get("Resources")
            .unwrap()
            .get("B")
            .unwrap()
            .get("Properties")
            .unwrap();
        let name = props.get("BucketName").unwrap();
        // A tagged value is positioned at its value (the parser's span starts after the tag).
        assert_eq!(at(name), (5, 24));
        assert_eq!(
            name.get("Fn::Sub").unwrap().as_str(),
            Some("${AWS::StackName}-logs")
        );
        let arn = props.get("Arn").unwrap().get("Fn::GetAtt").unwrap();
        match &arn.kind {
            Kind::Seq(v) => assert_eq!(v[0].as_str(), Some("Key")),
            k => panic!("{k:?}"),
        }
        let (k, _) = props.entry("Tags").unwrap();
        assert_eq!((k.pos.line, k.pos.column), (7, 7));
    }

    #[test]
    fn scalars_are_typed_like_yaml_1_2() {
        let doc = parse("a: true\nb: 'true'\nc: 80\nd: ~\ne: 0x1\nf: 1.5\n").unwrap();
        assert_eq!(doc.get("a").unwrap().kind, Kind::Bool(true));
        assert_eq!(doc.get("b").unwrap().kind, Kind::String("true".into()));
        assert_eq!(doc.get("c").unwrap().kind, Kind::Number("80".into()));
        assert_eq!(doc.get("d").unwrap().kind, Kind::Null);
        assert_eq!(doc.get("f").unwrap().kind, Kind::Number("1.5".into()));
    }

    #[test]
    fn errors_carry_positions() {
        let e = parse("a: 1\nb: [1, 2\n").unwrap_err();
        assert!(e.pos.line >= 2, "{e}");
        let e = parse("a: 1\na: 2\n").unwrap_err();
        assert_eq!((e.pos.line, e.pos.column), (2, 1));
        assert!(e.message.contains("duplicate key `a`"), "{e}");
        let e = parse("a: !Reff x\n").unwrap_err();
        assert!(e.message.contains("unknown tag `!Reff`"), "{e}");
    }

    #[test]
    fn aliases_are_bounded() {
        let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            doc.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n", p = i - 1));
        }
        assert!(parse(&doc).unwrap_err().message.contains("aliases expand"));
    }
}
