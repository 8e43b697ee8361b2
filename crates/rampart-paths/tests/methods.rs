//! One named case per escalation method: the world (an admin role every code-running service
//! may assume, an admin user, an admin group), an attacker granted exactly what the method
//! needs, and four runs — the method works; a condition on the granting statement blocks it;
//! a permissions boundary blocks it; an SCP blocks it.

mod support;

use rampart_paths::{METHODS, To};
use support::*;

#[derive(Clone, Copy, PartialEq)]
enum Attacker {
    /// IAM user `mallory`.
    User,
    /// Role `mallory-role` (acting through a session).
    Role,
}

#[derive(Clone, Copy, PartialEq)]
enum Place {
    /// An inline policy of the attacker.
    Inline,
    /// A customer managed policy `mallory-policy` attached to the attacker.
    Managed,
    /// The attacker has AdministratorAccess; the statement is its permissions boundary.
    Boundary,
}

struct Case {
    method: &'static str,
    attacker: Attacker,
    /// What the granting statement allows; the negatives block the first action.
    grant: &'static [&'static str],
    place: Place,
    setup: fn(&mut Fx),
}

const SERVICES: &str = r#"{"Service":["lambda.amazonaws.com","ec2.amazonaws.com","cloudformation.amazonaws.com","glue.amazonaws.com","datapipeline.amazonaws.com","codebuild.amazonaws.com","sagemaker.amazonaws.com","ecs-tasks.amazonaws.com"]}"#;

fn nothing(_: &mut Fx) {}

fn world(fx: &mut Fx) {
    let r = fx.role("admin-role", &trust(SERVICES));
    r.attached_policies.push(ADMIN_POLICY.into());
    r.instance_profiles
        .push(arn("instance-profile", "admin-profile"));
    fx.user("admin-user")
        .attached_policies
        .push(ADMIN_POLICY.into());
    fx.group("admins")
        .attached_policies
        .push(ADMIN_POLICY.into());
}

