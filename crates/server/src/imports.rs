//! Import jobs between preview and commit, kept in memory for their owner: the preview's good rows
//! wait here until the user chooses, and the commit reports progress here while it runs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use store::import::{Plan, RowProblem};
use store::{Caller, Store};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    Previewed,
    Running { done: usize, total: usize },
    Done { imported: usize },
    Failed { code: String },
}

pub struct Job {
    owner: i64,
    created: Instant,
    pub file_name: String,
    pub rows: usize,
    pub bad_lines: usize,
    pub problems: Vec<RowProblem>,
    pub good: usize,
    pub stage: Stage,
    plan: Option<Plan>,
}

/// What a page shows of a job.
#[derive(Debug, Clone)]
pub struct JobView {
    pub id: String,
    pub file_name: String,
    pub rows: usize,
    pub bad_lines: usize,
    pub problems: Vec<RowProblem>,
    pub good: usize,
    pub stage: Stage,
}

#[derive(Clone, Default)]
pub struct Jobs(Arc<Mutex<HashMap<String, Job>>>);

const KEEP: Duration = Duration::from_secs(60 * 60);

impl Jobs {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Job>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn add_preview(&self, owner: i64, file_name: &str, plan: Plan) -> String {
        let id = store::crypto::new_token()[..24].to_string();
        let mut jobs = self.lock();
        jobs.retain(|_, j| j.created.elapsed() < KEEP);
        jobs.insert(
            id.clone(),
            Job {
                owner,
                created: Instant::now(),
                file_name: file_name.chars().take(100).collect(),
                rows: plan.rows,
                bad_lines: plan.bad_lines(),
                problems: plan.problems.clone(),
                good: plan.good.len(),
                stage: Stage::Previewed,
                plan: Some(plan),
            },
        );
        id
    }

    /// A job, only for the user who started it.
    pub fn view(&self, owner: i64, id: &str) -> Option<JobView> {
        let jobs = self.lock();
        let j = jobs.get(id).filter(|j| j.owner == owner)?;
        Some(JobView {
            id: id.to_string(),
            file_name: j.file_name.clone(),
            rows: j.rows,
            bad_lines: j.bad_lines,
            problems: j.problems.clone(),
            good: j.good,
            stage: j.stage.clone(),
        })
    }

    fn set_stage(&self, id: &str, stage: Stage) {
        if let Some(j) = self.lock().get_mut(id) {
            j.stage = stage;
        }
    }

    /// Starts committing a previewed job in the background. With `all_or_nothing`, a file with any
    /// bad row commits nothing. Returns false if there is no such job waiting for this user.
    pub fn start_commit(
        &self,
        store: Store,
        caller: Caller,
        id: &str,
        all_or_nothing: bool,
    ) -> Result<(), &'static str> {
        let plan = {
            let mut jobs = self.lock();
            let Some(j) = jobs
                .get_mut(id)
                .filter(|j| j.owner == caller.user_id && j.stage == Stage::Previewed)
            else {
                return Err("import.not_found");
            };
            if all_or_nothing && !j.problems.is_empty() {
                return Err("import.has_problems");
            }
            j.stage = Stage::Running { done: 0, total: j.good };
            j.plan.take().unwrap_or_default()
        };
        let jobs = self.clone();
        let id = id.to_string();
        tokio::spawn(async move {
            let progress = |done: usize, total: usize| jobs.set_stage(&id, Stage::Running { done, total });
            let result = store::import::commit(&store.db, &store.keys, &caller, &plan.good, &progress).await;
            jobs.set_stage(
                &id,
                match result {
                    Ok(imported) => Stage::Done { imported },
                    Err(e) => Stage::Failed {
                        code: e.code().to_string(),
                    },
                },
            );
        });
        Ok(())
    }
}
