//! Importing a vendor's usage export (CSV): the file read against a column mapping and the
//! service's catalogue, row by row, then judged against what is stored. Plain data in and
//! out: `db::import` loads the catalogue and the stored state and writes the changes.
//!
//! Two passes, both streaming over the rows: [`read`] parses and checks every row (every
//! problem with its row, column and a plain reason), keeping only the compact values; the
//! caller then loads what is stored for the accounts and dates seen, and [`judge`] says
//! what each row would change. Nothing here decides to write: a file with problems is
//! refused whole by the caller.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read};

use super::MetricUnit;
use super::state::{ImportOutcome, ImportProblem};

/// Problems kept in full; more are only counted.
pub const MAX_PROBLEMS: usize = 1_000;
/// The longest name or display name a cell may give (the API's name limit).
const MAX_NAME: usize = 200;

/// Which column holds what, saved per tenant and service so next month's file needs none.
/// Columns are named by their header text, exactly (surrounding spaces aside).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Mapping {
    /// `,`, `;` or a tab; detected from the header row when not given.
    #[serde(default)]
    pub delimiter: Option<char>,
    /// Numbers are written `1.234,5` (a comma before the decimals, dots or spaces between
    /// thousands).
    #[serde(default)]
    pub decimal_comma: bool,
    /// The account's name at the vendor (required).
    pub account: String,
    #[serde(default)]
    pub display_name: Option<String>,
    /// The product (by name, within the service); may be left out when the service has
    /// one product.
    #[serde(default)]
    pub product: Option<String>,
    /// The plan's unique ID; an empty cell keeps the account's plan.
    #[serde(default)]
    pub plan: Option<String>,
    /// One column per metric.
    #[serde(default)]
    pub metrics: Vec<MetricColumn>,
    /// When each row was measured; or `date` for the whole file.
    #[serde(default)]
    pub measured_at: Option<String>,
    #[serde(default)]
    pub date: Option<NaiveDate>,
    /// A chrono format (`%d/%m/%Y`) for the measured-at cells; ISO 8601 forms when absent.
    #[serde(default)]
    pub date_format: Option<String>,
}

/// A column holding one metric's values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MetricColumn {
    pub column: String,
    /// The metric's ConnectWise cross-reference type, e.g. `BackupUsage`.
    pub cross_reference_type: String,
}

/// The service as an import sees it.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    pub products: Vec<CatalogProduct>,
}

#[derive(Clone, Debug)]
pub struct CatalogProduct {
    pub id: i64,
    pub name: String,
    /// (id, unique ID)
    pub plans: Vec<(i64, String)>,
    pub metrics: Vec<CatalogMetric>,
}

#[derive(Clone, Debug)]
pub struct CatalogMetric {
    pub id: i64,
    pub cross_reference_type: String,
    pub unit: MetricUnit,
}

/// Something wrong with the file, where it is, in plain words.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    /// The line in the file (the header is row 1), as a spreadsheet numbers it.
    pub row: u64,
    /// The column's header, when one column is at fault.
    pub column: Option<String>,
    pub kind: ImportProblem,
    pub message: String,
}

/// One data row as read: indexes into [`Parsed::accounts`] and the catalogue.
#[derive(Clone, Debug)]
pub struct Row {
    pub row: u64,
    pub account: u32,
    pub product: u16,
    /// Index into the product's plans; `None`: the cell was empty or not mapped.
    pub plan: Option<u16>,
    pub measured_at: DateTime<Utc>,
    /// (index into the product's metrics, quantity)
    pub values: Vec<(u16, f64)>,
}

/// What [`read`] found.
#[derive(Debug, Default)]
pub struct Parsed {
    pub delimiter: char,
    /// Account names, each once, in the order first seen; rows refer to them by index.
    pub accounts: Vec<String>,
    /// The display name the file gives each account (the last non-empty one).
    pub display_names: Vec<Option<String>>,
    pub rows: Vec<Row>,
    /// Data rows read (good or not).
    pub row_count: u64,
    pub problems: Vec<Problem>,
    pub problem_count: u64,
    /// The file's facts, for the audit log.
    pub bytes: u64,
    pub sha256: String,
}

impl Parsed {
    fn problem(&mut self, row: u64, column: Option<&str>, kind: ImportProblem, message: String) {
        self.problem_count += 1;
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(Problem {
                row,
                column: column.map(str::to_owned),
                kind,
                message,
            });
        }
    }

    /// Every distinct measured-at time of the good rows.
    pub fn times(&self) -> Vec<DateTime<Utc>> {
        let set: HashSet<DateTime<Utc>> = self.rows.iter().map(|r| r.measured_at).collect();
        let mut times: Vec<_> = set.into_iter().collect();
        times.sort();
        times
    }
}

/// Counts bytes and hashes them as they are read, so the file is read once.
struct Hashing<R> {
    inner: R,
    bytes: u64,
    hash: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

/// Where each line with content starts, as the CSV reader consumes the file: the row
/// numbers a person sees. (The csv crate's own line count skips past blank lines and
/// miscounts CRLF files.) Entries before the current row are dropped, so it stays small.
struct Lines<R> {
    inner: R,
    offset: u64,
    line: u64,
    content: bool,
    /// (byte offset, line number) of lines with content not yet passed.
    starts: std::collections::VecDeque<(u64, u64)>,
}

impl<R> Lines<R> {
    fn new(inner: R) -> Self {
        Lines {
            inner,
            offset: 0,
            line: 1,
            content: false,
            starts: Default::default(),
        }
    }

