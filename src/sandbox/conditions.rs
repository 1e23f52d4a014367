//! Parsing and evaluating ConnectWise `conditions` strings.
//!
//! [`parse`] turns a `conditions` query parameter into an [`Expr`], and [`Expr::matches`]
//! evaluates it against a JSON record the way ConnectWise (SQL Server, case-insensitive
//! collation) would.
//!
//! # Grammar
//!
//! ```text
//! condition  := conjunction ( "or" conjunction )*
//! conjunction:= operand ( "and" operand )*
//! operand    := "(" condition ")" | field predicate
//! predicate  := ( "=" | "!=" | "<" | "<=" | ">" | ">=" ) value
//!             | [ "not" ] "contains" string
//!             | [ "not" ] "like" string
//!             | [ "not" ] "in" "(" value ( "," value )* ")"
//! field      := segment ( "/" segment )*        segment: ASCII letters, digits, `_`, `-`
//! value      := string | number | "true" | "false" | "null" | date
//! string     := '"' ( any char but `"` and `\` | `\"` | `\\` )* '"'
//!             | "'" ( any char but `'` and `\` | `\'` | `\\` )* "'"
//! number     := [ "-" ] digits [ "." digits ]
//! date       := "[" RFC 3339 date-time, or YYYY-MM-DD (midnight UTC) "]"
//! ```
//!
//! Keywords (`and`, `or`, `not`, `contains`, `like`, `in`, `true`, `false`, `null`) are
//! case-insensitive; `and` and `or` cannot be field names.
//!
//! Strings may be double- or single-quoted; the two forms mean the same. Inside either, a
//! backslash escapes only the enclosing quote or another backslash (`"a\"b"`, `'O\'Brien'`,
//! `"C:\\temp"`); the other quote needs no escape (`"O'Brien"`, `'say "hi"'`), and any other
//! escape is an error.
//!
//! `not` is only the infix form shown above (`name not like "A*"`); a prefix `not` before a
//! field or a parenthesised group is refused with an error saying so.
//!
//! # Evaluation
//!
//! * A field path walks nested objects (`company/id` → `record["company"]["id"]`); a missing
//!   field (or a path through a non-object) is `null`.
//! * `=`: strings compare case-insensitively, numbers numerically (integer or decimal),
//!   booleans and `null` by equality (`field = null` holds for a missing field), and a date
//!   literal equals a string field holding the same instant in RFC 3339. Anything else is
//!   false. `!=` is exactly the negation of `=`.
//! * `<`, `<=`, `>`, `>=`: numbers numerically, strings case-insensitively, and a date
//!   literal against a string field holding an RFC 3339 date. Anything else is false.
//! * `contains` and `like` (`*` or `%` match any run of characters) apply to string fields
//!   only and are case-insensitive; `not contains`/`not like` hold for a string field that
//!   does not match. On a non-string field all four are false.
//! * `in` holds when `=` holds for some listed value; `not in` is its negation.

use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Number, Value as Json};

/// Why a `conditions` string could not be parsed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message} at position {position}")]
pub struct ConditionError {
    pub message: String,
    /// Byte offset into the input where it went wrong (the input's length at its end).
    pub position: usize,
}

/// A parsed `conditions` expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Every operand holds (two or more operands).
    And(Vec<Expr>),
    /// At least one operand holds (two or more operands).
    Or(Vec<Expr>),
    /// `field <op> value`.
    Compare {
        field: String,
        op: CompareOp,
        value: Literal,
    },
    /// `field [not] contains "text"`.
    Contains {
        field: String,
        text: String,
        negated: bool,
    },
    /// `field [not] like "pattern"`.
    Like {
        field: String,
        pattern: String,
        negated: bool,
    },
    /// `field [not] in (values…)`.
    In {
        field: String,
        values: Vec<Literal>,
        negated: bool,
    },
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A literal value in a condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(String),
    Int(i64),
    Num(f64),
    Bool(bool),
    Null,
    Date(DateTime<Utc>),
}

/// Parses a ConnectWise `conditions` string.
pub fn parse(input: &str) -> Result<Expr, ConditionError> {
    let mut parser = Parser {
        input,
        lexer: Lexer { input, pos: 0 },
        peeked: None,
    };
    let expr = parser.disjunction(None)?;
    match parser.next()? {
        None => Ok(expr),
        Some(token) if token.kind == TokenKind::RParen => {
            Err(parser.error(Some(&token), "unexpected `)`".into()))
        }
        Some(token) => {
            let found = parser.describe(Some(&token));
            Err(parser.error(
                Some(&token),
                format!("unexpected {found} after a complete condition; expected `and` or `or`"),
            ))
        }
    }
}

impl Expr {
    /// Every field path the expression names (`company/id`, `type/name`, …), in the order
    /// they appear in the input, repeats included: `id = 1 or id = 2` gives `["id", "id"]`.
    /// Callers that want each field once can sort and dedup.
    pub fn fields(&self) -> Vec<&str> {
        let mut fields = Vec::new();
        self.collect_fields(&mut fields);
        fields
    }

