//! Who can become admin, at scale (issue 19 item 7; plain `harness = false`, medians): one
//! account of 5,000 roles and 2,000 users (`PATHS_ROLES`, `PATHS_USERS` to change), a realistic
//! mix — 40 customer managed policies (read-only, application, deployer, developer, a few risky
//! ones, admin), 12 groups, inline policies on a third of the principals, boundaries on a
//! quarter, trust policies for services (60%), named principals (25%), the account (10%) and
//! another account (5%), and two levels of SCPs (a region deny on an unknown context key, a
//! deny on leaving the organization). One round = parse the account from the snapshot, build
//! the graph (every method for every non-admin principal), and list every principal's shortest
//! path to admin. The reference, timed in the same round, is `serde_json::from_str::<Value>` of
//! the snapshot's JSON text (the machine is shared: the ratio moves less than the time).
//!
//! Run: `cargo bench -p rampart-paths --bench paths` (`PATHS_RUNS`, default 5).

use rampart_paths::{AccountIam, analyze};
use rampart_snapshot::*;
use std::time::Instant;

const ACCT: &str = "123456789012";

/// A tiny deterministic generator (no dependency): xorshift.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn arn(kind: &str, name: &str) -> String {
    format!("arn:aws:iam::{ACCT}:{kind}/{name}")
}

fn statement(sid: &str, actions: &[&str], resource: &str) -> String {
    format!(
        r#"{{"Sid":"{sid}","Effect":"Allow","Action":{},"Resource":"{resource}"}}"#,
        serde_json::to_string(actions).unwrap()
    )
}

fn document(statements: &[String]) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        statements.join(",")
    )
}

/// The customer managed policy pool: (name, document), most harmless, some risky.
fn policy_pool() -> Vec<(String, String)> {
    let services = [
        "s3",
        "dynamodb",
        "sqs",
        "sns",
        "logs",
        "cloudwatch",
        "kinesis",
        "ecr",
        "ssm",
        "kms",
        "athena",
        "glue",
        "rds",
        "ec2",
        "lambda",
        "secretsmanager",
    ];
    let mut pool = Vec::new();
    for s in services {
        pool.push((
            format!("{s}-read"),
            document(&[statement(
                "Read",
                &[
                    &format!("{s}:Get*"),
                    &format!("{s}:List*"),
                    &format!("{s}:Describe*"),
                ],
                "*",
            )]),
        ));
        pool.push((
            format!("{s}-app"),
            document(&[
                statement(
                    "App",
                    &[&format!("{s}:*")],
                    &format!("arn:aws:{s}:*:{ACCT}:app-*"),
                ),
                statement("Logs", &["logs:CreateLogStream", "logs:PutLogEvents"], "*"),
            ]),
        ));
    }
    pool.push((
        "deployer".into(),
        document(&[
            statement("Stacks", &["cloudformation:*"], "*"),
            statement("Pass", &["iam:PassRole"], &arn("role", "svc-*")),
        ]),
    ));
    pool.push((
        "developer".into(),
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"AllButIam","Effect":"Allow","NotAction":["iam:*","organizations:*"],"Resource":"*"},{"Sid":"Self","Effect":"Allow","Action":["iam:GetUser","iam:ListAccessKeys"],"Resource":"arn:aws:iam::*:user/${aws:username}"}]}"#.into(),
    ));
    pool.push((
        "key-rotator".into(),
        document(&[statement(
            "Keys",
            &["iam:CreateAccessKey", "iam:DeleteAccessKey"],
            &arn("user", "${aws:username}"),
        )]),
    ));
    pool.push((
        "helpdesk".into(),
        document(&[statement(
            "Passwords",
            &["iam:UpdateLoginProfile", "iam:CreateLoginProfile"],
            "*",
        )]),
    ));
    pool.push((
        "lambda-builder".into(),
        document(&[
            statement(
                "Fn",
                &[
                    "lambda:CreateFunction",
                    "lambda:InvokeFunction",
                    "lambda:UpdateFunctionCode",
                ],
                "*",
            ),
            statement("Pass", &["iam:PassRole"], &arn("role", "lambda-*")),
        ]),
    ));
    pool.push((
        "policy-editor".into(),
        document(&[statement(
            "Versions",
            &["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"],
            &arn("policy", "team-*"),
        )]),
    ));
    pool.push((
        "assumer".into(),
        document(&[statement(
            "Assume",
            &["sts:AssumeRole"],
            &arn("role", "ops-*"),
        )]),
    ));
    pool.push((
        "team-shared".into(),
        document(&[statement("Team", &["s3:*", "sqs:*"], "*")]),
    ));
    pool
}