    /// The line of the first content at or after byte `at`.
    fn line_at(&mut self, at: u64) -> Option<u64> {
        while self.starts.front().is_some_and(|(offset, _)| *offset < at) {
            self.starts.pop_front();
        }
        self.starts.front().map(|(_, line)| *line)
    }
}

impl<R: Read> Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            match b {
                b'\n' => {
                    self.line += 1;
                    self.content = false;
                }
                b'\r' => {}
                _ if !self.content => {
                    self.content = true;
                    self.starts.push_back((self.offset, self.line));
                }
                _ => {}
            }
            self.offset += 1;
        }
        Ok(n)
    }
}

/// The delimiter of a header line: the most frequent of `,`, `;` and tab outside quotes
/// (a comma when none appears).
pub fn detect_delimiter(header: &[u8]) -> char {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in header {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            b'\n' if !quoted => break,
            _ => {}
        }
    }
    let candidates = [',', ';', '\t'];
    let best = (0..3).max_by_key(|&i| (counts[i], 3 - i)).unwrap_or(0);
    candidates[best]
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A reader past the BOM, and the delimiter (given, or detected from the first line).
fn open<R: Read>(input: R, given: Option<char>) -> std::io::Result<(BufReader<R>, char)> {
    let mut reader = BufReader::with_capacity(64 * 1024, input);
    let buffer = reader.fill_buf()?;
    if buffer.starts_with(BOM) {
        reader.consume(BOM.len());
    }
    let delimiter = match given {
        Some(d) => d,
        None => detect_delimiter(reader.fill_buf()?),
    };
    Ok((reader, delimiter))
}

fn csv_reader<R: Read>(input: R, delimiter: char) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter as u8)
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input)
}