    fn collect_fields<'a>(&'a self, fields: &mut Vec<&'a str>) {
        match self {
            Expr::And(operands) | Expr::Or(operands) => {
                for operand in operands {
                    operand.collect_fields(fields);
                }
            }
            Expr::Compare { field, .. }
            | Expr::Contains { field, .. }
            | Expr::Like { field, .. }
            | Expr::In { field, .. } => fields.push(field),
        }
    }

    /// Whether `record` (a JSON object) satisfies the condition.
    pub fn matches(&self, record: &Json) -> bool {
        match self {
            Expr::And(operands) => operands.iter().all(|e| e.matches(record)),
            Expr::Or(operands) => operands.iter().any(|e| e.matches(record)),
            Expr::Compare { field, op, value } => compare(lookup(record, field), *op, value),
            Expr::Contains {
                field,
                text,
                negated,
            } => match lookup(record, field) {
                Json::String(s) => fold(s).contains(&fold(text)) != *negated,
                _ => false,
            },
            Expr::Like {
                field,
                pattern,
                negated,
            } => match lookup(record, field) {
                Json::String(s) => like(&fold(s), &fold(pattern)) != *negated,
                _ => false,
            },
            Expr::In {
                field,
                values,
                negated,
            } => {
                let found = lookup(record, field);
                values.iter().any(|v| equals(found, v)) != *negated
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------

static NULL: Json = Json::Null;

fn lookup<'a>(record: &'a Json, path: &str) -> &'a Json {
    path.split('/')
        .try_fold(record, |node, segment| node.get(segment))
        .unwrap_or(&NULL)
}

/// Case folding for SQL Server's case-insensitive collation.
fn fold(s: &str) -> String {
    s.to_lowercase()
}

fn compare(found: &Json, op: CompareOp, value: &Literal) -> bool {
    match op {
        CompareOp::Eq => equals(found, value),
        CompareOp::Ne => !equals(found, value),
        CompareOp::Lt => order(found, value) == Some(Ordering::Less),
        CompareOp::Le => matches!(order(found, value), Some(Ordering::Less | Ordering::Equal)),
        CompareOp::Gt => order(found, value) == Some(Ordering::Greater),
        CompareOp::Ge => matches!(
            order(found, value),
            Some(Ordering::Greater | Ordering::Equal)
        ),
    }
}

fn equals(found: &Json, value: &Literal) -> bool {
    match (found, value) {
        (Json::Null, Literal::Null) => true,
        (Json::Bool(a), Literal::Bool(b)) => a == b,
        (Json::String(_), Literal::Str(_))
        | (Json::Number(_), Literal::Int(_) | Literal::Num(_))
        | (Json::String(_), Literal::Date(_)) => order(found, value) == Some(Ordering::Equal),
        _ => false,
    }
}

/// How `found` orders against `value`, or `None` when they are not comparable.
fn order(found: &Json, value: &Literal) -> Option<Ordering> {
    match (found, value) {
        (Json::String(a), Literal::Str(b)) => Some(fold(a).cmp(&fold(b))),
        (Json::Number(n), Literal::Int(_) | Literal::Num(_)) => order_number(n, value),
        (Json::String(s), Literal::Date(date)) => DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|parsed| parsed.with_timezone(&Utc).cmp(date)),
        _ => None,
    }
}

fn order_number(n: &Number, value: &Literal) -> Option<Ordering> {
    let exact = n
        .as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from));
    match (exact, value) {
        (Some(a), Literal::Int(b)) => Some(a.cmp(&i128::from(*b))),
        (_, Literal::Int(b)) => n.as_f64()?.partial_cmp(&(*b as f64)),
        (_, Literal::Num(b)) => n.as_f64()?.partial_cmp(b),
        _ => None,
    }
}

/// SQL `LIKE` with `*` or `%` matching any run of characters (both sides already folded).
fn like(text: &str, pattern: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    let pattern: Vec<char> = pattern.chars().collect();
    let wild = |c: char| c == '*' || c == '%';
    let (mut t, mut p) = (0, 0);
    // The last wildcard seen in the pattern, and where in the text it started matching.
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && wild(pattern[p]) {
            backtrack = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((star, from)) = backtrack {
            // Let the wildcard swallow one more character and retry.
            backtrack = Some((star, from + 1));
            p = star + 1;
            t = from + 1;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| wild(c))
}

// ---------------------------------------------------------------------------------------
// Tokenizer
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum TokenKind {
    LParen,
    RParen,
    Comma,
    Op(CompareOp),
    Str(String),
    Date(DateTime<Utc>),
    /// A run of letters, digits, `_`, `-`, `/` and `.`: a field, keyword or number.
    Word,
}

#[derive(Debug, Clone)]
struct Token {
    kind: TokenKind,
    start: usize,
    end: usize,
}

struct Lexer<'a> {
    input: &'a str,
    pos: usize,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '/' | '.')
}

fn is_operator_char(c: char) -> bool {
    matches!(c, '=' | '!' | '<' | '>')
}

fn lex_error(position: usize, message: String) -> ConditionError {
    ConditionError { message, position }
}

