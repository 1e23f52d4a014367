// The ConnectWise connection: what is stored, the permission test, the syncs, and
// (admins) changing or forgetting it.
import { useState, type ChangeEvent, type FormEvent, type ReactNode } from 'react';
import { useMutation, useQuery } from '../../api/hooks';
import { graphql } from '../../gql';
import type { ConnectPsaInput, PsaConnectionQuery, TestPsaConnectionMutation } from '../../gql/graphql';
import { useCan } from '../../session/Session';
import { Badge } from '../../ui/Badge';
import { ConfirmDialog } from '../../ui/Dialog';
import { ErrorAlert, Loaded } from '../../ui/Feedback';
import { Field } from '../../ui/Field';
import { formatDateTime } from '../../ui/format';
import { Table } from '../../ui/Table';
import { useConfirmDelete } from '../../ui/useConfirmDelete';
import { MAX_LENGTH } from '../../api/limits';

const PsaConnection = graphql(`
  query PsaConnection {
    psaConnection {
      site
      companyId
      publicKey
      hasPrivateKey
      clientId
      integration
      maxRequestsPerSecond
      codebase
      apiVersion
      levelsSyncedAt
      companiesSyncedAt
      updatedBy
      updatedAt
    }
  }
`);

const ConnectPsa = graphql(`
  mutation ConnectPsa($input: ConnectPsaInput!) {
    connectPsa(input: $input) {
      site
    }
  }
`);

const TestPsaConnection = graphql(`
  mutation TestPsaConnection {
    testPsaConnection {
      ok
      reachable
      authenticated
      message
      checks {
        name
        permission
        allowed
        message
      }
    }
  }
`);

const SyncLevels = graphql(`
  mutation SyncLevels {
    syncLevels {
      created
      updated
      crossReferences
      warnings
    }
  }
`);

const SyncCompanies = graphql(`
  mutation SyncCompanies {
    syncCompanies {
      linked
      notFound
      ambiguous
    }
  }
`);

const DisconnectPsa = graphql(`
  mutation DisconnectPsa {
    disconnectPsa
  }
`);

type Connection = NonNullable<PsaConnectionQuery['psaConnection']>;

