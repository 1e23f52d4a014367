//! Services and their products (with the metrics each reports).

use async_graphql::{
    Context, ContextSelectionSet, Enum, ID, InputObject, MaybeUndefined, Object, Result,
    SimpleObject,
};
use chrono::{DateTime, Utc};
use std::sync::Arc;

use super::audit;
use super::guard::MinRole;
use super::levels::LevelFields;
use super::mappings::{BillingMapping, MappingFields};
use super::now::{self, Json, Now, Plain};
use super::plans::Plan;
use super::plans::PlanFields;
use super::prefetch::ServicesAhead;
use super::push::PushRun;
use super::{input, loaders, prefetch};
use crate::auth::Role;
use crate::db::catalog::{self, MetricSpec};
use crate::db::entity::{billing_mapping, metric, product, service};
use crate::domain::MetricUnit as DomainUnit;
use crate::domain::billing::MappingKey;
use crate::domain::status::{self, StatusMapping, SubscriptionCount};
use crate::error::AppError;

/// A service, with what `services` read ahead of its selection (`None` when read alone).
pub struct Service(pub service::Model, pub Option<Arc<ServicesAhead>>);

impl Service {
    pub fn alone(model: service::Model) -> Self {
        Service(model, None)
    }
}

/// A service read with its tree is plain as far as the tree reaches: its columns, products,
/// their mappings, and the mappings' plans and levels (`now`).
impl Plain for Service {
    type Of = Self;

    fn field(&self, name: &str, ctx: &ContextSelectionSet<'_>, out: &mut Json) -> Option<()> {
        let service = &self.0;
        match name {
            "id" => out.id(service.id),
            "name" => out.str(&service.name),
            "description" => out.opt_str(service.description.as_deref()),
            "createdAt" => out.time(&service.created_at),
            "updatedAt" => out.time(&service.updated_at),
            "products" => {
                let ahead = self.1.as_ref()?;
                let products = ahead.products(service.id)?;
                now::list(out, products, |p, out| {
                    now::object(&ProductTree(p, ahead), ctx, out)
                })
            }
            _ => None,
        }
    }
}

/// A product with its mappings as `services` read them.
struct ProductTree<'a>(&'a product::Model, &'a ServicesAhead);

impl Plain for ProductTree<'_> {
    type Of = Product;

    fn field(&self, name: &str, ctx: &ContextSelectionSet<'_>, out: &mut Json) -> Option<()> {
        let (product, ahead) = (self.0, self.1);
        if name != "mappings" {
            return ProductFields(product).field(name, ctx, out);
        }
        let mappings = ahead.mappings(product.id)?;
        now::list(out, mappings, |m, out| {
            now::object(&MappingTree(m, ahead), ctx, out)
        })
    }
}

/// A mapping with its plan and level as `services` read them.
struct MappingTree<'a>(&'a billing_mapping::Model, &'a ServicesAhead);

impl Plain for MappingTree<'_> {
    type Of = BillingMapping;

    fn field(&self, name: &str, ctx: &ContextSelectionSet<'_>, out: &mut Json) -> Option<()> {
        let (mapping, ahead) = (self.0, self.1);
        match name {
            "plan" => match mapping.plan_id {
                Some(id) => now::object(&PlanFields(ahead.plan(id)?), ctx, out),
                None => out.null(),
            },
            "level" => now::object(&LevelFields(ahead.level(mapping.level_id)?), ctx, out),
            _ => MappingFields(mapping).field(name, ctx, out),
        }
    }
}

/// How far billing is set up for a service, as the Billing page shows it.
#[derive(SimpleObject)]
pub struct BillingStatus {
    pub state: BillingState,
    /// Products with at least one mapping.
    pub mapped_products: i32,
    pub products: i32,
    /// Subscriptions that a mapping applies to.
    pub covered_subscriptions: i32,
    pub subscriptions: i32,
    /// Covered subscriptions a push could bill, and those it would skip, as far as
    /// billbridge knows without ConnectWise (links, cross-references, usage).
    pub ready_subscriptions: i32,
    pub skipped_subscriptions: i32,
    /// Why most of the skipped ones would be skipped.
    pub main_skip_reason: Option<super::push::SkipReason>,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum BillingState {
    NotSetUp,
    PartiallySetUp,
    SetUp,
    /// Set up in the legacy platform (ECHOplatform); read-only here.
    ManagedExternally,
    /// Mapped, but a push would skip every covered subscription (`skippedSubscriptions`,
    /// `mainSkipReason` say how many and why).
    NeedsAttention,
}

impl Service {
    async fn product_models(&self, ctx: &Context<'_>) -> Result<Vec<product::Model>> {
        Ok(loaders(ctx)
            .products_of_service
            .load_one(self.0.id)
            .await?
            .unwrap_or_default())
    }