impl Lexer<'_> {
    fn next_token(&mut self) -> Result<Option<Token>, ConditionError> {
        let rest = &self.input[self.pos..];
        let trimmed = rest.trim_start();
        self.pos += rest.len() - trimmed.len();
        let start = self.pos;
        let Some(c) = trimmed.chars().next() else {
            return Ok(None);
        };
        let kind = match c {
            '(' => {
                self.pos += 1;
                TokenKind::LParen
            }
            ')' => {
                self.pos += 1;
                TokenKind::RParen
            }
            ',' => {
                self.pos += 1;
                TokenKind::Comma
            }
            quote @ ('"' | '\'') => self.string(quote)?,
            '[' => self.date()?,
            c if is_operator_char(c) => self.operator()?,
            c if is_word_char(c) => {
                self.pos += self.run_len(is_word_char);
                TokenKind::Word
            }
            c => return Err(lex_error(start, format!("unexpected character `{c}`"))),
        };
        Ok(Some(Token {
            kind,
            start,
            end: self.pos,
        }))
    }

    /// Byte length of the run of `pred` characters at the current position.
    fn run_len(&self, pred: fn(char) -> bool) -> usize {
        let rest = &self.input[self.pos..];
        rest.find(|c: char| !pred(c)).unwrap_or(rest.len())
    }

    fn operator(&mut self) -> Result<TokenKind, ConditionError> {
        let start = self.pos;
        let text = &self.input[start..start + self.run_len(is_operator_char)];
        let op = match text {
            "=" => CompareOp::Eq,
            "!=" => CompareOp::Ne,
            "<" => CompareOp::Lt,
            "<=" => CompareOp::Le,
            ">" => CompareOp::Gt,
            ">=" => CompareOp::Ge,
            _ => return Err(lex_error(start, format!("unknown operator `{text}`"))),
        };
        self.pos += text.len();
        Ok(TokenKind::Op(op))
    }

    /// A string enclosed in `quote` (`"` or `'`), in which a backslash escapes `quote` or
    /// another backslash and nothing else.
    fn string(&mut self, quote: char) -> Result<TokenKind, ConditionError> {
        let start = self.pos;
        let mut value = String::new();
        let mut chars = self.input[start + 1..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                c if c == quote => {
                    self.pos = start + 1 + i + 1;
                    return Ok(TokenKind::Str(value));
                }
                '\\' => match chars.next() {
                    Some((_, escaped)) if escaped == quote || escaped == '\\' => {
                        value.push(escaped);
                    }
                    Some((_, other)) => {
                        return Err(lex_error(
                            start + 1 + i,
                            format!(
                                "invalid escape `\\{other}` in string; only `\\{quote}` and `\\\\` are allowed"
                            ),
                        ));
                    }
                    None => break,
                },
                c => value.push(c),
            }
        }
        let name = if quote == '"' { "double" } else { "single" };
        Err(lex_error(
            start,
            format!("unterminated string; expected a closing {name} quote `{quote}`"),
        ))
    }

    fn date(&mut self) -> Result<TokenKind, ConditionError> {
        let start = self.pos;
        let Some(len) = self.input[start..].find(']') else {
            return Err(lex_error(start, "unterminated date; expected `]`".into()));
        };
        let text = self.input[start + 1..start + len].trim();
        let date = DateTime::parse_from_rfc3339(text)
            .map(|d| d.with_timezone(&Utc))
            .ok()
            .or_else(|| {
                NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .ok()
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .map(|d| d.and_utc())
            })
            .ok_or_else(|| {
                lex_error(
                    start,
                    format!("invalid date `{text}`; expected RFC 3339 like 2026-01-01T00:00:00Z"),
                )
            })?;
        self.pos = start + len + 1;
        Ok(TokenKind::Date(date))
    }
}

// ---------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------

struct Parser<'a> {
    input: &'a str,
    lexer: Lexer<'a>,
    peeked: Option<Option<Token>>,
}

impl<'a> Parser<'a> {
    fn peek(&mut self) -> Result<Option<&Token>, ConditionError> {
        if self.peeked.is_none() {
            self.peeked = Some(self.lexer.next_token()?);
        }
        Ok(self.peeked.as_ref().and_then(Option::as_ref))
    }

    fn next(&mut self) -> Result<Option<Token>, ConditionError> {
        match self.peeked.take() {
            Some(token) => Ok(token),
            None => self.lexer.next_token(),
        }
    }

