//! Billing mappings: product → plan or "(All plans)" → level → usage value.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use super::entity::{billing_mapping, product};
use super::{Scope, catalog, levels, psa};
use crate::domain::{MetricUnit, UsageValue};
use crate::error::{AppError, AppResult};

/// Which plans a mapping covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanChoice {
    AllPlans,
    Plan(i64),
}

impl PlanChoice {
    fn plan_id(self) -> Option<i64> {
        match self {
            PlanChoice::AllPlans => None,
            PlanChoice::Plan(id) => Some(id),
        }
    }
}

/// A billing mapping to add.
pub struct NewMapping {
    pub product_id: i64,
    pub plans: PlanChoice,
    pub level: String,
    pub usage_value: UsageValue,
    pub managed_externally: bool,
}

/// The fields of a mapping to change; `None` keeps one.
#[derive(Default)]
pub struct MappingPatch {
    pub plans: Option<PlanChoice>,
    pub level: Option<String>,
    pub usage_value: Option<UsageValue>,
}

/// A saved mapping and what the user should know about it.
pub struct Saved {
    pub mapping: billing_mapping::Model,
    pub warnings: Vec<String>,
}

/// The mappings of these products.
pub(crate) async fn of_products(
    scope: &Scope,
    ids: &[i64],
) -> AppResult<Vec<billing_mapping::Model>> {
    Ok(scope
        .select::<billing_mapping::Entity>()
        .filter(billing_mapping::Column::ProductId.is_in(ids.iter().copied()))
        .order_by_asc(billing_mapping::Column::Id)
        .all(scope.db())
        .await?)
}

/// The mappings of a service's products.
pub(crate) async fn of_service(
    scope: &Scope,
    service_id: i64,
) -> AppResult<Vec<billing_mapping::Model>> {
    catalog::service(scope, service_id).await?;
    let products: Vec<i64> = catalog::products_of_services(scope, &[service_id])
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect();
    of_products(scope, &products).await
}

/// One mapping, or `NOT_FOUND`.
pub async fn get(scope: &Scope, id: i64) -> AppResult<billing_mapping::Model> {
    scope
        .get::<billing_mapping::Entity, _>(scope.db(), id)
        .await?
        .ok_or_else(|| AppError::not_found("billing mapping", id))
}

/// Checks the plan belongs to the product and nothing else maps the same (product, plan).
async fn check_plans(
    scope: &Scope,
    product: &product::Model,
    plans: PlanChoice,
    except: Option<i64>,
) -> AppResult<()> {
    // The plan by its unique ID, as people know it (`IB-1TB`, not its row id).
    let mut plan_name = None;
    if let PlanChoice::Plan(plan_id) = plans {
        let plan = catalog::plan(scope, plan_id)
            .await
            .map_err(|_| AppError::bad_input("planId", format!("plan {plan_id} does not exist")))?;
        if plan.product_id != product.id {
            return Err(AppError::bad_input(
                "planId",
                format!(
                    "plan {:?} belongs to another product, not to {:?}; choose one of its own plans or allPlans",
                    plan.unique_id, product.name
                ),
            ));
        }
        plan_name = Some(plan.unique_id);
    }
    let mut same = scope
        .select::<billing_mapping::Entity>()
        .filter(billing_mapping::Column::ProductId.eq(product.id));
    same = match plans {
        PlanChoice::AllPlans => same.filter(billing_mapping::Column::PlanId.is_null()),
        PlanChoice::Plan(id) => same.filter(billing_mapping::Column::PlanId.eq(id)),
    };
    if let Some(id) = except {
        same = same.filter(billing_mapping::Column::Id.ne(id));
    }
    if same.count(scope.db()).await? > 0 {
        let what = match plan_name {
            None => "(All plans)".to_owned(),
            Some(unique_id) => format!("plan {unique_id:?}"),
        };
        return Err(AppError::Conflict(format!(
            "product {:?} already has a billing mapping for {what}; update that one instead",
            product.name
        )));
    }
    Ok(())
}