    async fn mapping_models(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<crate::db::entity::billing_mapping::Model>> {
        let ids: Vec<i64> = self
            .product_models(ctx)
            .await?
            .iter()
            .map(|p| p.id)
            .collect();
        let by_product = loaders(ctx)
            .mappings_of_product
            .load_many(ids.iter().copied())
            .await?;
        let mut all: Vec<_> = ids
            .iter()
            .filter_map(|id| by_product.get(id))
            .flatten()
            .cloned()
            .collect();
        all.sort_by_key(|m| m.id);
        Ok(all)
    }
}

#[Object]
impl Service {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// True when the service's mappings are managed externally (ECHOplatform): shown, not
    /// changeable here, and not pushed by billbridge.
    async fn read_only(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(self
            .mapping_models(ctx)
            .await?
            .iter()
            .any(|m| m.managed_externally))
    }
    /// The newest real push of this service (a run for all services counts), running or
    /// finished; `null` before the first.
    async fn last_run(&self, ctx: &Context<'_>) -> Result<Option<PushRun>> {
        Ok(loaders(ctx)
            .last_run_of_service
            .load_one(self.0.id)
            .await?
            .map(PushRun::from))
    }
    async fn billing_status(&self, ctx: &Context<'_>) -> Result<BillingStatus> {
        let products: Vec<i64> = self
            .product_models(ctx)
            .await?
            .iter()
            .map(|p| p.id)
            .collect();
        let mappings: Vec<StatusMapping> = self
            .mapping_models(ctx)
            .await?
            .iter()
            .map(|m| StatusMapping {
                key: MappingKey {
                    product_id: m.product_id,
                    plan_id: m.plan_id,
                },
                managed_externally: m.managed_externally,
            })
            .collect();
        let counts = loaders(ctx)
            .subscription_counts
            .load_many(products.iter().copied())
            .await?;
        let subscriptions: Vec<SubscriptionCount> = counts
            .into_iter()
            .flat_map(|(product_id, plans)| {
                plans
                    .into_iter()
                    .map(move |(plan_id, count)| SubscriptionCount {
                        product_id,
                        plan_id,
                        count,
                    })
            })
            .collect();
        let reasons = loaders(ctx)
            .readiness_of_product
            .load_many(products.iter().copied())
            .await?;
        let readiness = status::Readiness::of(reasons.into_values().flatten());
        let status = status::billing_status(&products, &mappings, &subscriptions, readiness);
        let int = |n: u64| i32::try_from(n).unwrap_or(i32::MAX);
        Ok(BillingStatus {
            state: match status.state {
                status::BillingState::NotSetUp => BillingState::NotSetUp,
                status::BillingState::PartiallySetUp => BillingState::PartiallySetUp,
                status::BillingState::SetUp => BillingState::SetUp,
                status::BillingState::ManagedExternally => BillingState::ManagedExternally,
                status::BillingState::NeedsAttention => BillingState::NeedsAttention,
            },
            ready_subscriptions: int(status.readiness.ready),
            skipped_subscriptions: int(status.readiness.stuck),
            main_skip_reason: status
                .readiness
                .main_reason
                .map(super::push::SkipReason::from),
            mapped_products: int(status.mapped_products as u64),
            products: int(status.products as u64),
            covered_subscriptions: int(status.covered_subscriptions),
            subscriptions: int(status.subscriptions),
        })
    }
    /// The "Product/Services" of this service that accounts subscribe to.
    async fn products(&self, ctx: &Context<'_>) -> Result<Vec<Product>> {
        Ok(self
            .product_models(ctx)
            .await?
            .into_iter()
            .map(Product)
            .collect())
    }
    /// Every billing mapping of the service's products.
    async fn mappings(&self, ctx: &Context<'_>) -> Result<Vec<BillingMapping>> {
        Ok(self
            .mapping_models(ctx)
            .await?
            .into_iter()
            .map(BillingMapping)
            .collect())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

pub struct Product(pub product::Model);

/// A product's plain fields (`now`); its service, metrics, plans and mappings must be
/// loaded.
pub(crate) struct ProductFields<'a>(pub &'a product::Model);

impl Plain for ProductFields<'_> {
    type Of = Product;