    fn text(&self, token: &Token) -> &'a str {
        &self.input[token.start..token.end]
    }

    fn is_keyword(&self, token: &Token, keyword: &str) -> bool {
        token.kind == TokenKind::Word && self.text(token).eq_ignore_ascii_case(keyword)
    }

    /// Consumes the next token if it is `keyword`.
    fn eat_keyword(&mut self, keyword: &str) -> Result<bool, ConditionError> {
        let input = self.input;
        let found = match self.peek()? {
            Some(token) => {
                token.kind == TokenKind::Word
                    && input[token.start..token.end].eq_ignore_ascii_case(keyword)
            }
            None => false,
        };
        if found {
            self.next()?;
        }
        Ok(found)
    }

    fn describe(&self, token: Option<&Token>) -> String {
        match token {
            None => "end of input".into(),
            Some(token) => {
                let text = self.text(token);
                match text.char_indices().nth(40) {
                    Some((cut, _)) => format!("`{}…`", &text[..cut]),
                    None => format!("`{text}`"),
                }
            }
        }
    }

    fn error(&self, token: Option<&Token>, message: String) -> ConditionError {
        ConditionError {
            message,
            position: token.map_or(self.input.len(), |t| t.start),
        }
    }

    /// `expected {what}, found {token}` at the token.
    fn expected(&self, what: &str, token: Option<&Token>) -> ConditionError {
        let found = self.describe(token);
        self.error(token, format!("expected {what}, found {found}"))
    }

    fn disjunction(&mut self, after: Option<&str>) -> Result<Expr, ConditionError> {
        let mut operands = vec![self.conjunction(after)?];
        while self.eat_keyword("or")? {
            operands.push(self.conjunction(Some("or"))?);
        }
        Ok(collapse(operands, Expr::Or))
    }

    fn conjunction(&mut self, after: Option<&str>) -> Result<Expr, ConditionError> {
        let mut operands = vec![self.operand(after)?];
        while self.eat_keyword("and")? {
            operands.push(self.operand(Some("and"))?);
        }
        Ok(collapse(operands, Expr::And))
    }

    fn operand(&mut self, after: Option<&str>) -> Result<Expr, ConditionError> {
        let token = self.next()?;
        match token {
            Some(open) if open.kind == TokenKind::LParen => {
                let inner = self.disjunction(Some("("))?;
                match self.next()? {
                    Some(close) if close.kind == TokenKind::RParen => Ok(inner),
                    other => Err(self.expected(
                        &format!("`)` to close the `(` at position {}", open.start),
                        other.as_ref(),
                    )),
                }
            }
            Some(rparen) if rparen.kind == TokenKind::RParen => {
                Err(self.error(Some(&rparen), "unexpected `)`".into()))
            }
            Some(word)
                if word.kind == TokenKind::Word
                    && !self.is_keyword(&word, "and")
                    && !self.is_keyword(&word, "or") =>
            {
                let field = self.text(&word);
                let valid = field.split('/').all(|segment| {
                    !segment.is_empty()
                        && segment
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
                });
                if !valid {
                    return Err(self.error(Some(&word), format!("invalid field name `{field}`")));
                }
                if self.is_keyword(&word, "not") && self.prefix_not_follows()? {
                    return Err(self.error(
                        Some(&word),
                        "`not` goes after the field, not before it: write `field not like …`, \
                         `field not contains …`, `field not in (…)` or `field != value`"
                            .into(),
                    ));
                }
                self.predicate(field.to_owned())
            }
            other => {
                let what = match after {
                    Some(after) => format!("a condition after `{after}`"),
                    None => "a condition".to_owned(),
                };
                Err(self.expected(&what, other.as_ref()))
            }
        }
    }

    /// After a word `not` in field position: whether the next token shows it to be a prefix
    /// `not` (a field or a `(` follows) rather than a field called `not`.
    fn prefix_not_follows(&mut self) -> Result<bool, ConditionError> {
        let input = self.input;
        Ok(match self.peek()? {
            Some(token) if token.kind == TokenKind::LParen => true,
            Some(token) if token.kind == TokenKind::Word => {
                let text = &input[token.start..token.end];
                !["not", "like", "contains", "in"]
                    .iter()
                    .any(|k| text.eq_ignore_ascii_case(k))
            }
            _ => false,
        })
    }

    fn predicate(&mut self, field: String) -> Result<Expr, ConditionError> {
        let token = self.next()?;
        let Some(token) = token else {
            return Err(self.expected(&format!("an operator after `{field}`"), None));
        };
        if let TokenKind::Op(op) = token.kind {
            let value = self.value(self.text(&token))?;
            return Ok(Expr::Compare { field, op, value });
        }
        let (negated, keyword) = if self.is_keyword(&token, "not") {
            match self.next()? {
                Some(next)
                    if ["contains", "like", "in"]
                        .iter()
                        .any(|k| self.is_keyword(&next, k)) =>
                {
                    (true, next)
                }
                other => {
                    return Err(
                        self.expected("`like`, `contains` or `in` after `not`", other.as_ref())
                    );
                }
            }
        } else {
            (false, token)
        };
        let after = self.text(&keyword);
        if self.is_keyword(&keyword, "contains") {
            let text = self.string(after)?;
            Ok(Expr::Contains {
                field,
                text,
                negated,
            })
        } else if self.is_keyword(&keyword, "like") {
            let pattern = self.string(after)?;
            Ok(Expr::Like {
                field,
                pattern,
                negated,
            })
        } else if self.is_keyword(&keyword, "in") {
            let values = self.list(after)?;
            Ok(Expr::In {
                field,
                values,
                negated,
            })
        } else {
            Err(self.expected(&format!("an operator after `{field}`"), Some(&keyword)))
        }
    }

    fn string(&mut self, after: &str) -> Result<String, ConditionError> {
        match self.next()? {
            Some(Token {
                kind: TokenKind::Str(text),
                ..
            }) => Ok(text),
            other => Err(self.expected(&format!("a string after `{after}`"), other.as_ref())),
        }
    }

    fn list(&mut self, after: &str) -> Result<Vec<Literal>, ConditionError> {
        match self.next()? {
            Some(open) if open.kind == TokenKind::LParen => {}
            other => return Err(self.expected(&format!("`(` after `{after}`"), other.as_ref())),
        }
        let mut values = vec![self.value("(")?];
        loop {
            match self.next()? {
                Some(t) if t.kind == TokenKind::Comma => values.push(self.value(",")?),
                Some(t) if t.kind == TokenKind::RParen => return Ok(values),
                other => {
                    return Err(self.expected("`,` or `)` in the list", other.as_ref()));
                }
            }
        }
    }

    fn value(&mut self, after: &str) -> Result<Literal, ConditionError> {
        let token = self.next()?;
        let expected = |parser: &Self, token: Option<&Token>| {
            parser.expected(&format!("a value after `{after}`"), token)
        };
        let Some(token) = token else {
            return Err(expected(self, None));
        };
        match token.kind {
            TokenKind::Str(ref text) => return Ok(Literal::Str(text.clone())),
            TokenKind::Date(date) => return Ok(Literal::Date(date)),
            TokenKind::Word => {}
            _ => return Err(expected(self, Some(&token))),
        }
        let text = self.text(&token);
        for (keyword, literal) in [
            ("true", Literal::Bool(true)),
            ("false", Literal::Bool(false)),
            ("null", Literal::Null),
        ] {
            if text.eq_ignore_ascii_case(keyword) {
                return Ok(literal);
            }
        }
        if text.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
            return number(text)
                .ok_or_else(|| self.error(Some(&token), format!("invalid number `{text}`")));
        }
        let mut error = expected(self, Some(&token));
        error
            .message
            .push_str(" (strings must be quoted, in double or single quotes)");
        Err(error)
    }
}

fn collapse(mut operands: Vec<Expr>, combine: fn(Vec<Expr>) -> Expr) -> Expr {
    if operands.len() == 1 {
        operands.pop().expect("one operand")
    } else {
        combine(operands)
    }
}

