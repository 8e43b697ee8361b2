//! `rampart respond`'s actions against AWS: the [`Responder`] of `rampart-respond`, in the
//! account named by each request (entered through the same AssumeRole as collection).
//! Each action reads the target's state first, changes only what differs (so a second run
//! changes nothing), and returns what undo needs.

use crate::access::{Access, Counters, describe};
use crate::{CollectError, CollectOptions};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use rampart_respond::state::{
    QUARANTINE_GROUP, QUARANTINE_POLICY, REVOKE_POLICY, deny_all_policy, remove_public_statements,
    restore_selectors, restore_statements, revoke_sessions_policy,
};
use rampart_respond::{Action, ActionRecord, Effect, Request, Responder, Target};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// Carries out containment actions with the AWS SDK.
pub struct AwsResponder {
    rt: tokio::runtime::Runtime,
    base: Access,
    caller_account: String,
    caller_arn: String,
    role_name: String,
    sessions: HashMap<String, Access>,
}

/// Where one action runs, for its calls' error messages.
struct Ctx<'a> {
    s: &'a Access,
    account: &'a str,
    region: &'a str,
}

impl Ctx<'_> {
    /// `Ok` of a call, or one line naming the API, account, region and AWS error.
    fn call<T, E>(&self, api: &str, r: Result<T, SdkError<E, HttpResponse>>) -> Result<T, String>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        self.absent(api, &[], r)?
            .ok_or_else(|| format!("{api} returned nothing"))
    }

    /// Like [`Ctx::call`], but the listed error codes mean "not there" (`Ok(None)`).
    fn absent<T, E>(
        &self,
        api: &str,
        codes: &[&str],
        r: Result<T, SdkError<E, HttpResponse>>,
    ) -> Result<Option<T>, String>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        self.s.counters().count(api);
        match r {
            Ok(v) => Ok(Some(v)),
            Err(e) => {
                let (code, message) = describe(&e);
                if codes.contains(&code.as_str()) {
                    Ok(None)
                } else {
                    Err(format!(
                        "{api} in account {} ({}) failed: {code}: {message}",
                        self.account, self.region
                    ))
                }
            }
        }
    }
}

impl AwsResponder {
    /// Signs in with the standard credential chain (or `opts.profile`); member accounts are
    /// entered with `opts.role_name`.
    pub fn connect(opts: &CollectOptions) -> Result<AwsResponder, CollectError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| CollectError::Runtime(e.to_string()))?;
        let (base, account, arn) = rt.block_on(async {
            let base = Access::from_env(opts, Arc::new(Counters::default())).await?;
            base.counters().count("sts:GetCallerIdentity");
            let who = base
                .sts(&base.home_region())
                .get_caller_identity()
                .send()
                .await
                .map_err(|e| {
                    let (code, message) = describe(&e);
                    CollectError::NoCredentials { code, message }
                })?;
            Ok::<_, CollectError>((
                base,
                who.account().unwrap_or_default().to_string(),
                who.arn().unwrap_or_default().to_string(),
            ))
        })?;
        Ok(AwsResponder {
            rt,
            base,
            caller_account: account,
            caller_arn: arn,
            role_name: opts.role_name.clone(),
            sessions: HashMap::new(),
        })
    }

    /// The account the credentials belong to.
    pub fn caller_account(&self) -> &str {
        &self.caller_account
    }

    fn session(&mut self, account: &str) -> Result<Access, String> {
        if account == self.caller_account || account.is_empty() {
            return Ok(self.base.clone());
        }
        if let Some(s) = self.sessions.get(account) {
            return Ok(s.clone());
        }
        let s = self
            .rt
            .block_on(self.base.assume(account, &self.role_name))
            .map_err(|e| e.message)?;
        self.sessions.insert(account.to_string(), s.clone());
        Ok(s)
    }
}

impl Responder for AwsResponder {
    fn who(&self) -> String {
        self.caller_arn.clone()
    }

    fn apply(&mut self, req: &Request<'_>) -> Result<Effect, String> {
        let s = self.session(req.account)?;
        let account = if req.account.is_empty() {
            self.caller_account.clone()
        } else {
            req.account.to_string()
        };
        let c = Ctx {
            s: &s,
            account: &account,
            region: req.region,
        };
        self.rt.block_on(apply(&c, req.action, req.target))
    }

    fn undo(&mut self, rec: &ActionRecord) -> Result<Effect, String> {
        let s = self.session(&rec.account)?;
        let c = Ctx {
            s: &s,
            account: &rec.account,
            region: &rec.region,
        };
        self.rt.block_on(undo(&c, rec))
    }
}

fn effect(changed: bool, before: Value, undo: Value, message: String) -> Effect {
    Effect {
        changed,
        before,
        undo,
        message,
    }
}

fn wrong(action: Action, target: &Target) -> String {
    format!("{action} cannot act on {}", target.describe())
}