    fn field(&self, name: &str, _: &ContextSelectionSet<'_>, out: &mut Json) -> Option<()> {
        match name {
            "id" => out.id(self.0.id),
            "name" => out.str(&self.0.name),
            _ => None,
        }
    }
}

impl Product {
    /// The product a row refers to, through the request's loader.
    pub async fn load(ctx: &Context<'_>, id: i64) -> Result<Product> {
        loaders(ctx)
            .product
            .load_one(id)
            .await?
            .map(Product)
            .ok_or_else(|| AppError::not_found("product", id).into())
    }
}

#[Object]
impl Product {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn service(&self, ctx: &Context<'_>) -> Result<Service> {
        loaders(ctx)
            .service
            .load_one(self.0.service_id)
            .await?
            .map(Service::alone)
            .ok_or_else(|| AppError::not_found("service", self.0.service_id).into())
    }
    /// What the product reports per account.
    async fn metrics(&self, ctx: &Context<'_>) -> Result<Vec<Metric>> {
        Ok(loaders(ctx)
            .metrics_of_product
            .load_one(self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Metric)
            .collect())
    }
    /// The product's "Unique ID/Plan" choices.
    async fn plans(&self, ctx: &Context<'_>) -> Result<Vec<Plan>> {
        Ok(loaders(ctx)
            .plans_of_product
            .load_one(self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Plan)
            .collect())
    }
    async fn mappings(&self, ctx: &Context<'_>) -> Result<Vec<BillingMapping>> {
        Ok(loaders(ctx)
            .mappings_of_product
            .load_one(self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(BillingMapping)
            .collect())
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum MetricUnit {
    /// Gigabytes; the mapping's usage value decides total or additional.
    Gb,
    /// A count (licences, seats, hosts), always sent as counted.
    Count,
}

impl From<MetricUnit> for DomainUnit {
    fn from(unit: MetricUnit) -> Self {
        match unit {
            MetricUnit::Gb => DomainUnit::Gb,
            MetricUnit::Count => DomainUnit::Count,
        }
    }
}

impl From<DomainUnit> for MetricUnit {
    fn from(unit: DomainUnit) -> Self {
        match unit {
            DomainUnit::Gb => MetricUnit::Gb,
            DomainUnit::Count => MetricUnit::Count,
        }
    }
}

pub struct Metric(pub metric::Model);

/// A metric's fields, all plain: answered at once where a metric is (`now`).
pub(crate) struct MetricFields<'a>(pub &'a metric::Model);

impl Plain for MetricFields<'_> {
    type Of = Metric;

    fn field(&self, name: &str, _: &ContextSelectionSet<'_>, out: &mut Json) -> Option<()> {
        let metric = self.0;
        match name {
            "id" => out.id(metric.id),
            "name" => out.str(&metric.name),
            "crossReferenceType" => out.str(&metric.cross_reference_type),
            "unit" => out.item(MetricUnit::from(metric.unit)),
            _ => None,
        }
    }
}

#[Object]
impl Metric {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The ConnectWise cross-reference type this metric feeds, e.g. `BackupUsage`.
    async fn cross_reference_type(&self) -> &str {
        &self.0.cross_reference_type
    }
    async fn unit(&self) -> MetricUnit {
        self.0.unit.into()
    }
}

#[derive(InputObject)]
pub struct MetricInput {
    /// A label for people, e.g. "Backup storage".
    pub name: String,
    /// The ConnectWise cross-reference type, e.g. `BackupUsage`; unique within a product.
    pub cross_reference_type: String,
    pub unit: MetricUnit,
}

fn metric_specs(metrics: Vec<MetricInput>) -> Result<Vec<MetricSpec>, AppError> {
    metrics
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            Ok(MetricSpec {
                name: input::name(&format!("metrics[{i}].name"), &m.name)?,
                cross_reference_type: input::exact(
                    &format!("metrics[{i}].crossReferenceType"),
                    &m.cross_reference_type,
                )?,
                unit: m.unit.into(),
            })
        })
        .collect()
}

#[derive(InputObject)]
pub struct CreateServiceInput {
    pub name: String,
    pub description: Option<String>,
}

#[derive(InputObject)]
pub struct UpdateServiceInput {
    pub name: Option<String>,
    /// `null` clears it; leaving it out keeps it.
    pub description: MaybeUndefined<String>,
}

#[derive(InputObject)]
pub struct CreateProductInput {
    pub service_id: ID,
    pub name: String,
    pub metrics: Vec<MetricInput>,
}

#[derive(InputObject)]
pub struct UpdateProductInput {
    pub name: Option<String>,
    /// Replaces the product's metrics (matched by cross-reference type); a metric with
    /// usage history cannot be removed.
    pub metrics: Option<Vec<MetricInput>>,
}

#[derive(Default)]
pub struct ServiceQuery;

#[Object]
impl ServiceQuery {
    /// Every service of the tenant, by name.
    async fn services(&self, ctx: &Context<'_>) -> Result<Vec<Now<Service>>> {
        let (services, ahead) = prefetch::services(ctx, None).await?;
        Ok(services
            .into_iter()
            .map(|s| Now(Service(s, ahead.clone())))
            .collect())
    }