fn snapshot(roles: usize, users: usize) -> Snapshot {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut iam = Iam {
        authorization_details: true,
        ..Iam::default()
    };
    iam.policies.push(ManagedPolicy {
        arn: "arn:aws:iam::aws:policy/AdministratorAccess".into(),
        name: "AdministratorAccess".into(),
        aws_managed: true,
        document: document(&[statement("All", &["*"], "*")]),
        ..ManagedPolicy::default()
    });
    let pool = policy_pool();
    for (name, doc) in &pool {
        iam.policies.push(ManagedPolicy {
            arn: arn("policy", name),
            name: name.clone(),
            document: doc.clone(),
            versions: vec![PolicyVersion {
                version_id: "v1".into(),
                is_default: false,
                document: document(&[statement("Old", &["s3:GetObject"], "*")]),
            }],
            ..ManagedPolicy::default()
        });
    }
    let boundary = arn("policy", "boundary");
    iam.policies.push(ManagedPolicy {
        arn: boundary.clone(),
        name: "boundary".into(),
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"},{"Effect":"Allow","Action":["iam:Get*","iam:List*","iam:PassRole"],"Resource":"*"}]}"#.into(),
        ..ManagedPolicy::default()
    });
    let pick = |rng: &mut Rng| arn("policy", &pool[rng.below(pool.len())].0);
    for g in 0..12 {
        iam.groups.push(IamGroup {
            name: format!("team-{g}"),
            arn: arn("group", &format!("team-{g}")),
            attached_policies: vec![pick(&mut rng)],
            inline_policy_documents: vec![InlinePolicy {
                name: "shared".into(),
                document: document(&[statement("Shared", &["s3:GetObject"], "*")]),
            }],
        });
    }
    let admin_policy = "arn:aws:iam::aws:policy/AdministratorAccess".to_string();
    for u in 0..users {
        let mut user = IamUser {
            name: format!("user-{u}"),
            arn: arn("user", &format!("user-{u}")),
            has_console_password: rng.chance(60),
            ..IamUser::default()
        };
        for _ in 0..rng.below(3) {
            user.attached_policies.push(pick(&mut rng));
        }
        if rng.chance(70) {
            user.groups.push(format!("team-{}", rng.below(12)));
        }
        if rng.chance(30) {
            user.inline_policy_documents.push(InlinePolicy {
                name: "personal".into(),
                document: document(&[statement(
                    "Own",
                    &["s3:PutObject", "s3:GetObject"],
                    &format!("arn:aws:s3:::home-{u}/*"),
                )]),
            });
        }
        if rng.chance(25) {
            user.permissions_boundary = Some(boundary.clone());
        }
        if rng.chance(1) {
            user.attached_policies.push(admin_policy.clone());
        }
        iam.users.push(user);
    }
    let services = [
        "lambda.amazonaws.com",
        "ec2.amazonaws.com",
        "ecs-tasks.amazonaws.com",
        "glue.amazonaws.com",
        "codebuild.amazonaws.com",
    ];
    for r in 0..roles {
        let prefix = ["svc", "lambda", "ops", "app", "data"][rng.below(5)];
        let name = format!("{prefix}-{r}");
        let roll = rng.below(100);
        let principal = if roll < 60 {
            format!(r#"{{"Service":"{}"}}"#, services[rng.below(services.len())])
        } else if roll < 85 {
            let who = if rng.chance(50) {
                arn("user", &format!("user-{}", rng.below(users.max(1))))
            } else {
                arn("role", &format!("app-{}", rng.below(roles.max(1))))
            };
            format!(r#"{{"AWS":"{who}"}}"#)
        } else if roll < 95 {
            format!(r#"{{"AWS":"arn:aws:iam::{ACCT}:root"}}"#)
        } else {
            r#"{"AWS":"arn:aws:iam::210987654321:root"}"#.to_string()
        };
        let condition = if rng.chance(10) {
            r#","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}"#
        } else {
            ""
        };
        let mut role = IamRole {
            arn: arn("role", &name),
            name,
            path: "/".into(),
            trust_policy: format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{principal},"Action":"sts:AssumeRole"{condition}}}]}}"#
            ),
            ..IamRole::default()
        };
        for _ in 0..1 + rng.below(3) {
            role.attached_policies.push(pick(&mut rng));
        }
        if rng.chance(30) {
            role.inline_policy_documents.push(InlinePolicy {
                name: "extra".into(),
                document: document(&[statement(
                    "Queue",
                    &["sqs:SendMessage"],
                    &format!("arn:aws:sqs:*:{ACCT}:q-{r}"),
                )]),
            });
        }
        if rng.chance(25) {
            role.permissions_boundary = Some(boundary.clone());
        }
        if rng.chance(1) {
            role.attached_policies.push(admin_policy.clone());
        }
        if prefix == "svc" && rng.chance(50) {
            role.instance_profiles
                .push(arn("instance-profile", &role.name));
        }
        iam.roles.push(role);
    }
    let allow_all = document(&[statement("All", &["*"], "*")]);
    let region_deny = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Regions","Effect":"Deny","NotAction":["iam:*","sts:*","organizations:*","support:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1","eu-central-1"]}}},{"Sid":"StayInOrg","Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}"#;
    Snapshot {
        schema_version: SCHEMA_VERSION,
        partition: "aws".into(),
        organization: Some(Organization {
            id: "o-bench".into(),
            management_account_id: "999999999999".into(),
            roots: vec![OrgRoot {
                id: "r-root".into(),
                enabled_policy_types: vec!["SERVICE_CONTROL_POLICY".into()],
                ..OrgRoot::default()
            }],
            organizational_units: vec![OrganizationalUnit {
                id: "ou-work".into(),
                parent_id: "r-root".into(),
                ..OrganizationalUnit::default()
            }],
            accounts: vec![OrgAccount {
                id: ACCT.into(),
                parent_id: "ou-work".into(),
                ..OrgAccount::default()
            }],
            policies: vec![
                OrgPolicy {
                    id: "p-full".into(),
                    name: "FullAWSAccess".into(),
                    policy_type: "SERVICE_CONTROL_POLICY".into(),
                    content: allow_all.clone(),
                    targets: vec!["r-root".into(), "ou-work".into(), ACCT.into()],
                    ..OrgPolicy::default()
                },
                OrgPolicy {
                    id: "p-guard".into(),
                    name: "guardrails".into(),
                    policy_type: "SERVICE_CONTROL_POLICY".into(),
                    content: region_deny.into(),
                    targets: vec!["ou-work".into()],
                    ..OrgPolicy::default()
                },
            ],
            ..Organization::default()
        }),
        accounts: vec![AccountSnapshot {
            account_id: ACCT.into(),
            iam,
            ..AccountSnapshot::default()
        }],
        ..Snapshot::default()
    }
}