const CASES: &[Case] = &[
    Case {
        method: "sts-assume-role",
        attacker: Attacker::User,
        grant: &["sts:AssumeRole"],
        place: Place::Inline,
        setup: |fx| {
            fx.role("admin-role", "").trust_policy = trust(&format!(r#"{{"AWS":"{ACCT}"}}"#));
        },
    },
    Case {
        method: "iam-update-assume-role-policy",
        attacker: Attacker::User,
        grant: &["iam:UpdateAssumeRolePolicy"],
        place: Place::Inline,
        setup: nothing,
    },
    Case {
        method: "iam-create-access-key",
        attacker: Attacker::User,
        grant: &["iam:CreateAccessKey"],
        place: Place::Inline,
        setup: nothing,
    },
    Case {
        method: "iam-create-login-profile",
        attacker: Attacker::User,
        grant: &["iam:CreateLoginProfile"],
        place: Place::Inline,
        setup: nothing,
    },
    Case {
        method: "iam-update-login-profile",
        attacker: Attacker::User,
        grant: &["iam:UpdateLoginProfile"],
        place: Place::Inline,
        setup: |fx| fx.user("admin-user").has_console_password = true,
    },
    Case {
        method: "iam-add-user-to-group",
        attacker: Attacker::User,
        grant: &["iam:AddUserToGroup"],
        place: Place::Inline,
        setup: nothing,
    },
    Case {
        method: "iam-put-user-policy",
        attacker: Attacker::User,
        grant: &["iam:PutUserPolicy"],
        place: Place::Inline,
        setup: nothing,
    },
    Case {
        method: "iam-attach-user-policy",
        attacker: Attacker::User,
        grant: &["iam:AttachUserPolicy"],
        place: Place::Inline,
        setup: nothing,
    },
    Case {
        method: "iam-put-role-policy",
        attacker: Attacker::Role,
        grant: &["iam:PutRolePolicy"],
        place: Place::Inline,
        setup: nothing,
    },
    Case {
        method: "iam-attach-role-policy",
        attacker: Attacker::Role,
        grant: &["iam:AttachRolePolicy"],
        place: Place::Inline,
        setup: nothing,
    },
    Case {
        method: "iam-put-group-policy",
        attacker: Attacker::User,
        grant: &["iam:PutGroupPolicy"],
        place: Place::Inline,
        setup: |fx| {
            fx.group("devs");
            fx.user("mallory").groups.push("devs".into());
        },
    },
    Case {
        method: "iam-attach-group-policy",
        attacker: Attacker::User,
        grant: &["iam:AttachGroupPolicy"],
        place: Place::Inline,
        setup: |fx| {
            fx.group("devs");
            fx.user("mallory").groups.push("devs".into());
        },
    },
    Case {
        method: "iam-create-policy-version",
        attacker: Attacker::User,
        grant: &["iam:CreatePolicyVersion"],
        place: Place::Managed,
        setup: nothing,
    },
    Case {
        method: "iam-set-default-policy-version",
        attacker: Attacker::User,
        grant: &["iam:SetDefaultPolicyVersion"],
        place: Place::Managed,
        setup: |fx| {
            let p = fx
                .iam()
                .policies
                .iter_mut()
                .find(|p| p.name == "mallory-policy")
                .unwrap();
            p.versions = vec![
                PolicyVersion {
                    version_id: "v1".into(),
                    is_default: false,
                    document: ALLOW_ALL.into(),
                },
                PolicyVersion {
                    version_id: "v2".into(),
                    is_default: true,
                    document: p.document.clone(),
                },
            ];
        },
    },
    Case {
        method: "iam-delete-user-permissions-boundary",
        attacker: Attacker::User,
        grant: &["iam:DeleteUserPermissionsBoundary"],
        place: Place::Boundary,
        setup: nothing,
    },
    Case {
        method: "iam-delete-role-permissions-boundary",
        attacker: Attacker::Role,
        grant: &["iam:DeleteRolePermissionsBoundary"],
        place: Place::Boundary,
        setup: nothing,
    },
    Case {
        method: "iam-put-user-permissions-boundary",
        attacker: Attacker::User,
        grant: &["iam:PutUserPermissionsBoundary"],
        place: Place::Boundary,
        setup: nothing,
    },
    Case {
        method: "iam-put-role-permissions-boundary",
        attacker: Attacker::Role,
        grant: &["iam:PutRolePermissionsBoundary"],
        place: Place::Boundary,
        setup: nothing,
    },
    Case {
        method: "iam-put-role-policy-then-assume",
        attacker: Attacker::User,
        grant: &["iam:PutRolePolicy"],
        place: Place::Inline,
        setup: |fx| {
            fx.role(
                "worker",
                &trust(&format!(r#"{{"AWS":"{}"}}"#, arn("user", "mallory"))),
            );
        },
    },
    Case {
        method: "iam-attach-role-policy-then-assume",
        attacker: Attacker::User,
        grant: &["iam:AttachRolePolicy"],
        place: Place::Inline,
        setup: |fx| {
            fx.role(
                "worker",
                &trust(&format!(r#"{{"AWS":"{}"}}"#, arn("user", "mallory"))),
            );
        },
    },
    Case {
        method: "passrole-lambda-invoke",
        attacker: Attacker::User,
        grant: &[
            "iam:PassRole",
            "lambda:CreateFunction",
            "lambda:InvokeFunction",
        ],
        place: Place::Inline,
        setup: nothing,
    },
    Case {
        method: "passrole-lambda-event-source",
        attacker: Attacker::User,
        grant: &[
            "iam:PassRole",
            "lambda:CreateFunction",
            "lambda:CreateEventSourceMapping",
        ],
        place: Place::Inline,
        setup: nothing,
    },
    Case {
        method: "passrole-ec2-run-instances",
        attacker: Attacker::User,
        grant: &["iam:PassRole", "ec2:RunInstances"],
        place: Place::Inline,
        setup: nothing,
    },
    Case {
        method: "passrole-cloudformation",
        attacker: Attacker::User,
        grant: &["iam:PassRole", "cloudformation:CreateStack"],
        place: Place::Inline,
        setup: nothing,
    },
    Case {
        method: "passrole-glue-dev-endpoint",
        attacker: Attacker::User,
        grant: &["iam:PassRole", "glue:CreateDevEndpoint"],
        place: Place::Inline,
        setup: nothing,
    },
    Case {
        method: "passrole-glue-job",
        attacker: Attacker::User,
        grant: &["iam:PassRole", "glue:CreateJob", "glue:StartJobRun"],
        place: Place::Inline,
        setup: nothing,
    },
    Case {
        method: "passrole-datapipeline",
        attacker: Attacker::User,
        grant: &[
            "iam:PassRole",
            "datapipeline:CreatePipeline",
            "datapipeline:PutPipelineDefinition",
            "datapipeline:ActivatePipeline",
        ],
        place: Place::Inline,
        setup: nothing,
    },
    Case {
        method: "passrole-codebuild",
        attacker: Attacker::User,
        grant: &[
            "iam:PassRole",
            "codebuild:CreateProject",
            "codebuild:StartBuild",
        ],
        place: Place::Inline,
        setup: nothing,
    },
    Case {
        method: "passrole-sagemaker-notebook",
        attacker: Attacker::User,
        grant: &[
            "iam:PassRole",
            "sagemaker:CreateNotebookInstance",
            "sagemaker:CreatePresignedNotebookInstanceUrl",
        ],
        place: Place::Inline,
        setup: nothing,
    },
    Case {
        method: "passrole-sagemaker-training",
        attacker: Attacker::User,
        grant: &["iam:PassRole", "sagemaker:CreateTrainingJob"],
        place: Place::Inline,
        setup: nothing,
    },
    Case {
        method: "passrole-sagemaker-processing",
        attacker: Attacker::User,
        grant: &["iam:PassRole", "sagemaker:CreateProcessingJob"],
        place: Place::Inline,
        setup: nothing,
    },
    Case {
        method: "passrole-ecs-run-task",
        attacker: Attacker::User,
        grant: &["iam:PassRole", "ecs:RegisterTaskDefinition", "ecs:RunTask"],
        place: Place::Inline,
        setup: nothing,
    },
    Case {
        method: "lambda-update-function-code",
        attacker: Attacker::User,
        grant: &["lambda:UpdateFunctionCode"],
        place: Place::Inline,
        setup: nothing,
    },
    Case {
        method: "glue-update-dev-endpoint",
        attacker: Attacker::User,
        grant: &["glue:UpdateDevEndpoint"],
        place: Place::Inline,
        setup: nothing,
    },
];

use rampart_snapshot::PolicyVersion;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Block {
    None,
    Condition,
    Boundary,
    Scp,
}

/// A condition the analysis can settle (the caller's account is known) and that fails.
const FAILING: &str = r#"{"StringEquals":{"aws:PrincipalAccount":"222222222222"}}"#;

fn build(case: &Case, block: Block) -> (Fx, String) {
    let mut fx = Fx::new();
    world(&mut fx);
    let cond = (block == Block::Condition).then_some(FAILING);
    let grant = doc("Allow", case.grant, cond);
    let attacker = match case.attacker {
        Attacker::User => {
            fx.user("mallory");
            arn("user", "mallory")
        }
        Attacker::Role => {
            fx.role("mallory-role", &trust(r#"{"Service":"ssm.amazonaws.com"}"#));
            arn("role", "mallory-role")
        }
    };
    let mut attached = Vec::new();
    let mut inline = Vec::new();
    let mut boundary = None;
    match case.place {
        Place::Inline => inline.push(Fx::inline(&grant)),
        Place::Managed => attached.push(fx.policy("mallory-policy", &grant)),
        Place::Boundary => {
            attached.push(ADMIN_POLICY.to_string());
            let b = if block == Block::Boundary {
                doc("Allow", &["s3:GetObject"], None)
            } else {
                grant.clone()
            };
            boundary = Some(fx.policy("mallory-boundary", &b));
        }
    }
    if block == Block::Boundary && case.place != Place::Boundary {
        let b = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"*","Resource":"*"}},{{"Effect":"Deny","Action":"{}","Resource":"*"}}]}}"#,
            case.grant[0]
        );
        boundary = Some(fx.policy("mallory-boundary", &b));
    }
    if block == Block::Scp {
        fx.scp(&doc("Deny", &case.grant[..1], None));
    }
    match case.attacker {
        Attacker::User => {
            let u = fx.user("mallory");
            u.attached_policies = attached;
            u.inline_policy_documents = inline;
            u.permissions_boundary = boundary;
        }
        Attacker::Role => {
            let r = fx.role("mallory-role", "");
            r.attached_policies = attached;
            r.inline_policy_documents = inline;
            r.permissions_boundary = boundary;
        }
    }
    (case.setup)(&mut fx);
    (fx, attacker)
}

fn run(case: &Case, block: Block) -> (bool, bool, Option<rampart_paths::Path>) {
    let (fx, attacker) = build(case, block);
    let a = fx.analyze();
    let me = a.account.node_by_arn(&attacker).unwrap();
    assert!(
        !a.is_admin(me),
        "{}: the attacker starts as admin",
        case.method
    );
    let edge = a
        .edges
        .iter()
        .any(|e| e.from == me && e.method == case.method);
    let path = a.path(me, rampart_paths::Goal::Admin);
    (edge, path.is_some(), path)
}

#[test]
fn every_method_has_a_case_and_a_doc() {
    assert!(METHODS.len() >= 20);
    for m in METHODS {
        assert!(
            CASES.iter().any(|c| c.method == m.id),
            "no fixture for {}",
            m.id
        );
        assert!(
            m.doc.len() > 20 && m.title.len() > 5,
            "{} needs a doc",
            m.id
        );
    }
}

#[test]
fn each_method_escalates() {
    for case in CASES {
        let (edge, reaches, path) = run(case, Block::None);
        assert!(edge, "{}: no edge found", case.method);
        assert!(reaches, "{}: admin not reached", case.method);
        let path = path.unwrap();
        assert!(
            path.steps.iter().any(|s| s.method == case.method),
            "{}: shortest path {} does not use it",
            case.method,
            path.summary()
        );
        for s in &path.steps {
            for c in &s.checks {
                assert!(
                    !c.allowed_by.is_empty() || c.resource_policy.is_some(),
                    "{}: {} has no allowing statement",
                    case.method,
                    c.action
                );
            }
        }
    }
}

#[test]
fn each_method_is_blocked_by_a_condition_a_boundary_and_an_scp() {
    for case in CASES {
        for block in [Block::Condition, Block::Boundary, Block::Scp] {
            let (edge, reaches, path) = run(case, block);
            assert!(
                !edge && !reaches,
                "{} not blocked by {block:?}: {}",
                case.method,
                path.map(|p| p.summary()).unwrap_or_default()
            );
        }
    }
}

#[test]
fn the_allowing_statement_is_named() {
    let case = CASES
        .iter()
        .find(|c| c.method == "iam-create-policy-version")
        .unwrap();
    let (_, _, path) = run(case, Block::None);
    let step = &path.unwrap().steps[0];
    assert_eq!(step.to, "admin");
    assert_eq!(
        step.via.as_deref(),
        Some(arn("policy", "mallory-policy").as_str())
    );
    let cite = &step.checks[0].allowed_by[0];
    assert_eq!(cite.policy, arn("policy", "mallory-policy"));
    assert_eq!(cite.statement, "Grant");
}

#[test]
fn an_unknown_condition_gives_a_conditional_edge() {
    let mut fx = Fx::new();
    world(&mut fx);
    fx.user("mallory").inline_policy_documents = vec![Fx::inline(&doc(
        "Allow",
        &["iam:CreateAccessKey"],
        Some(r#"{"Bool":{"aws:MultiFactorAuthPresent":"true"}}"#),
    ))];
    let a = fx.analyze();
    let me = a.account.node_by_arn(&arn("user", "mallory")).unwrap();
    let p = a.path(me, rampart_paths::Goal::Admin).unwrap();
    assert!(p.conditional);
    let why = p.steps[0].checks[0].conditional.as_deref().unwrap();
    assert!(why.contains("aws:MultiFactorAuthPresent"), "{why}");
}

#[test]
fn a_trust_policy_that_does_not_name_the_caller_stops_assume_role() {
    let mut fx = Fx::new();
    world(&mut fx);
    fx.user("mallory").inline_policy_documents =
        vec![Fx::inline(&doc("Allow", &["sts:AssumeRole"], None))];
    let a = fx.analyze();
    let me = a.account.node_by_arn(&arn("user", "mallory")).unwrap();
    assert!(a.path(me, rampart_paths::Goal::Admin).is_none());
    assert!(!a.edges.iter().any(|e| e.from == me && e.to != To::Admin));
}

#[test]
fn multi_step_paths_are_shortest() {
    // mallory → (assume) hop-role → (create key) admin-user.
    let mut fx = Fx::new();
    world(&mut fx);
    let hop = fx.role(
        "hop-role",
        &trust(&format!(r#"{{"AWS":"{}"}}"#, arn("user", "mallory"))),
    );
    hop.inline_policy_documents = vec![Fx::inline(&doc("Allow", &["iam:CreateAccessKey"], None))];
    fx.user("mallory");
    let a = fx.analyze();
    let me = a.account.node_by_arn(&arn("user", "mallory")).unwrap();
    let p = a.path(me, rampart_paths::Goal::Admin).unwrap();
    assert_eq!(
        p.summary(),
        "user/mallory -[sts-assume-role]-> role/hop-role -[iam-create-access-key]-> user/admin-user"
    );
    assert_eq!(p.steps[0].checks[0].allowed_by[0].layer, "trust");
}

/// The per-target methods skip targets no statement's resource can name before asking the
/// engine; `${aws:username}` resolves to the caller, so a self-service grant reaches no one
/// else, while a wildcard after the variable still reaches the users it names.
#[test]
fn a_resource_with_a_policy_variable_reaches_only_what_it_names() {
    let edges_to = |resource: &str| {
        let mut fx = Fx::new();
        fx.user("dev");
        fx.user("dev-ops");
        fx.user("zed");
        fx.user("dev").inline_policy_documents = vec![Fx::inline(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"iam:CreateAccessKey","Resource":"{resource}"}}]}}"#
        ))];
        let a = fx.analyze();
        let me = a.account.node_by_arn(&arn("user", "dev")).unwrap();
        let mut to: Vec<String> = a
            .edges
            .iter()
            .filter(|e| e.from == me && e.method == "iam-create-access-key")
            .filter_map(|e| match e.to {
                rampart_paths::To::Node(t) => Some(a.account.nodes[t].name.clone()),
                rampart_paths::To::Admin => None,
            })
            .collect();
        to.sort();
        to
    };
    assert!(edges_to(&arn("user", "${aws:username}")).is_empty());
    assert_eq!(edges_to(&arn("user", "${aws:username}-*")), vec!["dev-ops"]);
    assert_eq!(
        edges_to(&arn("USER", "Z?D")),
        Vec::<String>::new(),
        "case matters to the engine"
    );
    assert_eq!(edges_to(&arn("user", "*")), vec!["dev-ops", "zed"]);
}
