//! LoopBack's `filter` and `where` query parameters, parsed into a closed model and rendered as
//! parameterised SQL for either backend: client input never becomes SQL text.

use std::fmt::Write as _;

use serde_json::Value;

use crate::errors::ApiError;

/// A `Todo` property that can be filtered or sorted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Id,
    Title,
    Desc,
    IsComplete,
}

impl Column {
    fn parse(name: &str) -> Option<Column> {
        match name {
            "id" => Some(Column::Id),
            "title" => Some(Column::Title),
            "desc" => Some(Column::Desc),
            "isComplete" => Some(Column::IsComplete),
            _ => None,
        }
    }

    fn sql(self) -> &'static str {
        match self {
            Column::Id => "id",
            Column::Title => "title",
            Column::Desc => "description",
            Column::IsComplete => "is_complete",
        }
    }
}

/// A value compared with, or bound as a parameter: the types the todo columns hold, each
/// backend binding it as its own (`is_complete` is SQLite's 0/1, PostgreSQL's boolean).
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Null,
    Integer(i64),
    Text(String),
    Bool(bool),
}

/// How a backend writes placeholders: SQLite's `?`, PostgreSQL's `$1`, `$2`, ...
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// Appends `value` to the parameters and its placeholder to `sql`.
    pub fn bind(self, sql: &mut String, params: &mut Vec<Scalar>, value: Scalar) {
        params.push(value);
        match self {
            Dialect::Sqlite => sql.push('?'),
            Dialect::Postgres => {
                let _ = write!(sql, "${}", params.len());
            }
        }
    }
}

/// A `where` clause: equality on properties, combined with `and` / `or`.
#[derive(Debug, Clone, PartialEq)]
pub enum Where {
    And(Vec<Where>),
    Or(Vec<Where>),
    Eq(Column, Scalar),
}

/// A whole `filter`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub condition: Option<Where>,
    pub limit: Option<i64>,
    pub skip: Option<i64>,
    pub order: Vec<(Column, bool)>,
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::BadRequest { code: "INVALID_PARAMETER_VALUE", message: message.into() }
}

/// Parses `?filter=<json>`.
pub fn parse_filter(json: &str) -> Result<Filter, ApiError> {
    let value: Value = serde_json::from_str(json).map_err(|_| bad("The filter parameter is not valid JSON."))?;
    let Value::Object(map) = value else { return Err(bad("The filter parameter must be a JSON object.")) };
    let mut filter = Filter::default();
    for (key, value) in &map {
        match key.as_str() {
            "where" => filter.condition = Some(condition(value)?),
            "limit" => filter.limit = Some(count(value, "limit")?),
            "skip" | "offset" => filter.skip = Some(count(value, "skip")?),
            "order" => filter.order = order(value)?,
            "fields" | "include" => return Err(bad(format!("The filter property `{key}` is not supported."))),
            other => return Err(bad(format!("Unknown filter property `{other}`."))),
        }
    }
    Ok(filter)
}

/// Parses `?where=<json>`.
pub fn parse_where(json: &str) -> Result<Where, ApiError> {
    let value: Value = serde_json::from_str(json).map_err(|_| bad("The where parameter is not valid JSON."))?;
    condition(&value)
}

fn count(value: &Value, name: &str) -> Result<i64, ApiError> {
    value
        .as_i64()
        .filter(|n| (0..=10_000).contains(n))
        .ok_or_else(|| bad(format!("The filter `{name}` must be an integer from 0 to 10000.")))
}

fn order(value: &Value) -> Result<Vec<(Column, bool)>, ApiError> {
    let items: Vec<&str> = match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => {
            items.iter().map(|i| i.as_str().ok_or_else(|| bad("order items are strings"))).collect::<Result<_, _>>()?
        }
        _ => return Err(bad("The filter `order` must be a string or a list of strings.")),
    };
    // Exactly `<property>` or `<property> ASC|DESC` (one space; `asc`/`desc` too), as the
    // document's pattern says: nothing it calls invalid is accepted.
    items
        .into_iter()
        .map(|item| {
            let refused = || bad(format!("Cannot order by `{item}`."));
            let (name, direction) = item.split_once(' ').map_or((item, None), |(n, d)| (n, Some(d)));
            let column = Column::parse(name).ok_or_else(refused)?;
            let ascending = match direction {
                None | Some("ASC" | "asc") => true,
                Some("DESC" | "desc") => false,
                Some(_) => return Err(refused()),
            };
            Ok((column, ascending))
        })
        .collect()
}

fn condition(value: &Value) -> Result<Where, ApiError> {
    let Value::Object(map) = value else { return Err(bad("A where clause must be a JSON object.")) };
    let mut all = Vec::with_capacity(map.len());
    for (key, value) in map {
        match key.as_str() {
            "and" | "or" => {
                let Value::Array(items) = value else { return Err(bad(format!("`{key}` takes a list of clauses."))) };
                let clauses = items.iter().map(condition).collect::<Result<Vec<_>, _>>()?;
                all.push(if key == "and" { Where::And(clauses) } else { Where::Or(clauses) });
            }
            name => {
                let column = Column::parse(name).ok_or_else(|| bad(format!("Unknown property `{name}` in where.")))?;
                all.push(Where::Eq(column, scalar(column, value)?));
            }
        }
    }
    Ok(if all.len() == 1 { all.remove(0) } else { Where::And(all) })
}

fn scalar(column: Column, value: &Value) -> Result<Scalar, ApiError> {
    Ok(match (column, value) {
        (_, Value::Null) => Scalar::Null,
        (Column::Id, Value::Number(n)) if n.is_i64() => Scalar::Integer(n.as_i64().unwrap_or_default()),
        (Column::Title | Column::Desc, Value::String(s)) => Scalar::Text(s.clone()),
        (Column::IsComplete, Value::Bool(b)) => Scalar::Bool(*b),
        _ => return Err(bad("A where value has the wrong type for its property (operators are not supported).")),
    })
}