/// Things that make a valid mapping do less than its author may think.
async fn warnings(
    scope: &Scope,
    product: &product::Model,
    level_id: i64,
    usage: UsageValue,
) -> AppResult<Vec<String>> {
    let metrics = catalog::metrics_of_products(scope, &[product.id]).await?;
    let mut warnings = Vec::new();
    if psa::get(scope).await?.is_some() {
        let references = psa::cross_references_of_levels(scope, &[level_id]).await?;
        let level = levels::by_ids(scope, &[level_id]).await?;
        let name = level.first().map(|l| l.name.as_str()).unwrap_or_default();
        for metric in &metrics {
            let covered = references
                .iter()
                .any(|x| !x.inactive && x.vendor_type == metric.cross_reference_type);
            if !covered {
                warnings.push(format!(
                    "level {name:?} has no ConnectWise cross-reference for {:?}; that metric will not be pushed",
                    metric.cross_reference_type
                ));
            }
        }
    }
    if metrics.is_empty() {
        warnings.push(format!(
            "product {:?} reports no metrics, so this mapping has nothing to push",
            product.name
        ));
    } else if usage == UsageValue::Additional && !metrics.iter().any(|m| m.unit == MetricUnit::Gb) {
        warnings.push(format!(
            "product {:?} reports no GB metric; additional usage only changes GB quantities, counts are sent as counted",
            product.name
        ));
    }
    Ok(warnings)
}

/// Adds a mapping, with the warnings it deserves.
pub async fn add(scope: &Scope, new: NewMapping, who: &str) -> AppResult<Saved> {
    let product = catalog::product(scope, new.product_id).await?;
    check_plans(scope, &product, new.plans, None).await?;
    let level = levels::resolve(scope, &new.level).await?;
    let now = Utc::now();
    let row = billing_mapping::ActiveModel {
        product_id: Set(product.id),
        plan_id: Set(new.plans.plan_id()),
        level_id: Set(level.id),
        usage_value: Set(new.usage_value),
        managed_externally: Set(new.managed_externally),
        created_by: Set(who.to_owned()),
        created_at: Set(now),
        updated_by: Set(who.to_owned()),
        updated_at: Set(now),
        ..Default::default()
    };
    let mapping = scope.insert(scope.db(), row).await?;
    let warnings = warnings(scope, &product, mapping.level_id, new.usage_value).await?;
    Ok(Saved { mapping, warnings })
}

fn refuse_read_only(mapping: &billing_mapping::Model, action: &str) -> AppResult<()> {
    if mapping.managed_externally {
        return Err(AppError::ReadOnly(format!(
            "billing mapping {} is managed externally (ECHOplatform) and cannot be {action} here",
            mapping.id
        )));
    }
    Ok(())
}

/// Changes a mapping, with the warnings it deserves.
pub async fn update(scope: &Scope, id: i64, patch: MappingPatch, who: &str) -> AppResult<Saved> {
    let current = get(scope, id).await?;
    refuse_read_only(&current, "changed")?;
    let product = catalog::product(scope, current.product_id).await?;
    let mut row = current.clone().into_active_model();
    if let Some(plans) = patch.plans {
        check_plans(scope, &product, plans, Some(id)).await?;
        row.plan_id = Set(plans.plan_id());
    }
    if let Some(typed) = patch.level {
        row.level_id = Set(levels::resolve(scope, &typed).await?.id);
    }
    let usage = patch.usage_value.unwrap_or(current.usage_value);
    row.usage_value = Set(usage);
    row.updated_by = Set(who.to_owned());
    row.updated_at = Set(Utc::now());
    let mapping = row.update(scope.db()).await?;
    let warnings = warnings(scope, &product, mapping.level_id, usage).await?;
    Ok(Saved { mapping, warnings })
}

/// Deletes a mapping.
pub async fn delete(scope: &Scope, id: i64) -> AppResult<()> {
    let current = get(scope, id).await?;
    refuse_read_only(&current, "deleted")?;
    scope
        .delete::<billing_mapping::Entity>()
        .filter(billing_mapping::Column::Id.eq(id))
        .exec(scope.db())
        .await?;
    Ok(())
}

/// Moves a mapping from the legacy platform to billbridge: it becomes editable and pushed.
pub(crate) async fn take_over(
    scope: &Scope,
    id: i64,
    who: &str,
) -> AppResult<billing_mapping::Model> {
    let current = get(scope, id).await?;
    if !current.managed_externally {
        return Err(AppError::Conflict(format!(
            "billing mapping {id} is already managed by billbridge"
        )));
    }
    let mut row = current.into_active_model();
    row.managed_externally = Set(false);
    row.updated_by = Set(who.to_owned());
    row.updated_at = Set(Utc::now());
    Ok(row.update(scope.db()).await?)
}
