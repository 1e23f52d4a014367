// The GraphQL fragments more than one page selects: one home for a shape the API returns in
// several places, so every page asks for the same fields and shares one generated type
// (`PushLineFieldsFragment` and the like, in src/gql/graphql.ts). Operations spread them by
// name (`...PushLineFields`); codegen appends the fragment to each document that does.
import { graphql } from '../gql';

/** A push line as a plan shows it: the Push preview, a run's lines, an account's last push. */
export const PushLineFields = graphql(`
  fragment PushLineFields on PushLine {
    accounts
    subscription
    companyId
    companyName
    metric
    level
    agreementName
    parentAgreementName
    productIdentifier
    currentQuantity
    newQuantity
    action
    reason
    detail
    lastWrittenQuantity
    drifted
    effectiveDate
    unitPrice
    monthlyBefore
    monthlyAfter
    monthlyChange
  }
`);

/** What became of a line in a run (all null in a preview). */
export const PushLineOutcomeFields = graphql(`
  fragment PushLineOutcomeFields on PushLine {
    seq
    outcome
    error
    finishedAt
  }
`);

/** A monthly amount before → after (a plan's or a run's total, a company's). */
export const MonthlyAmountFields = graphql(`
  fragment MonthlyAmountFields on MonthlyAmount {
    before
    after
    change
  }
`);

/** What a plan or a run means a month: the total, by company, and the lines without a price. */
export const PushMoneyFields = graphql(`
  fragment PushMoneyFields on PushMoney {
    total {
      ...MonthlyAmountFields
    }
    byCompany {
      companyId
      companyName
      monthly {
        ...MonthlyAmountFields
      }
    }
    unpricedLines
  }
`);