/// `-?digits(.digits)?` as an integer when it fits in `i64`, otherwise as a decimal.
fn number(text: &str) -> Option<Literal> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !fraction.is_none_or(digits) {
        return None;
    }
    if fraction.is_none()
        && let Ok(n) = text.parse::<i64>()
    {
        return Some(Literal::Int(n));
    }
    text.parse::<f64>().ok().map(Literal::Num)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;
    use crate::connectwise::conditions::{Condition, Value as CwValue};

    fn agreement() -> Json {
        json!({
            "id": 42,
            "name": "Bob \"The\" Builder",
            "path": "C:\\temp",
            "identifier": "acme-dental",
            "cancelledFlag": false,
            "taxable": true,
            "quantity": 12.5,
            "unitPrice": 3,
            "balance": -7,
            "big": 18_446_744_073_709_551_615_u64,
            "notes": null,
            "lastUpdated": "2026-01-15T10:30:00Z",
            "startDate": "not a date",
            "tags": ["a", "b"],
            "company": { "id": 250, "identifier": "AcmeDental", "name": "Acme Dental" },
            "type": { "name": "Managed Backup" },
            "agreement": { "type": { "name": "MSP" } },
        })
    }

    #[test]
    fn evaluates_every_operator() {
        let record = agreement();
        let cases: &[(&str, bool)] = &[
            // = and != on numbers, strings, booleans, null
            ("id = 42", true),
            ("id=42", true),
            ("id = 43", false),
            ("id != 43", true),
            ("id != 42", false),
            ("id = 42.0", true),
            ("balance = -7", true),
            ("balance < -6.5", true),
            ("unitPrice = 3.0", true),
            ("quantity = 12.5", true),
            ("quantity = 12.50", true),
            ("quantity = 12", false),
            ("quantity != 12", true),
            ("big = 18446744073709551615", true),
            ("big > 9223372036854775807", true),
            ("identifier = \"acme-dental\"", true),
            ("identifier = \"ACME-Dental\"", true),
            ("identifier != \"ACME-DENTAL\"", false),
            ("identifier = \"acme\"", false),
            ("cancelledFlag = false", true),
            ("cancelledFlag = FALSE", true),
            ("cancelledFlag = true", false),
            ("cancelledFlag != true", true),
            ("taxable = true", true),
            // mismatched types: false, and != is the negation
            ("id = \"42\"", false),
            ("id != \"42\"", true),
            ("identifier = 1", false),
            ("cancelledFlag = 0", false),
            ("cancelledFlag = null", false),
            ("tags = \"a\"", false),
            ("company = null", false),
            ("id > \"1\"", false),
            ("cancelledFlag > false", false),
            ("notes < 1", false),
            // null and missing
            ("notes = null", true),
            ("notes != null", false),
            ("missing = null", true),
            ("missing = NULL", true),
            ("missing != null", false),
            ("missing = 1", false),
            ("missing != 1", true),
            ("company/missing/deeper = null", true),
            ("id/nested = null", true),
            ("company != null", true),
            // ordering on numbers
            ("id > 41", true),
            ("id > 42", false),
            ("id >= 42", true),
            ("id < 42", false),
            ("id <= 42", true),
            ("id < 42.5", true),
            ("quantity > 12", true),
            ("quantity >= 12.5", true),
            ("quantity < 12.5", false),
            ("quantity <= 12.49", false),
            ("quantity < 13", true),
            // ordering on strings, case-insensitive
            ("identifier > \"ACME\"", true),
            ("identifier < \"b\"", true),
            ("identifier >= \"ACME-DENTAL\"", true),
            ("identifier <= \"ACME-DENTAL\"", true),
            ("identifier < \"ACME-DENTAL\"", false),
            // dates
            ("lastUpdated > [2026-01-01T00:00:00Z]", true),
            ("lastUpdated > [2026-01-15T10:30:00Z]", false),
            ("lastUpdated >= [2026-01-15T10:30:00Z]", true),
            ("lastUpdated = [2026-01-15T10:30:00Z]", true),
            ("lastUpdated = [2026-01-15T11:30:00+01:00]", true),
            ("lastUpdated != [2026-01-15T10:30:00Z]", false),
            ("lastUpdated < [2026-02-01]", true),
            ("lastUpdated < [ 2026-01-15T10:30:01Z ]", true),
            ("lastUpdated <= [2025-12-31T23:59:59Z]", false),
            ("startDate > [2000-01-01T00:00:00Z]", false),
            ("startDate < [2000-01-01T00:00:00Z]", false),
            ("id > [2000-01-01T00:00:00Z]", false),
            ("missing < [2030-01-01T00:00:00Z]", false),
            // contains / like, case-insensitive, strings only
            ("name contains \"the\"", true),
            ("name contains \"\\\"THE\\\"\"", true),
            ("name contains \"builders\"", false),
            ("name not contains \"builders\"", true),
            ("name NOT CONTAINS \"BUILDER\"", false),
            ("path contains \"\\\\\"", true),
            ("id contains \"4\"", false),
            ("id not contains \"4\"", false),
            ("missing not contains \"x\"", false),
            ("name like \"bob*\"", true),
            ("name like \"BOB%\"", true),
            ("name like \"*builder\"", true),
            ("name like \"*\\\"the\\\"*\"", true),
            ("name like \"b*o*b*r\"", true),
            ("name like \"bob\"", false),
            ("name like \"*\"", true),
            ("name like \"bob \\\"the\\\" builder\"", true),
            ("name like \"*x*\"", false),
            ("name not like \"x*\"", true),
            ("name not like \"b*\"", false),
            ("id like \"4*\"", false),
            ("id not like \"4*\"", false),
            ("identifier like \"acme_dental\"", false),
            // in / not in
            ("type/name in (\"Managed Backup\", \"Email\")", true),
            ("type/name in (\"managed backup\")", true),
            ("type/name in (\"Email\",\"Voice\")", false),
            ("type/name not in (\"Email\", \"Voice\")", true),
            ("type/name NOT IN (\"MANAGED BACKUP\")", false),
            ("id in (1, 42, 3)", true),
            ("id in (1,2,3)", false),
            ("id not in (1, 2)", true),
            ("quantity in (12.5)", true),
            ("id in (\"42\", 42.0)", true),
            ("missing in (null)", true),
            ("missing in (1, 2)", false),
            ("missing not in (1, 2)", true),
            ("notes not in (null, 1)", false),
            (
                "lastUpdated in ([2026-01-15T10:30:00Z], [2020-01-01])",
                true,
            ),
            ("cancelledFlag in (true)", false),
            // nested paths
            ("company/id = 250", true),
            ("company/identifier = \"acmedental\"", true),
            ("agreement/type/name = \"msp\"", true),
            ("agreement/type/name/x = null", true),
            // and / or / precedence / parentheses
            ("company/id = 250 and cancelledFlag = false", true),
            ("company/id = 250 AND cancelledFlag = true", false),
            ("id = 1 or id = 42", true),
            ("id = 1 Or id = 2", false),
            // and binds tighter: id = 42 or (id = 1 and id = 2)
            ("id = 42 or id = 1 and id = 2", true),
            ("(id = 42 or id = 1) and id = 2", false),
            // (id = 1 and id = 2) or id = 42
            ("id = 1 and id = 2 or id = 42", true),
            ("id = 1 and (id = 2 or id = 42)", false),
            ("((id = 42))", true),
            (
                "(id = 1 or (company/id = 250 and (type/name like \"managed*\")))",
                true,
            ),
            (
                "(id = 1 or id = 42) and (taxable = true or missing = 1)",
                true,
            ),
            (
                "(id = 1 or id = 42) and (taxable = false or missing = 1)",
                false,
            ),
            (
                "id = 42 and taxable = true and cancelledFlag = false and notes = null",
                true,
            ),
            ("id = 1 or id = 2 or id = 3 or id = 42", true),
            ("  id = 42\n\tand\ttaxable = true  ", true),
        ];
        for (input, expected) in cases {
            let expr = parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(expr.matches(&record), *expected, "{input:?} → {expr:?}");
        }
    }

    #[test]
    fn evaluates_against_other_records() {
        let cases: &[(&str, Json, bool)] = &[
            ("id = 1", json!({ "id": 1.0 }), true),
            ("id < 2", json!({ "id": 1.999 }), true),
            ("id = null", json!({}), true),
            ("id = null", json!(null), true),
            ("id != null", json!([1]), false),
            ("company/id = 1", json!({ "company": null }), false),
            ("company/id = null", json!({ "company": "x" }), true),
            ("name = \"Zoë\"", json!({ "name": "ZOË" }), true),
            ("name like \"*ë\"", json!({ "name": "zoË" }), true),
            ("name = \"\"", json!({ "name": "" }), true),
            ("name like \"\"", json!({ "name": "" }), true),
            ("name like \"\"", json!({ "name": "a" }), false),
            ("name like \"a**\"", json!({ "name": "a" }), true),
            ("name like \"*a*a*\"", json!({ "name": "banana" }), true),
            ("name like \"*a*x\"", json!({ "name": "banana" }), false),
            ("name contains \"\"", json!({ "name": "x" }), true),
            ("n = -0", json!({ "n": 0 }), true),
            ("n > -1.5", json!({ "n": -1 }), true),
            ("n = 100000000000000000000", json!({ "n": 1e20 }), true),
        ];
        for (input, record, expected) in cases {
            let expr = parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(expr.matches(record), *expected, "{input:?} on {record}");
        }
    }

    #[test]
    fn parses_into_the_expected_tree() {
        let eq = |field: &str, n: i64| Expr::Compare {
            field: field.into(),
            op: CompareOp::Eq,
            value: Literal::Int(n),
        };
        assert_eq!(
            parse("a = 1 or b = 2 and c = 3").unwrap(),
            Expr::Or(vec![eq("a", 1), Expr::And(vec![eq("b", 2), eq("c", 3)])])
        );
        assert_eq!(
            parse("(a = 1 or b = 2) and c = 3").unwrap(),
            Expr::And(vec![Expr::Or(vec![eq("a", 1), eq("b", 2)]), eq("c", 3)])
        );
        assert_eq!(
            parse(r#"x/y not in ("a\"b", 1.5, null, true, [2026-01-01])"#).unwrap(),
            Expr::In {
                field: "x/y".into(),
                values: vec![
                    Literal::Str("a\"b".into()),
                    Literal::Num(1.5),
                    Literal::Null,
                    Literal::Bool(true),
                    Literal::Date(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()),
                ],
                negated: true,
            }
        );
        assert_eq!(
            parse(r#"path like "C:\\*""#).unwrap(),
            Expr::Like {
                field: "path".into(),
                pattern: r"C:\*".into(),
                negated: false,
            }
        );
    }

    #[test]
    fn rejects_malformed_input_with_a_position() {
        let cases: &[(&str, usize, &str)] = &[
            ("", 0, "expected a condition, found end of input"),
            ("   ", 3, "expected a condition"),
            ("id =", 4, "expected a value after `=`, found end of input"),
            ("id = ", 5, "expected a value after `=`"),
            ("id != )", 6, "expected a value after `!=`, found `)`"),
            ("id = 1 and", 10, "expected a condition after `and`"),
            ("id = 1 or )", 10, "unexpected `)`"),
            (
                "id = 1 and or b = 2",
                11,
                "expected a condition after `and`, found `or`",
            ),
            ("and = 1", 0, "expected a condition, found `and`"),
            ("name = \"abc", 7, "unterminated string"),
            ("name = \"abc\\\"", 7, "unterminated string"),
            ("name = \"a\\x\"", 9, "invalid escape `\\x`"),
            (
                "name = 'abc",
                7,
                "unterminated string; expected a closing single quote",
            ),
            ("name = 'abc\\'", 7, "unterminated string"),
            ("name = 'a\\\"b'", 9, "invalid escape `\\\"`"),
            ("name = \"a\\'b\"", 9, "invalid escape `\\'`"),
            ("name = \"abc'", 7, "expected a closing double quote"),
            ("name = 'abc\"", 7, "expected a closing single quote"),
            ("not name contains 'test'", 0, "`not` goes after the field"),
            ("not (id = 1)", 0, "`not` goes after the field"),
            ("id = 1 and not id = 2", 11, "`not` goes after the field"),
            ("id => 5", 3, "unknown operator `=>`"),
            ("id == 5", 3, "unknown operator `==`"),
            ("id <> 5", 3, "unknown operator `<>`"),
            ("id ! 5", 3, "unknown operator `!`"),
            ("id = 5)", 6, "unexpected `)`"),
            (")", 0, "unexpected `)`"),
            ("()", 1, "unexpected `)`"),
            (
                "(id = 5",
                7,
                "expected `)` to close the `(` at position 0, found end of input",
            ),
            (
                "((id = 5) and x = 1",
                19,
                "expected `)` to close the `(` at position 0",
            ),
            ("(id = 5 x", 8, "expected `)`"),
            (
                "id = 5 name = 1",
                7,
                "unexpected `name` after a complete condition",
            ),
            ("id = 5 5", 7, "unexpected `5`"),
            (
                "id",
                2,
                "expected an operator after `id`, found end of input",
            ),
            ("id 5", 3, "expected an operator after `id`, found `5`"),
            (
                "id foo 5",
                3,
                "expected an operator after `id`, found `foo`",
            ),
            ("id (5)", 3, "expected an operator after `id`"),
            ("name = Acme", 7, "strings must be quoted"),
            ("name = ,", 7, "expected a value after `=`, found `,`"),
            ("id in 1, 2", 6, "expected `(` after `in`, found `1`"),
            ("id in (1, 2", 11, "expected `,` or `)` in the list"),
            (
                "id in (1 2)",
                9,
                "expected `,` or `)` in the list, found `2`",
            ),
            ("id in (1,)", 9, "expected a value after `,`, found `)`"),
            ("id in ()", 7, "expected a value after `(`, found `)`"),
            (
                "name not = 1",
                9,
                "expected `like`, `contains` or `in` after `not`",
            ),
            (
                "name not",
                8,
                "expected `like`, `contains` or `in` after `not`",
            ),
            (
                "name like 5",
                10,
                "expected a string after `like`, found `5`",
            ),
            (
                "name contains null",
                14,
                "expected a string after `contains`",
            ),
            ("name like", 9, "expected a string after `like`"),
            ("d > [2026-13-01]", 4, "invalid date `2026-13-01`"),
            ("d > [yesterday]", 4, "invalid date"),
            ("d > [2026-01-01", 4, "unterminated date"),
            ("id = 1 # 2", 7, "unexpected character `#`"),
            ("id = 1.2.3", 5, "invalid number `1.2.3`"),
            ("id = 1.", 5, "invalid number"),
            ("id = -", 5, "invalid number"),
            ("id = 12abc", 5, "invalid number"),
            ("a//b = 1", 0, "invalid field name `a//b`"),
            ("/a = 1", 0, "invalid field name"),
            ("a.b = 1", 0, "invalid field name"),
            (
                "5 = 5 and \"x\" = 1",
                10,
                "expected a condition after `and`, found `\"x\"`",
            ),
            // positions are byte offsets: "é" is two bytes
            ("name = \"é\" )", 12, "unexpected `)`"),
            ("name = \"é\" = 1", 12, "unexpected `=`"),
        ];
        for (input, position, message) in cases {
            let error = parse(input).expect_err(input);
            assert!(
                error.message.contains(message),
                "{input:?}: {:?} does not contain {message:?}",
                error.message
            );
            assert_eq!(error.position, *position, "{input:?}: {error}");
        }
    }

    #[test]
    fn lexes_single_quoted_strings() {
        let str_eq = |field: &str, text: &str| Expr::Compare {
            field: field.into(),
            op: CompareOp::Eq,
            value: Literal::Str(text.into()),
        };
        let cases: &[(&str, &str)] = &[
            ("name = 'Acme'", "Acme"),
            ("name = ''", ""),
            ("name='Acme'", "Acme"),
            (r"name = 'O\'Brien'", "O'Brien"),
            (r"name = 'C:\\temp'", r"C:\temp"),
            (r"name = '\\\''", r"\'"),
            (r#"name = 'say "hi"'"#, r#"say "hi""#),
            (r#"name = "O'Brien""#, "O'Brien"),
            ("name = 'a and b or c'", "a and b or c"),
            ("name = 'Zoë'", "Zoë"),
            ("name = '(x, y)'", "(x, y)"),
        ];
        for (input, text) in cases {
            let expr = parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(expr, str_eq("name", text), "{input:?}");
        }
        assert_eq!(
            parse(r#"type/name in ('Managed Backup', "Email", 'it\'s')"#).unwrap(),
            Expr::In {
                field: "type/name".into(),
                values: vec![
                    Literal::Str("Managed Backup".into()),
                    Literal::Str("Email".into()),
                    Literal::Str("it's".into()),
                ],
                negated: false,
            }
        );
        assert_eq!(
            parse("name not like 'Acme*'").unwrap(),
            Expr::Like {
                field: "name".into(),
                pattern: "Acme*".into(),
                negated: true,
            }
        );
        assert_eq!(
            parse("name contains 'x' and id = 1").unwrap(),
            Expr::And(vec![
                Expr::Contains {
                    field: "name".into(),
                    text: "x".into(),
                    negated: false,
                },
                Expr::Compare {
                    field: "id".into(),
                    op: CompareOp::Eq,
                    value: Literal::Int(1),
                },
            ])
        );
        // Both quote styles select the same records.
        let record = json!({ "name": "O'Brien \"Bob\"" });
        for input in [
            r#"name = 'o\'brien "bob"'"#,
            r#"name = "o'brien \"bob\"""#,
            "name like 'O\\'B*'",
            r#"name contains '"bob"'"#,
        ] {
            assert!(parse(input).unwrap().matches(&record), "{input:?}");
        }
    }

    #[test]
    fn a_field_called_not_is_still_a_field() {
        for input in [
            "not = 1",
            "not not like 'x'",
            "not in (1)",
            "not contains 'x'",
        ] {
            let expr = parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(expr.fields(), ["not"], "{input:?}");
        }
    }

    #[test]
    fn lists_the_fields_named() {
        let cases: &[(&str, &[&str])] = &[
            ("id = 1", &["id"]),
            (
                "(type/id = 7 or type/id = 8) and company/identifier != 'acme'",
                &["type/id", "type/id", "company/identifier"],
            ),
            (
                "name not like 'A*' or tags contains 'x' and parentAgreement/id in (1, 2)",
                &["name", "tags", "parentAgreement/id"],
            ),
        ];
        for (input, fields) in cases {
            assert_eq!(parse(input).unwrap().fields(), *fields, "{input:?}");
        }
    }

    #[test]
    fn error_displays_message_and_position() {
        let error = parse("id => 5").unwrap_err();
        assert_eq!(error.to_string(), "unknown operator `=>` at position 3");
        assert_eq!(
            error,
            ConditionError {
                message: "unknown operator `=>`".into(),
                position: 3
            }
        );
    }

    /// Conditions built by the REST client parse and select exactly the intended records.
    #[test]
    fn round_trips_conditions_from_the_client() {
        let records = [
            json!({
                "id": 1, "name": "Bob \"The\" Builder", "path": "C:\\temp",
                "company": { "id": 250, "name": "Acme Dental" }, "cancelledFlag": false,
                "quantity": 12.5, "lastUpdated": "2026-01-15T10:30:00Z",
                "type": { "name": "Managed Backup" },
            }),
            json!({
                "id": 2, "name": "bob \"the\" builder", "path": "C:\\\\temp",
                "company": { "id": 250, "name": "ACME DENTAL" }, "cancelledFlag": true,
                "quantity": 3, "lastUpdated": "2025-12-31T23:59:59Z",
                "type": { "name": "email" },
            }),
            json!({
                "id": 3, "name": "Bob The Builder", "path": "C:/temp",
                "company": { "id": 7, "name": "Widgets \"R\" Us \\ Co" }, "cancelledFlag": false,
                "quantity": 12.25, "lastUpdated": "2026-01-01T00:00:00Z",
                "type": { "name": "Voice" }, "notes": "x",
            }),
            json!({ "id": 4 }),
        ];
        let new_year = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let id = |n: i64| Condition::eq("id", n);
        let cases: Vec<(Condition, &[i64])> = vec![
            (Condition::eq("name", r#"Bob "The" Builder"#), &[1, 2]),
            (Condition::ne("name", r#"Bob "The" Builder"#), &[3, 4]),
            (Condition::eq("path", r"C:\temp"), &[1]),
            (Condition::eq("path", r"C:\\temp"), &[2]),
            (Condition::contains("path", r"\"), &[1, 2]),
            (Condition::contains("company/name", r#""r" us \ co"#), &[3]),
            (
                Condition::eq("company/name", r#"Widgets "R" Us \ Co"#),
                &[3],
            ),
            (Condition::like("name", r#"bob "*"#), &[1, 2]),
            (Condition::like("company/name", r#"*"R"*\*"#), &[3]),
            (Condition::like("path", r"c:\*"), &[1, 2]),
            (
                Condition::is_in("type/name", ["Managed Backup", "Email"]),
                &[1, 2],
            ),
            (
                Condition::not_in("type/name", ["Managed Backup", "Email"]),
                &[3, 4],
            ),
            (
                Condition::is_in("name", [r#"BOB "THE" BUILDER"#, "nobody"]),
                &[1, 2],
            ),
            (Condition::is_in("id", [2, 4]), &[2, 4]),
            (Condition::is_in("id", Vec::<i64>::new()), &[]),
            (Condition::is_in("notes", Vec::<&str>::new()), &[]),
            (Condition::not_in("id", Vec::<i64>::new()), &[1, 2, 3, 4]),
            (
                Condition::not_in("notes", Vec::<&str>::new()),
                &[1, 2, 3, 4],
            ),
            (
                Condition::eq("company/id", 250).and(Condition::eq("cancelledFlag", false)),
                &[1],
            ),
            (
                id(1).or(id(2)).and(Condition::eq("cancelledFlag", true)),
                &[2],
            ),
            (
                id(1).or(id(2).and(Condition::eq("cancelledFlag", true))),
                &[1, 2],
            ),
            (
                id(1)
                    .or(id(3))
                    .and(id(3).or(Condition::eq("cancelledFlag", true))),
                &[3],
            ),
            (id(4).and(Condition::not_in("id", Vec::<i64>::new())), &[4]),
            (id(4).or(Condition::is_in("id", Vec::<i64>::new())), &[4]),
            (Condition::eq("name", "x or y").or(id(3)).and(id(3)), &[3]),
            (Condition::gt("lastUpdated", new_year), &[1]),
            (Condition::ge("lastUpdated", new_year), &[1, 3]),
            (Condition::lt("lastUpdated", new_year), &[2]),
            (Condition::eq("lastUpdated", new_year), &[3]),
            (Condition::ge("quantity", 12.5), &[1]),
            (Condition::lt("quantity", 12.5), &[2, 3]),
            (Condition::eq("quantity", 12.25), &[3]),
            (Condition::eq("quantity", 3), &[2]),
            (Condition::gt("id", 2_u32), &[3, 4]),
            (Condition::le("id", -1_i32), &[]),
            (Condition::eq("notes", CwValue::Null), &[1, 2, 4]),
            (Condition::ne("notes", CwValue::Null), &[3]),
            (Condition::ne("company/id", 250), &[3, 4]),
            (Condition::eq("cancelledFlag", true), &[2]),
            (Condition::le("company/name", "acme dental"), &[1, 2]),
        ];
        for (condition, expected) in cases {
            let expr = parse(condition.as_str())
                .unwrap_or_else(|e| panic!("{:?} does not parse: {e}", condition.as_str()));
            let matched: Vec<i64> = records
                .iter()
                .filter(|r| expr.matches(r))
                .map(|r| r["id"].as_i64().unwrap())
                .collect();
            assert_eq!(matched, expected, "{condition}");
        }
    }
}
