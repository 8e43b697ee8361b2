//! The S3 event notifications the detect job receives from `[schedule] detect_queue_url`:
//! which trail objects were created. A message is an S3 notification (as S3 sends it to SQS,
//! or wrapped in an SNS envelope, or an EventBridge "Object Created" event), or S3's
//! `s3:TestEvent`. Parsing never panics; what it cannot read is an error naming why.

use serde_json::Value;

/// What one message asks of the detect job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notice {
    /// The created objects under the trail prefix, to read.
    pub keys: Vec<String>,
    /// Created objects elsewhere (another bucket or prefix), and records that are not
    /// creations: nothing to read.
    pub outside: usize,
    /// S3's `s3:TestEvent`, sent when notifications are configured.
    pub test: bool,
}

/// Reads one message body against the trail location `bucket`/`prefix`.
pub fn parse(body: &str, bucket: &str, prefix: &str) -> Result<Notice, String> {
    let v: Value = serde_json::from_str(body).map_err(|e| format!("not JSON ({e})"))?;
    // An SNS envelope carries the S3 notification as a string.
    if v.get("Type").and_then(Value::as_str) == Some("Notification") {
        let inner = v
            .get("Message")
            .and_then(Value::as_str)
            .ok_or("an SNS notification without a Message")?;
        return parse(inner, bucket, prefix);
    }
    let mut notice = Notice::default();
    let take = |b: &str, key: String, notice: &mut Notice| {
        if b == bucket && key.starts_with(prefix) && !key.ends_with('/') {
            notice.keys.push(key);
        } else {
            notice.outside += 1;
        }
    };
    if v.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        notice.test = true;
        return Ok(notice);
    }
    if v.get("detail-type").and_then(Value::as_str) == Some("Object Created") {
        let b = text(&v, &["detail", "bucket", "name"])?;
        let key = text(&v, &["detail", "object", "key"])?;
        take(b, key.to_string(), &mut notice);
        return Ok(notice);
    }
    let records = v
        .get("Records")
        .and_then(Value::as_array)
        .ok_or("not an S3 event notification (no Records, no s3:TestEvent)")?;
    for (i, r) in records.iter().enumerate() {
        let name = r
            .get("eventName")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("record {i} has no eventName"))?;
        if !name.starts_with("ObjectCreated:") {
            notice.outside += 1;
            continue;
        }
        let b = text(r, &["s3", "bucket", "name"]).map_err(|e| format!("record {i}: {e}"))?;
        let key = text(r, &["s3", "object", "key"]).map_err(|e| format!("record {i}: {e}"))?;
        let key = url_decode(key).map_err(|e| format!("record {i}: {e}"))?;
        take(b, key, &mut notice);
    }
    Ok(notice)
}

fn text<'a>(v: &'a Value, path: &[&str]) -> Result<&'a str, String> {
    let mut at = v;
    for p in path {
        at = at.get(p).ok_or_else(|| format!("no {}", path.join(".")))?;
    }
    at.as_str()
        .ok_or_else(|| format!("{} is not a string", path.join(".")))
}

/// S3 notifications form-encode object keys (`+` for a space, `%XX` for other bytes).
fn url_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("bad escape in the key `{s}`"))?;
                out.push(hex);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| format!("the key `{s}` is not UTF-8 once decoded"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PREFIX: &str = "AWSLogs/o-abc/";

    fn s3_event(bucket: &str, keys: &[&str]) -> String {
        let records: Vec<Value> = keys
            .iter()
            .map(|k| {
                serde_json::json!({
                    "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                    "s3": {"bucket": {"name": bucket}, "object": {"key": k, "size": 10}}
                })
            })
            .collect();
        serde_json::json!({ "Records": records }).to_string()
    }

    #[test]
    fn created_objects_under_the_trail_prefix_are_read_the_rest_counted() {
        let body = s3_event(
            "trail",
            &[
                "AWSLogs/o-abc/1/CloudTrail/us-east-1/2026/12/06/a+b%3D.json.gz",
                "other/x.json",
                "AWSLogs/o-abc/1/",
            ],
        );
        let n = parse(&body, "trail", PREFIX).unwrap();
        assert_eq!(
            n.keys,
            vec!["AWSLogs/o-abc/1/CloudTrail/us-east-1/2026/12/06/a b=.json.gz"]
        );
        assert_eq!((n.outside, n.test), (2, false));
        let n = parse(
            &s3_event("elsewhere", &["AWSLogs/o-abc/x"]),
            "trail",
            PREFIX,
        )
        .unwrap();
        assert_eq!((n.keys.len(), n.outside), (0, 1));
    }

    #[test]
    fn test_events_sns_envelopes_and_eventbridge_events_are_understood() {
        let test = r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"trail"}"#;
        assert!(parse(test, "trail", PREFIX).unwrap().test);
        let wrapped = serde_json::json!({
            "Type": "Notification",
            "Message": s3_event("trail", &["AWSLogs/o-abc/k.json.gz"]),
        })
        .to_string();
        assert_eq!(
            parse(&wrapped, "trail", PREFIX).unwrap().keys,
            vec!["AWSLogs/o-abc/k.json.gz"]
        );
        let eb = r#"{"detail-type":"Object Created","source":"aws.s3",
            "detail":{"bucket":{"name":"trail"},"object":{"key":"AWSLogs/o-abc/k.json.gz"}}}"#;
        assert_eq!(parse(eb, "trail", PREFIX).unwrap().keys.len(), 1);
        let removed = r#"{"Records":[{"eventName":"ObjectRemoved:Delete",
            "s3":{"bucket":{"name":"trail"},"object":{"key":"AWSLogs/o-abc/k"}}}]}"#;
        assert_eq!(parse(removed, "trail", PREFIX).unwrap().outside, 1);
    }

    #[test]
    fn malformed_messages_say_why() {
        for (body, why) in [
            ("not json", "not JSON"),
            ("{}", "not an S3 event notification"),
            (r#"{"Records":[{}]}"#, "record 0 has no eventName"),
            (
                r#"{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"trail"}}}]}"#,
                "record 0: no s3.object.key",
            ),
            (
                r#"{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"trail"},"object":{"key":"a%zz"}}}]}"#,
                "bad escape",
            ),
            (r#"{"Type":"Notification"}"#, "without a Message"),
        ] {
            let e = parse(body, "trail", PREFIX).unwrap_err();
            assert!(e.contains(why), "{body}: {e}");
        }
    }

    proptest! {
        #[test]
        fn any_body_parses_or_errs_without_panicking(body in ".{0,200}") {
            let _ = parse(&body, "trail", PREFIX);
        }

        #[test]
        fn encoded_keys_decode_to_themselves(key in "[a-zA-Z0-9 /=_.-]{1,60}") {
            let encoded: String = key
                .bytes()
                .map(|b| match b {
                    b' ' => "+".to_string(),
                    b'=' | b'/' => format!("%{b:02X}"),
                    b => (b as char).to_string(),
                })
                .collect();
            let full = format!("{PREFIX}{key}");
            let body = s3_event("trail", &[&format!("{PREFIX}{encoded}")]);
            let n = parse(&body, "trail", PREFIX).unwrap();
            if full.ends_with('/') {
                prop_assert_eq!(n.outside, 1);
            } else {
                prop_assert_eq!(n.keys, vec![full]);
            }
        }
    }
}
