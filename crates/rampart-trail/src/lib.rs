//! CloudTrail events and fast streaming readers (S3 delivery layout, gzip, JSON, JSON Lines).
