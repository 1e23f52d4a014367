//! Billing mappings: product → unique ID/plan or (All plans) → level → usage value.

use async_graphql::{
    Context, ContextSelectionSet, Enum, ID, InputObject, Object, Result, SimpleObject,
};
use chrono::{DateTime, Utc};

use super::audit;
use super::guard::MinRole;
use super::levels::Level;
use super::now::{Json, Plain};
use super::plans::Plan;
use super::services::Product;
use super::{input, loaders, scope, viewer};
use crate::auth::Role;
use crate::db::entity::billing_mapping;
use crate::db::mappings::{self, MappingPatch, NewMapping, Saved};
use crate::domain::UsageValue as DomainUsage;
use crate::error::AppError;

/// What a mapping sends for the product's GB metrics; count metrics always send the count.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum UsageValue {
    /// "Update total usage": the total GB each account uses.
    TotalUsage,
    /// "Update additional usage": only the GB over the plan's base size
    /// (20 GB plan, 25 GB used → 5; 15 GB used → 0).
    AdditionalUsage,
}

impl From<UsageValue> for DomainUsage {
    fn from(v: UsageValue) -> Self {
        match v {
            UsageValue::TotalUsage => DomainUsage::Total,
            UsageValue::AdditionalUsage => DomainUsage::Additional,
        }
    }
}

pub struct BillingMapping(pub billing_mapping::Model);

/// A mapping's own columns (`now`); its product, plan and level must be loaded.
pub(crate) struct MappingFields<'a>(pub &'a billing_mapping::Model);

impl Plain for MappingFields<'_> {
    type Of = BillingMapping;

    fn field(&self, name: &str, _: &ContextSelectionSet<'_>, out: &mut Json) -> Option<()> {
        let mapping = self.0;
        match name {
            "id" => out.id(mapping.id),
            "allPlans" => out.bool(mapping.plan_id.is_none()),
            "usageValue" => out.item(UsageValue::from(mapping.usage_value)),
            "managedExternally" => out.bool(mapping.managed_externally),
            "createdBy" => out.str(&mapping.created_by),
            "createdAt" => out.time(&mapping.created_at),
            "updatedBy" => out.str(&mapping.updated_by),
            "updatedAt" => out.time(&mapping.updated_at),
            _ => None,
        }
    }
}

impl From<DomainUsage> for UsageValue {
    fn from(usage: DomainUsage) -> Self {
        match usage {
            DomainUsage::Total => UsageValue::TotalUsage,
            DomainUsage::Additional => UsageValue::AdditionalUsage,
        }
    }
}

