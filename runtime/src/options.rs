//! What a strategy declares: the options written in `#[authenticate("name", key = value)]`
//! (their values, [`OptionValue`], and what it accepts, [`OptionSpec`], [`OptionKind`]), and the
//! configuration it reads from the app data ([`ConfigType`]).
//!
//! The macro parses the options at compile time into `'static` data, so a request never parses
//! them; a strategy declares which options it accepts and [`crate::validate`] checks every route
//! against that declaration at start-up. A strategy reads them from
//! [`StrategyOptions`](crate::StrategyOptions).

use std::fmt;

/// One option value, as written in the attribute.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OptionValue {
    /// `key = "text"`
    Str(&'static str),
    /// `key = 42` (negative numbers included)
    Int(i64),
    /// `key = 1.5`
    Float(f64),
    /// `key = true`
    Bool(bool),
    /// `key = ["a", "b"]`: a list of values (the macro allows nested literals only).
    List(&'static [OptionValue]),
}

impl OptionValue {
    /// The kind of this value, for matching against an [`OptionSpec`].
    pub fn kind_name(&self) -> &'static str {
        match self {
            OptionValue::Str(_) => "string",
            OptionValue::Int(_) => "integer",
            OptionValue::Float(_) => "float",
            OptionValue::Bool(_) => "bool",
            OptionValue::List(_) => "list",
        }
    }

    pub(crate) fn fits(&self, kind: &OptionKind) -> bool {
        match (kind, self) {
            (OptionKind::Any, _) => true,
            (OptionKind::Str, OptionValue::Str(_)) => true,
            (OptionKind::Int, OptionValue::Int(_)) => true,
            // An integer literal is a fine float: `ratio = 1` means 1.0.
            (OptionKind::Float, OptionValue::Float(_) | OptionValue::Int(_)) => true,
            (OptionKind::Bool, OptionValue::Bool(_)) => true,
            (OptionKind::List(inner), OptionValue::List(items)) => items.iter().all(|item| item.fits(inner)),
            _ => false,
        }
    }
}

impl fmt::Display for OptionValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptionValue::Str(s) => write!(f, "{s:?}"),
            OptionValue::Int(i) => write!(f, "{i}"),
            OptionValue::Float(x) => write!(f, "{x:?}"),
            OptionValue::Bool(b) => write!(f, "{b}"),
            OptionValue::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
        }
    }
}

/// The type an option must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionKind {
    /// A string literal.
    Str,
    /// An integer literal.
    Int,
    /// A float or integer literal.
    Float,
    /// `true` or `false`.
    Bool,
    /// A list whose items all have the inner kind.
    List(&'static OptionKind),
    /// Anything: the strategy checks it itself.
    Any,
}

impl fmt::Display for OptionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptionKind::Str => f.write_str("a string"),
            OptionKind::Int => f.write_str("an integer"),
            OptionKind::Float => f.write_str("a number"),
            OptionKind::Bool => f.write_str("a bool"),
            OptionKind::List(inner) => write!(f, "a list of {}", inner.plural()),
            OptionKind::Any => f.write_str("any value"),
        }
    }
}

impl OptionKind {
    fn plural(&self) -> &'static str {
        match self {
            OptionKind::Str => "strings",
            OptionKind::Int => "integers",
            OptionKind::Float => "numbers",
            OptionKind::Bool => "bools",
            OptionKind::List(_) => "lists",
            OptionKind::Any => "values",
        }
    }
}

/// An option a strategy accepts: declared by [`crate::AuthenticationStrategy::accepted_options`],
/// checked by [`crate::validate`].
///
/// ```
/// use authn::options::{OptionKind, OptionSpec};
/// const ACCEPTED: &[OptionSpec] = &[
///     OptionSpec::new("scopes", OptionKind::List(&OptionKind::Str)),
///     OptionSpec::new("realm", OptionKind::Str),
/// ];
/// assert_eq!(ACCEPTED[0].name, "scopes");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionSpec {
    /// The key written in the attribute.
    pub name: &'static str,
    /// The type its value must have.
    pub kind: OptionKind,
}

impl OptionSpec {
    /// An accepted option.
    pub const fn new(name: &'static str, kind: OptionKind) -> Self {
        OptionSpec { name, kind }
    }
}

/// The app-data type a strategy reads its configuration from, so that
/// [`validate_with`](crate::validate_with) can tell at start-up that the app forgot it.
///
/// ```
/// use authn::options::ConfigType;
///
/// struct MyConfig;
/// let declared = ConfigType::of::<MyConfig>();
/// assert!(declared.name().ends_with("MyConfig"));
/// assert!(declared.is_provided_by(&MyConfig));
/// assert!(declared.is_provided_by(&actix_web::web::Data::new(MyConfig)));
/// assert!(!declared.is_provided_by(&42));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigType {
    raw: std::any::TypeId,
    shared: std::any::TypeId,
    name: &'static str,
}

impl ConfigType {
    /// The configuration `T`, registered raw (`app_data(config)`) or shared
    /// (`app_data(web::Data::new(config))`).
    pub fn of<T: 'static>() -> Self {
        ConfigType {
            raw: std::any::TypeId::of::<T>(),
            shared: std::any::TypeId::of::<actix_web::web::Data<T>>(),
            name: std::any::type_name::<T>(),
        }
    }

    /// The type's full name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Whether `value` is this configuration, raw or shared.
    pub fn is_provided_by(&self, value: &dyn std::any::Any) -> bool {
        let id = value.type_id();
        id == self.raw || id == self.shared
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StrategyOptions;

    static LIST: [OptionValue; 2] = [OptionValue::Str("a"), OptionValue::Int(3)];
    static OPTS: StrategyOptions = StrategyOptions::new(&[
        ("scopes", OptionValue::List(&LIST)),
        ("realm", OptionValue::Str("r")),
        ("n", OptionValue::Int(2)),
        ("on", OptionValue::Bool(true)),
    ]);

    #[test]
    fn typed_getters_match_only_their_kind() {
        assert_eq!(OPTS.str("realm"), Some("r"));
        assert_eq!(OPTS.str("n"), None);
        assert_eq!(OPTS.int("n"), Some(2));
        assert_eq!(OPTS.float("n"), Some(2.0));
        assert_eq!(OPTS.bool("on"), Some(true));
        assert_eq!(OPTS.strings("scopes").collect::<Vec<_>>(), ["a"]);
        assert_eq!(OPTS.strings("realm").collect::<Vec<_>>(), ["r"]);
        assert_eq!(OPTS.strings("none").count(), 0);
        assert_eq!(OPTS.iter().count(), 4);
    }

    #[test]
    fn check_reports_unknown_and_mistyped_options() {
        let accepted = [
            OptionSpec::new("scopes", OptionKind::List(&OptionKind::Str)),
            OptionSpec::new("realm", OptionKind::Str),
            OptionSpec::new("n", OptionKind::Float),
        ];
        let problems = OPTS.check(&accepted);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("option `scopes` must be a list of strings"));
        assert!(problems[1].contains("unknown option `on`; expected one of: `scopes`, `realm`, `n`"));
        assert_eq!(OPTS.check(&[]).len(), 4);
        assert!(StrategyOptions::EMPTY.check(&[]).is_empty());
    }
}
