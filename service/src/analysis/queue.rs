//! The analysis queue of one server: at most `workers` runs at once, at
//! most `capacity` waiting their turn, first come first served. A request
//! that finds a worker free runs at once (its caller may wait for the
//! result); otherwise it waits in the queue, as a job whose state its
//! caller can ask for; when the queue is full it is refused with an
//! estimate of when to come back. A case waits at most once: asking again
//! while its job waits answers that job.
//!
//! Jobs live in this process's memory only: a restart forgets the jobs
//! waiting (their callers ask again), and a finished job is forgotten
//! [`KEPT`] after it finished.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use sea_orm::DatabaseConnection;
use serde_json::Value;
use tokio::sync::oneshot;

use crate::Error;
use crate::auth::User;
use crate::storage::Storage;

/// How long a finished job's outcome can still be asked for.
pub const KEPT: Duration = Duration::from_secs(15 * 60);

/// The most finished jobs kept (the oldest go first): each holds a run's
/// whole answer, so a server analysing fast must not keep a quarter of an
/// hour of them (the soak test measured the memory growing by ~30 KiB a
/// run until [`KEPT`] ran out).
pub const MAX_KEPT: usize = 256;

/// How many analyses run at once, and how many may wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueConfig {
    /// Runs at once (at least 1).
    pub workers: usize,
    /// Jobs that may wait for a worker (0: none wait, a busy server refuses).
    pub capacity: usize,
}

impl Default for QueueConfig {
    /// One run per core, four waiting per worker.
    fn default() -> Self {
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
        QueueConfig {
            workers,
            capacity: 4 * workers,
        }
    }
}

/// What became of a request for an analysis.
pub enum Submitted {
    /// A worker was free: job `job_id` started; its outcome arrives on
    /// `outcome` (and stays with the job if nobody waits for it).
    Started {
        job_id: String,
        outcome: oneshot::Receiver<Result<Value, Error>>,
    },
    /// The run waits in the queue behind `position` other jobs (this job,
    /// or the case's job that was already waiting).
    Queued { job_id: String, position: usize },
    /// Every worker is busy and the queue is full: come back after
    /// `retry_after`.
    Full {
        retry_after: Duration,
        waiting: usize,
    },
}

/// Where a job stands.
#[derive(Debug)]
pub enum JobState {
    /// Waiting, behind `position` other jobs.
    Queued {
        position: usize,
    },
    Running,
    /// Finished: the same body as a run answered at once.
    Done(Value),
    /// Failed, with what a run answered at once would have said.
    Failed(Error),
}

/// Called as each run ends, with how long it took and whether it gave an
/// answer (the server's metrics).
pub type RunObserver = Arc<dyn Fn(Duration, bool) + Send + Sync>;

/// The analysis queue, shared by every request of the server.
#[derive(Clone)]
pub struct AnalysisQueue {
    shared: Arc<Shared>,
}

struct Shared {
    db: DatabaseConnection,
    data: Arc<Storage>,
    config: QueueConfig,
    state: Mutex<State>,
    observer: Option<RunObserver>,
}

#[derive(Default)]
struct State {
    running: usize,
    waiting: VecDeque<String>,
    jobs: HashMap<String, Job>,
    /// How long a run has taken lately (an average), for `Retry-After`.
    typical_run: Option<Duration>,
}

struct Job {
    case_id: String,
    user: User,
    phase: Phase,
}

enum Phase {
    Queued,
    Running { since: Instant },
    Finished { at: Instant, outcome: Outcome },
}

enum Outcome {
    Done(Value),
    Failed(Error),
}

impl AnalysisQueue {
    pub fn new(db: DatabaseConnection, data: Arc<Storage>, config: QueueConfig) -> Self {
        Self::observed(db, data, config, None)
    }

    /// A queue that tells `observer` how each run ended.
    pub fn observed(
        db: DatabaseConnection,
        data: Arc<Storage>,
        config: QueueConfig,
        observer: Option<RunObserver>,
    ) -> Self {
        AnalysisQueue {
            shared: Arc::new(Shared {
                db,
                data,
                config: QueueConfig {
                    workers: config.workers.max(1),
                    capacity: config.capacity,
                },
                state: Mutex::default(),
                observer,
            }),
        }
    }