/// The first rows of a file as text, for choosing a mapping.
#[derive(Debug, PartialEq)]
pub struct Sample {
    pub delimiter: char,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// The header and the first `rows` rows (cells that are not UTF-8 shown with U+FFFD).
pub fn sample<R: Read>(input: R, delimiter: Option<char>, rows: usize) -> Result<Sample, String> {
    let (reader, delimiter) = open(input, delimiter).map_err(|e| e.to_string())?;
    let mut csv = csv_reader(reader, delimiter);
    let columns = csv
        .byte_headers()
        .map_err(|e| format!("the header row cannot be read: {e}"))?
        .iter()
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    let mut sample = Vec::new();
    for record in csv.byte_records().take(rows) {
        let record = record.map_err(|e| format!("a row cannot be read: {e}"))?;
        sample.push(
            record
                .iter()
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect(),
        );
    }
    Ok(Sample {
        delimiter,
        columns,
        rows: sample,
    })
}

/// Where each mapped column is.
struct Columns {
    account: usize,
    display_name: Option<usize>,
    product: Option<usize>,
    plan: Option<usize>,
    measured_at: Option<usize>,
    /// (column index, header, product index, metric index within the product)
    metrics: Vec<(usize, String, u16, u16)>,
}

/// Finds the mapping's columns in the header, and its metrics in the catalogue. Every
/// mistake is a problem on row 1.
fn columns(
    mapping: &Mapping,
    header: &[String],
    catalog: &Catalog,
    parsed: &mut Parsed,
) -> Option<Columns> {
    let before = parsed.problem_count;
    let find = |name: &str, role: &str, parsed: &mut Parsed| -> Option<usize> {
        let wanted = name.trim();
        let found = header.iter().position(|h| h == wanted);
        if found.is_none() {
            parsed.problem(
                1,
                Some(wanted),
                ImportProblem::MissingColumn,
                format!(
                    "the mapping takes the {role} from column {wanted:?}, which the header row does not have (it has {})",
                    header.iter().map(|h| format!("{h:?}")).collect::<Vec<_>>().join(", ")
                ),
            );
        }
        found
    };
    let account = find(&mapping.account, "account", parsed);
    let display_name = mapping
        .display_name
        .as_deref()
        .map(|c| find(c, "display name", parsed));
    let product = mapping
        .product
        .as_deref()
        .map(|c| find(c, "product", parsed));
    let plan = mapping.plan.as_deref().map(|c| find(c, "plan", parsed));
    let measured_at = mapping
        .measured_at
        .as_deref()
        .map(|c| find(c, "measured-at date", parsed));
    let mut metrics = Vec::new();
    for metric in &mapping.metrics {
        let column = find(&metric.column, "metric", parsed);
        let wanted = metric.cross_reference_type.trim();
        let found = catalog
            .products
            .iter()
            .enumerate()
            .find_map(|(p, product)| {
                product
                    .metrics
                    .iter()
                    .position(|m| m.cross_reference_type == wanted)
                    .map(|m| (p as u16, m as u16))
            });
        match (column, found) {
            (Some(c), Some((p, m))) => metrics.push((c, metric.column.trim().to_owned(), p, m)),
            (_, None) => parsed.problem(
                1,
                Some(metric.column.trim()),
                ImportProblem::UnknownMetric,
                format!(
                    "no product of this service reports the metric {wanted:?} (it has {})",
                    catalog
                        .products
                        .iter()
                        .flat_map(|p| p
                            .metrics
                            .iter()
                            .map(|m| format!("{:?}", m.cross_reference_type)))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            (None, Some(_)) => {}
        }
    }
    if mapping.metrics.is_empty() {
        parsed.problem(
            1,
            None,
            ImportProblem::MissingColumn,
            "the mapping names no metric column; map at least one".into(),
        );
    }
    if mapping.product.is_none() && catalog.products.len() != 1 {
        parsed.problem(
            1,
            None,
            ImportProblem::MissingColumn,
            format!(
                "the service has {} products; map the column that names each row's product",
                catalog.products.len()
            ),
        );
    }
    match (&mapping.measured_at, mapping.date) {
        (None, None) => parsed.problem(
            1,
            None,
            ImportProblem::MissingColumn,
            "the mapping gives neither a measured-at column nor one date for the whole file".into(),
        ),
        (Some(_), Some(_)) => parsed.problem(
            1,
            None,
            ImportProblem::MissingColumn,
            "the mapping gives both a measured-at column and a date for the whole file; choose one"
                .into(),
        ),
        _ => {}
    }
    if parsed.problem_count > before {
        return None;
    }
    Some(Columns {
        account: account?,
        display_name: display_name.flatten(),
        product: product.flatten(),
        plan: plan.flatten(),
        measured_at: measured_at.flatten(),
        metrics,
    })
}

/// A number as the file writes it: `None` and a reason when it is not one.
pub fn number(text: &str, decimal_comma: bool) -> Result<f64, String> {
    if decimal_comma && !grouped_in_thousands(text) {
        // `12.5` in a file that writes decimals with a comma is no number to guess at:
        // read as 125 it would bill ten times over.
        return Err(format!(
            "{text:?} is not a number as this file writes them (a decimal comma; a dot or a space only between groups of three digits before it, as in 1.234,5)"
        ));
    }
    let cleaned: String = if decimal_comma {
        text.chars()
            .filter(|c| !matches!(c, '.' | ' ' | '\u{a0}'))
            .map(|c| if c == ',' { '.' } else { c })
            .collect()
    } else {
        text.to_owned()
    };
    let plain = !cleaned.is_empty()
        && cleaned
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'));
    match cleaned.parse::<f64>() {
        Ok(n) if plain && n.is_finite() => Ok(n),
        _ if !decimal_comma && text.contains(',') => Err(format!(
            "{text:?} is not a number (if this file writes decimals with a comma, set the mapping's decimal comma option)"
        )),
        _ => Err(format!("{text:?} is not a number")),
    }
}

/// In a file with decimal commas: at most one comma, nothing but digits after it, and dots
/// or spaces before it only between groups of three digits (`1.234.567,5`, `1 234,5`).
fn grouped_in_thousands(text: &str) -> bool {
    let separator = |c: char| matches!(c, '.' | ' ' | '\u{a0}');
    let mut parts = text.splitn(2, ',');
    let whole = parts.next().unwrap_or_default();
    if parts
        .next()
        .is_some_and(|fraction| fraction.contains(|c: char| separator(c) || c == ','))
    {
        return false;
    }
    let mut groups = whole.trim_start_matches(['-', '+']).split(separator);
    let first = groups.next().unwrap_or_default();
    let rest: Vec<&str> = groups.collect();
    rest.is_empty() || ((1..=3).contains(&first.len()) && rest.iter().all(|g| g.len() == 3))
}

/// A measured-at cell: the given chrono format, else RFC 3339, `YYYY-MM-DD HH:MM:SS`,
/// `YYYY-MM-DDTHH:MM:SS` or `YYYY-MM-DD` (times without a zone are UTC). Kept to the second.
pub fn date(text: &str, format: Option<&str>) -> Result<DateTime<Utc>, String> {
    let parsed = match format {
        Some(format) => NaiveDateTime::parse_from_str(text, format)
            .map(|t| t.and_utc())
            .or_else(|_| {
                NaiveDate::parse_from_str(text, format).map(|d| d.and_time(Default::default()).and_utc())
            })
            .map_err(|_| format!("{text:?} is not a date in the format {format:?}")),
        None => DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").map(|t| t.and_utc()))
            .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").map(|t| t.and_utc()))
            .or_else(|_| {
                NaiveDate::parse_from_str(text, "%Y-%m-%d").map(|d| d.and_time(Default::default()).and_utc())
            })
            .map_err(|_| {
                format!("{text:?} is not a date; write 2026-11-30 or 2026-11-30T08:00:00Z, or give the mapping a date format")
            }),
    }?;
    Ok(Utc
        .timestamp_opt(parsed.timestamp(), 0)
        .single()
        .unwrap_or(parsed))
}

/// A name cell: trimmed (by the reader), at most 200 characters, no control character.
fn name(text: &str) -> Result<(), String> {
    if text.chars().count() > MAX_NAME {
        return Err(format!("is longer than {MAX_NAME} characters"));
    }
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        return Err(format!("contains the control character U+{:04X}", c as u32));
    }
    Ok(())
}

/// Reads and checks every row. `latest`: the latest acceptable measured-at (now, plus the
/// tolerance for a vendor's fast clock). `progress` is told the data rows read so far,
/// every 1,000.
pub fn read<R: Read>(
    input: R,
    mapping: &Mapping,
    catalog: &Catalog,
    latest: DateTime<Utc>,
    progress: &mut dyn FnMut(u64),
) -> Parsed {
    let mut hashing = Hashing {
        inner: input,
        bytes: 0,
        hash: Sha256::new(),
    };
    let mut parsed = Parsed::default();
    read_rows(
        &mut hashing,
        mapping,
        catalog,
        latest,
        progress,
        &mut parsed,
    );
    // Whatever stopped the rows, the file's facts cover all of it.
    let _ = std::io::copy(&mut hashing, &mut std::io::sink());
    parsed.bytes = hashing.bytes;
    parsed.sha256 = hex::encode(hashing.hash.finalize());
    parsed
}

fn read_rows<R: Read>(
    input: R,
    mapping: &Mapping,
    catalog: &Catalog,
    latest: DateTime<Utc>,
    progress: &mut dyn FnMut(u64),
    parsed: &mut Parsed,
) {
    let (reader, delimiter) = match open(input, mapping.delimiter) {
        Ok(opened) => opened,
        Err(e) => {
            parsed.problem(
                1,
                None,
                ImportProblem::Unreadable,
                format!("the file cannot be read: {e}"),
            );
            return;
        }
    };
    parsed.delimiter = delimiter;
    let mut csv = csv_reader(Lines::new(reader), delimiter);
    let header: Vec<String> = match csv.headers() {
        Ok(h) if h.iter().any(|c| !c.is_empty()) => h.iter().map(str::to_owned).collect(),
        Ok(_) => {
            parsed.problem(
                1,
                None,
                ImportProblem::Unreadable,
                "the file is empty; it needs a header row".into(),
            );
            return;
        }
        Err(e) => {
            parsed.problem(
                1,
                None,
                ImportProblem::Unreadable,
                format!("the header row cannot be read: {}", reason(&e)),
            );
            return;
        }
    };
    let Some(columns) = columns(mapping, &header, catalog, parsed) else {
        return;
    };
    let mut names: HashMap<String, u32> = HashMap::new();
    let mut seen: HashMap<(u32, u16, u16, DateTime<Utc>), u64> = HashMap::new();
    let mut plans: HashMap<(u32, u16), (Option<u16>, u64)> = HashMap::new();
    let mut record = csv::StringRecord::new();
    let mut line = 1u64;
    loop {
        match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let at = e
                    .position()
                    .and_then(|p| csv.get_mut().line_at(p.byte()))
                    .unwrap_or(line + 1);
                parsed.row_count += 1;
                parsed.problem(
                    at,
                    None,
                    ImportProblem::Unreadable,
                    format!("the row cannot be read: {}", reason(&e)),
                );
                // A UTF-8 error leaves the reader past the row; anything else ends it.
                if matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                    line = at;
                    continue;
                }
                break;
            }
        }
        line = record
            .position()
            .and_then(|p| csv.get_mut().line_at(p.byte()))
            .unwrap_or(line + 1);
        parsed.row_count += 1;
        if parsed.row_count.is_multiple_of(1_000) {
            progress(parsed.row_count);
        }
        if record.iter().all(str::is_empty) {
            parsed.row_count -= 1;
            continue;
        }
        if let Some(row) = read_row(
            &record, line, mapping, catalog, &columns, &header, latest, parsed,
        ) {
            let (account, display) = row;
            let index = match names.get(&account) {
                Some(&i) => i,
                None => {
                    let i = parsed.accounts.len() as u32;
                    names.insert(account.clone(), i);
                    parsed.accounts.push(account);
                    parsed.display_names.push(None);
                    i
                }
            };
            if display.is_some() {
                parsed.display_names[index as usize] = display;
            }
            let mut row = parsed.rows.pop().expect("read_row pushed the row");
            row.account = index;
            // Two values for one sample (account, metric, measured-at): the file contradicts
            // itself, or repeats a row.
            let repeated = row.values.iter().find_map(|&(m, _)| {
                seen.insert((index, row.product, m, row.measured_at), line)
                    .map(|first| (m, first))
            });
            if let Some((m, first)) = repeated {
                let metric = &catalog.products[row.product as usize].metrics[m as usize];
                parsed.problem(
                    line,
                    columns
                        .metrics
                        .iter()
                        .find(|(_, _, p, i)| *p == row.product && *i == m)
                        .map(|(_, header, _, _)| header.as_str()),
                    ImportProblem::Duplicate,
                    format!(
                        "duplicate: row {first} already gives {:?}'s {:?} measured at {}",
                        parsed.accounts[index as usize],
                        metric.cross_reference_type,
                        row.measured_at.to_rfc3339()
                    ),
                );
                continue;
            }
            if row.plan.is_some() {
                match plans.get(&(index, row.product)) {
                    Some((plan, first)) if *plan != row.plan => {
                        let product = &catalog.products[row.product as usize];
                        let unique = |p: &Option<u16>| {
                            p.map_or(String::new(), |p| product.plans[p as usize].1.clone())
                        };
                        parsed.problem(
                            line,
                            columns.plan.map(|c| header[c].as_str()),
                            ImportProblem::ConflictingPlan,
                            format!(
                                "plan {:?} differs from plan {:?} that row {first} gives the same account and product",
                                unique(&row.plan),
                                unique(plan)
                            ),
                        );
                        continue;
                    }
                    Some(_) => {}
                    None => {
                        plans.insert((index, row.product), (row.plan, line));
                    }
                }
            }
            parsed.rows.push(row);
        }
    }
    progress(parsed.row_count);
}

