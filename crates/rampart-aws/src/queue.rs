//! An SQS queue of S3 notifications, read blocking (the detect job): receive in batches of
//! ten with a long poll, delete what was processed.

use crate::access::describe;
use crate::objects::BlockingAws;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// One line naming the call, the queue, the AWS error and what to check.
fn failed<E>(api: &str, queue_url: &str, e: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let (code, message) = describe(e);
    let action = if api == "sqs:DeleteMessageBatch" {
        "sqs:DeleteMessage"
    } else {
        api
    };
    format!(
        "{api} on {queue_url} failed ({code}: {message}); check the queue URL and that the role may {action} on it"
    )
}

/// One message as received: its body and the handle that deletes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMessage {
    pub id: String,
    pub receipt_handle: String,
    pub body: String,
}

/// The queue's region: the `sqs.REGION.amazonaws.com` host of its URL, else (an emulator's
/// URL) the session's home region.
pub fn queue_region(url: &str) -> Option<String> {
    let host = url.split("://").nth(1)?.split('/').next()?;
    let mut parts = host.split('.');
    match (parts.next(), parts.next()) {
        (Some("sqs"), Some(region)) if region.contains('-') => Some(region.to_string()),
        _ => None,
    }
}

impl BlockingAws {
    fn sqs_for(&self, queue_url: &str) -> aws_sdk_sqs::Client {
        let region = queue_region(queue_url).unwrap_or_else(|| self.access().home_region());
        self.access().sqs(&region)
    }

    /// The messages waiting (visible) and in flight (received, not yet deleted): the job's
    /// first call, which also proves the queue exists and may be read.
    pub fn queue_depth(&self, queue_url: &str) -> Result<(u64, u64), String> {
        use aws_sdk_sqs::types::QueueAttributeName as A;
        let client = self.sqs_for(queue_url);
        let out = self
            .block_on(
                client
                    .get_queue_attributes()
                    .queue_url(queue_url)
                    .attribute_names(A::ApproximateNumberOfMessages)
                    .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
                    .send(),
            )
            .map_err(|e| failed("sqs:GetQueueAttributes", queue_url, &e))?;
        let attrs = out.attributes.unwrap_or_default();
        let n = |a: A| -> u64 {
            attrs
                .get(&a)
                .and_then(|v| v.parse().ok())
                .unwrap_or_default()
        };
        Ok((
            n(A::ApproximateNumberOfMessages),
            n(A::ApproximateNumberOfMessagesNotVisible),
        ))
    }

    /// Up to ten messages, waiting up to `wait_secs` for the first (long poll); each stays
    /// invisible to other readers for `visibility_secs` while it is processed.
    pub fn receive_messages(
        &self,
        queue_url: &str,
        wait_secs: i32,
        visibility_secs: i32,
    ) -> Result<Vec<QueueMessage>, String> {
        let client = self.sqs_for(queue_url);
        let out = self
            .block_on(
                client
                    .receive_message()
                    .queue_url(queue_url)
                    .max_number_of_messages(10)
                    .wait_time_seconds(wait_secs)
                    .visibility_timeout(visibility_secs)
                    .send(),
            )
            .map_err(|e| failed("sqs:ReceiveMessage", queue_url, &e))?;
        Ok(out
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(|m| QueueMessage {
                id: m.message_id.unwrap_or_default(),
                receipt_handle: m.receipt_handle.unwrap_or_default(),
                body: m.body.unwrap_or_default(),
            })
            .collect())
    }

    /// Deletes these messages (batches of ten); the ids of those the queue did not delete are
    /// in the error, which names the queue.
    pub fn delete_messages(
        &self,
        queue_url: &str,
        messages: &[QueueMessage],
    ) -> Result<(), String> {
        let client = self.sqs_for(queue_url);
        let mut kept: Vec<String> = Vec::new();
        for batch in messages.chunks(10) {
            let entries: Vec<aws_sdk_sqs::types::DeleteMessageBatchRequestEntry> = batch
                .iter()
                .enumerate()
                .filter_map(|(i, m)| {
                    aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(&m.receipt_handle)
                        .build()
                        .ok()
                })
                .collect();
            let out = self
                .block_on(
                    client
                        .delete_message_batch()
                        .queue_url(queue_url)
                        .set_entries(Some(entries))
                        .send(),
                )
                .map_err(|e| failed("sqs:DeleteMessageBatch", queue_url, &e))?;
            for f in out.failed {
                let i: usize = f.id.parse().unwrap_or(usize::MAX);
                kept.push(batch.get(i).map_or(f.id.clone(), |m| m.id.clone()));
            }
        }
        if kept.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{queue_url}: {} message(s) not deleted ({}); they come back after their visibility timeout",
                kept.len(),
                kept.join(", ")
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::queue_region;

    #[test]
    fn the_region_comes_from_the_queue_host() {
        assert_eq!(
            queue_region("https://sqs.eu-west-1.amazonaws.com/111111111111/trail").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(
            queue_region("http://127.0.0.1:5000/123456789012/trail"),
            None
        );
        assert_eq!(queue_region("not a url"), None);
    }
}