    /// Asks for an analysis of case `case_id` by `user`. What refuses it
    /// whatever the queue (the case's 404/403, a missing DAO or offer) is
    /// answered at once.
    pub async fn submit(&self, user: &User, case_id: &str) -> Result<Submitted, Error> {
        let (_, access) = crate::committee::visible(&self.shared.db, user, case_id).await?;
        access.check_read_offers()?;
        super::inputs::sources(&self.shared.db, case_id).await?;
        let shared = &self.shared;
        let mut state = shared.lock();
        state.forget_finished();
        if let Some(position) = state
            .waiting
            .iter()
            .position(|id| state.jobs.get(id).is_some_and(|j| j.case_id == case_id))
        {
            return Ok(Submitted::Queued {
                job_id: state.waiting[position].clone(),
                position,
            });
        }
        let job_id = uuid::Uuid::new_v4().to_string();
        let mut job = Job {
            case_id: case_id.to_owned(),
            user: user.clone(),
            phase: Phase::Queued,
        };
        if state.running < shared.config.workers && state.waiting.is_empty() {
            state.running += 1;
            job.phase = Phase::Running {
                since: Instant::now(),
            };
            state.jobs.insert(job_id.clone(), job);
            let (reply, outcome) = oneshot::channel();
            drop(state);
            self.spawn(
                job_id.clone(),
                user.clone(),
                case_id.to_owned(),
                Some(reply),
            );
            return Ok(Submitted::Started { job_id, outcome });
        }
        if state.waiting.len() >= shared.config.capacity {
            let waiting = state.waiting.len();
            return Ok(Submitted::Full {
                retry_after: state.retry_after(shared.config),
                waiting,
            });
        }
        state.jobs.insert(job_id.clone(), job);
        state.waiting.push_back(job_id.clone());
        Ok(Submitted::Queued {
            job_id,
            position: state.waiting.len() - 1,
        })
    }

    /// Where job `job_id` stands, for a user who may run the analysis of
    /// its case; to anyone else, and once forgotten, it does not exist.
    pub async fn job(&self, user: &User, job_id: &str) -> Result<JobState, Error> {
        let case_id = {
            let mut state = self.shared.lock();
            state.forget_finished();
            state.jobs.get(job_id).map(|j| j.case_id.clone())
        };
        let case_id = case_id.ok_or_else(|| Error::not_found("analysis job", job_id))?;
        let (_, access) = crate::committee::visible(&self.shared.db, user, &case_id).await?;
        access.check_read_offers()?;
        let state = self.shared.lock();
        let job = state
            .jobs
            .get(job_id)
            .ok_or_else(|| Error::not_found("analysis job", job_id))?;
        Ok(match &job.phase {
            Phase::Queued => JobState::Queued {
                position: state.position(job_id),
            },
            Phase::Running { .. } => JobState::Running,
            Phase::Finished { outcome, .. } => match outcome {
                Outcome::Done(body) => JobState::Done(body.clone()),
                Outcome::Failed(e) => JobState::Failed(replay(e)),
            },
        })
    }

    /// The job of case `case_id` for its page: the one waiting, else one
    /// running, else the last finished (if not forgotten yet).
    pub fn of_case(&self, case_id: &str) -> Option<JobState> {
        let state = self.shared.lock();
        let mut running = None;
        let mut finished: Option<(Instant, &Outcome)> = None;
        for (id, job) in state.jobs.iter().filter(|(_, j)| j.case_id == case_id) {
            match &job.phase {
                Phase::Queued => {
                    return Some(JobState::Queued {
                        position: state.position(id),
                    });
                }
                Phase::Running { .. } => running = Some(JobState::Running),
                Phase::Finished { at, outcome } => {
                    if finished.is_none_or(|(last, _)| *at > last) {
                        finished = Some((*at, outcome));
                    }
                }
            }
        }
        running.or_else(|| {
            finished.map(|(_, outcome)| match outcome {
                Outcome::Done(body) => JobState::Done(body.clone()),
                Outcome::Failed(e) => JobState::Failed(replay(e)),
            })
        })
    }

    /// Analyses running and waiting now.
    pub fn load(&self) -> (usize, usize) {
        let state = self.shared.lock();
        (state.running, state.waiting.len())
    }

    /// Forgets the jobs finished more than [`KEPT`] ago.
    pub fn forget_finished(&self) {
        self.shared.lock().forget_finished();
    }

    /// Runs job `job_id` on a worker the caller reserved (`running` counts
    /// it); the worker goes to the next waiting job when it ends, however
    /// it ends.
    fn spawn(
        &self,
        job_id: String,
        user: User,
        case_id: String,
        reply: Option<oneshot::Sender<Result<Value, Error>>>,
    ) {
        let worker = Worker {
            queue: self.clone(),
            job_id,
            outcome: None,
        };
        tokio::spawn(async move {
            let mut worker = worker;
            let shared = &worker.queue.shared;
            let result = super::analyze(&shared.db, &shared.data, &user, &case_id).await;
            worker.outcome = Some(match &result {
                Ok(body) => Outcome::Done(body.clone()),
                Err(e) => Outcome::Failed(replay(e)),
            });
            drop(worker);
            if let Some(reply) = reply {
                // The caller may have gone: the job keeps the outcome.
                let _ = reply.send(result);
            }
        });
    }