fn reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "it is not UTF-8 text; save the file as UTF-8".into(),
        csv::ErrorKind::Io(e) => e.to_string(),
        _ => e.to_string(),
    }
}

/// Checks one row; on success pushes it (account index to be set by the caller) and
/// returns the account's name and display name.
#[allow(clippy::too_many_arguments)]
fn read_row(
    record: &csv::StringRecord,
    line: u64,
    mapping: &Mapping,
    catalog: &Catalog,
    columns: &Columns,
    header: &[String],
    latest: DateTime<Utc>,
    parsed: &mut Parsed,
) -> Option<(String, Option<String>)> {
    let before = parsed.problem_count;
    let cell = |i: usize| record.get(i).unwrap_or("");
    let col = |i: usize| Some(header[i].as_str());
    let account = cell(columns.account);
    if account.is_empty() {
        parsed.problem(
            line,
            col(columns.account),
            ImportProblem::MissingValue,
            "the account is empty".into(),
        );
    } else if let Err(why) = name(account) {
        parsed.problem(
            line,
            col(columns.account),
            ImportProblem::BadName,
            format!("the account {why}"),
        );
    }
    let display = columns.display_name.map(cell).filter(|d| !d.is_empty());
    if let (Some(d), Some(c)) = (display, columns.display_name)
        && let Err(why) = name(d)
    {
        parsed.problem(
            line,
            col(c),
            ImportProblem::BadName,
            format!("the display name {why}"),
        );
    }
    let product = match columns.product {
        None => Some(0u16),
        Some(c) => {
            let text = cell(c);
            let found = catalog.products.iter().position(|p| p.name == text);
            if found.is_none() {
                parsed.problem(
                    line,
                    col(c),
                    ImportProblem::UnknownProduct,
                    format!(
                        "unknown product {text:?}; this service's products are {}",
                        catalog
                            .products
                            .iter()
                            .map(|p| format!("{:?}", p.name))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
            found.map(|p| p as u16)
        }
    };
    let mut plan = None;
    if let (Some(c), Some(p)) = (columns.plan, product) {
        let text = cell(c);
        if !text.is_empty() {
            let plans = &catalog.products[p as usize].plans;
            match plans.iter().position(|(_, unique)| unique == text) {
                Some(i) => plan = Some(i as u16),
                None => parsed.problem(
                    line,
                    col(c),
                    ImportProblem::UnknownPlan,
                    format!(
                        "unknown plan {text:?} for {:?}; its plans are {}",
                        catalog.products[p as usize].name,
                        if plans.is_empty() {
                            "none".to_owned()
                        } else {
                            plans
                                .iter()
                                .map(|(_, u)| format!("{u:?}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        }
                    ),
                ),
            }
        }
    }
    let measured_at = match (columns.measured_at, mapping.date) {
        (Some(c), _) => {
            let text = cell(c);
            if text.is_empty() {
                parsed.problem(
                    line,
                    col(c),
                    ImportProblem::MissingValue,
                    "the measured-at date is empty".into(),
                );
                None
            } else {
                match date(text, mapping.date_format.as_deref()) {
                    Ok(t) => Some(t),
                    Err(why) => {
                        parsed.problem(line, col(c), ImportProblem::BadDate, why);
                        None
                    }
                }
            }
        }
        (None, Some(d)) => Some(d.and_time(Default::default()).and_utc()),
        (None, None) => None,
    };
    if let (Some(t), Some(c)) = (measured_at, columns.measured_at)
        && t > latest
    {
        parsed.problem(
            line,
            col(c),
            ImportProblem::FutureDate,
            format!("{} is in the future", t.to_rfc3339()),
        );
    } else if let (Some(t), None) = (measured_at, columns.measured_at)
        && t > latest
    {
        parsed.problem(
            line,
            None,
            ImportProblem::FutureDate,
            format!("the file's date {} is in the future", t.date_naive()),
        );
    }
    let mut values = Vec::new();
    for (c, column, p, m) in &columns.metrics {
        let text = cell(*c);
        if text.is_empty() {
            continue;
        }
        let metric = &catalog.products[*p as usize].metrics[*m as usize];
        let column = Some(column.as_str());
        if product.is_some_and(|row_product| row_product != *p) {
            parsed.problem(
                line,
                column,
                ImportProblem::WrongProduct,
                format!(
                    "{:?} is a metric of {:?}, not of this row's product",
                    metric.cross_reference_type, catalog.products[*p as usize].name
                ),
            );
            continue;
        }
        let quantity = match number(text, mapping.decimal_comma) {
            Ok(q) => q,
            Err(why) => {
                parsed.problem(line, column, ImportProblem::NotANumber, why);
                continue;
            }
        };
        if quantity < 0.0 {
            parsed.problem(
                line,
                column,
                ImportProblem::Negative,
                format!("{text} is negative; usage is 0 or more"),
            );
        } else if metric.unit == MetricUnit::Count && quantity.fract() != 0.0 {
            parsed.problem(
                line,
                column,
                ImportProblem::Fraction,
                format!(
                    "{:?} is a count; {text} has a fraction",
                    metric.cross_reference_type
                ),
            );
        } else if quantity > metric.unit.max_measurement() {
            parsed.problem(
                line,
                column,
                ImportProblem::TooLarge,
                format!(
                    "{text} is more than the largest {:?} measurement billbridge accepts ({} {})",
                    metric.cross_reference_type,
                    metric.unit.max_measurement(),
                    metric.unit.label()
                ),
            );
        } else {
            values.push((*m, quantity));
        }
    }
    if parsed.problem_count > before {
        return None;
    }
    let (Some(product), Some(measured_at)) = (product, measured_at) else {
        return None;
    };
    parsed.rows.push(Row {
        row: line,
        account: 0,
        product,
        plan,
        measured_at,
        values,
    });
    Some((account.to_owned(), display.map(str::to_owned)))
}

/// What is stored for the accounts and times a file names.
#[derive(Debug, Default)]
pub struct Stored {
    /// name → (id, display name)
    pub accounts: HashMap<String, (i64, Option<String>)>,
    /// (account id, product id) → plan id
    pub subscriptions: HashMap<(i64, i64), Option<i64>>,
    /// (account id, metric id, measured at) → quantity
    pub samples: HashMap<(i64, i64, DateTime<Utc>), f64>,
}

/// How many of each outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub new: u64,
    pub changed: u64,
    pub unchanged: u64,
}

impl Tally {
    fn add(&mut self, outcome: ImportOutcome) {
        match outcome {
            ImportOutcome::New => self.new += 1,
            ImportOutcome::Changed => self.changed += 1,
            ImportOutcome::Unchanged => self.unchanged += 1,
        }
    }
}

/// A value of a row, judged.
#[derive(Clone, Debug, PartialEq)]
pub struct ValueChange {
    pub metric_id: i64,
    pub cross_reference_type: String,
    pub unit: MetricUnit,
    pub quantity: f64,
    /// The stored quantity at the same measured-at, if any.
    pub previous: Option<f64>,
    pub outcome: ImportOutcome,
}

/// A row, judged (the first few are reported in full).
#[derive(Clone, Debug, PartialEq)]
pub struct RowChange {
    pub row: u64,
    pub account: String,
    pub account_outcome: ImportOutcome,
    pub display_name: Option<String>,
    pub product: String,
    /// The plan after the import, and before it (its unique IDs).
    pub plan: Option<String>,
    pub previous_plan: Option<String>,
    pub subscription: ImportOutcome,
    pub measured_at: DateTime<Utc>,
    pub values: Vec<ValueChange>,
}

/// What committing would write.
#[derive(Debug, Default)]
pub struct Writes {
    /// Accounts to create, or whose display name changes: (name, display name).
    pub accounts: Vec<(String, Option<String>)>,
    /// New subscriptions: (account name, product id, plan id).
    pub subscriptions: Vec<(String, i64, Option<i64>)>,
    /// Plan changes of existing subscriptions: (account id, product id, new plan id).
    pub plans: Vec<(i64, i64, Option<i64>)>,
    /// New or changed samples: (account name index into `names`, metric id, time, quantity).
    pub samples: Vec<(u32, i64, DateTime<Utc>, f64)>,
}

impl Writes {
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
            && self.subscriptions.is_empty()
            && self.plans.is_empty()
            && self.samples.is_empty()
    }
}

/// The whole dry run.
#[derive(Debug, Default)]
pub struct Judged {
    pub accounts: Tally,
    pub subscriptions: Tally,
    pub usage: Tally,
    /// The first `shown` rows in full.
    pub rows: Vec<RowChange>,
    pub writes: Writes,
}

/// Says what each good row would change, against `stored`; reports the first `shown`
/// rows in full.
pub fn judge(parsed: &Parsed, catalog: &Catalog, stored: &Stored, shown: usize) -> Judged {
    let mut judged = Judged::default();
    // Per account: its outcome, decided once.
    let mut accounts: Vec<Option<ImportOutcome>> = vec![None; parsed.accounts.len()];
    let mut subscriptions: HashMap<(u32, u16), (ImportOutcome, Option<i64>)> = HashMap::new();
    for row in &parsed.rows {
        let name = &parsed.accounts[row.account as usize];
        let display = &parsed.display_names[row.account as usize];
        let existing = stored.accounts.get(name);
        let account_outcome = *accounts[row.account as usize].get_or_insert_with(|| {
            let outcome = match existing {
                None => ImportOutcome::New,
                Some((_, old)) if display.is_some() && old != display => ImportOutcome::Changed,
                Some(_) => ImportOutcome::Unchanged,
            };
            judged.accounts.add(outcome);
            if outcome != ImportOutcome::Unchanged {
                judged.writes.accounts.push((
                    name.clone(),
                    display
                        .clone()
                        .or_else(|| existing.and_then(|e| e.1.clone())),
                ));
            }
            outcome
        });
        let product = &catalog.products[row.product as usize];
        let plan_id = row.plan.map(|p| product.plans[p as usize].0);
        let previous_plan =
            existing.and_then(|(id, _)| stored.subscriptions.get(&(*id, product.id)));
        let (subscription, after) = *subscriptions
            .entry((row.account, row.product))
            .or_insert_with(|| {
                let (outcome, after) = match (existing, previous_plan) {
                    (Some((account_id, _)), Some(old)) => match plan_id {
                        Some(new) if Some(new) != *old => {
                            judged
                                .writes
                                .plans
                                .push((*account_id, product.id, Some(new)));
                            (ImportOutcome::Changed, Some(new))
                        }
                        _ => (ImportOutcome::Unchanged, *old),
                    },
                    _ => {
                        judged
                            .writes
                            .subscriptions
                            .push((name.clone(), product.id, plan_id));
                        (ImportOutcome::New, plan_id)
                    }
                };
                judged.subscriptions.add(outcome);
                (outcome, after)
            });
        let mut values = Vec::new();
        for &(m, quantity) in &row.values {
            let metric = &product.metrics[m as usize];
            let previous = existing.and_then(|(id, _)| {
                stored
                    .samples
                    .get(&(*id, metric.id, row.measured_at))
                    .copied()
            });
            let outcome = match previous {
                None => ImportOutcome::New,
                Some(old) if old == quantity => ImportOutcome::Unchanged,
                Some(_) => ImportOutcome::Changed,
            };
            judged.usage.add(outcome);
            if outcome != ImportOutcome::Unchanged {
                judged
                    .writes
                    .samples
                    .push((row.account, metric.id, row.measured_at, quantity));
            }
            if judged.rows.len() < shown {
                values.push(ValueChange {
                    metric_id: metric.id,
                    cross_reference_type: metric.cross_reference_type.clone(),
                    unit: metric.unit,
                    quantity,
                    previous,
                    outcome,
                });
            }
        }
        if judged.rows.len() < shown {
            let unique = |id: Option<i64>| {
                id.and_then(|id| product.plans.iter().find(|(p, _)| *p == id))
                    .map(|(_, u)| u.clone())
            };
            judged.rows.push(RowChange {
                row: row.row,
                account: name.clone(),
                account_outcome,
                display_name: display.clone(),
                product: product.name.clone(),
                plan: unique(after),
                previous_plan: unique(previous_plan.copied().flatten()),
                subscription,
                measured_at: row.measured_at,
                values,
            });
        }
    }
    judged
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn catalog() -> Catalog {
        Catalog {
            products: vec![
                CatalogProduct {
                    id: 10,
                    name: "Backup Plan".into(),
                    plans: vec![(100, "P20".into()), (101, "P50".into())],
                    metrics: vec![
                        CatalogMetric {
                            id: 1,
                            cross_reference_type: "BackupUsage".into(),
                            unit: MetricUnit::Gb,
                        },
                        CatalogMetric {
                            id: 2,
                            cross_reference_type: "Seats".into(),
                            unit: MetricUnit::Count,
                        },
                    ],
                },
                CatalogProduct {
                    id: 11,
                    name: "Mail, Plus".into(),
                    plans: vec![],
                    metrics: vec![CatalogMetric {
                        id: 3,
                        cross_reference_type: "Mailboxes".into(),
                        unit: MetricUnit::Count,
                    }],
                },
            ],
        }
    }

    fn mapping() -> Mapping {
        Mapping {
            account: "Account".into(),
            display_name: Some("Name".into()),
            product: Some("Product".into()),
            plan: Some("Plan".into()),
            metrics: vec![
                MetricColumn {
                    column: "Storage (GB)".into(),
                    cross_reference_type: "BackupUsage".into(),
                },
                MetricColumn {
                    column: "Seats".into(),
                    cross_reference_type: "Seats".into(),
                },
                MetricColumn {
                    column: "Mailboxes".into(),
                    cross_reference_type: "Mailboxes".into(),
                },
            ],
            measured_at: Some("Date".into()),
            ..Mapping::default()
        }
    }

    fn now() -> DateTime<Utc> {
        "2026-11-27T12:00:00Z".parse().unwrap()
    }

    fn parse(text: &str, mapping: &Mapping) -> Parsed {
        read(text.as_bytes(), mapping, &catalog(), now(), &mut |_| {})
    }

    #[test]
    fn delimiters_are_detected_outside_quotes() {
        for (header, expected) in [
            ("a,b,c", ','),
            ("a;b;c", ';'),
            ("\"a;b\",c", ','),
            ("\"x,y\";\"z\";w", ';'),
            ("a\tb", '\t'),
            ("single", ','),
        ] {
            assert_eq!(detect_delimiter(header.as_bytes()), expected, "{header}");
        }
    }

    #[test]
    fn numbers_with_and_without_decimal_commas() {
        assert_eq!(number("12.5", false), Ok(12.5));
        assert_eq!(number("1.234,5", true), Ok(1234.5));
        assert_eq!(number("1 234,5", true), Ok(1234.5));
        assert_eq!(number("7", true), Ok(7.0));
        assert!(number("12,5", false).unwrap_err().contains("decimal comma"));
        assert!(number("abc", false).is_err());
        assert!(number("inf", false).is_err());
        assert!(number("NaN", false).is_err());
        assert_eq!(number("-3", false), Ok(-3.0));
        // With decimal commas, a dot only groups thousands: a dot decimal is refused, never
        // read as a number ten times larger.
        assert_eq!(number("1.234.567,25", true), Ok(1234567.25));
        assert_eq!(number("-1.234", true), Ok(-1234.0));
        assert!(number("12.5", true).unwrap_err().contains("decimal comma"));
        assert!(number("1.23,5", true).is_err());
        assert!(number("1,234.5", true).is_err());
        assert!(number("1,2,3", true).is_err());
        assert!(number("1234.567,5", true).is_err());
    }

    #[test]
    fn dates_in_iso_forms_or_a_given_format() {
        let day = "2026-11-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(date("2026-11-01", None), Ok(day));
        assert_eq!(date("2026-11-01 00:00:00", None), Ok(day));
        assert_eq!(date("2026-11-01T01:00:00+01:00", None), Ok(day));
        assert_eq!(date("01/11/2026", Some("%d/%m/%Y")), Ok(day));
        assert!(date("01/11/2026", None).is_err());
        assert_eq!(date("2026-11-01T00:00:00.750Z", None), Ok(day));
    }

    #[test]
    fn a_realistic_export_reads_clean() {
        let text = "\u{feff}Account;Name;Product;Plan;Storage (GB);Seats;Mailboxes;Date\n\
                    acme;\"Acme; Dental\";Backup Plan;P20;1.234,5;3;;2026-11-01\n\
                    acme;;\"Mail, Plus\";;;;12;2026-11-01\n\
                    \n\
                    beta;Beta;Backup Plan;;0,25;;;2026-11-01\n";
        let parsed = parse(
            text,
            &Mapping {
                decimal_comma: true,
                ..mapping()
            },
        );
        assert_eq!(parsed.problems, vec![]);
        assert_eq!(parsed.delimiter, ';');
        assert_eq!(parsed.row_count, 3);
        assert_eq!(parsed.accounts, vec!["acme", "beta"]);
        assert_eq!(parsed.display_names[0].as_deref(), Some("Acme; Dental"));
        assert_eq!(parsed.rows[0].values, vec![(0, 1234.5), (1, 3.0)]);
        assert_eq!(parsed.rows[1].product, 1);
        assert_eq!(parsed.rows[2].plan, None);
        assert_eq!(
            parsed.rows[2].row, 5,
            "rows are numbered as lines of the file"
        );
        assert_eq!(parsed.bytes, text.len() as u64);
        assert_eq!(parsed.sha256.len(), 64);
    }

    #[test]
    fn every_problem_has_its_row_column_and_reason() {
        let future = (now() + Duration::days(2)).date_naive();
        let text = format!(
            "Account,Name,Product,Plan,Storage (GB),Seats,Mailboxes,Date\n\
             a,,Backup Plan,P99,1,1,,2026-11-01\n\
             b,,Backup Plan,P20,-1,1,,2026-11-01\n\
             c,,Backup Plan,P20,lots,1,,2026-11-01\n\
             d,,Backup Plan,P20,1,1.5,,2026-11-01\n\
             e,,Backup Plan,P20,1,1,,{future}\n\
             f,,Backup Plan,P20,1,1,,2026-11-01\n\
             f,,Backup Plan,P20,2,1,,2026-11-01\n\
             g,,Nope,,1,,,2026-11-01\n\
             h,,Backup Plan,,1,,3,2026-11-01\n\
             i,,Backup Plan,,1,,,someday\n\
             ,,Backup Plan,,1,,,2026-11-01\n"
        );
        let parsed = parse(&text, &mapping());
        let found: Vec<(u64, Option<&str>, ImportProblem)> = parsed
            .problems
            .iter()
            .map(|p| (p.row, p.column.as_deref(), p.kind))
            .collect();
        use ImportProblem::*;
        assert_eq!(
            found,
            vec![
                (2, Some("Plan"), UnknownPlan),
                (3, Some("Storage (GB)"), Negative),
                (4, Some("Storage (GB)"), NotANumber),
                (5, Some("Seats"), Fraction),
                (6, Some("Date"), FutureDate),
                (8, Some("Storage (GB)"), Duplicate),
                (9, Some("Product"), UnknownProduct),
                (10, Some("Mailboxes"), WrongProduct),
                (11, Some("Date"), BadDate),
                (12, Some("Account"), MissingValue),
            ]
        );
        assert!(
            parsed.problems[0].message.contains("\"P99\""),
            "{:?}",
            parsed.problems[0]
        );
        assert!(
            parsed.problems[5].message.contains("row 7"),
            "{:?}",
            parsed.problems[5]
        );
        assert_eq!(parsed.rows.len(), 1, "only f's first row is good");
    }

    #[test]
    fn a_mapping_that_does_not_fit_the_header_is_a_problem_on_row_one() {
        let mut wrong = mapping();
        wrong.account = "Customer".into();
        wrong.metrics.push(MetricColumn {
            column: "Seats".into(),
            cross_reference_type: "Nope".into(),
        });
        let parsed = parse(
            "Account,Product,Plan,Storage (GB),Seats,Mailboxes,Date\n",
            &wrong,
        );
        let kinds: Vec<_> = parsed.problems.iter().map(|p| (p.row, p.kind)).collect();
        assert_eq!(
            kinds,
            vec![
                (1, ImportProblem::MissingColumn),
                (1, ImportProblem::MissingColumn),
                (1, ImportProblem::UnknownMetric)
            ]
        );
        assert!(parsed.problems[0].message.contains("\"Customer\""));
    }

    #[test]
    fn plans_that_contradict_names_too_long_and_values_too_large() {
        let long = "x".repeat(MAX_NAME + 1);
        let text = format!(
            "Account,Name,Product,Plan,Storage (GB),Seats,Mailboxes,Date\n\
             a,,Backup Plan,P20,1,,,2026-11-01\n\
             a,,Backup Plan,P50,1,,,2026-11-02\n\
             {long},,Backup Plan,,1,,,2026-11-01\n\
             b,,Backup Plan,,,2000000,,2026-11-01\n"
        );
        let parsed = parse(&text, &mapping());
        let found: Vec<_> = parsed
            .problems
            .iter()
            .map(|p| (p.row, p.column.as_deref(), p.kind))
            .collect();
        assert_eq!(
            found,
            vec![
                (3, Some("Plan"), ImportProblem::ConflictingPlan),
                (4, Some("Account"), ImportProblem::BadName),
                (5, Some("Seats"), ImportProblem::TooLarge),
            ]
        );
        assert!(
            parsed.problems[0].message.contains("row 2"),
            "{:?}",
            parsed.problems[0]
        );
    }

    #[test]
    fn a_row_that_is_not_utf8_is_reported_and_reading_goes_on() {
        let mut bytes = b"Account,Product,Plan,Storage (GB),Seats,Mailboxes,Date\n".to_vec();
        bytes.extend_from_slice(b"caf\xe9,Backup Plan,,1,,,2026-11-01\n");
        bytes.extend_from_slice(b"ok,Backup Plan,,1,,,2026-11-01\n");
        let mut m = mapping();
        m.display_name = None;
        let parsed = read(bytes.as_slice(), &m, &catalog(), now(), &mut |_| {});
        assert_eq!(parsed.problems.len(), 1, "{:?}", parsed.problems);
        assert_eq!(parsed.problems[0].kind, ImportProblem::Unreadable);
        assert_eq!(parsed.problems[0].row, 2);
        assert_eq!(parsed.rows.len(), 1);
    }

    #[test]
    fn judging_tells_new_changed_and_unchanged() {
        let text = "Account,Name,Product,Plan,Storage (GB),Seats,Mailboxes,Date\n\
                    old,Old Co,Backup Plan,P50,10,2,,2026-11-01\n\
                    new,,Backup Plan,P20,5,,,2026-11-01\n";
        let parsed = parse(text, &mapping());
        assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
        let day = parsed.rows[0].measured_at;
        let stored = Stored {
            accounts: HashMap::from([("old".to_owned(), (7, Some("Old Co".to_owned())))]),
            subscriptions: HashMap::from([((7, 10), Some(100))]),
            samples: HashMap::from([((7, 1, day), 10.0), ((7, 2, day), 1.0)]),
        };
        let judged = judge(&parsed, &catalog(), &stored, 10);
        assert_eq!(
            judged.accounts,
            Tally {
                new: 1,
                changed: 0,
                unchanged: 1
            }
        );
        assert_eq!(
            judged.subscriptions,
            Tally {
                new: 1,
                changed: 1,
                unchanged: 0
            }
        );
        assert_eq!(
            judged.usage,
            Tally {
                new: 1,
                changed: 1,
                unchanged: 1
            }
        );
        assert_eq!(judged.rows[0].previous_plan.as_deref(), Some("P20"));
        assert_eq!(judged.rows[0].plan.as_deref(), Some("P50"));
        assert_eq!(judged.rows[0].values[1].previous, Some(1.0));
        assert_eq!(judged.writes.plans, vec![(7, 10, Some(101))]);
        assert_eq!(judged.writes.samples.len(), 2);
        assert_eq!(judged.writes.accounts, vec![("new".to_owned(), None)]);
    }
}
