//! What the CLI prints: the outcome of a command, the history, the
//! revisions whose SQL was edited, for people or as JSON.

use std::process::ExitCode;

use serde_json::{Value, json};

use crate::Rev;
use crate::bookkeeping::{self, RevisionState};
use crate::checksum::{Edited, Verification};
use crate::runner::Outcome;

/// Prints, for people, each applied revision edited since it was applied and
/// one error line; the exit code: 1 when there is one.
pub(super) fn report_edited(verification: &Verification, human: bool) -> ExitCode {
    if verification.edited.is_empty() {
        return ExitCode::SUCCESS;
    }
    if human {
        for edited in &verification.edited {
            println!("{edited}");
        }
        eprintln!(
            "error: {} applied revision(s) render other SQL than when they were applied, listed above (restore their code, or declare the recorded checksum in the revision's ACCEPTED_CHECKSUMS)",
            verification.edited.len()
        );
    }
    ExitCode::FAILURE
}

pub(super) fn edited_documents(edited: &[Edited]) -> Vec<Value> {
    edited
        .iter()
        .map(|e| {
            json!({
                "revision": e.revision,
                "recorded": e.recorded,
                "renders": e.renders,
                "message": e.to_string(),
            })
        })
        .collect()
}

/// `005_add_fk_indexes (head)`, `003_add_procurement_extensions`, or `base`.
pub(super) fn label(current: Option<Rev>) -> String {
    match current {
        None => "base".to_owned(),
        Some(rev) if rev == Rev::head() => format!("{rev} (head)"),
        Some(rev) => rev.id().to_owned(),
    }
}

/// The revision before `states[i]`, `None` for the first.
fn parent(states: &[RevisionState], i: usize) -> Option<&'static str> {
    i.checked_sub(1)
        .and_then(|p| states.get(p))
        .map(RevisionState::name)
}

pub(super) fn history(states: &[RevisionState], verbose: bool) {
    let current = bookkeeping::current(states);
    for (i, state) in states.iter().enumerate() {
        let parent = parent(states, i).unwrap_or("<base>");
        let applied = match state.applied_at {
            None => "pending".to_owned(),
            Some(0) => "applied (recorded by Alembic)".to_owned(),
            Some(at) => format!("applied {}", crate::format_unix_time(at)),
        };
        let mut marks = Vec::new();
        if state.rev == Rev::head() {
            marks.push("head");
        }
        if current == Some(state.rev) {
            marks.push("current");
        }
        let marks = if marks.is_empty() {
            String::new()
        } else {
            format!(" ({})", marks.join(", "))
        };
        println!("{parent} -> {}{marks}, {applied}", state.name());
        if verbose {
            let entry = state.rev.entry();
            println!("    {}", entry.description);
            println!("    downgrade drops: {}", entry.drops.summary());
            if !entry.indexes.is_empty() {
                println!("    adds indexes: {}", index_names(entry).join(", "));
            }
        }
    }
}

fn index_names(entry: &crate::revision::Entry) -> Vec<String> {
    entry
        .indexes
        .iter()
        .map(|(t, c)| crate::revision::index_name(t, c))
        .collect()
}

/// `history` as JSON: every revision, with what `--verbose` adds.
pub(super) fn history_documents(states: &[RevisionState]) -> Vec<Value> {
    let current = bookkeeping::current(states);
    states
        .iter()
        .enumerate()
        .map(|(i, state)| {
            let entry = state.rev.entry();
            let applied_at = state
                .applied_at
                .filter(|at| *at != 0)
                .and_then(|at| chrono::DateTime::from_timestamp(at, 0))
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            json!({
                "id": state.name(),
                "parent": parent(states, i),
                "description": entry.description,
                "applied": state.applied_at.is_some(),
                "applied_at": applied_at,
                "recorded_by_alembic": state.applied_at == Some(0),
                "head": state.rev == Rev::head(),
                "current": current == Some(state.rev),
                "drops": {
                    "tables": entry.drops.tables.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
                    "columns": entry
                        .drops
                        .columns
                        .iter()
                        .map(|(t, c, _)| format!("{t}.{c}"))
                        .collect::<Vec<_>>(),
                },
                "indexes": index_names(entry),
            })
        })
        .collect()
}

/// Prints what an operation did, for people (when `human`), and returns it
/// as JSON.
pub(super) fn outcome_document(
    outcome: &Outcome,
    verb: &str,
    dropped_every_table: bool,
    human: bool,
) -> Value {
    if human {
        report(outcome, verb);
    }
    json!({
        "action": verb,
        "dry_run": outcome.dry_run,
        "revisions": outcome.revisions,
        "adopted": outcome.adopted,
        "checksums_recorded": outcome.checksums_recorded,
        "edited": edited_documents(&outcome.edited),
        "losses": outcome
            .losses
            .iter()
            .map(|l| json!({ "table": l.table, "column": l.column, "rows": l.rows }))
            .collect::<Vec<_>>(),
        "dropped_every_table": dropped_every_table,
    })
}

fn report(outcome: &Outcome, verb: &str) {
    if let Some(rev) = &outcome.adopted {
        println!("adopted the Alembic database at {rev} (recorded, not re-run)");
    }
    if !outcome.checksums_recorded.is_empty() {
        println!(
            "recorded the checksums of {} (revisions that ran before checksums were kept)",
            outcome.checksums_recorded.join(", ")
        );
    }
    for edited in &outcome.edited {
        println!("allowed: {edited}");
    }
    let prefix = if outcome.dry_run { "would have " } else { "" };
    if outcome.revisions.is_empty() {
        println!("nothing to do");
    }
    for name in &outcome.revisions {
        println!("{prefix}{verb} {name}");
    }
    for loss in &outcome.losses {
        let verb = if outcome.dry_run {
            "would drop"
        } else {
            "dropped"
        };
        println!("{verb} {loss}");
    }
}