    /// Records how job `job_id` ended and hands its worker to the next
    /// waiting job, if any.
    fn finish(&self, job_id: &str, outcome: Outcome) {
        let mut guard = self.shared.lock();
        let state = &mut *guard;
        let now = Instant::now();
        if let Some(job) = state.jobs.get_mut(job_id) {
            if let Phase::Running { since } = job.phase {
                let took = now.duration_since(since);
                if let Some(observe) = &self.shared.observer {
                    observe(took, matches!(outcome, Outcome::Done(_)));
                }
                state.typical_run = Some(match state.typical_run {
                    Some(t) => (t * 3 + took) / 4,
                    None => took,
                });
            }
            job.phase = Phase::Finished { at: now, outcome };
        }
        state.keep_at_most(MAX_KEPT);
        let mut next = None;
        while let Some(id) = state.waiting.pop_front() {
            if let Some(job) = state.jobs.get_mut(&id) {
                job.phase = Phase::Running { since: now };
                next = Some((id, job.user.clone(), job.case_id.clone()));
                break;
            }
        }
        match next {
            Some((id, user, case_id)) => {
                drop(guard);
                self.spawn(id, user, case_id, None);
            }
            None => state.running = state.running.saturating_sub(1),
        }
    }
}

/// A worker busy with one job: however the job's task ends (even by a
/// panic), dropping this records the outcome and frees the worker.
struct Worker {
    queue: AnalysisQueue,
    job_id: String,
    outcome: Option<Outcome>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        let outcome = self.outcome.take().unwrap_or_else(|| {
            Outcome::Failed(Error::Internal("the analysis worker stopped".into()))
        });
        self.queue.finish(&self.job_id, outcome);
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl State {
    fn position(&self, job_id: &str) -> usize {
        self.waiting.iter().position(|id| id == job_id).unwrap_or(0)
    }

    /// Forgets the oldest finished jobs past `kept` of them.
    fn keep_at_most(&mut self, kept: usize) {
        let mut finished: Vec<(Instant, String)> = self
            .jobs
            .iter()
            .filter_map(|(id, job)| match job.phase {
                Phase::Finished { at, .. } => Some((at, id.clone())),
                _ => None,
            })
            .collect();
        if finished.len() <= kept {
            return;
        }
        finished.sort_unstable();
        for (_, id) in &finished[..finished.len() - kept] {
            self.jobs.remove(id);
        }
    }

    fn forget_finished(&mut self) {
        self.jobs.retain(|_, job| match job.phase {
            Phase::Finished { at, .. } => at.elapsed() < KEPT,
            _ => true,
        });
    }

    /// When a refused caller may find room: the waiting jobs' turns, at
    /// the typical run's length (10 s before any run finished).
    fn retry_after(&self, config: QueueConfig) -> Duration {
        let run = self.typical_run.unwrap_or(Duration::from_secs(10));
        let rounds = self.waiting.len() / config.workers + 1;
        (run * rounds as u32).clamp(Duration::from_secs(1), Duration::from_secs(600))
    }
}

/// The same refusal again (a job's outcome can be asked for many times;
/// a server fault keeps only its words).
fn replay(e: &Error) -> Error {
    match e {
        Error::NotFound { entity, id } => Error::NotFound {
            entity,
            id: id.clone(),
        },
        Error::Refused(r) => Error::Refused(r.clone()),
        Error::Validation { field, rule } => Error::Validation {
            field: field.clone(),
            rule: rule.clone(),
        },
        Error::Text(r) => Error::Text(*r),
        Error::Unavailable(s) => Error::Unavailable(s.clone()),
        other => Error::Internal(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(phase: Phase) -> Job {
        Job {
            case_id: "case".into(),
            user: User {
                id: 1,
                email: "a@example.org".into(),
                username: "a".into(),
                full_name: None,
                role_name: "admin".into(),
                is_active: true,
                is_superuser: false,
            },
            phase,
        }
    }

    #[test]
    fn only_the_newest_finished_jobs_are_kept() {
        let mut state = State::default();
        let start = Instant::now();
        for i in 0..10u64 {
            let at = start + Duration::from_millis(i);
            let done = Phase::Finished {
                at,
                outcome: Outcome::Done(Value::Null),
            };
            state.jobs.insert(format!("done-{i}"), job(done));
        }
        state.jobs.insert("waiting".into(), job(Phase::Queued));
        state.keep_at_most(3);
        let mut kept: Vec<&String> = state.jobs.keys().collect();
        kept.sort();
        assert_eq!(kept, ["done-7", "done-8", "done-9", "waiting"]);
    }
}