#[Object]
impl BillingMapping {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn product(&self, ctx: &Context<'_>) -> Result<Product> {
        Product::load(ctx, self.0.product_id).await
    }
    /// The plan; `null` when the mapping covers all plans.
    async fn plan(&self, ctx: &Context<'_>) -> Result<Option<Plan>> {
        Plan::load(ctx, self.0.plan_id).await
    }
    /// "(All plans)": every account of the product is billed at this level.
    async fn all_plans(&self) -> bool {
        self.0.plan_id.is_none()
    }
    async fn level(&self, ctx: &Context<'_>) -> Result<Level> {
        loaders(ctx)
            .level
            .load_one(self.0.level_id)
            .await?
            .map(Level)
            .ok_or_else(|| AppError::not_found("level", self.0.level_id).into())
    }
    async fn usage_value(&self) -> UsageValue {
        self.0.usage_value.into()
    }
    /// Set up in the legacy platform: read-only here and not pushed by billbridge.
    async fn managed_externally(&self) -> bool {
        self.0.managed_externally
    }
    async fn created_by(&self) -> &str {
        &self.0.created_by
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_by(&self) -> &str {
        &self.0.updated_by
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A saved mapping and what its author should know about it.
#[derive(SimpleObject)]
pub(crate) struct BillingMappingPayload {
    pub mapping: BillingMapping,
    /// Reasons the mapping may bill less than expected; saving went through regardless.
    pub warnings: Vec<String>,
}

impl From<Saved> for BillingMappingPayload {
    fn from(saved: Saved) -> Self {
        BillingMappingPayload {
            mapping: BillingMapping(saved.mapping),
            warnings: saved.warnings,
        }
    }
}

#[derive(InputObject)]
pub struct AddBillingMappingInput {
    pub product_id: ID,
    /// The plan to map; leave out and set `allPlans: true` for "(All plans)".
    pub plan_id: Option<ID>,
    pub all_plans: Option<bool>,
    /// An existing level, exactly as typed (case-sensitive).
    pub level: String,
    pub usage_value: UsageValue,
    /// Records a mapping that lives in the legacy platform (ECHOplatform): shown read-only
    /// and not pushed. `takeOverBillingMapping` moves it here later.
    #[graphql(default = false)]
    pub managed_externally: bool,
}

#[derive(InputObject)]
pub struct UpdateBillingMappingInput {
    pub plan_id: Option<ID>,
    pub all_plans: Option<bool>,
    pub level: Option<String>,
    pub usage_value: Option<UsageValue>,
}

#[derive(Default)]
pub struct MappingQuery;

#[Object]
impl MappingQuery {
    /// The mappings of a service's products.
    async fn billing_mappings(
        &self,
        ctx: &Context<'_>,
        service_id: ID,
    ) -> Result<Vec<BillingMapping>> {
        let id = input::id("serviceId", &service_id)?;
        Ok(mappings::of_service(scope(ctx), id)
            .await?
            .into_iter()
            .map(BillingMapping)
            .collect())
    }
}

/// A mapping in the audit log's words (ids, since names can change later).
fn describe(m: &billing_mapping::Model) -> String {
    let plan = m
        .plan_id
        .map_or_else(|| "(All plans)".to_owned(), |p| format!("plan {p}"));
    format!(
        "product {} / {plan} → level {} ({})",
        m.product_id, m.level_id, m.usage_value
    )
}

#[derive(Default)]
pub struct MappingMutation;

#[Object]
impl MappingMutation {
    /// Confirm in the "Add Billing Mapping" cascade.
    #[graphql(guard = "MinRole(Role::Editor)")]
    async fn add_billing_mapping(
        &self,
        ctx: &Context<'_>,
        input: AddBillingMappingInput,
    ) -> Result<BillingMappingPayload> {
        // Each value on its own first, then how they go together.
        let product_id = input::id("productId", &input.product_id)?;
        let level = input::exact("level", &input.level)?;
        let plans =
            input::plan_choice(input.plan_id.as_ref(), input.all_plans)?.ok_or_else(|| {
                AppError::bad_input("planId", "choose a plan (planId) or allPlans: true")
            })?;
        let new = NewMapping {
            product_id,
            plans,
            level,
            usage_value: input.usage_value.into(),
            managed_externally: input.managed_externally,
        };
        let who = &viewer(ctx).subject;
        let saved = audit::audited(ctx, |scope| async move {
            let saved = mappings::add(&scope, new, who).await?;
            let summary = format!("added mapping {}", describe(&saved.mapping));
            let entry = audit::entry("mapping", "create", Some(saved.mapping.id), summary);
            Ok((saved, entry))
        })
        .await?;
        Ok(saved.into())
    }

    /// Changes the plan, level or usage value; refused (`READ_ONLY`) for mappings managed
    /// externally.
    #[graphql(guard = "MinRole(Role::Editor)")]
    async fn update_billing_mapping(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateBillingMappingInput,
    ) -> Result<BillingMappingPayload> {
        let id = input::id("id", &id)?;
        let patch = MappingPatch {
            plans: input::plan_choice(input.plan_id.as_ref(), input.all_plans)?,
            level: input.level.map(|l| input::exact("level", &l)).transpose()?,
            usage_value: input.usage_value.map(Into::into),
        };
        let who = &viewer(ctx).subject;
        let saved = audit::audited(ctx, |scope| async move {
            let saved = mappings::update(&scope, id, patch, who).await?;
            let summary = format!("changed mapping to {}", describe(&saved.mapping));
            Ok((saved, audit::entry("mapping", "update", Some(id), summary)))
        })
        .await?;
        Ok(saved.into())
    }

    /// The trash can; refused (`READ_ONLY`) for mappings managed externally.
    #[graphql(guard = "MinRole(Role::Editor)")]
    async fn delete_billing_mapping(&self, ctx: &Context<'_>, id: ID) -> Result<ID> {
        let key = input::id("id", &id)?;
        audit::audited(ctx, |scope| async move {
            mappings::delete(&scope, key).await?;
            let summary = format!("deleted mapping {key}");
            Ok(((), audit::entry("mapping", "delete", Some(key), summary)))
        })
        .await?;
        Ok(id)
    }

    /// Moves a mapping managed in the legacy platform to billbridge: from now on it can be
    /// edited here and is pushed by billbridge. Admins only, since it changes who bills.
    #[graphql(guard = "MinRole(Role::Admin)")]
    async fn take_over_billing_mapping(&self, ctx: &Context<'_>, id: ID) -> Result<BillingMapping> {
        let id = input::id("id", &id)?;
        let who = &viewer(ctx).subject;
        let mapping = audit::audited(ctx, |scope| async move {
            let mapping = mappings::take_over(&scope, id, who).await?;
            let summary = format!(
                "took over mapping {} from the legacy platform",
                describe(&mapping)
            );
            Ok((
                mapping,
                audit::entry("mapping", "take_over", Some(id), summary),
            ))
        })
        .await?;
        Ok(BillingMapping(mapping))
    }
}