async fn apply(c: &Ctx<'_>, action: Action, target: &Target) -> Result<Effect, String> {
    match (action, target) {
        (Action::DisableAccessKey, Target::AccessKey { user, key_id }) => {
            set_key_status(c, user, key_id, "Inactive").await
        }
        (Action::DeleteLoginProfile, Target::User { name }) => delete_login_profile(c, name).await,
        (Action::Quarantine, Target::User { .. } | Target::Role { .. }) => {
            quarantine(c, target).await
        }
        (Action::RestartLogging, Target::Trail { name }) => restart_logging(c, name).await,
        (Action::EnableGuardduty, Target::Detector { id }) => {
            set_detector(c, id.as_deref(), true).await
        }
        (Action::EnableConfigRecorder, Target::Recorder { name }) => {
            set_recorder(c, name.as_deref(), true).await
        }
        (
            Action::BlockPublicS3,
            Target::Bucket {
                name,
                account_level,
            },
        ) => block_public_s3(c, name, *account_level).await,
        (Action::IsolateInstance, Target::Instance { id }) => isolate_instance(c, id).await,
        _ => Err(wrong(action, target)),
    }
}

async fn undo(c: &Ctx<'_>, rec: &ActionRecord) -> Result<Effect, String> {
    let u = &rec.undo;
    match (&rec.action, &rec.target) {
        (Action::DisableAccessKey, Target::AccessKey { user, key_id }) => {
            let status = u["status"].as_str().unwrap_or("Active");
            set_key_status(c, user, key_id, status).await
        }
        (Action::Quarantine, Target::User { .. } | Target::Role { .. }) => {
            unquarantine(c, &rec.target, u).await
        }
        (Action::RestartLogging, Target::Trail { name }) => {
            restore_trail_selectors(c, name, u).await
        }
        (Action::EnableGuardduty, Target::Detector { .. }) => {
            set_detector(c, u["detector_id"].as_str(), false).await
        }
        (Action::EnableConfigRecorder, Target::Recorder { .. }) => {
            set_recorder(c, u["recorder"].as_str(), false).await
        }
        (Action::BlockPublicS3, Target::Bucket { name, .. }) => unblock_public_s3(c, name, u).await,
        (Action::IsolateInstance, Target::Instance { id }) => unisolate_instance(c, id, u).await,
        (a, t) => Err(format!("{a} on {} cannot be undone", t.describe())),
    }
}

// --- IAM: access keys, login profiles, quarantine -------------------------------------------

async fn set_key_status(
    c: &Ctx<'_>,
    user: &str,
    key_id: &str,
    want: &str,
) -> Result<Effect, String> {
    let iam = c.s.iam(c.region);
    let keys = c.call(
        "iam:ListAccessKeys",
        iam.list_access_keys().user_name(user).send().await,
    )?;
    let status = keys
        .access_key_metadata()
        .iter()
        .find(|k| k.access_key_id() == Some(key_id))
        .and_then(|k| k.status().map(|s| s.as_str().to_string()))
        .ok_or_else(|| {
            format!(
                "access key {key_id} of user {user} not found in account {}",
                c.account
            )
        })?;
    let before = json!({"status": status});
    if status == want {
        return Ok(effect(
            false,
            before,
            Value::Null,
            format!("access key {key_id} of {user} is already {want}"),
        ));
    }
    c.call(
        "iam:UpdateAccessKey",
        iam.update_access_key()
            .user_name(user)
            .access_key_id(key_id)
            .status(aws_sdk_iam::types::StatusType::from(want))
            .send()
            .await,
    )?;
    Ok(effect(
        true,
        before,
        json!({"status": status}),
        format!("access key {key_id} of {user}: {status} → {want}"),
    ))
}

async fn delete_login_profile(c: &Ctx<'_>, user: &str) -> Result<Effect, String> {
    let iam = c.s.iam(c.region);
    let found = c.absent(
        "iam:GetLoginProfile",
        &["NoSuchEntity"],
        iam.get_login_profile().user_name(user).send().await,
    )?;
    let Some(p) = found.as_ref().and_then(|o| o.login_profile()) else {
        return Ok(effect(
            false,
            json!({"login_profile": null}),
            Value::Null,
            format!("user {user} has no console password"),
        ));
    };
    let before = json!({"login_profile": {
        "created": p.create_date().fmt(aws_smithy_types::date_time::Format::DateTime).unwrap_or_default(),
        "password_reset_required": p.password_reset_required(),
    }});
    c.call(
        "iam:DeleteLoginProfile",
        iam.delete_login_profile().user_name(user).send().await,
    )?;
    Ok(effect(
        true,
        before,
        Value::Null,
        format!("deleted the console password of {user} (not reversible)"),
    ))
}

