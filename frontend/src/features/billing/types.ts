// Hand-written types for the one query this page runs (`Services`).
// They mirror the server's GraphQL schema and will be replaced by code
// generated from schema.graphql in a later issue — keep them in sync until then.

export type BillingState = 'NOT_SET_UP' | 'PARTIALLY_SET_UP' | 'SET_UP' | 'MANAGED_EXTERNALLY';

export type UsageValue = 'TOTAL_USAGE' | 'ADDITIONAL_USAGE';

export interface BillingStatus {
  state: BillingState;
  mappedProducts: number;
  products: number;
  coveredSubscriptions: number;
  subscriptions: number;
}

export interface Product {
  id: string;
  name: string;
}

export interface Plan {
  id: string;
  uniqueId: string;
  name: string;
  baseSizeGb: number;
}

export interface Level {
  id: string;
  name: string;
}

export interface BillingMapping {
  id: string;
  allPlans: boolean;
  usageValue: UsageValue;
  managedExternally: boolean;
  product: Product;
  /** null exactly when `allPlans` is true. */
  plan: Plan | null;
  level: Level;
}

export interface Service {
  id: string;
  name: string;
  description: string | null;
  readOnly: boolean;
  billingStatus: BillingStatus;
  mappings: BillingMapping[];
}

export interface ServicesQuery {
  services: Service[];
}