export function ConnectionSection() {
  const isAdmin = useCan('ADMIN');
  const query = useQuery(PsaConnection);
  const test = useMutation(TestPsaConnection);
  const syncLevels = useMutation(SyncLevels);
  const syncCompanies = useMutation(SyncCompanies);
  const disconnect = useConfirmDelete(useMutation(DisconnectPsa), { variables: () => ({}), onDone: query.refetch });
  const [editing, setEditing] = useState(false);
  const [synced, setSynced] = useState<string | null>(null);
  const [syncWarnings, setSyncWarnings] = useState<string[]>([]);

  return (
    <section className="section">
      <h2>ConnectWise connection</h2>
      <Loaded query={query} what="the connection">
        {({ psaConnection: connection }) => (
          <>
            {connection ? (
              <dl className="facts">
                <Fact term="Site">{connection.site}</Fact>
                <Fact term="Company ID">{connection.companyId}</Fact>
                <Fact term="Public key">{connection.publicKey}</Fact>
                <Fact term="Private key">{connection.hasPrivateKey ? 'Stored (never shown)' : 'Missing'}</Fact>
                <Fact term="Integration">{connection.integration}</Fact>
                <Fact term="Requests per second">{connection.maxRequestsPerSecond ?? 'No limit'}</Fact>
                <Fact term="Codebase">{connection.codebase ?? 'Not asked yet (v4_6_release)'}</Fact>
                <Fact term="Model version">{connection.apiVersion}</Fact>
                <Fact term="Levels synced">{formatDateTime(connection.levelsSyncedAt)}</Fact>
                <Fact term="Companies synced">{formatDateTime(connection.companiesSyncedAt)}</Fact>
                <Fact term="Changed">
                  {formatDateTime(connection.updatedAt)} by {connection.updatedBy}
                </Fact>
              </dl>
            ) : (
              <p className="empty">Not connected to ConnectWise yet.{isAdmin && ' Connect it to push usage.'}</p>
            )}
            <div className="toolbar">
              {connection && (
                <>
                  <button type="button" className="button" onClick={() => void test.run({})} disabled={test.pending}>
                    Test connection
                  </button>
                  <button
                    type="button"
                    className="button button--secondary"
                    disabled={syncLevels.pending}
                    onClick={async () => {
                      const r = await syncLevels.run({});
                      if (r) {
                        const { created, updated, crossReferences, warnings } = r.syncLevels;
                        setSynced(`Levels synced: ${created} new, ${updated} updated, ${crossReferences} cross-references.`);
                        setSyncWarnings(warnings);
                        query.refetch();
                      }
                    }}
                  >
                    Sync levels
                  </button>
                  <button
                    type="button"
                    className="button button--secondary"
                    disabled={syncCompanies.pending}
                    onClick={async () => {
                      const r = await syncCompanies.run({});
                      if (r) {
                        const { linked, notFound, ambiguous } = r.syncCompanies;
                        setSynced(`Companies synced: ${linked} accounts linked, ${notFound} not found, ${ambiguous} ambiguous.`);
                        setSyncWarnings([]);
                        query.refetch();
                      }
                    }}
                  >
                    Sync companies
                  </button>
                </>
              )}
              {isAdmin && (
                <button type="button" className="button button--secondary" onClick={() => setEditing((e) => !e)} aria-expanded={editing}>
                  {connection ? 'Change connection' : 'Connect ConnectWise'}
                </button>
              )}
              {isAdmin && connection && (
                <button type="button" className="button button--danger" onClick={() => disconnect.ask(true)}>
                  Disconnect
                </button>
              )}
            </div>
            {synced && (
              <p className="alert alert--ok" role="status">
                {synced}
              </p>
            )}
            {syncWarnings.length > 0 && (
              <div className="alert alert--warn" role="status">
                <p>Rows of ConnectWise’s cross-reference table left out:</p>
                <ul>
                  {syncWarnings.map((w) => (
                    <li key={w}>{w}</li>
                  ))}
                </ul>
              </div>
            )}
            {[test.error, syncLevels.error, syncCompanies.error].map((e, i) => e && <ErrorAlert key={i} error={e} />)}
            {test.data && <TestReport report={test.data.testPsaConnection} />}
            {editing && (
              <ConnectionForm
                current={connection}
                onSaved={() => {
                  setEditing(false);
                  query.refetch();
                }}
              />
            )}
            {disconnect.target && (
              <ConfirmDialog title="Disconnect ConnectWise" confirmLabel="Disconnect" {...disconnect.dialog}>
                <p>Forget the connection, its private key, the synced cross-references and the account links? Levels and mappings stay.</p>
              </ConfirmDialog>
            )}
          </>
        )}
      </Loaded>
    </section>
  );
}

function Fact({ term, children }: { term: string; children: ReactNode }) {
  return (
    <div>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </div>
  );
}

type Report = TestPsaConnectionMutation['testPsaConnection'];

