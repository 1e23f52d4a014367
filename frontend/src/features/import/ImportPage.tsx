// Import: a vendor's usage export (CSV) → choose the service and the file, map its
// columns (the saved mapping filled in, a preview of the first rows beside it), see the
// dry run grouped by outcome with every problem, then import it and go on to the push.
import { Fragment, useState, type ChangeEvent } from 'react';
import { useMutation, useQuery } from '../../api/hooks';
import { graphql } from '../../gql';
import type { ImportOutcome, PreviewImportQuery } from '../../gql/graphql';
import { ApiError, request } from '../../api/client';
import { Link } from '../../router';
import { Badge } from '../../ui/Badge';
import { ErrorAlert, Loaded } from '../../ui/Feedback';
import { Field } from '../../ui/Field';
import { formatNumber } from '../../ui/format';
import { IMPORT_OUTCOME_LABEL, IMPORT_PROBLEM_LABEL } from '../../ui/labels';
import { PageTitle } from '../../ui/PageTitle';
import { Table } from '../../ui/Table';
import { initialMapping, toInput, type MappingForm } from './mapping';

const ImportServices = graphql(`
  query ImportServices {
    services {
      id
      name
      products {
        id
        metrics {
          id
          name
          crossReferenceType
          unit
        }
      }
    }
  }
`);

const ImportSample = graphql(`
  query ImportSample($csv: String!) {
    importSample(csv: $csv, rows: 5) {
      delimiter
      columns
      rows
    }
  }
`);

const SavedImportMapping = graphql(`
  query SavedImportMapping($serviceId: ID!) {
    importMapping(serviceId: $serviceId) {
      account
      displayName
      product
      plan
      measuredAt
      date
      decimalComma
      metrics {
        column
        crossReferenceType
      }
    }
  }
`);

const PreviewImport = graphql(`
  query PreviewImport($serviceId: ID!, $csv: String!, $fileName: String, $mapping: ImportMappingInput) {
    previewImport(serviceId: $serviceId, csv: $csv, fileName: $fileName, mapping: $mapping, lines: 200) {
      ...ImportReportFields
    }
  }
`);

const CommitImport = graphql(`
  mutation CommitImport($serviceId: ID!, $csv: String!, $fileName: String, $mapping: ImportMappingInput) {
    commitImport(serviceId: $serviceId, csv: $csv, fileName: $fileName, mapping: $mapping, lines: 0) {
      ...ImportReportFields
    }
  }
`);

graphql(`
  fragment ImportReportFields on ImportReport {
    fileName
    bytes
    rows
    problemCount
    problems {
      row
      column
      kind
      message
    }
    accounts {
      new
      changed
      unchanged
    }
    subscriptions {
      new
      changed
      unchanged
    }
    usage {
      new
      changed
      unchanged
    }
    lines {
      row
      account
      accountOutcome
      product
      plan
      previousPlan
      subscription
      measuredAt
      values {
        crossReferenceType
        unit
        quantity
        previous
        outcome
      }
    }
    committed
  }
`);

type Report = PreviewImportQuery['previewImport'];
type Line = Report['lines'][number];

const OUTCOMES: { outcome: ImportOutcome; title: string; tone: 'info' | 'warn' | 'neutral' }[] = [
  { outcome: 'NEW', title: IMPORT_OUTCOME_LABEL.NEW, tone: 'info' },
  { outcome: 'CHANGED', title: IMPORT_OUTCOME_LABEL.CHANGED, tone: 'warn' },
  { outcome: 'UNCHANGED', title: IMPORT_OUTCOME_LABEL.UNCHANGED, tone: 'neutral' },
];

/** The row's outcome as a whole: new if anything is new, else changed if anything changed. */
export function lineOutcome(line: Line): ImportOutcome {
  const all = [line.accountOutcome, line.subscription, ...line.values.map((v) => v.outcome)];
  if (all.includes('NEW')) return 'NEW';
  if (all.includes('CHANGED')) return 'CHANGED';
  return 'UNCHANGED';
}

interface File {
  name: string;
  text: string;
  size: number;
}