    async fn service(&self, ctx: &Context<'_>, id: ID) -> Result<Now<Service>> {
        let id = input::id("id", &id)?;
        let (mut services, ahead) = prefetch::services(ctx, Some(id)).await?;
        services
            .pop()
            .map(|s| Now(Service(s, ahead)))
            .ok_or_else(|| AppError::not_found("service", id).into())
    }
}

#[derive(Default)]
pub struct ServiceMutation;

#[Object]
impl ServiceMutation {
    #[graphql(guard = "MinRole(Role::Editor)")]
    async fn create_service(
        &self,
        ctx: &Context<'_>,
        input: CreateServiceInput,
    ) -> Result<Service> {
        let name = input::name("name", &input.name)?;
        let description = input::note("description", input.description.as_deref())?;
        let service = audit::audited(ctx, |scope| async move {
            let service = catalog::create_service(&scope, name, description).await?;
            let summary = format!("created service {:?}", service.name);
            let entry = audit::entry("service", "create", Some(service.id), summary);
            Ok((service, entry))
        })
        .await?;
        Ok(Service::alone(service))
    }

    #[graphql(guard = "MinRole(Role::Editor)")]
    async fn update_service(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateServiceInput,
    ) -> Result<Service> {
        let id = input::id("id", &id)?;
        let name = input.name.map(|n| input::name("name", &n)).transpose()?;
        let description = match input.description {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(d) => Some(input::note("description", Some(&d))?),
        };
        let service = audit::audited(ctx, |scope| async move {
            let service = catalog::update_service(&scope, id, name, description).await?;
            let summary = format!("updated service {:?}", service.name);
            Ok((
                service,
                audit::entry("service", "update", Some(id), summary),
            ))
        })
        .await?;
        Ok(Service::alone(service))
    }

    /// Refused while the service has products.
    #[graphql(guard = "MinRole(Role::Editor)")]
    async fn delete_service(&self, ctx: &Context<'_>, id: ID) -> Result<ID> {
        let key = input::id("id", &id)?;
        audit::audited(ctx, |scope| async move {
            catalog::delete_service(&scope, key).await?;
            let summary = format!("deleted service {key}");
            Ok(((), audit::entry("service", "delete", Some(key), summary)))
        })
        .await?;
        Ok(id)
    }

    #[graphql(guard = "MinRole(Role::Editor)")]
    async fn create_product(
        &self,
        ctx: &Context<'_>,
        input: CreateProductInput,
    ) -> Result<Product> {
        let service_id = input::id("serviceId", &input.service_id)?;
        let name = input::name("name", &input.name)?;
        let metrics = metric_specs(input.metrics)?;
        let product = audit::audited(ctx, |scope| async move {
            let product = catalog::create_product(&scope, service_id, name, metrics).await?;
            let summary = format!("created product {:?}", product.name);
            let entry = audit::entry("product", "create", Some(product.id), summary);
            Ok((product, entry))
        })
        .await?;
        Ok(Product(product))
    }

    #[graphql(guard = "MinRole(Role::Editor)")]
    async fn update_product(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateProductInput,
    ) -> Result<Product> {
        let id = input::id("id", &id)?;
        let name = input.name.map(|n| input::name("name", &n)).transpose()?;
        let metrics = input.metrics.map(metric_specs).transpose()?;
        let product = audit::audited(ctx, |scope| async move {
            let product = catalog::update_product(&scope, id, name, metrics).await?;
            let summary = format!("updated product {:?}", product.name);
            Ok((
                product,
                audit::entry("product", "update", Some(id), summary),
            ))
        })
        .await?;
        Ok(Product(product))
    }

    /// Refused while the product has mappings or subscriptions; removes its plans,
    /// metrics and their history with it.
    #[graphql(guard = "MinRole(Role::Editor)")]
    async fn delete_product(&self, ctx: &Context<'_>, id: ID) -> Result<ID> {
        let key = input::id("id", &id)?;
        audit::audited(ctx, |scope| async move {
            catalog::delete_product(&scope, key).await?;
            let summary = format!("deleted product {key}");
            Ok(((), audit::entry("product", "delete", Some(key), summary)))
        })
        .await?;
        Ok(id)
    }
}
