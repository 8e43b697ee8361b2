//! IAM, SCP and RCP policies: parser, evaluator, linter and access analysis, with no AWS SDK.