/// A hash of every edge (ends, method, via, conditional) and of every reported path with its
/// explanations, untimed: an optimisation must leave it unchanged.
fn fingerprint(a: &rampart_paths::Analysis, paths: &[rampart_paths::Path]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for e in &a.edges {
        (e.from, e.to, e.method, &e.via, e.conditional()).hash(&mut h);
    }
    serde_json::to_string(paths).unwrap().hash(&mut h);
    h.finish()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let roles = env("PATHS_ROLES", 5_000);
    let users = env("PATHS_USERS", 2_000);
    let runs = env("PATHS_RUNS", 5);
    let snap = snapshot(roles, users);
    let text = snap.to_json();
    println!(
        "account: {roles} roles, {users} users, {} groups, {} managed policies; snapshot {:.1} MB",
        snap.accounts[0].iam.groups.len(),
        snap.accounts[0].iam.policies.len(),
        text.len() as f64 / 1e6
    );
    let (mut times, mut refs, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        let t = Instant::now();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        std::hint::black_box(&v);
        let reference = t.elapsed().as_secs_f64();

        let t = Instant::now();
        let acct = AccountIam::from_snapshot(&snap, ACCT).unwrap();
        let parsed = t.elapsed().as_secs_f64();
        let a = analyze(acct);
        let graph = t.elapsed().as_secs_f64();
        let paths = a.paths_to_admin();
        let total = t.elapsed().as_secs_f64();
        let admins = a.admin.iter().filter(|x| x.is_some()).count();
        let conditional = paths.iter().filter(|p| p.conditional).count();
        println!(
            "run {run}: {total:.3} s (parse {parsed:.3}, graph {:.3}, paths {:.3}); {} edges, {admins} admins, {} paths to admin ({conditional} conditional); reference {reference:.3} s; fingerprint {:016x}",
            graph - parsed,
            total - graph,
            a.edges.len(),
            paths.len(),
            fingerprint(&a, &paths)
        );
        times.push(total);
        refs.push(reference);
        ratios.push(total / reference);
    }
    println!(
        "median: {:.3} s for all escalation paths (target < 5 s); reference (serde_json Value of the snapshot) {:.3} s; ratio {:.1}x",
        median(times),
        median(refs),
        median(ratios)
    );
}