/// A user's or role's inline policy `name`, decoded (`None`: absent).
async fn inline_policy(c: &Ctx<'_>, target: &Target, name: &str) -> Result<Option<Value>, String> {
    let iam = c.s.iam(c.region);
    let doc = match target {
        Target::User { name: user } => c
            .absent(
                "iam:GetUserPolicy",
                &["NoSuchEntity"],
                iam.get_user_policy()
                    .user_name(user)
                    .policy_name(name)
                    .send()
                    .await,
            )?
            .map(|o| o.policy_document().to_string()),
        Target::Role { name: role } => c
            .absent(
                "iam:GetRolePolicy",
                &["NoSuchEntity"],
                iam.get_role_policy()
                    .role_name(role)
                    .policy_name(name)
                    .send()
                    .await,
            )?
            .map(|o| o.policy_document().to_string()),
        t => return Err(format!("quarantine cannot act on {}", t.describe())),
    };
    Ok(doc.map(|d| {
        let text = urlencoding::decode(&d).map(|t| t.into_owned()).unwrap_or(d);
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    }))
}

async fn put_inline(c: &Ctx<'_>, target: &Target, name: &str, doc: &str) -> Result<(), String> {
    let iam = c.s.iam(c.region);
    match target {
        Target::User { name: user } => c
            .call(
                "iam:PutUserPolicy",
                iam.put_user_policy()
                    .user_name(user)
                    .policy_name(name)
                    .policy_document(doc)
                    .send()
                    .await,
            )
            .map(drop),
        Target::Role { name: role } => c
            .call(
                "iam:PutRolePolicy",
                iam.put_role_policy()
                    .role_name(role)
                    .policy_name(name)
                    .policy_document(doc)
                    .send()
                    .await,
            )
            .map(drop),
        t => Err(format!("quarantine cannot act on {}", t.describe())),
    }
}

async fn delete_inline(c: &Ctx<'_>, target: &Target, name: &str) -> Result<(), String> {
    let iam = c.s.iam(c.region);
    let gone = ["NoSuchEntity"];
    match target {
        Target::User { name: user } => c
            .absent(
                "iam:DeleteUserPolicy",
                &gone,
                iam.delete_user_policy()
                    .user_name(user)
                    .policy_name(name)
                    .send()
                    .await,
            )
            .map(drop),
        Target::Role { name: role } => c
            .absent(
                "iam:DeleteRolePolicy",
                &gone,
                iam.delete_role_policy()
                    .role_name(role)
                    .policy_name(name)
                    .send()
                    .await,
            )
            .map(drop),
        t => Err(format!("quarantine cannot act on {}", t.describe())),
    }
}

async fn quarantine(c: &Ctx<'_>, target: &Target) -> Result<Effect, String> {
    let deny = deny_all_policy();
    let deny_v: Value = serde_json::from_str(&deny).unwrap_or_default();
    let had_deny = inline_policy(c, target, QUARANTINE_POLICY).await?;
    let had_revoke = inline_policy(c, target, REVOKE_POLICY).await?;
    let before = json!({QUARANTINE_POLICY: had_deny, REVOKE_POLICY: had_revoke});
    if had_deny.as_ref() == Some(&deny_v) && had_revoke.is_some() {
        return Ok(effect(
            false,
            before,
            Value::Null,
            format!("{} is already quarantined", target.describe()),
        ));
    }
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    put_inline(c, target, QUARANTINE_POLICY, &deny).await?;
    if had_revoke.is_none() {
        put_inline(c, target, REVOKE_POLICY, &revoke_sessions_policy(&now)).await?;
    }
    Ok(effect(
        true,
        before.clone(),
        json!({"previous": before}),
        format!(
            "{}: inline policies {QUARANTINE_POLICY} (deny all) and {REVOKE_POLICY} (sessions issued before {now}) attached",
            target.describe()
        ),
    ))
}

async fn unquarantine(c: &Ctx<'_>, target: &Target, u: &Value) -> Result<Effect, String> {
    let mut changed = false;
    let mut before = serde_json::Map::new();
    for name in [QUARANTINE_POLICY, REVOKE_POLICY] {
        let now = inline_policy(c, target, name).await?;
        let previous = &u["previous"][name];
        before.insert(name.into(), now.clone().unwrap_or(Value::Null));
        match (previous, now) {
            // ours, to remove
            (Value::Null, Some(_)) => {
                delete_inline(c, target, name).await?;
                changed = true;
            }
            // someone else's policy of that name was there before: put it back
            (prev @ Value::Object(_), now) if now.as_ref() != Some(prev) => {
                put_inline(c, target, name, &prev.to_string()).await?;
                changed = true;
            }
            _ => {}
        }
    }
    let what = if changed {
        "quarantine lifted"
    } else {
        "was not quarantined"
    };
    Ok(effect(
        changed,
        Value::Object(before),
        Value::Null,
        format!("{}: {what}", target.describe()),
    ))
}

// --- CloudTrail -------------------------------------------------------------------------------

