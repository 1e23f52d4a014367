//! The additions billbridge owns — created or adopted by a push — with what it last wrote
//! to each, and the tenant's push settings (retire mode, what to do with a manual edit).
//! Only owned additions are ever retired; what billbridge last wrote is how drift is seen.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ColumnTrait, IntoActiveModel, QueryFilter, QueryOrder, Set};
use std::collections::HashMap;

use super::Scope;
use super::entity::{owned_addition, push_line, push_settings};
use crate::domain::push::{Owned, Settings};
use crate::domain::{LineAction, LineOutcome};
use crate::error::AppResult;

/// Every owned addition of the tenant, as the planner reads them.
pub async fn all(scope: &Scope) -> AppResult<Vec<Owned>> {
    let rows = scope
        .select::<owned_addition::Entity>()
        .all(scope.db())
        .await?;
    Ok(rows
        .into_iter()
        .map(|o| Owned {
            addition_id: o.addition_id,
            agreement_id: o.agreement_id,
            product_id: o.product_id,
            company_id: o.company_id,
            local_product_id: o.local_product_id,
            metric: o.metric,
            last_quantity: o.last_quantity,
            retired: o.retired_at.is_some(),
        })
        .collect())
}

/// Records what a run wrote or adopted: every `DONE` or `UNCHANGED` line with an addition
/// becomes (or stays) owned, with the quantity now on it; a `RETIRE` line marks it retired.
/// Idempotent (keyed by addition), so a resumed run records its whole plan again safely.
/// Never for a dry run (its unchanged lines were not adopted). A run records each line's
/// ownership with its outcome ([`own`]); this catches up the lines of a run taken over from
/// a replica that recorded ownership only at the end of its runs.
pub(crate) async fn record_run(scope: &Scope, run_id: i64, now: DateTime<Utc>) -> AppResult<usize> {
    let lines = scope
        .select::<push_line::Entity>()
        .filter(push_line::Column::RunId.eq(run_id))
        .filter(push_line::Column::Outcome.is_in([LineOutcome::Done, LineOutcome::Unchanged]))
        .filter(push_line::Column::AdditionId.is_not_null())
        .order_by_asc(push_line::Column::Seq)
        .all(scope.db())
        .await?;
    let txn = scope.begin().await?;
    let tx = txn.scope();
    let mut recorded = 0;
    for chunk in lines.chunks(OWN_CHUNK) {
        let chunk: Vec<&push_line::Model> = chunk.iter().collect();
        recorded += own(&tx, &chunk, now).await?;
    }
    drop(tx);
    txn.commit().await?;
    Ok(recorded)
}

/// Rows per upsert statement (well under both databases' bound-parameter limits).
const OWN_CHUNK: usize = 200;

/// Makes the additions these recorded lines wrote or adopted billbridge's (see
/// [`record_run`]), in the caller's transaction, a few hundred per statement. Lines without
/// an addition or not `DONE`/`UNCHANGED` are left out; of two lines naming one addition the
/// later counts (one statement may not change a row twice on PostgreSQL).
pub async fn own(
    scope: &Scope,
    lines: &[&push_line::Model],
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let mut rows: Vec<owned_addition::ActiveModel> = Vec::new();
    let mut position: HashMap<i64, usize> = HashMap::new();
    for line in lines {
        if !line.outcome.settled() {
            continue;
        }
        let (Some(addition_id), Some(agreement_id), Some(product_id), Some(company_id)) = (
            line.addition_id,
            line.agreement_id,
            line.product_id,
            line.company_id,
        ) else {
            continue;
        };
        let retire = line.action == LineAction::Retire;
        // A cancelled retire bills its quantity until the cancellation; a zeroed one, 0.
        let quantity = match (retire, line.effective_date) {
            (true, Some(_)) => line.current_quantity,
            _ => line.new_quantity,
        };
        let row = owned_addition::ActiveModel {
            agreement_id: Set(agreement_id),
            addition_id: Set(addition_id),
            product_id: Set(product_id),
            company_id: Set(company_id),
            local_product_id: Set(line.local_product_id),
            mapping_id: Set(line.mapping_id),
            metric: Set(line.metric.clone().unwrap_or_default()),
            last_quantity: Set(quantity.unwrap_or_default()),
            last_written_at: Set(line.finished_at.unwrap_or(now)),
            retired_at: Set(retire.then_some(now)),
            created_at: Set(now),
            ..Default::default()
        };
        match position.get(&addition_id) {
            Some(at) => rows[*at] = row,
            None => {
                position.insert(addition_id, rows.len());
                rows.push(row);
            }
        }
    }
    let recorded = rows.len();
    // A retire keeps what the addition served before: its rows keep those columns.
    let (retires, writes): (Vec<_>, Vec<_>) = rows
        .into_iter()
        .partition(|r| matches!(&r.retired_at, sea_orm::ActiveValue::Set(Some(_))));
    for (rows, retire) in [(writes, false), (retires, true)] {
        let mut kept = vec![
            owned_addition::Column::AgreementId,
            owned_addition::Column::ProductId,
            owned_addition::Column::CompanyId,
            owned_addition::Column::LastQuantity,
            owned_addition::Column::LastWrittenAt,
            owned_addition::Column::RetiredAt,
        ];
        if !retire {
            kept.extend([
                owned_addition::Column::LocalProductId,
                owned_addition::Column::MappingId,
                owned_addition::Column::Metric,
            ]);
        }
        let on_conflict = OnConflict::columns([
            owned_addition::Column::TenantId,
            owned_addition::Column::AdditionId,
        ])
        .update_columns(kept)
        .to_owned();
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<_> = rows.by_ref().take(OWN_CHUNK).collect();
            scope
                .upsert_many(scope.db(), chunk, on_conflict.clone())
                .await?;
        }
    }
    Ok(recorded)
}

/// The tenant's push settings, with their defaults (retire to 0, overwrite manual edits)
/// when never set.
pub async fn settings(scope: &Scope) -> AppResult<(Settings, Option<push_settings::Model>)> {
    let row = scope
        .select::<push_settings::Entity>()
        .one(scope.db())
        .await?;
    let settings = match &row {
        None => Settings::default(),
        Some(r) => Settings {
            retire_mode: r.retire_mode,
            on_manual_edit: r.on_manual_edit,
        },
    };
    Ok((settings, row))
}

/// Saves the tenant's push settings.
pub(crate) async fn save_settings(
    scope: &Scope,
    settings: Settings,
    who: &str,
    now: DateTime<Utc>,
) -> AppResult<push_settings::Model> {
    let current = scope
        .select::<push_settings::Entity>()
        .one(scope.db())
        .await?;
    match current {
        Some(current) => {
            let mut row = current.into_active_model();
            row.retire_mode = Set(settings.retire_mode);
            row.on_manual_edit = Set(settings.on_manual_edit);
            row.updated_by = Set(who.to_owned());
            row.updated_at = Set(now);
            Ok(row.update(scope.db()).await?)
        }
        None => {
            let row = push_settings::ActiveModel {
                retire_mode: Set(settings.retire_mode),
                on_manual_edit: Set(settings.on_manual_edit),
                updated_by: Set(who.to_owned()),
                updated_at: Set(now),
                ..Default::default()
            };
            Ok(scope.insert(scope.db(), row).await?)
        }
    }
}
