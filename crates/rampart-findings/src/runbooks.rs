//! Runbooks for the finding types intake normalizes, by family: a GuardDuty type resolves by
//! its threat purpose and resource (`UnauthorizedAccess:IAMUser/*`), a Security Hub type by its
//! ASFF namespace, Access Analyzer by external or unused access, Config by rule. They are
//! written in rampart-detect's runbook language, rendered by the same code (docs/runbooks/
//! findings, `rampart runbook guardduty:TYPE`, alert messages once [`install`] ran).

use crate::Service;
use rampart_detect::ir::{RuleMeta, Severity};
use rampart_detect::runbook::{
    self, Contact, Contacts, Entry, Format, Runbook, Step, common, note, sh,
};
use std::fmt::Write as _;
use std::sync::OnceLock;

/// One family of finding types and its runbook.
pub struct Family {
    pub service: Service,
    /// File name of its page in docs/runbooks/findings (without `.md`).
    pub slug: &'static str,
    /// Globs over the finding type (`*` is any text), any case; the first family matching wins.
    pub patterns: &'static [&'static str],
    pub entry: Entry,
}

impl Family {
    pub fn matches(&self, finding_type: &str) -> bool {
        self.patterns.iter().any(|p| glob(p, finding_type))
    }
}

/// `*`-only glob, ignoring ASCII case.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.to_ascii_lowercase(), text.to_ascii_lowercase());
    let parts: Vec<&str> = p.split('*').collect();
    if parts.len() == 1 {
        return p == t;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !t.starts_with(first) || t.len() < first.len() + last.len() || !t.ends_with(last) {
        return false;
    }
    let mut rest = &t[first.len()..t.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

const GD_DETECTOR: &str =
    "$(aws guardduty list-detectors --region {region} --query 'DetectorIds[0]' --output text)";

fn gd_read() -> Step {
    sh(
        "Read the finding in full: resource, actor, remote IP, first and last seen, count.",
        &format!(
            "aws guardduty get-findings --region {{region}} --detector-id {GD_DETECTOR} --finding-ids {{event_id}}"
        ),
    )
}

fn gd_archive() -> Step {
    sh(
        "Once resolved (or confirmed benign), archive the finding so it stops re-alerting; add a suppression rule for a known benign pattern.",
        &format!(
            "aws guardduty archive-findings --region {{region}} --detector-id {GD_DETECTOR} --finding-ids {{event_id}}"
        ),
    )
}

fn sh_read() -> Step {
    sh(
        "Read the finding in full (product, resources, remediation text) through Security Hub.",
        "aws securityhub get-findings --region {region} --filters '{\"Id\":[{\"Value\":\"{event_id}\",\"Comparison\":\"EQUALS\"}]}'",
    )
}

fn sh_resolve() -> Step {
    sh(
        "When fixed, set its workflow to RESOLVED (intake records it closed; a reopening alerts again).",
        "aws securityhub batch-update-findings --region {region} --finding-identifiers Id={event_id},ProductArn=$(aws securityhub get-findings --region {region} --filters '{\"Id\":[{\"Value\":\"{event_id}\",\"Comparison\":\"EQUALS\"}]}' --query 'Findings[0].ProductArn' --output text) --workflow Status=RESOLVED --note Text=fixed,UpdatedBy=rampart",
    )
}

const AA_ANALYZER: &str = "$(aws accessanalyzer list-analyzers --region {region} --query 'analyzers[0].arn' --output text)";

fn aa_read() -> Step {
    sh(
        "Read the finding: the resource, who outside gets access (principal, action, condition) or what is unused.",
        &format!(
            "aws accessanalyzer get-finding-v2 --region {{region}} --analyzer-arn {AA_ANALYZER} --id {{event_id}}"
        ),
    )
}

fn meta(service: Service, id: &str, title: &str, severity: Severity, what: &str) -> RuleMeta {
    let mut m = RuleMeta::new(
        format!("{}:{id}", service.as_str()),
        service.rule_source(),
        title,
        severity,
    );
    m.description = what.to_string();
    m
}

fn family(
    service: Service,
    slug: &'static str,
    patterns: &'static [&'static str],
    rule: RuleMeta,
    runbook: Runbook,
) -> Family {
    Family {
        service,
        slug,
        patterns,
        entry: Entry { rule, runbook },
    }
}

/// Every family, in matching order (specific before general; each service ends with a `*`
/// family so every finding type resolves).
pub fn families() -> &'static [Family] {
    static ALL: OnceLock<Vec<Family>> = OnceLock::new();
    ALL.get_or_init(build)
}

