//! Runs a set of dependent steps: each starts once everything it depends on has succeeded, at
//! most `limit` run at once, and a failure skips only the steps that depend on it (the rest of
//! the organization still converges).

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use tokio::task::JoinSet;

/// What became of one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepResult<T> {
    Done(T),
    Failed(String),
    /// Not run because a step it depends on failed or was skipped (names that step).
    Skipped {
        because_of: String,
    },
}

/// Runs `steps` (id, dependency ids) with `run`; returns each id's result.
///
/// A dependency on an id that is not in `steps` counts as already satisfied (it was done in an
/// earlier run). A dependency cycle is reported as `Failed` for the steps in it, never a hang.
pub async fn run_steps<T, F, Fut>(
    steps: Vec<(String, Vec<String>)>,
    limit: usize,
    run: F,
) -> BTreeMap<String, StepResult<T>>
where
    T: Send + 'static,
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<T, String>> + Send + 'static,
{
    let known: BTreeSet<String> = steps.iter().map(|(id, _)| id.clone()).collect();
    let mut waiting: BTreeMap<String, Vec<String>> = steps
        .into_iter()
        .map(|(id, deps)| {
            let deps = deps.into_iter().filter(|d| known.contains(d)).collect();
            (id, deps)
        })
        .collect();
    let mut results: BTreeMap<String, StepResult<T>> = BTreeMap::new();
    let mut running: JoinSet<(String, Result<T, String>)> = JoinSet::new();
    let limit = limit.max(1);
    loop {
        // Skip whatever depends on a step that did not succeed.
        loop {
            let blocked: Vec<(String, String)> = waiting
                .iter()
                .filter_map(|(id, deps)| {
                    deps.iter()
                        .find(|d| matches!(results.get(*d), Some(r) if !matches!(r, StepResult::Done(_))))
                        .map(|d| (id.clone(), d.clone()))
                })
                .collect();
            if blocked.is_empty() {
                break;
            }
            for (id, dep) in blocked {
                waiting.remove(&id);
                results.insert(id, StepResult::Skipped { because_of: dep });
            }
        }
        let ready: Vec<String> = waiting
            .iter()
            .filter(|(_, deps)| {
                deps.iter()
                    .all(|d| matches!(results.get(d), Some(StepResult::Done(_))))
            })
            .map(|(id, _)| id.clone())
            .take(limit.saturating_sub(running.len()))
            .collect();
        for id in ready {
            waiting.remove(&id);
            let fut = run(id.clone());
            running.spawn(async move { (id, fut.await) });
        }
        match running.join_next().await {
            Some(Ok((id, r))) => {
                results.insert(
                    id,
                    match r {
                        Ok(v) => StepResult::Done(v),
                        Err(e) => StepResult::Failed(e),
                    },
                );
            }
            Some(Err(e)) => {
                // A panicking step: its id is lost with the task, so fail whatever is left
                // waiting on unfinished work rather than guess.
                tracing::error!("apply step task failed: {e}");
            }
            None => {
                // Nothing running and nothing ready: what remains waits on itself.
                for (id, _) in std::mem::take(&mut waiting) {
                    results.insert(
                        id,
                        StepResult::Failed(
                            "dependency cycle or a dependency that never finished".into(),
                        ),
                    );
                }
                return results;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn steps(list: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
        list.iter()
            .map(|(id, deps)| (id.to_string(), deps.iter().map(|d| d.to_string()).collect()))
            .collect()
    }

    #[tokio::test]
    async fn dependencies_run_first_and_failures_skip_only_dependents() {
        let order = Arc::new(Mutex::new(Vec::new()));
        let o = order.clone();
        let results = run_steps(
            steps(&[
                ("ou", &[]),
                ("account", &["ou"]),
                ("scp", &["account"]),
                ("bad", &[]),
                ("after-bad", &["bad"]),
                ("after-after-bad", &["after-bad"]),
                ("earlier-run", &["not-in-plan"]),
            ]),
            4,
            move |id| {
                let o = o.clone();
                async move {
                    o.lock().unwrap().push(id.clone());
                    if id == "bad" {
                        Err("AccessDenied".to_string())
                    } else {
                        Ok(id.len())
                    }
                }
            },
        )
        .await;
        let order = order.lock().unwrap().clone();
        let pos = |x: &str| order.iter().position(|y| y == x).unwrap();
        assert!(pos("ou") < pos("account") && pos("account") < pos("scp"));
        assert_eq!(results["scp"], StepResult::Done(3));
        assert_eq!(results["earlier-run"], StepResult::Done(11));
        assert_eq!(results["bad"], StepResult::Failed("AccessDenied".into()));
        assert_eq!(
            results["after-bad"],
            StepResult::Skipped {
                because_of: "bad".into()
            }
        );
        assert_eq!(
            results["after-after-bad"],
            StepResult::Skipped {
                because_of: "after-bad".into()
            }
        );
        assert!(!order.contains(&"after-bad".to_string()));
    }

    #[tokio::test]
    async fn concurrency_is_bounded() {
        let now = Arc::new(AtomicUsize::new(0));
        let max = Arc::new(AtomicUsize::new(0));
        let list: Vec<(String, Vec<String>)> = (0..40).map(|i| (format!("s{i}"), vec![])).collect();
        let (n, m) = (now.clone(), max.clone());
        let results = run_steps(list, 3, move |_| {
            let (n, m) = (n.clone(), m.clone());
            async move {
                let cur = n.fetch_add(1, Ordering::SeqCst) + 1;
                m.fetch_max(cur, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                n.fetch_sub(1, Ordering::SeqCst);
                Ok(())
            }
        })
        .await;
        assert_eq!(results.len(), 40);
        assert!(max.load(Ordering::SeqCst) <= 3);
        assert!(max.load(Ordering::SeqCst) >= 2, "runs in parallel");
    }

    #[tokio::test]
    async fn a_cycle_fails_instead_of_hanging() {
        let results = run_steps(
            steps(&[("a", &["b"]), ("b", &["a"]), ("c", &[])]),
            2,
            |_| async { Ok(()) },
        )
        .await;
        assert!(matches!(results["a"], StepResult::Failed(_)));
        assert!(matches!(results["b"], StepResult::Failed(_)));
        assert_eq!(results["c"], StepResult::Done(()));
    }
}