fn selectors_json(
    out: &aws_sdk_cloudtrail::operation::get_event_selectors::GetEventSelectorsOutput,
) -> (Vec<Value>, Vec<Value>) {
    let basic = out
        .event_selectors()
        .iter()
        .map(|s| {
            let mut v = json!({
                "ReadWriteType": s.read_write_type().map(|r| r.as_str()).unwrap_or("All"),
                "IncludeManagementEvents": s.include_management_events().unwrap_or(true),
            });
            if !s.data_resources().is_empty() {
                v["DataResources"] = s
                    .data_resources()
                    .iter()
                    .map(|d| json!({"Type": d.r#type(), "Values": d.values()}))
                    .collect();
            }
            if !s.exclude_management_event_sources().is_empty() {
                v["ExcludeManagementEventSources"] = json!(s.exclude_management_event_sources());
            }
            v
        })
        .collect();
    let advanced = out
        .advanced_event_selectors()
        .iter()
        .map(|s| {
            let fields: Vec<Value> = s
                .field_selectors()
                .iter()
                .map(|f| {
                    let mut v = json!({"Field": f.field()});
                    for (k, list) in [
                        ("Equals", f.equals()),
                        ("StartsWith", f.starts_with()),
                        ("EndsWith", f.ends_with()),
                        ("NotEquals", f.not_equals()),
                        ("NotStartsWith", f.not_starts_with()),
                        ("NotEndsWith", f.not_ends_with()),
                    ] {
                        if !list.is_empty() {
                            v[k] = json!(list);
                        }
                    }
                    v
                })
                .collect();
            json!({"Name": s.name(), "FieldSelectors": fields})
        })
        .collect();
    (basic, advanced)
}

fn strings(v: &Value) -> Option<Vec<String>> {
    v.as_array().map(|a| {
        a.iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect()
    })
}

async fn put_selectors(
    c: &Ctx<'_>,
    trail: &str,
    basic: &[Value],
    advanced: &[Value],
) -> Result<(), String> {
    use aws_sdk_cloudtrail::types::{
        AdvancedEventSelector, AdvancedFieldSelector, DataResource, EventSelector, ReadWriteType,
    };
    let mut req =
        c.s.cloudtrail(c.region)
            .put_event_selectors()
            .trail_name(trail);
    if advanced.is_empty() {
        for s in basic {
            let data: Vec<DataResource> = s["DataResources"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|d| {
                    DataResource::builder()
                        .set_type(d["Type"].as_str().map(str::to_string))
                        .set_values(strings(&d["Values"]))
                        .build()
                })
                .collect();
            req = req.event_selectors(
                EventSelector::builder()
                    .read_write_type(ReadWriteType::from(
                        s["ReadWriteType"].as_str().unwrap_or("All"),
                    ))
                    .include_management_events(
                        s["IncludeManagementEvents"].as_bool().unwrap_or(true),
                    )
                    .set_data_resources((!data.is_empty()).then_some(data))
                    .set_exclude_management_event_sources(strings(
                        &s["ExcludeManagementEventSources"],
                    ))
                    .build(),
            );
        }
    } else {
        for s in advanced {
            let mut b =
                AdvancedEventSelector::builder().set_name(s["Name"].as_str().map(str::to_string));
            for f in s["FieldSelectors"].as_array().into_iter().flatten() {
                let fs = AdvancedFieldSelector::builder()
                    .field(f["Field"].as_str().unwrap_or_default())
                    .set_equals(strings(&f["Equals"]))
                    .set_starts_with(strings(&f["StartsWith"]))
                    .set_ends_with(strings(&f["EndsWith"]))
                    .set_not_equals(strings(&f["NotEquals"]))
                    .set_not_starts_with(strings(&f["NotStartsWith"]))
                    .set_not_ends_with(strings(&f["NotEndsWith"]))
                    .build()
                    .map_err(|e| format!("advanced field selector of trail {trail}: {e}"))?;
                b = b.field_selectors(fs);
            }
            req = req.advanced_event_selectors(
                b.build()
                    .map_err(|e| format!("advanced event selector of trail {trail}: {e}"))?,
            );
        }
    }
    c.call("cloudtrail:PutEventSelectors", req.send().await)
        .map(drop)
}

async fn restart_logging(c: &Ctx<'_>, trail: &str) -> Result<Effect, String> {
    let ct = c.s.cloudtrail(c.region);
    let status = c.call(
        "cloudtrail:GetTrailStatus",
        ct.get_trail_status().name(trail).send().await,
    )?;
    let logging = status.is_logging().unwrap_or(false);
    let sel = c.call(
        "cloudtrail:GetEventSelectors",
        ct.get_event_selectors().trail_name(trail).send().await,
    )?;
    let (basic, advanced) = selectors_json(&sel);
    let before =
        json!({"logging": logging, "event_selectors": basic, "advanced_event_selectors": advanced});
    let mut done = Vec::new();
    if !logging {
        c.call(
            "cloudtrail:StartLogging",
            ct.start_logging().name(trail).send().await,
        )?;
        done.push("logging started".to_string());
    }
    let restored = restore_selectors(&basic, &advanced);
    if let Some((b, a)) = &restored {
        put_selectors(c, trail, b, a).await?;
        done.push("management-event selectors restored to All".into());
    }
    if done.is_empty() {
        return Ok(effect(
            false,
            before,
            Value::Null,
            format!("trail {trail} is logging every management event already"),
        ));
    }
    // Undo never stops logging; it puts back the previous selectors only if they changed.
    let undo = match restored {
        Some(_) => json!({"event_selectors": basic, "advanced_event_selectors": advanced}),
        None => json!({}),
    };
    Ok(effect(
        true,
        before,
        undo,
        format!("trail {trail}: {}", done.join(", ")),
    ))
}

async fn restore_trail_selectors(c: &Ctx<'_>, trail: &str, u: &Value) -> Result<Effect, String> {
    let (Some(basic), Some(advanced)) = (
        u["event_selectors"].as_array(),
        u["advanced_event_selectors"].as_array(),
    ) else {
        return Ok(effect(
            false,
            Value::Null,
            Value::Null,
            format!(
                "trail {trail}: logging stays on (undo never stops a trail); its selectors were not changed"
            ),
        ));
    };
    let ct = c.s.cloudtrail(c.region);
    let sel = c.call(
        "cloudtrail:GetEventSelectors",
        ct.get_event_selectors().trail_name(trail).send().await,
    )?;
    let (now_b, now_a) = selectors_json(&sel);
    let before = json!({"event_selectors": now_b, "advanced_event_selectors": now_a});
    if &now_b == basic && &now_a == advanced {
        return Ok(effect(
            false,
            before,
            Value::Null,
            format!("trail {trail}: the previous selectors are already in place"),
        ));
    }
    put_selectors(c, trail, basic, advanced).await?;
    Ok(effect(
        true,
        before,
        Value::Null,
        format!("trail {trail}: previous event selectors put back; logging stays on"),
    ))
}

// --- GuardDuty, Config ------------------------------------------------------------------------

async fn set_detector(c: &Ctx<'_>, id: Option<&str>, enable: bool) -> Result<Effect, String> {
    let gd = c.s.guardduty(c.region);
    let id = match id {
        Some(id) => id.to_string(),
        None => c
            .call("guardduty:ListDetectors", gd.list_detectors().send().await)?
            .detector_ids()
            .first()
            .cloned()
            .ok_or_else(|| {
                format!(
                    "no GuardDuty detector in account {} region {}: `rampart apply` creates it",
                    c.account, c.region
                )
            })?,
    };
    let d = c.call(
        "guardduty:GetDetector",
        gd.get_detector().detector_id(&id).send().await,
    )?;
    let status = d
        .status()
        .map(|s| s.as_str().to_string())
        .unwrap_or_default();
    let want = if enable { "ENABLED" } else { "DISABLED" };
    let before = json!({"detector_id": id, "status": status});
    if status == want {
        return Ok(effect(
            false,
            before,
            Value::Null,
            format!("GuardDuty detector {id} is already {want}"),
        ));
    }
    c.call(
        "guardduty:UpdateDetector",
        gd.update_detector()
            .detector_id(&id)
            .enable(enable)
            .send()
            .await,
    )?;
    Ok(effect(
        true,
        before,
        json!({"detector_id": id}),
        format!("GuardDuty detector {id}: {status} → {want}"),
    ))
}

async fn set_recorder(c: &Ctx<'_>, name: Option<&str>, start: bool) -> Result<Effect, String> {
    let cfg = c.s.config_service(c.region);
    let out = c.call(
        "config:DescribeConfigurationRecorderStatus",
        cfg.describe_configuration_recorder_status()
            .set_configuration_recorder_names(name.map(|n| vec![n.to_string()]))
            .send()
            .await,
    )?;
    let st = out
        .configuration_recorders_status()
        .first()
        .ok_or_else(|| {
            format!(
                "no AWS Config recorder in account {} region {}: `rampart apply` creates it",
                c.account, c.region
            )
        })?;
    let rec = st.name().unwrap_or("default").to_string();
    let before = json!({"recorder": rec, "recording": st.recording()});
    if st.recording() == start {
        return Ok(effect(
            false,
            before,
            Value::Null,
            format!(
                "Config recorder {rec} is already {}",
                if start { "recording" } else { "stopped" }
            ),
        ));
    }
    if start {
        c.call(
            "config:StartConfigurationRecorder",
            cfg.start_configuration_recorder()
                .configuration_recorder_name(&rec)
                .send()
                .await,
        )?;
    } else {
        c.call(
            "config:StopConfigurationRecorder",
            cfg.stop_configuration_recorder()
                .configuration_recorder_name(&rec)
                .send()
                .await,
        )?;
    }
    Ok(effect(
        true,
        before,
        json!({"recorder": rec}),
        format!(
            "Config recorder {rec} {}",
            if start { "started" } else { "stopped" }
        ),
    ))
}

// --- S3 ---------------------------------------------------------------------------------------

/// The four Block Public Access flags (`None`: no configuration).
type Bpa = Option<[bool; 4]>;

fn bpa_json(b: Bpa) -> Value {
    match b {
        None => Value::Null,
        Some([a, b, c, d]) => json!({"BlockPublicAcls": a, "IgnorePublicAcls": b,
                                      "BlockPublicPolicy": c, "RestrictPublicBuckets": d}),
    }
}

fn bpa_from(v: &Value) -> Bpa {
    let f = |k: &str| v[k].as_bool().unwrap_or(false);
    v.is_object().then(|| {
        [
            f("BlockPublicAcls"),
            f("IgnorePublicAcls"),
            f("BlockPublicPolicy"),
            f("RestrictPublicBuckets"),
        ]
    })
}

async fn bucket_bpa(c: &Ctx<'_>, bucket: &str) -> Result<Bpa, String> {
    let out = c.absent(
        "s3:GetPublicAccessBlock",
        &["NoSuchPublicAccessBlockConfiguration"],
        c.s.s3(c.region)
            .get_public_access_block()
            .bucket(bucket)
            .send()
            .await,
    )?;
    Ok(out
        .and_then(|o| o.public_access_block_configuration().cloned())
        .map(|p| {
            [
                p.block_public_acls().unwrap_or(false),
                p.ignore_public_acls().unwrap_or(false),
                p.block_public_policy().unwrap_or(false),
                p.restrict_public_buckets().unwrap_or(false),
            ]
        }))
}

async fn set_bucket_bpa(c: &Ctx<'_>, bucket: &str, b: Bpa) -> Result<(), String> {
    let s3 = c.s.s3(c.region);
    match b {
        Some([a, i, p, r]) => c
            .call(
                "s3:PutPublicAccessBlock",
                s3.put_public_access_block()
                    .bucket(bucket)
                    .public_access_block_configuration(
                        aws_sdk_s3::types::PublicAccessBlockConfiguration::builder()
                            .block_public_acls(a)
                            .ignore_public_acls(i)
                            .block_public_policy(p)
                            .restrict_public_buckets(r)
                            .build(),
                    )
                    .send()
                    .await,
            )
            .map(drop),
        None => c
            .call(
                "s3:DeletePublicAccessBlock",
                s3.delete_public_access_block().bucket(bucket).send().await,
            )
            .map(drop),
    }
}

async fn account_bpa(c: &Ctx<'_>) -> Result<Bpa, String> {
    let out = c.absent(
        "s3control:GetPublicAccessBlock",
        &["NoSuchPublicAccessBlockConfiguration"],
        c.s.s3control(c.region)
            .get_public_access_block()
            .account_id(c.account)
            .send()
            .await,
    )?;
    Ok(out
        .and_then(|o| o.public_access_block_configuration().cloned())
        .map(|p| {
            [
                p.block_public_acls().unwrap_or(false),
                p.ignore_public_acls().unwrap_or(false),
                p.block_public_policy().unwrap_or(false),
                p.restrict_public_buckets().unwrap_or(false),
            ]
        }))
}

async fn set_account_bpa(c: &Ctx<'_>, b: Bpa) -> Result<(), String> {
    let s3c = c.s.s3control(c.region);
    match b {
        Some([a, i, p, r]) => c
            .call(
                "s3control:PutPublicAccessBlock",
                s3c.put_public_access_block()
                    .account_id(c.account)
                    .public_access_block_configuration(
                        aws_sdk_s3control::types::PublicAccessBlockConfiguration::builder()
                            .block_public_acls(a)
                            .ignore_public_acls(i)
                            .block_public_policy(p)
                            .restrict_public_buckets(r)
                            .build(),
                    )
                    .send()
                    .await,
            )
            .map(drop),
        None => c
            .call(
                "s3control:DeletePublicAccessBlock",
                s3c.delete_public_access_block()
                    .account_id(c.account)
                    .send()
                    .await,
            )
            .map(drop),
    }
}

async fn bucket_policy(c: &Ctx<'_>, bucket: &str) -> Result<Option<Value>, String> {
    let out = c.absent(
        "s3:GetBucketPolicy",
        &["NoSuchBucketPolicy"],
        c.s.s3(c.region)
            .get_bucket_policy()
            .bucket(bucket)
            .send()
            .await,
    )?;
    out.and_then(|o| o.policy().map(str::to_string))
        .map(|t| {
            serde_json::from_str(&t)
                .map_err(|e| format!("the policy of bucket {bucket} is not JSON: {e}"))
        })
        .transpose()
}

async fn set_bucket_policy(
    c: &Ctx<'_>,
    bucket: &str,
    policy: Option<&Value>,
) -> Result<(), String> {
    let s3 = c.s.s3(c.region);
    match policy {
        Some(p) => c
            .call(
                "s3:PutBucketPolicy",
                s3.put_bucket_policy()
                    .bucket(bucket)
                    .policy(p.to_string())
                    .send()
                    .await,
            )
            .map(drop),
        None => c
            .call(
                "s3:DeleteBucketPolicy",
                s3.delete_bucket_policy().bucket(bucket).send().await,
            )
            .map(drop),
    }
}

const ALL_BLOCKED: Bpa = Some([true; 4]);

async fn block_public_s3(c: &Ctx<'_>, bucket: &str, account_level: bool) -> Result<Effect, String> {
    let bpa = bucket_bpa(c, bucket).await?;
    let acct = if account_level {
        Some(account_bpa(c).await?)
    } else {
        None
    };
    let policy = bucket_policy(c, bucket).await?;
    let before = json!({
        "bucket_public_access_block": bpa_json(bpa),
        "account_public_access_block": acct.map(bpa_json),
        "policy": policy,
    });
    let mut done = Vec::new();
    // The policy first: with BlockPublicPolicy on, S3 refuses to store a public policy,
    // so the public statements go before the block goes on.
    let mut removed = Vec::new();
    if let Some(p) = &policy {
        let (kept, public) = remove_public_statements(p);
        if !public.is_empty() {
            set_bucket_policy(c, bucket, kept.as_ref()).await?;
            done.push(format!(
                "{} public statement(s) removed from the bucket policy",
                public.len()
            ));
            removed = public;
        }
    }
    if bpa != ALL_BLOCKED {
        set_bucket_bpa(c, bucket, ALL_BLOCKED).await?;
        done.push("bucket Block Public Access on".into());
    }
    if let Some(a) = acct
        && a != ALL_BLOCKED
    {
        set_account_bpa(c, ALL_BLOCKED).await?;
        done.push("account Block Public Access on".into());
    }
    if done.is_empty() {
        return Ok(effect(
            false,
            before,
            Value::Null,
            format!("bucket {bucket} is not public"),
        ));
    }
    let undo = json!({
        "bucket_public_access_block": bpa_json(bpa),
        "bucket_public_access_block_changed": bpa != ALL_BLOCKED,
        "account_public_access_block": acct.map(bpa_json),
        "account_public_access_block_changed": acct.is_some_and(|a| a != ALL_BLOCKED),
        "removed_statements": removed,
    });
    Ok(effect(
        true,
        before,
        undo,
        format!("bucket {bucket}: {}", done.join(", ")),
    ))
}

async fn unblock_public_s3(c: &Ctx<'_>, bucket: &str, u: &Value) -> Result<Effect, String> {
    let mut done = Vec::new();
    if u["bucket_public_access_block_changed"].as_bool() == Some(true) {
        let want = bpa_from(&u["bucket_public_access_block"]);
        if bucket_bpa(c, bucket).await? != want {
            set_bucket_bpa(c, bucket, want).await?;
            done.push("bucket Block Public Access restored");
        }
    }
    if u["account_public_access_block_changed"].as_bool() == Some(true) {
        let want = bpa_from(&u["account_public_access_block"]);
        if account_bpa(c).await? != want {
            set_account_bpa(c, want).await?;
            done.push("account Block Public Access restored");
        }
    }
    let removed = u["removed_statements"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !removed.is_empty() {
        let current = bucket_policy(c, bucket).await?;
        let (policy, changed) = restore_statements(current.as_ref(), &removed);
        if changed {
            set_bucket_policy(c, bucket, Some(&policy)).await?;
            done.push("public statements put back into the bucket policy");
        }
    }
    let changed = !done.is_empty();
    Ok(effect(
        changed,
        Value::Null,
        Value::Null,
        if changed {
            format!("bucket {bucket}: {}", done.join(", "))
        } else {
            format!("bucket {bucket}: already as before")
        },
    ))
}

// --- EC2 --------------------------------------------------------------------------------------

struct InstanceView {
    vpc: String,
    /// (network interface id, its security group ids)
    interfaces: Vec<(String, Vec<String>)>,
    volumes: Vec<String>,
}

async fn describe_instance(c: &Ctx<'_>, id: &str) -> Result<InstanceView, String> {
    let out = c.call(
        "ec2:DescribeInstances",
        c.s.ec2(c.region)
            .describe_instances()
            .instance_ids(id)
            .send()
            .await,
    )?;
    let i = out
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .find(|i| i.instance_id() == Some(id))
        .ok_or_else(|| {
            format!(
                "instance {id} not found in account {} region {}",
                c.account, c.region
            )
        })?;
    let interfaces = i
        .network_interfaces()
        .iter()
        .filter_map(|n| {
            Some((
                n.network_interface_id()?.to_string(),
                n.groups()
                    .iter()
                    .filter_map(|g| g.group_id().map(str::to_string))
                    .collect(),
            ))
        })
        .collect();
    Ok(InstanceView {
        vpc: i.vpc_id().unwrap_or_default().to_string(),
        interfaces,
        volumes: i
            .block_device_mappings()
            .iter()
            .filter_map(|b| b.ebs().and_then(|e| e.volume_id()).map(str::to_string))
            .collect(),
    })
}

/// The VPC's quarantine group (created, with its default egress rule revoked, when missing).
async fn quarantine_group(c: &Ctx<'_>, vpc: &str) -> Result<String, String> {
    use aws_sdk_ec2::types::{Filter, IpPermission, IpRange};
    let ec2 = c.s.ec2(c.region);
    let found = c.call(
        "ec2:DescribeSecurityGroups",
        ec2.describe_security_groups()
            .filters(
                Filter::builder()
                    .name("group-name")
                    .values(QUARANTINE_GROUP)
                    .build(),
            )
            .filters(Filter::builder().name("vpc-id").values(vpc).build())
            .send()
            .await,
    )?;
    if let Some(id) = found.security_groups().first().and_then(|g| g.group_id()) {
        return Ok(id.to_string());
    }
    let created = c.call(
        "ec2:CreateSecurityGroup",
        ec2.create_security_group()
            .group_name(QUARANTINE_GROUP)
            .description("rampart: isolated instances, no inbound or outbound rules")
            .vpc_id(vpc)
            .send()
            .await,
    )?;
    let id = created
        .group_id()
        .ok_or("ec2:CreateSecurityGroup returned no group id")?
        .to_string();
    c.absent(
        "ec2:RevokeSecurityGroupEgress",
        &["InvalidPermission.NotFound"],
        ec2.revoke_security_group_egress()
            .group_id(&id)
            .ip_permissions(
                IpPermission::builder()
                    .ip_protocol("-1")
                    .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                    .build(),
            )
            .send()
            .await,
    )?;
    Ok(id)
}

async fn set_groups(c: &Ctx<'_>, eni: &str, groups: Vec<String>) -> Result<(), String> {
    c.call(
        "ec2:ModifyNetworkInterfaceAttribute",
        c.s.ec2(c.region)
            .modify_network_interface_attribute()
            .network_interface_id(eni)
            .set_groups(Some(groups))
            .send()
            .await,
    )
    .map(drop)
}

async fn isolate_instance(c: &Ctx<'_>, id: &str) -> Result<Effect, String> {
    use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
    let view = describe_instance(c, id).await?;
    let qg = quarantine_group(c, &view.vpc).await?;
    let before = json!({"vpc": view.vpc, "volumes": view.volumes,
        "interfaces": view.interfaces.iter().map(|(n, g)| json!({"id": n, "groups": g})).collect::<Vec<_>>()});
    let pending: Vec<&(String, Vec<String>)> = view
        .interfaces
        .iter()
        .filter(|(_, g)| g != &vec![qg.clone()])
        .collect();
    if pending.is_empty() {
        return Ok(effect(
            false,
            before,
            Value::Null,
            format!("instance {id} is already isolated in {qg}"),
        ));
    }
    // Evidence first: a snapshot of every attached volume, kept after undo (tagged as it is
    // created, which needs ec2:CreateTags on the snapshot).
    let mut snapshots = Vec::new();
    for v in &view.volumes {
        let snap = c.call(
            "ec2:CreateSnapshot",
            c.s.ec2(c.region)
                .create_snapshot()
                .volume_id(v)
                .description(format!(
                    "rampart isolate-instance {id}: evidence before isolation"
                ))
                .tag_specifications(
                    TagSpecification::builder()
                        .resource_type(ResourceType::Snapshot)
                        .tags(
                            Tag::builder()
                                .key("rampart:isolated-instance")
                                .value(id)
                                .build(),
                        )
                        .build(),
                )
                .send()
                .await,
        )?;
        snapshots.push(snap.snapshot_id().unwrap_or_default().to_string());
    }
    for (eni, _) in &pending {
        set_groups(c, eni, vec![qg.clone()]).await?;
    }
    let undo = json!({"interfaces": pending.iter().map(|(n, g)| json!({"id": n, "groups": g})).collect::<Vec<_>>()});
    Ok(effect(
        true,
        before,
        undo,
        format!(
            "instance {id}: {} volume snapshot(s) ({}), {} interface(s) moved to {qg}",
            snapshots.len(),
            snapshots.join(", "),
            pending.len()
        ),
    ))
}

async fn unisolate_instance(c: &Ctx<'_>, id: &str, u: &Value) -> Result<Effect, String> {
    let view = describe_instance(c, id).await?;
    let mut changed = 0;
    for want in u["interfaces"].as_array().into_iter().flatten() {
        let eni = want["id"].as_str().unwrap_or_default();
        let groups = strings(&want["groups"]).unwrap_or_default();
        let now = view.interfaces.iter().find(|(n, _)| n == eni);
        if now.is_some_and(|(_, g)| *g != groups) {
            set_groups(c, eni, groups).await?;
            changed += 1;
        }
    }
    Ok(effect(
        changed > 0,
        Value::Null,
        Value::Null,
        format!(
            "instance {id}: original security groups restored on {changed} interface(s); snapshots kept"
        ),
    ))
}