fn build() -> Vec<Family> {
    use Service::*;
    let gd = GuardDuty;
    vec![
        family(gd, "guardduty-iam-credentials", &["UnauthorizedAccess:IAMUser/*", "CredentialAccess:IAMUser/*", "InitialAccess:IAMUser/*"],
            meta(gd, "UnauthorizedAccess:IAMUser/*", "IAM credentials used in an unexpected way", Severity::High,
                "GuardDuty saw an IAM user's or role's credentials used from somewhere they should not be: a malicious or Tor IP, an instance's credentials outside its instance, a console login that breaks the principal's pattern."),
            Runbook::new("IAM credentials of {account} misused ({rule_id})", "Whoever holds these credentials acts with their permissions; instance credentials used outside AWS mean the role's keys were stolen.")
                .triage([gd_read(), common::key_activity(), common::principal_activity(), common::confirm_with_owner()])
                .contain([common::disable_key(), common::quarantine_principal()])
                .recover([common::review_credentials(), note("Rotate every credential the principal could read (secrets, keys), and review what it created (users, keys, roles, policies) during the window."), gd_archive()])
                .escalate(Contact::SecurityOnCall, "at once for High or Critical; the credentials are live")
                .escalate(Contact::IdentityAdmins, "to rotate and review the principal's access")),
        family(gd, "guardduty-ec2-access", &["UnauthorizedAccess:EC2/*", "UnauthorizedAccess:Lambda/*"],
            meta(gd, "UnauthorizedAccess:EC2/*", "Unauthorized access to or from a workload", Severity::Medium,
                "GuardDuty saw brute force (SSH, RDP) against an instance, a connection to Tor or a known bad host, or metadata abuse by a workload."),
            Runbook::new("Workload {resource} in {account} attacked or reaching a bad host ({rule_id})", "A successful brute force or a workload talking to attacker infrastructure is the first step to a compromised instance and its role's credentials.")
                .triage([gd_read(), sh("Check who can reach the instance: its security groups' inbound rules.", "aws ec2 describe-instances --region {region} --instance-ids {resource} --query 'Reservations[].Instances[].SecurityGroups'"), common::resource_history()])
                .contain([sh("Isolate the instance with a security group that allows nothing (snapshot its volumes first for forensics).", "aws ec2 modify-instance-attribute --region {region} --instance-id {resource} --groups <quarantine_sg>").respond("isolate-instance")])
                .recover([note("Close the exposed port (SSH/RDP to 0.0.0.0/0) and use Session Manager instead; rebuild the instance from a known image if a login succeeded."), gd_archive()])
                .escalate(Contact::AccountOwner, "to confirm the workload's expected traffic")
                .escalate(Contact::SecurityOnCall, "if a login succeeded or the instance talks to a command-and-control host")),
        family(gd, "guardduty-cryptomining", &["CryptoCurrency:*", "Impact:EC2/BitcoinDomainRequest*", "Impact:Runtime/CryptoMinerExecuted"],
            meta(gd, "CryptoCurrency:*", "Cryptocurrency mining", Severity::High,
                "GuardDuty saw a workload (instance, container, function) query or connect to cryptocurrency mining infrastructure."),
            Runbook::new("Cryptomining on {resource} in {account} ({rule_id})", "Mining means someone runs their code on your compute: the bill grows and whoever got in has the workload's role.")
                .triage([gd_read(), common::resource_history(), sh("List recently launched instances in the region: miners often start more.", "aws ec2 describe-instances --region {region} --filters Name=instance-state-name,Values=running --query 'Reservations[].Instances[].[InstanceId,LaunchTime,InstanceType]' --output table")])
                .contain([sh("Isolate the instance (after a volume snapshot), or stop it.", "aws ec2 stop-instances --region {region} --instance-ids {resource}").respond("isolate-instance")])
                .recover([note("Find how the code got there (exposed service, stolen keys, poisoned image), fix it, rebuild from a known image, and revoke the workload role's sessions."), gd_archive()])
                .escalate(Contact::SecurityOnCall, "at once: it is an active compromise")
                .escalate(Contact::AccountOwner, "to rebuild the workload")),
        family(gd, "guardduty-recon", &["Recon:*", "Discovery:*"],
            meta(gd, "Recon:*", "Reconnaissance", Severity::Medium,
                "GuardDuty saw enumeration: API calls listing resources or permissions from an unusual or malicious source, or port scans."),
            Runbook::new("Reconnaissance against {account} ({rule_id})", "Discovery precedes an attack: whoever enumerates now knows what to go after, and with which credentials.")
                .triage([gd_read(), common::principal_activity(), common::detect_window(), common::confirm_with_owner()])
                .contain([note("If the caller is an IAM principal and the activity is not its owner's, contain its credentials:"), common::disable_key()])
                .recover([note("Review what the enumeration could reveal (resource names, policies) and tighten the principal's List/Describe permissions to what it needs."), gd_archive()])
                .escalate(Contact::SecurityOnCall, "when the caller is a real principal of yours (not an unauthenticated scan)")),
        family(gd, "guardduty-persistence", &["Persistence:*", "PrivilegeEscalation:*"],
            meta(gd, "Persistence:*", "Persistence or privilege escalation", Severity::High,
                "GuardDuty saw a principal create access or raise its privileges in an anomalous way (new users, keys, policies, or a container escape)."),
            Runbook::new("Persistence or privilege escalation in {account} ({rule_id})", "An attacker who created their own way in survives a key rotation; one who escalated now holds more than the stolen identity had.")
                .triage([gd_read(), common::principal_activity(), sh("List IAM changes in the window (users, keys, policies, roles).", "aws cloudtrail lookup-events --region us-east-1 --lookup-attributes AttributeKey=EventSource,AttributeValue=iam.amazonaws.com --start-time {start} --end-time {end}")])
                .contain([common::quarantine_principal()])
                .recover([note("Delete what the actor created (users, access keys, login profiles, role trust changes, policy versions); restore the baseline."), common::apply_baseline(), gd_archive()])
                .escalate(Contact::SecurityOnCall, "at once")
                .escalate(Contact::IdentityAdmins, "to remove the created access")),
        family(gd, "guardduty-stealth", &["Stealth:*", "DefenseEvasion:*"],
            meta(gd, "Stealth:*", "Defense evasion", Severity::High,
                "GuardDuty saw logging or monitoring weakened (CloudTrail stopped, S3 access logging disabled, password policy weakened) or a workload hiding its tracks."),
            Runbook::new("Monitoring weakened in {account} ({rule_id})", "Turning off the record is what comes before the part the attacker does not want seen.")
                .triage([gd_read(), common::principal_activity(), common::confirm_with_owner()])
                .contain([common::quarantine_principal()])
                .recover([common::apply_baseline(), common::audit_again(), gd_archive()])
                .escalate(Contact::SecurityOnCall, "at once")
                .escalate(Contact::OrgAdmins, "if organization-level logging was touched")),
        family(gd, "guardduty-data", &["Exfiltration:*", "Impact:S3/*", "Policy:S3/*", "Impact:*"],
            meta(gd, "Exfiltration:*", "Data exposure, exfiltration or destruction", Severity::High,
                "GuardDuty saw data leave or be destroyed in an anomalous way, or a bucket's protection removed (Block Public Access disabled, bucket made public)."),
            Runbook::new("Data at risk in {account}: {resource} ({rule_id})", "Exposed or exfiltrated data cannot be taken back; deletion without backups is permanent.")
                .triage([gd_read(), common::resource_history(), common::principal_activity()])
                .contain([sh("Re-apply S3 Block Public Access on the account.", "aws s3control put-public-access-block --account-id {account} --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true").respond("block-public-access"), common::quarantine_principal()])
                .recover([note("Establish what was read or deleted (S3 data events, server access logs), restore from versions or backups, and start the data-breach process if personal data was involved."), gd_archive()])
                .escalate(Contact::SecurityOnCall, "at once")
                .escalate(Contact::AccountOwner, "to assess the data's sensitivity")),
        family(gd, "guardduty-root", &["Policy:IAMUser/*"],
            meta(gd, "Policy:IAMUser/*", "Root or policy-breaking credential use", Severity::Low,
                "GuardDuty saw the root user's credentials used, or another IAM policy violation."),
            Runbook::new("Root credentials used in {account} ({rule_id})", "The root user cannot be restricted by IAM; its use outside break-glass is either a mistake or an attacker.")
                .triage([gd_read(), common::root_credentials(), common::confirm_with_owner()])
                .contain([common::delete_root_credentials()])
                .recover([note("Make root use go through the break-glass procedure; enable centralized root access for member accounts."), gd_archive()])
                .escalate(Contact::OrgAdmins, "for any unplanned root use")),
        family(gd, "guardduty-malware", &["Backdoor:*", "Trojan:*", "Execution:*", "Object:*", "*:Runtime/*"],
            meta(gd, "Backdoor:*", "Malware or a compromised workload", Severity::High,
                "GuardDuty saw a workload behave like malware (command and control, denial of service, a trojan's DNS, a malicious file, a suspicious process) or a malicious S3 object."),
            Runbook::new("Workload {resource} in {account} likely compromised ({rule_id})", "A compromised workload is the attacker's foothold and gives them its role.")
                .triage([gd_read(), common::resource_history(), note("Start a GuardDuty malware scan of the instance's volumes if it has not run (the console's on-demand scan).")])
                .contain([sh("Snapshot the volumes for forensics, then isolate the instance with a quarantine security group.", "aws ec2 describe-instances --region {region} --instance-ids {resource} --query 'Reservations[].Instances[].BlockDeviceMappings[].Ebs.VolumeId'").respond("isolate-instance")])
                .recover([note("Rebuild from a known image, rotate the secrets the workload held, and revoke its role's sessions."), gd_archive()])
                .escalate(Contact::SecurityOnCall, "at once")
                .escalate(Contact::AccountOwner, "to rebuild the workload")),
        family(gd, "guardduty-pentest", &["Pentest:*"],
            meta(gd, "Pentest:*", "Penetration-testing tool", Severity::Medium,
                "GuardDuty saw API calls from a penetration-testing distribution (Kali, Parrot, Pentoo)."),
            Runbook::new("Pentest tooling used against {account} ({rule_id})", "Unless a test is scheduled, someone is attacking with your credentials.")
                .triage([gd_read(), common::key_activity(), common::confirm_with_owner()])
                .contain([common::disable_key()])
                .recover([common::review_credentials(), gd_archive()])
                .escalate(Contact::SecurityOnCall, "unless a pentest is scheduled")),
        family(gd, "guardduty-attack-sequence", &["AttackSequence:*"],
            meta(gd, "AttackSequence:*", "Multi-stage attack sequence", Severity::Critical,
                "GuardDuty's extended threat detection correlated several signals into one attack sequence."),
            Runbook::new("Attack sequence in {account} ({rule_id})", "Several stages of one attack have been seen together: this is an incident, not a signal.")
                .triage([gd_read(), common::principal_activity(), common::detect_window()])
                .contain([common::quarantine_principal()])
                .recover([common::apply_baseline(), gd_archive()])
                .escalate(Contact::SecurityOnCall, "at once: run the incident process")),
        family(gd, "guardduty-other", &["*"],
            meta(gd, "*", "Other GuardDuty finding", Severity::Medium,
                "A GuardDuty finding of a type no family above covers."),
            Runbook::new("GuardDuty {rule_id} in {account}", "GuardDuty raises it because the activity is anomalous or known bad; its own description says what.")
                .triage([gd_read(), common::principal_activity()])
                .contain([note("Contain per the resource type: credentials (disable the key), workload (isolate), bucket (block public access).")])
                .recover([gd_archive()])
                .escalate(Contact::SecurityOnCall, "for High and Critical")),
        // ---------------------------------------------------------------- Security Hub
        family(SecurityHub, "securityhub-vulnerabilities", &["Software and Configuration Checks/Vulnerabilities/*"],
            meta(SecurityHub, "Software and Configuration Checks/Vulnerabilities/*", "Software vulnerability", Severity::High,
                "A product (Inspector, a partner scanner) found a known vulnerability (CVE) in a package, image or function."),
            Runbook::new("Vulnerable software on {resource} in {account} ({rule_id})", "A known, exploitable flaw on a reachable resource is how most workload compromises start.")
                .triage([sh_read(), sh("List the resource's other open vulnerability findings (Inspector).", "aws inspector2 list-findings --region {region} --filter-criteria '{\"resourceId\":[{\"comparison\":\"EQUALS\",\"value\":\"{resource}\"}]}'")])
                .contain([note("If the vulnerability is exploitable from the network and no patch exists yet, restrict the resource's exposure (security group, WAF rule).")])
                .recover([note("Patch or rebuild with the fixed version; the product closes the finding on its next scan."), sh_resolve()])
                .escalate(Contact::AccountOwner, "to patch within the vulnerability policy's deadline")
                .escalate(Contact::SecurityOnCall, "for Critical or actively exploited CVEs")),
        family(SecurityHub, "securityhub-threats", &["TTPs/*", "Effects/*", "Unusual Behaviors/*"],
            meta(SecurityHub, "TTPs/*", "Threat detection from an integrated product", Severity::High,
                "A threat-detection product (GuardDuty, Detective, a partner) reported tactics, effects or unusual behaviour through Security Hub."),
            Runbook::new("Threat reported by {resource} in {account} ({rule_id})", "An integrated product saw attacker behaviour; the product's own finding has the detail.")
                .triage([sh_read(), common::resource_history(), common::principal_activity()])
                .contain([note("Contain per the product's finding: credentials (disable the key, quarantine the principal), workload (isolate), data (block public access)."), common::quarantine_principal()])
                .recover([note("Follow the product's remediation text; verify nothing the actor created remains."), sh_resolve()])
                .escalate(Contact::SecurityOnCall, "at once for High and Critical")),
        family(SecurityHub, "securityhub-sensitive-data", &["Sensitive Data Identifications/*"],
            meta(SecurityHub, "Sensitive Data Identifications/*", "Sensitive data found", Severity::Medium,
                "Macie (or a partner) found sensitive data (personal data, credentials, financial data) where it was not expected."),
            Runbook::new("Sensitive data in {resource} ({account})", "Sensitive data outside its controls is a breach waiting for an exposure.")
                .triage([sh_read(), sh("Check the bucket's exposure: policy status and Block Public Access.", "aws s3api get-bucket-policy-status --bucket {bucket}")])
                .contain([note("Restrict access to the object or bucket to its owners; remove credentials found in data and rotate them.")])
                .recover([note("Move the data where it belongs (or delete it) and record the decision."), sh_resolve()])
                .escalate(Contact::AccountOwner, "to decide where the data belongs")),
        family(SecurityHub, "securityhub-configuration", &["Software and Configuration Checks/*", "Industry and Regulatory Standards/*"],
            meta(SecurityHub, "Software and Configuration Checks/*", "Configuration check failed", Severity::Medium,
                "A Security Hub control (AWS Foundational Security Best Practices, CIS, PCI DSS, NIST) or a partner found a resource misconfigured."),
            Runbook::new("{resource} in {account} fails {rule_id}", "Each failed control is a weakness an attacker looks for (public access, missing encryption, logging off).")
                .triage([sh_read(), common::resource_history()])
                .contain([note("If the misconfiguration exposes data or access publicly, fix that part now (Block Public Access, security group rule).")])
                .recover([note("Fix the resource as the control's remediation says (or through rampart's baseline when it covers it)."), common::apply_baseline(), sh_resolve()])
                .escalate(Contact::AccountOwner, "to fix within the control's deadline")),
        family(SecurityHub, "securityhub-other", &["*"],
            meta(SecurityHub, "*", "Other Security Hub finding", Severity::Medium,
                "A Security Hub finding whose type no family above covers (a custom product or a new namespace)."),
            Runbook::new("Security Hub {rule_id} on {resource} in {account}", "The producing product judged it worth a finding; its description says why.")
                .triage([sh_read()])
                .contain([note("Contain per the product's remediation text.")])
                .recover([sh_resolve()])
                .escalate(Contact::SecurityOnCall, "for High and Critical")),
        // ------------------------------------------------------------- Access Analyzer
        family(AccessAnalyzer, "access-analyzer-external", &["external-access"],
            meta(AccessAnalyzer, "external-access", "Resource shared outside the zone of trust", Severity::High,
                "IAM Access Analyzer found a resource policy (bucket, key, role trust, queue, secret, snapshot…) granting access to a principal outside the organization, or to everyone."),
            Runbook::new("{resource} reachable from outside {account}", "Anyone the policy names (or anyone at all, when public) can read or act on the resource without your credentials.")
                .triage([aa_read(), common::resource_history(), common::confirm_with_owner()])
                .contain([sh("For a bucket made public, re-apply Block Public Access on the bucket.", "aws s3api put-public-access-block --bucket {bucket} --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true").respond("block-public-access"), note("Otherwise remove the statement granting the external principal from the resource policy.")])
                .recover([note("If the sharing is intended, archive the finding with an archive rule naming the partner account so it stays quiet."), sh("Re-scan the resource: the finding resolves when the access is gone.", &format!("aws accessanalyzer start-resource-scan --region {{region}} --analyzer-arn {AA_ANALYZER} --resource-arn {{resource}}"))])
                .escalate(Contact::AccountOwner, "to confirm whether the sharing is intended")
                .escalate(Contact::SecurityOnCall, "at once when it is public")),
        family(AccessAnalyzer, "access-analyzer-internal", &["internal-access"],
            meta(AccessAnalyzer, "internal-access", "Critical resource reachable inside the organization", Severity::Medium,
                "IAM Access Analyzer's internal access analyzer found principals inside the organization able to reach a monitored resource."),
            Runbook::new("{resource} reachable by other principals of the organization", "Broad internal access turns any compromised identity into access to this resource.")
                .triage([aa_read()])
                .contain([note("Narrow the resource policy or the principals' identity policies to who needs it.")])
                .recover([note("Archive the finding once the access is intended and documented.")])
                .escalate(Contact::AccountOwner, "to confirm who needs access")),
        family(AccessAnalyzer, "access-analyzer-unused", &["unused-access:*"],
            meta(AccessAnalyzer, "unused-access:*", "Unused access", Severity::Low,
                "IAM Access Analyzer's unused access analyzer found a role, an access key, a console password or permissions unused for longer than its tracking period."),
            Runbook::new("Unused access in {account}: {resource} ({rule_id})", "Unused credentials and permissions are risk without benefit: nobody notices when an attacker uses them.")
                .triage([aa_read(), sh("See the recommended change (Access Analyzer generates a policy keeping only used permissions).", &format!("aws accessanalyzer generate-finding-recommendation --region {{region}} --analyzer-arn {AA_ANALYZER} --id {{event_id}}"))])
                .contain([note("No urgency: the access is unused. Remove it on the normal change path.")])
                .recover([note("Delete the unused role, key or password, or apply the recommended narrower policy; `rampart iam unused` lists the rest.")])
                .escalate(Contact::IdentityAdmins, "to remove or narrow the access")),
        family(AccessAnalyzer, "access-analyzer-other", &["*"],
            meta(AccessAnalyzer, "*", "Other Access Analyzer finding", Severity::Medium,
                "An IAM Access Analyzer finding of a kind no family above covers."),
            Runbook::new("Access Analyzer {rule_id} on {resource}", "Access Analyzer found access that may not be intended.")
                .triage([aa_read()])
                .contain([note("Remove the access if it is not intended.")])
                .recover([note("Archive the finding once the access is intended and documented.")])
                .escalate(Contact::AccountOwner, "to confirm the access")),
        // ------------------------------------------------------------------------ Config
        family(Config, "config-noncompliant", &["*"],
            meta(Config, "*", "AWS Config rule non-compliant", Severity::Medium,
                "An AWS Config rule (managed, custom, or of a conformance pack) evaluated a resource as NON_COMPLIANT."),
            Runbook::new("{resource} in {account} is non-compliant with Config rule {rule_id}", "Config rules encode the baseline; a non-compliant resource is drift from it, sometimes an exposure.")
                .triage([
                    sh("List the rule's non-compliant resources in the region.", "aws configservice get-compliance-details-by-config-rule --region {region} --config-rule-name {rule_id} --compliance-types NON_COMPLIANT"),
                    sh("See who changed the resource and when (Config's history, then CloudTrail).", "aws configservice get-resource-config-history --region {region} --resource-type <resource_type> --resource-id {resource} --limit 5"),
                    common::resource_history(),
                ])
                .contain([note("If the drift exposes the resource (public access, open port, encryption off), fix that part now.")])
                .recover([
                    sh("Fix the resource (the rule's remediation action when one is configured), then re-evaluate.", "aws configservice start-config-rules-evaluation --region {region} --config-rule-names {rule_id}"),
                    common::apply_baseline(),
                ])
                .escalate(Contact::AccountOwner, "to fix the resource")
                .escalate(Contact::SecurityOnCall, "when the resource is exposed publicly")),
    ]
}

