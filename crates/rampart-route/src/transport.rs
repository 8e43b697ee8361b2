//! The real requests: HTTP(S) POSTs through the webhook client of `rampart-detect` (plain
//! `http://` spoken directly, `https://` through `curl` with the URL kept off the command
//! line) and SNS through the binary's publisher. Errors name the redacted URL only.

use crate::format::Outgoing;
use crate::router::{Refusal, Transport};
use rampart_detect::sink::{SnsPublisher, WebhookSink};

/// HTTP and, when given a publisher, SNS.
pub struct LiveTransport {
    sns: Option<Box<dyn SnsPublisher>>,
}

impl LiveTransport {
    pub fn new(sns: Option<Box<dyn SnsPublisher>>) -> LiveTransport {
        LiveTransport { sns }
    }
}

impl Transport for LiveTransport {
    fn send(&mut self, out: &Outgoing) -> Result<(), Refusal> {
        match out {
            Outgoing::Http { url, headers, body } => {
                let sink = WebhookSink::new(url.expose()).map_err(|message| Refusal {
                    message,
                    retry_after: None,
                })?;
                let headers: Vec<(&str, &str)> = headers
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                sink.post_with_headers(body, &headers)
                    .map_err(|(message, wait)| Refusal {
                        message,
                        retry_after: wait.map(|w| w.as_secs() as i64),
                    })
            }
            Outgoing::Sns {
                topic_arn,
                subject,
                message,
            } => match &self.sns {
                Some(p) => p.publish(topic_arn, subject, message).map_err(|e| Refusal {
                    message: format!("sns {topic_arn}: {e}"),
                    retry_after: None,
                }),
                None => Err(Refusal {
                    message: format!(
                        "sns {topic_arn}: this rampart was built without AWS access; build with the default `aws` feature"
                    ),
                    retry_after: None,
                }),
            },
        }
    }
}
