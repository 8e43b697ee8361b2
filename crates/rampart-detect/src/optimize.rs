//! Rewrites a rule's condition into an equivalent one that is cheaper to evaluate; the engine
//! runs it once per rule when it is built. Every rewrite is exact:
//!
//! - a list of `contains` tests of one field (`userAgent|contains: [kali, parrot, pentoo]`)
//!   becomes one [`Predicate::ContainsAny`] pass over the string;
//! - nested `All`s (and `Any`s) are merged into one, and one with a single child is that child;
//! - the children of `All` and `Any` are ordered cheapest first — typed-header fields, then
//!   `userIdentity` members (indexed by the reader), then other members, searches of the raw
//!   event, filter patterns — so that short-circuiting skips the expensive tests. Evaluation
//!   has no side effects, so the order never changes an answer (the `raw_vs_doc` and
//!   `optimized_rules_agree` property tests check it).

use crate::ir::{Condition, ContainsSet, FieldPath, Predicate, Reach, Segment, StrOp};

/// The optimized form of `c`.
pub fn condition(c: Condition) -> Condition {
    match c {
        Condition::Match { field, reach, pred } => Condition::Match {
            field,
            reach,
            pred: predicate(pred),
        },
        Condition::All(cs) => one_or(Condition::All, cheapest_first(flatten(cs, true))),
        Condition::Any(cs) => one_or(Condition::Any, cheapest_first(flatten(cs, false))),
        Condition::Not(c) => Condition::Not(Box::new(condition(*c))),
        Condition::AnyItem(mut q) => {
            q.cond = condition(std::mem::replace(&mut q.cond, Condition::Const(false)));
            Condition::AnyItem(q)
        }
        other => other,
    }
}

/// The children of an `All` (`all`) or `Any`, with children of the same kind spliced in:
/// `all(a, all(b, c))` is `all(a, b, c)`, one level of evaluation fewer.
fn flatten(cs: Vec<Condition>, all: bool) -> Vec<Condition> {
    let mut out = Vec::with_capacity(cs.len());
    for c in cs {
        match c {
            Condition::All(inner) if all => out.extend(flatten(inner, all)),
            Condition::Any(inner) if !all => out.extend(flatten(inner, all)),
            other => out.push(other),
        }
    }
    out
}

/// A single child stands for its `All` or `Any` (both are the child's value); otherwise `wrap`.
fn one_or(wrap: fn(Vec<Condition>) -> Condition, mut cs: Vec<Condition>) -> Condition {
    if cs.len() == 1 {
        cs.pop().expect("one child")
    } else {
        wrap(cs)
    }
}

fn cheapest_first(cs: Vec<Condition>) -> Vec<Condition> {
    let mut cs: Vec<Condition> = cs.into_iter().map(condition).collect();
    // stable: equal costs keep the author's order
    cs.sort_by_key(cost);
    cs
}

/// The optimized form of `p`: `contains` tests under one `Any` are searched in one pass.
pub fn predicate(p: Predicate) -> Predicate {
    match p {
        Predicate::Any(ps) => {
            let ps: Vec<Predicate> = ps.into_iter().map(predicate).collect();
            let mut out = Vec::with_capacity(ps.len());
            let mut groups: [Vec<String>; 2] = [Vec::new(), Vec::new()];
            for p in ps {
                match p {
                    Predicate::Str(m) if m.op == StrOp::Contains && m.needle.is_ascii() => {
                        groups[usize::from(m.case_insensitive)].push(m.needle)
                    }
                    other => out.push(other),
                }
            }
            for (ci, needles) in groups.into_iter().enumerate() {
                let case_insensitive = ci == 1;
                match needles.len() {
                    0 => {}
                    1 => out.push(Predicate::Str(crate::ir::StrMatch::new(
                        StrOp::Contains,
                        &needles[0],
                        case_insensitive,
                    ))),
                    _ => out.push(match ContainsSet::new(needles.clone(), case_insensitive) {
                        Some(set) => Predicate::ContainsAny(set),
                        None => Predicate::Any(
                            needles
                                .iter()
                                .map(|n| {
                                    Predicate::Str(crate::ir::StrMatch::new(
                                        StrOp::Contains,
                                        n,
                                        case_insensitive,
                                    ))
                                })
                                .collect(),
                        ),
                    }),
                }
            }
            if out.len() == 1 {
                out.pop().expect("one predicate")
            } else {
                Predicate::Any(out)
            }
        }
        Predicate::All(ps) => Predicate::All(ps.into_iter().map(predicate).collect()),
        other => other,
    }
}

