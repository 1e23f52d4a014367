// API tokens for integrators: created here (the token is shown this once), listed,
// revoked.
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from '../../api/hooks';
import { graphql } from '../../gql';
import type { ApiTokensQuery, Role } from '../../gql/graphql';
import { Badge } from '../../ui/Badge';
import { ConfirmDialog } from '../../ui/Dialog';
import { Empty, ErrorAlert, Loaded } from '../../ui/Feedback';
import { Field } from '../../ui/Field';
import { formatDate, formatDateTime } from '../../ui/format';
import { Table } from '../../ui/Table';
import { useConfirmDelete } from '../../ui/useConfirmDelete';
import { ROLES } from './roles';
import { ROLE_LABEL } from '../../ui/labels';
import { MAX_LENGTH } from '../../api/limits';

const ApiTokens = graphql(`
  query ApiTokens {
    apiTokens {
      id
      name
      role
      createdBy
      createdAt
      expiresAt
      lastUsedAt
      revokedAt
    }
  }
`);

const CreateApiToken = graphql(`
  mutation CreateApiToken($input: CreateApiTokenInput!) {
    createApiToken(input: $input) {
      token
      apiToken {
        id
      }
    }
  }
`);

const RevokeApiToken = graphql(`
  mutation RevokeApiToken($id: ID!) {
    revokeApiToken(id: $id) {
      id
    }
  }
`);

type Token = ApiTokensQuery['apiTokens'][number];

export function TokensSection() {
  const query = useQuery(ApiTokens);
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('VIEWER');
  const [expires, setExpires] = useState('');
  const [created, setCreated] = useState<string | null>(null);
  const create = useMutation(CreateApiToken);
  const revoking = useConfirmDelete(useMutation(RevokeApiToken), { variables: (token: Token) => ({ id: token.id }), onDone: query.refetch });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    // The date input gives a day; the token lasts to the end of it (UTC).
    const expiresAt = expires ? `${expires}T23:59:59Z` : null;
    const result = await create.run({ input: { name, role, expiresAt } });
    if (result) {
      setCreated(result.createApiToken.token);
      setName('');
      query.refetch();
    }
  };

  return (
    <section className="section">
      <h2>API tokens</h2>
      <p className="hint">For integrators and PSA automation: sent as “Authorization: Bearer …”.</p>
      <form className="form-row" onSubmit={submit}>
        <Field label="Token name">
          {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} required maxLength={MAX_LENGTH.name} placeholder="PSA workflow" />}
        </Field>
        <Field label="Role">
          {(p) => (
            <select {...p} value={role} onChange={(e) => setRole(e.target.value as Role)}>
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {ROLE_LABEL[r]}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Expires" hint="Default: 90 days; at most two years.">
          {(p) => <input {...p} type="date" value={expires} onChange={(e) => setExpires(e.target.value)} />}
        </Field>
        <button type="submit" className="button" disabled={create.pending}>
          Create token
        </button>
      </form>
      {create.error && <ErrorAlert error={create.error} title="No token created." />}
      {created && (
        <div className="alert alert--ok">
          <Field label="New API token" hint="Copy it now: it is shown only this once.">
            {(p) => <input {...p} readOnly value={created} className="token" onFocus={(e) => e.target.select()} />}
          </Field>
          <button type="button" className="button button--small button--secondary" onClick={() => void navigator.clipboard?.writeText(created)}>
            Copy token
          </button>
        </div>
      )}
      <Loaded query={query} what="API tokens">
        {({ apiTokens }) =>
          apiTokens.length === 0 ? (
            <Empty>No API tokens yet.</Empty>
          ) : (
            <Table label="API tokens">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Role</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {apiTokens.map((token) => (
                  <tr key={token.id}>
                    <td>{token.name}</td>
                    <td>{ROLE_LABEL[token.role]}</td>
                    <td>
                      {formatDateTime(token.createdAt)}
                      <div className="muted">by {token.createdBy}</div>
                    </td>
                    <td>{formatDateTime(token.lastUsedAt)}</td>
                    <td>{formatDate(token.expiresAt)}</td>
                    <td>
                      {token.revokedAt ? (
                        <Badge tone="neutral">Revoked</Badge>
                      ) : (
                        <button type="button" className="button button--small button--secondary" onClick={() => revoking.ask(token)}>
                          Revoke {token.name}
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </Table>
          )
        }
      </Loaded>
      {revoking.target && (
        <ConfirmDialog title={`Revoke ${revoking.target.name}`} confirmLabel="Revoke" {...revoking.dialog}>
          <p>Revoke the token “{revoking.target.name}”? Its next request is refused.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}