export function ImportPage() {
  const services = useQuery(ImportServices);
  const [serviceId, setServiceId] = useState('');
  const [file, setFile] = useState<File>();
  const [reading, setReading] = useState(false);
  const [columns, setColumns] = useState<{ columns: string[]; rows: string[][] }>();
  const [form, setForm] = useState<MappingForm>();
  const [error, setError] = useState<ApiError>();
  const [report, setReport] = useState<Report>();
  const [previewing, setPreviewing] = useState(false);
  const commit = useMutation(CommitImport);

  const service = services.data?.services.find((s) => s.id === serviceId);
  const metrics = service?.products.flatMap((p) => p.metrics) ?? [];

  // A new file or service: read its header and the saved mapping, and start again.
  async function prepare(nextService: string, nextFile: File | undefined) {
    setReport(undefined);
    setError(undefined);
    commit.reset();
    if (!nextService || !nextFile) return;
    setReading(true);
    try {
      const [sample, saved] = await Promise.all([request(ImportSample, { csv: nextFile.text }), request(SavedImportMapping, { serviceId: nextService })]);
      const chosen = services.data?.services.find((s) => s.id === nextService);
      setColumns({ columns: sample.importSample.columns, rows: sample.importSample.rows });
      setForm(initialMapping(sample.importSample.columns, chosen?.products.flatMap((p) => p.metrics) ?? [], saved.importMapping));
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(String(err)));
    } finally {
      setReading(false);
    }
  }

  async function choose(event: ChangeEvent<HTMLInputElement>) {
    const chosen = event.target.files?.[0];
    if (!chosen) return;
    const read = { name: chosen.name, text: await chosen.text(), size: chosen.size };
    setFile(read);
    await prepare(serviceId, read);
  }

  async function dryRun() {
    if (!file || !form) return;
    setPreviewing(true);
    setError(undefined);
    setReport(undefined);
    commit.reset();
    try {
      const result = await request(PreviewImport, { serviceId, csv: file.text, fileName: file.name, mapping: toInput(form) });
      setReport(result.previewImport);
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(String(err)));
    } finally {
      setPreviewing(false);
    }
  }

  async function importIt() {
    if (!file || !form) return;
    await commit.run({ serviceId, csv: file.text, fileName: file.name, mapping: toInput(form) });
  }

  const set = (patch: Partial<MappingForm>) => {
    setForm((current) => current && { ...current, ...patch });
    setReport(undefined);
  };
  const columnSelect = (label: string, value: string, onChange: (column: string) => void, optional = true) => (
    <Field label={label}>
      {(p) => (
        <select {...p} value={value} onChange={(e) => onChange(e.target.value)}>
          <option value="">{optional ? '— not in this file —' : 'Choose a column'}</option>
          {columns?.columns.map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
      )}
    </Field>
  );

  return (
    <>
      <PageTitle>Import usage</PageTitle>
      <p className="lede">
        Drop in your vendor’s usage export (CSV). Nothing is stored until you have seen the dry run and chosen <strong>Import</strong>; the same file twice
        changes nothing.
      </p>
      <Loaded query={services} what="services">
        {({ services: list }) => (
          <div className="toolbar">
            <Field label="Service">
              {(p) => (
                <select
                  {...p}
                  value={serviceId}
                  onChange={(e) => {
                    setServiceId(e.target.value);
                    void prepare(e.target.value, file);
                  }}
                >
                  <option value="">Choose a service</option>
                  {list.map((s) => (
                    <option key={s.id} value={s.id}>
                      {s.name}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field
              label="Usage export (CSV)"
              hint="UTF-8; comma or semicolon separated; a header row. Files over the server’s import limit (768 KiB unless configured) go through billbridge import usage."
            >
              {(p) => <input {...p} type="file" accept=".csv,text/csv" onChange={(e) => void choose(e)} />}
            </Field>
          </div>
        )}
      </Loaded>
      {reading && <p role="status">Reading {file?.name}…</p>}
      {error && <ErrorAlert error={error} title="The file could not be read." />}

      {form && columns && service && (
        <section aria-labelledby="mapping-title">
          <h2 id="mapping-title">Columns</h2>
          <Table label="First rows of the file">
            <thead>
              <tr>
                {columns.columns.map((c) => (
                  <th key={c} scope="col">
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {columns.rows.map((row, i) => (
                <tr key={i}>
                  {row.map((cell, j) => (
                    <td key={j}>{cell}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </Table>
          <div className="form-grid">
            {columnSelect('Account', form.account, (account) => set({ account }), false)}
            {columnSelect('Display name', form.displayName, (displayName) => set({ displayName }))}
            {service.products.length > 1 && columnSelect('Product/Service', form.product, (product) => set({ product }), false)}
            {columnSelect('Unique ID/Plan', form.plan, (plan) => set({ plan }))}
            {metrics.map((m) => (
              <Fragment key={m.id}>
                {columnSelect(`${m.name} (${m.crossReferenceType}, ${m.unit === 'GB' ? 'GB' : 'count'})`, form.metrics[m.crossReferenceType] ?? '', (column) =>
                  set({ metrics: { ...form.metrics, [m.crossReferenceType]: column } }),
                )}
              </Fragment>
            ))}
            {columnSelect('Measured at', form.measuredAt, (measuredAt) => set({ measuredAt, date: '' }))}
            {!form.measuredAt && (
              <Field label="Date for the whole file">
                {(p) => <input {...p} type="date" value={form.date} onChange={(e) => set({ date: e.target.value })} />}
              </Field>
            )}
            <label className="checkbox">
              <input type="checkbox" checked={form.decimalComma} onChange={(e) => set({ decimalComma: e.target.checked })} /> Numbers use a decimal comma
              (1.234,5)
            </label>
          </div>
          <p className="actions">
            <button type="button" className="button" disabled={!form.account || previewing} onClick={() => void dryRun()}>
              Dry run
            </button>
          </p>
          {previewing && (
            <p role="status">
              Checking {file ? formatNumber(file.size / 1024) : 0} KB… <progress aria-label="Checking the file" />
            </p>
          )}
        </section>
      )}

      {report && (
        <DryRun report={report} importing={commit.pending} imported={commit.data?.commitImport} error={commit.error} onImport={() => void importIt()} />
      )}
    </>
  );
}

function Tally({ label, tally }: { label: string; tally: { new: number; changed: number; unchanged: number } }) {
  return (
    <li>
      <strong>{label}</strong>: {formatNumber(tally.new)} new, {formatNumber(tally.changed)} changed, {formatNumber(tally.unchanged)} unchanged
    </li>
  );
}

interface DryRunProps {
  report: Report;
  importing: boolean;
  imported: Report | undefined;
  error: ApiError | undefined;
  onImport: () => void;
}

function DryRun({ report, importing, imported, error, onImport }: DryRunProps) {
  const nothing =
    report.accounts.new + report.accounts.changed + report.subscriptions.new + report.subscriptions.changed + report.usage.new + report.usage.changed === 0;
  return (
    <section aria-labelledby="dry-run-title">
      <h2 id="dry-run-title">Dry run: {report.fileName}</h2>
      <ul className="summary">
        <li>{formatNumber(report.rows)} rows</li>
        <Tally label="Accounts" tally={report.accounts} />
        <Tally label="Subscriptions" tally={report.subscriptions} />
        <Tally label="Usage values" tally={report.usage} />
      </ul>
      {report.problemCount > 0 ? (
        <>
          <h3>
            {formatNumber(report.problemCount)} {report.problemCount === 1 ? 'problem' : 'problems'}: fix the file or the columns, then run it again
          </h3>
          <Table label="Problems">
            <thead>
              <tr>
                <th scope="col">Row</th>
                <th scope="col">Column</th>
                <th scope="col">Kind</th>
                <th scope="col">Problem</th>
              </tr>
            </thead>
            <tbody>
              {report.problems.map((p, i) => (
                <tr key={i}>
                  <td>{p.row}</td>
                  <td>{p.column ?? '—'}</td>
                  <td>{IMPORT_PROBLEM_LABEL[p.kind]}</td>
                  <td>{p.message}</td>
                </tr>
              ))}
            </tbody>
          </Table>
        </>
      ) : imported ? (
        <p role="status">
          {imported.committed ? `Imported ${formatNumber(imported.rows)} rows.` : 'Nothing to change: billbridge already holds what this file says.'}{' '}
          <Link to="/push">Open the Push preview</Link> to see what it will bill.
        </p>
      ) : (
        <p className="actions">
          <button type="button" className="button" disabled={importing || nothing} onClick={onImport}>
            {importing ? 'Importing…' : 'Import'}
          </button>
          {nothing && ' Nothing to change: billbridge already holds what this file says.'}
        </p>
      )}
      {error && <ErrorAlert error={error} title="Nothing was imported." />}
      {OUTCOMES.map(({ outcome, title, tone }) => {
        const lines = report.lines.filter((l) => lineOutcome(l) === outcome);
        if (lines.length === 0) return null;
        return (
          <details key={outcome} open={outcome !== 'UNCHANGED'}>
            <summary>
              <Badge tone={tone}>{title}</Badge> {lines.length} {lines.length === 1 ? 'row' : 'rows'}
              {report.lines.length < report.rows ? ` of the first ${report.lines.length}` : ''}
            </summary>
            <Table label={`${title} rows`}>
              <thead>
                <tr>
                  <th scope="col">Row</th>
                  <th scope="col">Account</th>
                  <th scope="col">Product and plan</th>
                  <th scope="col">Usage</th>
                </tr>
              </thead>
              <tbody>
                {lines.map((l) => (
                  <tr key={l.row}>
                    <td>{l.row}</td>
                    <td>
                      {l.account} {l.accountOutcome === 'NEW' && <Badge tone="info">new account</Badge>}
                    </td>
                    <td>
                      {l.product}
                      {l.plan && ` · ${l.previousPlan && l.previousPlan !== l.plan ? `${l.previousPlan} → ` : ''}${l.plan}`}
                    </td>
                    <td>
                      {l.values.map((v) => (
                        <div key={v.crossReferenceType}>
                          {v.crossReferenceType}:{' '}
                          {v.previous !== null && v.previous !== undefined && v.previous !== v.quantity ? `${formatNumber(v.previous)} → ` : ''}
                          {formatNumber(v.quantity)} {v.unit === 'GB' ? 'GB' : ''}
                        </div>
                      ))}
                    </td>
                  </tr>
                ))}
              </tbody>
            </Table>
          </details>
        );
      })}
    </section>
  );
}