/// The family and runbook of a finding type.
pub fn find(service: Service, finding_type: &str) -> Option<&'static Family> {
    families()
        .iter()
        .find(|f| f.service == service && f.matches(finding_type))
}

/// [`find`] in the shape rampart-detect's runbook module calls ([`install`]).
fn resolve(source: rampart_detect::ir::RuleSource, finding_type: &str) -> Option<&'static Entry> {
    let service = Service::ALL
        .into_iter()
        .find(|s| s.rule_source() == source)?;
    find(service, finding_type).map(|f| &f.entry)
}

/// Lets alert messages (webhook, SNS) and `rampart runbook --alert` find finding runbooks.
pub fn install() {
    runbook::install_finding_runbooks(resolve);
}

/// `SERVICE:TYPE` (`guardduty:Recon:IAMUser/MaliciousIPCaller`, `config:my-rule`) resolved to
/// its family, or `None` when `key` names no service.
pub fn find_key(key: &str) -> Option<&'static Family> {
    let (service, finding_type) = key.split_once(':')?;
    find(Service::parse(service)?, finding_type)
}

/// The generated docs/runbooks/findings: one page per family plus its `README.md` index.
pub fn docs() -> Vec<(String, String)> {
    let contacts = Contacts::default();
    let mut index = String::from(
        "# Runbooks for other services' findings\n\nGenerated from crates/rampart-findings/src/runbooks.rs by `rampart runbook --all --out docs/runbooks`; do not edit by hand.\nA finding type resolves to the first family whose pattern matches (`*` is any text, case ignored). Print one with `rampart runbook SERVICE:TYPE`, e.g. `rampart runbook guardduty:Recon:IAMUser/MaliciousIPCaller`. Placeholders are those of [the rule runbooks](../README.md); for a finding, `<event_id>` is the finding id and `<rule_id>` its type.\n\n| Service | Finding types | Severity | Runbook |\n|---|---|---|---|\n",
    );
    let mut files = Vec::new();
    for f in families() {
        let file = format!("{}.md", f.slug);
        let _ = writeln!(
            index,
            "| {} | {} | {} | [{}]({file}) |",
            f.service.as_str(),
            f.patterns
                .iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", "),
            f.entry.rule.severity.as_str(),
            f.entry.rule.title
        );
        files.push((
            file,
            runbook::render(&f.entry, None, &contacts, Format::Markdown),
        ));
    }
    files.insert(0, ("README.md".to_string(), index));
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_is_complete() {
        for f in families() {
            let p = f.entry.runbook.problems();
            assert!(p.is_empty(), "{}: {p:?}", f.slug);
        }
        let slugs: std::collections::BTreeSet<_> = families().iter().map(|f| f.slug).collect();
        assert_eq!(slugs.len(), families().len(), "slugs are unique");
    }

    #[test]
    fn finding_types_resolve_to_their_family() {
        for (key, slug) in [
            (
                "guardduty:Recon:IAMUser/MaliciousIPCaller",
                "guardduty-recon",
            ),
            (
                "guardduty:UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
                "guardduty-iam-credentials",
            ),
            (
                "guardduty:CryptoCurrency:EC2/BitcoinTool.B!DNS",
                "guardduty-cryptomining",
            ),
            (
                "guardduty:UnauthorizedAccess:EC2/SSHBruteForce",
                "guardduty-ec2-access",
            ),
            (
                "guardduty:Stealth:IAMUser/CloudTrailLoggingDisabled",
                "guardduty-stealth",
            ),
            (
                "guardduty:Policy:IAMUser/RootCredentialUsage",
                "guardduty-root",
            ),
            (
                "guardduty:Exfiltration:S3/AnomalousBehavior",
                "guardduty-data",
            ),
            (
                "guardduty:Execution:Runtime/NewBinaryExecuted",
                "guardduty-malware",
            ),
            ("guardduty:Something:New/Type", "guardduty-other"),
            (
                "securityhub:Software and Configuration Checks/Vulnerabilities/CVE",
                "securityhub-vulnerabilities",
            ),
            (
                "securityhub:Software and Configuration Checks/AWS Security Best Practices",
                "securityhub-configuration",
            ),
            ("securityhub:TTPs/Initial Access", "securityhub-threats"),
            ("securityhub:custom-generator", "securityhub-other"),
            (
                "access-analyzer:external-access",
                "access-analyzer-external",
            ),
            (
                "access-analyzer:unused-access:UnusedIAMRole",
                "access-analyzer-unused",
            ),
            (
                "config:s3-bucket-public-read-prohibited",
                "config-noncompliant",
            ),
        ] {
            assert_eq!(find_key(key).map(|f| f.slug), Some(slug), "{key}");
        }
        assert!(find_key("nothing:x").is_none());
        assert!(glob("a*b*c", "AxxBxxC") && !glob("a*b", "ab c"));
    }

    #[test]
    fn alert_messages_carry_the_runbook() {
        install();
        let f = crate::normalize::guardduty(&serde_json::json!({"Id": "f9", "Type": "Recon:IAMUser/MaliciousIPCaller",
            "Severity": 5, "AccountId": "111122223333", "Region": "us-east-1", "UpdatedAt": "2026-12-01T10:00:00Z"}))
        .unwrap();
        let text = rampart_detect::sink::message_text(&f.to_alert());
        assert!(
            text.contains("Reconnaissance against 111122223333"),
            "{text}"
        );
        assert!(text.contains("--finding-ids f9"), "{text}");
        assert!(
            text.contains("rampart runbook guardduty:Recon:IAMUser/MaliciousIPCaller"),
            "{text}"
        );
    }
}