/// A rough, relative cost of evaluating `c` on one event (not a measurement: only the order
/// matters).
pub fn cost(c: &Condition) -> u32 {
    match c {
        Condition::Const(_) => 0,
        Condition::Match { field, reach, pred } => {
            let reach_cost = match reach {
                Reach::Path if field.header_index().is_some() => 1,
                Reach::Path if is_identity_member(field) => 4,
                Reach::Path => 8 + 4 * field.segments().len() as u32,
                Reach::Anywhere => 24 + 4 * field.segments().len() as u32,
            };
            reach_cost + predicate_cost(pred)
        }
        // A negated test is usually true (filters out the rare exception), so it rarely ends
        // an `All` early: after the positive tests.
        Condition::Not(c) => cost(c) + 16,
        Condition::All(cs) | Condition::Any(cs) => cs.iter().map(cost).sum(),
        // a search of the whole record
        Condition::RawContains(_) => 30,
        // parses the members it reads
        Condition::Pattern(_) => 60,
        // parses the values it reaches (a policy), then tests every item
        Condition::AnyItem(q) => 40 + 4 * q.path.segments().len() as u32 + 2 * cost(&q.cond),
        // builds the document and runs an analysis (a policy engine's): always last
        Condition::Judge(_) => 10_000,
    }
}

fn predicate_cost(p: &Predicate) -> u32 {
    match p {
        Predicate::Null | Predicate::Exists(_) | Predicate::Bool(_) => 0,
        Predicate::OneOf { .. } => 1,
        Predicate::Str(m) if m.op == StrOp::Equals => 1,
        Predicate::Str(_) | Predicate::ContainsAny(_) => 2,
        // parses a number or an address from the text
        Predicate::Num(..) => 4,
        Predicate::Regex(_) | Predicate::Cidr(_) => 8,
        // needs the whole document
        Predicate::FieldRef { .. } => 100,
        Predicate::Any(ps) | Predicate::All(ps) => ps.iter().map(predicate_cost).sum(),
    }
}

/// `userIdentity.<key>`: the reader indexes these members while it reads the header.
fn is_identity_member(f: &FieldPath) -> bool {
    matches!(f.segments(), [Segment::Key(a), Segment::Key(_)] if a == "userIdentity")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::StrMatch;

    fn contains(n: &str, ci: bool) -> Predicate {
        Predicate::Str(StrMatch::new(StrOp::Contains, n, ci))
    }

    #[test]
    fn contains_lists_become_one_search() {
        let p = predicate(Predicate::Any(vec![
            contains("kali", true),
            contains("parrot", true),
            Predicate::Null,
            contains("pentoo", true),
            contains("Exact", false),
        ]));
        let Predicate::Any(ps) = &p else {
            panic!("{p:?}")
        };
        assert_eq!(ps.len(), 3, "{ps:?}");
        assert!(
            ps.iter()
                .any(|p| matches!(p, Predicate::ContainsAny(s) if s.needles.len() == 3))
        );
        let set = ps
            .iter()
            .find_map(|p| match p {
                Predicate::ContainsAny(s) => Some(s),
                _ => None,
            })
            .unwrap();
        assert!(set.test("aws-cli/2 Linux/6.0-KALI3"));
        assert!(set.test("x parrOt y"));
        assert!(!set.test("aws-sdk-go"));
        // Unicode lowering: the Kelvin sign lowers to `k`, as `StrMatch` would see it
        assert!(set.test("\u{212A}ali"));
        assert_eq!(
            contains("kali", true).clone_test("\u{212A}ali"),
            set.test("\u{212A}ali")
        );
    }

    #[test]
    fn cheap_tests_go_first() {
        let c = condition(Condition::All(vec![
            Condition::raw_contains("x"),
            Condition::eq("userIdentity.type", "Root"),
            Condition::eq("requestParameters.a.b", "c"),
            Condition::eq("eventName", "X"),
        ]));
        let Condition::All(cs) = c else { panic!() };
        let order: Vec<u32> = cs.iter().map(cost).collect();
        assert!(order.windows(2).all(|w| w[0] <= w[1]), "{order:?}");
        assert!(matches!(&cs[0], Condition::Match { field, .. } if field.as_str() == "eventName"));
        assert!(matches!(&cs[3], Condition::RawContains(_)));
    }

    proptest::proptest! {
        /// One pass over the set answers as one `contains` test per needle does.
        #[test]
        fn a_set_answers_as_its_tests(
            needles in proptest::collection::vec("[aAbK\u{212A}é]{1,3}", 1..5),
            hay in "[aAbBkK\u{212A}é ]{0,80}",
            ci in proptest::bool::ANY,
        ) {
            let tests: Vec<StrMatch> =
                needles.iter().map(|n| StrMatch::new(StrOp::Contains, n, ci)).collect();
            let expect = tests.iter().any(|t| t.test(&hay));
            let stored: Vec<String> = tests.iter().map(|t| t.needle.clone()).collect();
            if let Some(set) = ContainsSet::new(stored, ci) {
                proptest::prop_assert_eq!(set.test(&hay), expect, "{:?} in {:?}", needles, hay);
            }
            let p = predicate(Predicate::Any(tests.into_iter().map(Predicate::Str).collect()));
            proptest::prop_assert_eq!(crate::engine::test_pred_on_str(&p, &hay), expect);
        }
    }

    trait CloneTest {
        fn clone_test(&self, s: &str) -> bool;
    }
    impl CloneTest for Predicate {
        fn clone_test(&self, s: &str) -> bool {
            match self {
                Predicate::Str(m) => m.test(s),
                _ => unreachable!(),
            }
        }
    }
}