impl Where {
    /// Appends the clause as SQL with `dialect`'s placeholders, and its values.
    pub fn to_sql(&self, dialect: Dialect, sql: &mut String, params: &mut Vec<Scalar>) {
        match self {
            Where::Eq(column, Scalar::Null) => {
                sql.push_str(column.sql());
                sql.push_str(" IS NULL");
            }
            Where::Eq(column, value) => {
                sql.push_str(column.sql());
                sql.push_str(" = ");
                dialect.bind(sql, params, value.clone());
            }
            Where::And(clauses) | Where::Or(clauses) => {
                if clauses.is_empty() {
                    // A boolean in both dialects (PostgreSQL refuses a bare `1` as a condition).
                    sql.push_str(if matches!(self, Where::And(_)) { "(1 = 1)" } else { "(1 = 0)" });
                    return;
                }
                let joiner = if matches!(self, Where::And(_)) { " AND " } else { " OR " };
                sql.push('(');
                for (i, clause) in clauses.iter().enumerate() {
                    if i > 0 {
                        sql.push_str(joiner);
                    }
                    clause.to_sql(dialect, sql, params);
                }
                sql.push(')');
            }
        }
    }
}

impl Filter {
    /// `ORDER BY ... LIMIT ... OFFSET ...`, appended.
    pub fn tail_sql(&self, dialect: Dialect, sql: &mut String, params: &mut Vec<Scalar>) {
        sql.push_str(" ORDER BY ");
        for (column, ascending) in &self.order {
            sql.push_str(column.sql());
            // SQLite puts NULLs first going up, PostgreSQL last: said out loud, both agree.
            sql.push_str(match (ascending, dialect) {
                (true, Dialect::Sqlite) => " ASC, ",
                (false, Dialect::Sqlite) => " DESC, ",
                (true, Dialect::Postgres) => " ASC NULLS FIRST, ",
                (false, Dialect::Postgres) => " DESC NULLS LAST, ",
            });
        }
        sql.push_str("id ASC LIMIT ");
        // No limit: SQLite's is a negative one, PostgreSQL's a NULL.
        let limit = match (self.limit, dialect) {
            (Some(limit), _) => Scalar::Integer(limit),
            (None, Dialect::Sqlite) => Scalar::Integer(-1),
            (None, Dialect::Postgres) => Scalar::Null,
        };
        dialect.bind(sql, params, limit);
        sql.push_str(" OFFSET ");
        dialect.bind(sql, params, Scalar::Integer(self.skip.unwrap_or(0)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql(w: &Where, dialect: Dialect) -> (String, Vec<Scalar>) {
        let (mut s, mut p) = (String::new(), Vec::new());
        w.to_sql(dialect, &mut s, &mut p);
        (s, p)
    }

    #[test]
    fn equality_and_or() {
        let w = parse_where(r#"{"or": [{"title": "a"}, {"and": [{"isComplete": true}, {"desc": null}]}]}"#).unwrap();
        let (s, p) = sql(&w, Dialect::Sqlite);
        assert_eq!(s, "(title = ? OR (is_complete = ? AND description IS NULL))");
        assert_eq!(p, [Scalar::Text("a".into()), Scalar::Bool(true)]);
        let (s, _) = sql(&w, Dialect::Postgres);
        assert_eq!(s, "(title = $1 OR (is_complete = $2 AND description IS NULL))");
    }

    #[test]
    fn empty_combinations_are_conditions_in_both_dialects() {
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            assert_eq!(sql(&parse_where(r#"{"and": []}"#).unwrap(), dialect).0, "(1 = 1)");
            assert_eq!(sql(&parse_where(r#"{"or": []}"#).unwrap(), dialect).0, "(1 = 0)");
        }
    }

    #[test]
    fn refuses_what_it_does_not_understand() {
        for bad in [
            r#"{"title": {"like": "%"}}"#,
            r#"{"ownerId": "x"}"#,
            r#"{"isComplete": "yes"}"#,
            r#"{"and": {"title": "a"}}"#,
            r#"[1]"#,
            "not json",
        ] {
            assert!(parse_where(bad).is_err(), "{bad}");
        }
        assert!(parse_filter(r#"{"limit": -1}"#).is_err());
        assert!(parse_filter(r#"{"order": "title; DROP TABLE todos"}"#).is_err());
        assert!(parse_filter(r#"{"fields": {"title": true}}"#).is_err());
    }

    #[test]
    fn filter_parts() {
        let f =
            parse_filter(r#"{"where": {"isComplete": false}, "limit": 2, "skip": 1, "order": ["title DESC", "id"]}"#)
                .unwrap();
        assert_eq!(f.limit, Some(2));
        assert_eq!(f.skip, Some(1));
        assert_eq!(f.order, [(Column::Title, false), (Column::Id, true)]);
        let (mut s, mut p) = (String::new(), Vec::new());
        f.tail_sql(Dialect::Sqlite, &mut s, &mut p);
        assert_eq!(s, " ORDER BY title DESC, id ASC, id ASC LIMIT ? OFFSET ?");
        let (mut s, mut p) = (String::from("x = $1"), vec![Scalar::Null]);
        Filter::default().tail_sql(Dialect::Postgres, &mut s, &mut p);
        assert_eq!(s, "x = $1 ORDER BY id ASC LIMIT $2 OFFSET $3");
        assert_eq!(p[1..], [Scalar::Null, Scalar::Integer(0)], "no limit is PostgreSQL's NULL");
    }
}
