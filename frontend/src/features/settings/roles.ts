import type { Role } from '../../gql/graphql';

export const ROLES: Role[] = ['VIEWER', 'EDITOR', 'ADMIN'];