function TestReport({ report }: { report: Report }) {
  return (
    <div className="report" role="status">
      <p>
        <Badge tone={report.ok ? 'ok' : 'bad'}>{report.ok ? 'Ready to push' : 'Not ready'}</Badge> {report.message}
      </p>
      <p>
        Reachable: {report.reachable ? 'yes' : 'no'} · Keys accepted: {report.authenticated ? 'yes' : 'no'}
      </p>
      {report.checks.length > 0 && (
        <Table label="Permissions">
          <thead>
            <tr>
              <th scope="col">Check</th>
              <th scope="col">Security-role setting</th>
              <th scope="col">Allowed</th>
              <th scope="col">ConnectWise said</th>
            </tr>
          </thead>
          <tbody>
            {report.checks.map((check) => (
              <tr key={check.name}>
                <td>{check.name}</td>
                <td>{check.permission}</td>
                <td>
                  <Badge tone={check.allowed ? 'ok' : 'bad'}>{check.allowed ? 'Allowed' : 'Refused'}</Badge>
                </td>
                <td>{check.message ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
    </div>
  );
}

function ConnectionForm({ current, onSaved }: { current: Connection | null; onSaved: () => void }) {
  const [form, setForm] = useState({
    site: current?.site ?? '',
    companyId: current?.companyId ?? '',
    publicKey: current?.publicKey ?? '',
    privateKey: '',
    clientId: current?.clientId ?? '',
    integration: current?.integration ?? '',
    maxRequestsPerSecond: current?.maxRequestsPerSecond?.toString() ?? '',
    apiVersion: current?.apiVersion ?? '',
  });
  const save = useMutation(ConnectPsa);
  const set = (key: keyof typeof form) => (e: ChangeEvent<HTMLInputElement>) => setForm({ ...form, [key]: e.target.value });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const input: ConnectPsaInput = {
      site: form.site,
      companyId: form.companyId,
      publicKey: form.publicKey,
      clientId: form.clientId,
      integration: form.integration,
      // Left empty, the stored key is kept.
      ...(form.privateKey ? { privateKey: form.privateKey } : {}),
      ...(form.maxRequestsPerSecond ? { maxRequestsPerSecond: Number(form.maxRequestsPerSecond) } : {}),
      ...(form.apiVersion ? { apiVersion: form.apiVersion } : {}),
    };
    if (await save.run({ input })) onSaved();
  };

  return (
    <form className="panel form-grid" onSubmit={submit}>
      <Field label="Site" hint="e.g. api-na.myconnectwise.net">
        {(p) => <input {...p} value={form.site} onChange={set('site')} required maxLength={MAX_LENGTH.site} />}
      </Field>
      <Field label="Company ID">{(p) => <input {...p} value={form.companyId} onChange={set('companyId')} required maxLength={MAX_LENGTH.name} />}</Field>
      <Field label="Public key">{(p) => <input {...p} value={form.publicKey} onChange={set('publicKey')} required maxLength={MAX_LENGTH.name} />}</Field>
      <Field label="Private key" hint={current?.hasPrivateKey ? 'Leave empty to keep the stored key.' : undefined}>
        {(p) => (
          <input
            {...p}
            type="password"
            value={form.privateKey}
            onChange={set('privateKey')}
            autoComplete="off"
            required={!current?.hasPrivateKey}
            maxLength={MAX_LENGTH.name}
          />
        )}
      </Field>
      <Field label="Client ID">{(p) => <input {...p} value={form.clientId} onChange={set('clientId')} required maxLength={MAX_LENGTH.name} />}</Field>
      <Field label="Integration" hint="The Managed Devices Integration holding the cross-references.">
        {(p) => <input {...p} value={form.integration} onChange={set('integration')} required maxLength={MAX_LENGTH.name} />}
      </Field>
      <Field label="Requests per second" hint="Leave empty for no limit.">
        {(p) => <input {...p} type="number" min="1" value={form.maxRequestsPerSecond} onChange={set('maxRequestsPerSecond')} />}
      </Field>
      <Field label="Model version" hint="The ConnectWise release pinned in every request, e.g. 2025.1. Leave empty for billbridge’s default.">
        {(p) => <input {...p} value={form.apiVersion} onChange={set('apiVersion')} maxLength={MAX_LENGTH.setting} />}
      </Field>
      {save.error && <ErrorAlert error={save.error} title="Not saved." />}
      <div className="actions">
        <button type="submit" className="button" disabled={save.pending}>
          Save connection
        </button>
      </div>
    </form>
  );
}
