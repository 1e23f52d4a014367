//! Plans: a product's "Unique ID/Plan" with its base size.

use async_graphql::{
    Context, ContextSelectionSet, ID, InputObject, MaybeUndefined, Object, Result, ScalarType,
    Value,
};

use super::audit;
use super::guard::MinRole;
use super::now::{Json, Plain};
use super::services::Product;
use super::{input, loaders, scope};
use crate::auth::Role;
use crate::db::catalog::{self, PlanSpec};
use crate::db::entity::plan;
use crate::error::AppError;

pub struct Plan(pub plan::Model);

/// A plan's plain fields (`now`); its product must be loaded.
pub(crate) struct PlanFields<'a>(pub &'a plan::Model);

impl Plain for PlanFields<'_> {
    type Of = Plan;

    fn field(&self, name: &str, _: &ContextSelectionSet<'_>, out: &mut Json) -> Option<()> {
        let plan = self.0;
        match name {
            "id" => out.id(plan.id),
            "uniqueId" => out.str(&plan.unique_id),
            "name" => out.str(&plan.name),
            "baseSizeGb" => out.value(&plan.base_size_gb.to_value()),
            "price" => out.value(&Value::from(plan.price)),
            "blockSizeGb" => out.value(&Value::from(plan.block_size_gb)),
            _ => None,
        }
    }
}

impl Plan {
    /// The plan a row refers to, if any, through the request's loader.
    pub async fn load(ctx: &Context<'_>, id: Option<i64>) -> Result<Option<Plan>> {
        let Some(id) = id else {
            return Ok(None);
        };
        Ok(loaders(ctx).plan.load_one(id).await?.map(Plan))
    }
}

#[Object]
impl Plan {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    /// The vendor's unique ID of the plan.
    async fn unique_id(&self) -> &str {
        &self.0.unique_id
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The storage included in the plan; "additional usage" is what exceeds it.
    async fn base_size_gb(&self) -> f64 {
        self.0.base_size_gb
    }
    async fn price(&self) -> Option<f64> {
        self.0.price
    }
    /// When set, additional usage is billed in whole blocks of this size.
    async fn block_size_gb(&self) -> Option<f64> {
        self.0.block_size_gb
    }
    async fn product(&self, ctx: &Context<'_>) -> Result<Product> {
        Product::load(ctx, self.0.product_id).await
    }
}

#[derive(InputObject)]
pub struct CreatePlanInput {
    pub product_id: ID,
    pub unique_id: String,
    /// Defaults to the unique ID.
    pub name: Option<String>,
    pub base_size_gb: f64,
    pub price: Option<f64>,
    pub block_size_gb: Option<f64>,
}

#[derive(InputObject)]
pub struct UpdatePlanInput {
    pub unique_id: Option<String>,
    pub name: Option<String>,
    pub base_size_gb: Option<f64>,
    /// `null` clears it; leaving it out keeps it.
    pub price: MaybeUndefined<f64>,
    /// `null` clears it; leaving it out keeps it.
    pub block_size_gb: MaybeUndefined<f64>,
}

fn optional(
    field: &str,
    value: MaybeUndefined<f64>,
    check: fn(&str, f64) -> Result<f64, AppError>,
) -> Result<Option<Option<f64>>, AppError> {
    Ok(match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(check(field, v)?)),
    })
}

#[derive(Default)]
pub struct PlanQuery;

#[Object]
impl PlanQuery {
    /// The plans of a product, by unique ID.
    async fn plans(&self, ctx: &Context<'_>, product_id: ID) -> Result<Vec<Plan>> {
        let product = catalog::product(scope(ctx), input::id("productId", &product_id)?).await?;
        Ok(catalog::plans_of_products(scope(ctx), &[product.id])
            .await?
            .into_iter()
            .map(Plan)
            .collect())
    }
}

#[derive(Default)]
pub struct PlanMutation;

#[Object]
impl PlanMutation {
    #[graphql(guard = "MinRole(Role::Editor)")]
    async fn create_plan(&self, ctx: &Context<'_>, input: CreatePlanInput) -> Result<Plan> {
        let product_id = input::id("productId", &input.product_id)?;
        let spec = PlanSpec {
            unique_id: Some(input::name("uniqueId", &input.unique_id)?),
            name: input.name.map(|n| input::name("name", &n)).transpose()?,
            base_size_gb: Some(input::non_negative("baseSizeGb", input.base_size_gb)?),
            price: Some(
                input
                    .price
                    .map(|p| input::non_negative("price", p))
                    .transpose()?,
            ),
            block_size_gb: Some(
                input
                    .block_size_gb
                    .map(|b| input::positive("blockSizeGb", b))
                    .transpose()?,
            ),
        };
        let plan = audit::audited(ctx, |scope| async move {
            let plan = catalog::create_plan(&scope, product_id, spec).await?;
            let summary = format!("created plan {:?} of product {product_id}", plan.unique_id);
            let entry = audit::entry("plan", "create", Some(plan.id), summary);
            Ok((plan, entry))
        })
        .await?;
        Ok(Plan(plan))
    }

    #[graphql(guard = "MinRole(Role::Editor)")]
    async fn update_plan(&self, ctx: &Context<'_>, id: ID, input: UpdatePlanInput) -> Result<Plan> {
        let id = input::id("id", &id)?;
        let spec = PlanSpec {
            unique_id: input
                .unique_id
                .map(|u| input::name("uniqueId", &u))
                .transpose()?,
            name: input.name.map(|n| input::name("name", &n)).transpose()?,
            base_size_gb: input
                .base_size_gb
                .map(|b| input::non_negative("baseSizeGb", b))
                .transpose()?,
            price: optional("price", input.price, input::non_negative)?,
            block_size_gb: optional("blockSizeGb", input.block_size_gb, input::positive)?,
        };
        let plan = audit::audited(ctx, |scope| async move {
            let plan = catalog::update_plan(&scope, id, spec).await?;
            let summary = format!(
                "updated plan {:?}: base {} GB, block {:?} GB, price {:?}",
                plan.unique_id, plan.base_size_gb, plan.block_size_gb, plan.price
            );
            Ok((plan, audit::entry("plan", "update", Some(id), summary)))
        })
        .await?;
        Ok(Plan(plan))
    }

    /// Refused while a mapping or a subscription uses the plan.
    #[graphql(guard = "MinRole(Role::Editor)")]
    async fn delete_plan(&self, ctx: &Context<'_>, id: ID) -> Result<ID> {
        let key = input::id("id", &id)?;
        audit::audited(ctx, |scope| async move {
            catalog::delete_plan(&scope, key).await?;
            let summary = format!("deleted plan {key}");
            Ok(((), audit::entry("plan", "delete", Some(key), summary)))
        })
        .await?;
        Ok(id)
    }
}
