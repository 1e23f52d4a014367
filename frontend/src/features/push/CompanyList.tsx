// The preview's companies, 50 to a page and collapsed, each with its lines counted and
// its monthly change; opening one loads its lines (100 to a page). The filter applies to
// both on the server, so a page never holds more than it shows.
import { useId, useState } from 'react';
import { useQuery } from '../../api/hooks';
import { graphql } from '../../gql';
import type { PushAction, SkipReason } from '../../gql/graphql';
import { MonthlyAmounts, type Monthly } from '../../push/lines';
import { Empty, Loaded } from '../../ui/Feedback';
import { Pager, useCursorPages } from '../../ui/Pager';
import { formatDateTime } from '../../ui/format';
import { PreviewTable } from './PreviewTable';

const COMPANIES_PER_PAGE = 50;
const LINES_PER_PAGE = 100;

/** The lines asked for, as the API's arguments name them. */
export interface LineFilter {
  action: PushAction | null;
  reason: SkipReason | null;
  changesOnly: boolean;
}

const PreviewCompanies = graphql(`
  query PreviewCompanies($serviceId: ID, $first: Int!, $after: String, $action: PushAction, $reason: SkipReason, $changesOnly: Boolean!) {
    previewPush(serviceId: $serviceId) {
      companies(first: $first, after: $after, action: $action, reason: $reason, changesOnly: $changesOnly) {
        totalCount
        pageInfo {
          hasNextPage
          endCursor
        }
        nodes {
          companyId
          companyName
          summary {
            lines
            update
            create
            unchanged
            retire
            skip
          }
          monthly {
            ...MonthlyAmountFields
          }
        }
      }
    }
  }
`);

const PreviewCompanyLines = graphql(`
  query PreviewCompanyLines(
    $serviceId: ID
    $companyId: ID
    $withoutCompany: Boolean!
    $first: Int!
    $after: String
    $action: PushAction
    $reason: SkipReason
    $changesOnly: Boolean!
  ) {
    previewPush(serviceId: $serviceId) {
      computedAt
      lines(companyId: $companyId, withoutCompany: $withoutCompany, first: $first, after: $after, action: $action, reason: $reason, changesOnly: $changesOnly) {
        totalCount
        pageInfo {
          hasNextPage
          endCursor
        }
        nodes {
          ...PushLineFields
        }
      }
    }
  }
`);

interface Company {
  companyId?: string | null;
  companyName?: string | null;
  summary: { lines: number; update: number; create: number; unchanged: number; retire: number; skip: number };
  monthly: Monthly;
}

/** How a company is named: by its name, else its ID. */
export function companyLabel({ companyName, companyId }: { companyName?: string | null; companyId?: string | null }): string {
  return companyName ?? (companyId ? `Company ${companyId}` : 'No ConnectWise company');
}

/** "3 to update, 1 to create": the counts that are not zero. */
function counts(s: Company['summary']): string {
  const parts = [
    [s.update, 'to update'],
    [s.create, 'to create'],
    [s.retire, 'to retire'],
    [s.unchanged, 'unchanged'],
    [s.skip, 'skipped'],
  ] as const;
  return parts
    .filter(([n]) => n > 0)
    .map(([n, what]) => `${n} ${what}`)
    .join(', ');
}

export function CompanyList({ serviceId, filter, computedAt }: { serviceId: string | null; filter: LineFilter; computedAt: string }) {
  const pages = useCursorPages();
  const companies = useQuery(PreviewCompanies, { serviceId, first: COMPANIES_PER_PAGE, after: pages.after, ...filter });
  return (
    <Loaded query={companies} what="the companies">
      {({ previewPush: { companies: page } }) =>
        page.totalCount === 0 ? (
          <Empty>{filter.changesOnly ? 'Nothing to write: no line changes a quantity.' : 'No line matches.'}</Empty>
        ) : (
          <>
            <p className="muted">{page.totalCount === 1 ? '1 company' : `${page.totalCount} companies`} with matching lines. Open one to see its lines.</p>
            {page.nodes.map((company) => (
              <CompanyGroup key={`${company.companyId ?? 'none'}`} company={company} serviceId={serviceId} filter={filter} computedAt={computedAt} />
            ))}
            {(pages.page > 1 || page.pageInfo.hasNextPage) && (
              <Pager
                page={pages.page}
                hasNext={page.pageInfo.hasNextPage}
                onNext={() => page.pageInfo.endCursor && pages.next(page.pageInfo.endCursor)}
                onPrevious={pages.previous}
                summary={`${COMPANIES_PER_PAGE} companies a page`}
              />
            )}
          </>
        )
      }
    </Loaded>
  );
}

function CompanyGroup({ company, serviceId, filter, computedAt }: { company: Company; serviceId: string | null; filter: LineFilter; computedAt: string }) {
  const [open, setOpen] = useState(false);
  const regionId = useId();
  const name = companyLabel(company);
  const changed = Math.abs(company.monthly.change) > 1e-9;
  return (
    <section className="company" aria-label={name}>
      <h3 className="company-head">
        <button type="button" className="disclosure" aria-expanded={open} aria-controls={regionId} onClick={() => setOpen((o) => !o)}>
          <span className="caret" aria-hidden="true">
            {open ? '▾' : '▸'}
          </span>
          <span className="company-name">{name}</span>{' '}
          <span className="muted">
            {company.summary.lines === 1 ? '1 line' : `${company.summary.lines} lines`}: {counts(company.summary)}
          </span>
        </button>
        {changed && (
          <span className="company-money">
            Monthly: <MonthlyAmounts {...company.monthly} />
          </span>
        )}
      </h3>
      <div id={regionId} hidden={!open}>
        {open && <CompanyLines company={company} serviceId={serviceId} filter={filter} computedAt={computedAt} />}
      </div>
    </section>
  );
}

function CompanyLines({ company, serviceId, filter, computedAt }: { company: Company; serviceId: string | null; filter: LineFilter; computedAt: string }) {
  const pages = useCursorPages();
  const lines = useQuery(PreviewCompanyLines, {
    serviceId,
    companyId: company.companyId ?? null,
    withoutCompany: company.companyId == null,
    first: LINES_PER_PAGE,
    after: pages.after,
    ...filter,
  });
  const name = companyLabel(company);
  return (
    <Loaded query={lines} what={`the lines for ${name}`}>
      {({ previewPush: { computedAt: read, lines: page } }) => (
        <>
          {read !== computedAt && (
            <p className="alert alert--warn" role="status">
              ConnectWise was read again at {formatDateTime(read)} for these lines; the totals above are from {formatDateTime(computedAt)}. Refresh the preview
              to bring them up to date.
            </p>
          )}
          <PreviewTable lines={page.nodes} label={`Additions for ${name}`} />
          {(pages.page > 1 || page.pageInfo.hasNextPage) && (
            <Pager
              page={pages.page}
              hasNext={page.pageInfo.hasNextPage}
              onNext={() => page.pageInfo.endCursor && pages.next(page.pageInfo.endCursor)}
              onPrevious={pages.previous}
              summary={`${page.totalCount} lines`}
            />
          )}
        </>
      )}
    </Loaded>
  );
}
