//! The grammar of `#[authenticate(...)]`, parsed into a small typed model; every mistake is
//! pushed into the accumulator and parsing goes on with the next argument.
//!
//! ```text
//! args   := item (',' item)* ','?
//! item   := "name"              a strategy, tried in the order written
//!         | key '=' value       an option of the strategy written before it
//!         | skip                no authentication (opts out of a group)
//!         | group               the enclosing group's strategies, and its user
//! ```

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr, Token};

use crate::diagnostics::{Errors, check_strategy_name};
use crate::options::Value;

/// What the attribute asks for.
pub enum Requirement {
    Strategies(Vec<StrategyArg>),
    Skip,
    Group,
}

pub struct StrategyArg {
    pub name: LitStr,
    pub options: Vec<(Ident, Value)>,
}

enum Item {
    Name(LitStr),
    Option(Ident, Value),
    Keyword(Ident),
}

impl Parse for Item {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let item = if input.peek(LitStr) {
            Item::Name(input.parse()?)
        } else if input.peek(Ident) && input.peek2(Token![=]) {
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            Item::Option(key, input.parse()?)
        } else if input.peek(Ident) {
            let ident: Ident = input.parse()?;
            if ident != "skip" && ident != "group" {
                return Err(syn::Error::new_spanned(
                    &ident,
                    format_args!("strategy names are string literals: write `\"{ident}\"`"),
                ));
            }
            Item::Keyword(ident)
        } else {
            return Err(
                input.error("expected a strategy name such as `\"jwt\"`, an option `key = value`, `skip` or `group`")
            );
        };
        if !input.is_empty() {
            return Err(input.error("expected `,` between arguments"));
        }
        Ok(item)
    }
}

/// The token runs between top-level commas (commas inside `[...]` stay with their value).
pub fn split_at_commas(args: TokenStream) -> Vec<TokenStream> {
    let mut pieces = vec![TokenStream::new()];
    for tree in args {
        match &tree {
            TokenTree::Punct(p) if p.as_char() == ',' => pieces.push(TokenStream::new()),
            _ => pieces.last_mut().expect("never empty").extend([tree]),
        }
    }
    if pieces.last().is_some_and(TokenStream::is_empty) {
        pieces.pop();
    }
    pieces
}

/// Parses the attribute's arguments, reporting every mistake; `None` only after pushing one.
pub fn parse(args: TokenStream, errors: &mut Errors) -> Option<Requirement> {
    let mut strategies: Vec<StrategyArg> = Vec::new();
    let mut keyword: Option<Ident> = None;
    let mut broken = false;
    for piece in split_at_commas(args) {
        if piece.is_empty() {
            errors.push(syn::Error::new(Span::call_site(), "empty argument: remove the extra `,`"));
            broken = true;
            continue;
        }
        let item = match syn::parse2::<Item>(piece) {
            Ok(item) => item,
            Err(error) => {
                errors.push(error);
                broken = true;
                continue;
            }
        };
        match item {
            Item::Name(name) => {
                check_strategy_name(&name, errors);
                if strategies.iter().any(|s| s.name.value() == name.value()) {
                    errors.spanned(&name, format_args!("strategy {:?} is listed twice", name.value()));
                }
                strategies.push(StrategyArg { name, options: Vec::new() });
            }
            Item::Option(key, value) => match strategies.last_mut() {
                Some(strategy) => {
                    if strategy.options.iter().any(|(k, _)| *k == key) {
                        errors.spanned(
                            &key,
                            format_args!("option `{key}` is given twice for {:?}", strategy.name.value()),
                        );
                    }
                    strategy.options.push((key, value));
                }
                None => match &keyword {
                    Some(keyword) => errors.spanned(&key, format_args!("`{keyword}` takes no options")),
                    None => errors.spanned(
                        &key,
                        format_args!(
                            "option `{key}` must follow the strategy it configures, e.g. `\"jwt\", {key} = ...`"
                        ),
                    ),
                },
            },
            Item::Keyword(ident) => match &keyword {
                Some(first) if *first == ident => errors.spanned(&ident, format_args!("`{ident}` is given twice")),
                Some(first) => errors.spanned(
                    &ident,
                    format_args!(
                        "`{first}` and `{ident}` exclude each other: `skip` is public, `group` is the group's"
                    ),
                ),
                None => keyword = Some(ident),
            },
        }
    }
    match (keyword, strategies.is_empty()) {
        (Some(keyword), true) if keyword == "skip" => Some(Requirement::Skip),
        (Some(_), true) => Some(Requirement::Group),
        (Some(keyword), false) => {
            let meaning = if keyword == "skip" {
                "a route either authenticates or not"
            } else {
                "`group` means the enclosing group's strategies; list strategies to override them instead"
            };
            errors.spanned(&keyword, format_args!("`{keyword}` cannot be combined with strategies: {meaning}"));
            None
        }
        (None, false) => Some(Requirement::Strategies(strategies)),
        (None, true) if broken => None,
        (None, true) => {
            errors.push(syn::Error::new(
                Span::call_site(),
                "#[authenticate] needs at least one strategy, e.g. `#[authenticate(\"jwt\")]`, \
                 or `#[authenticate(skip)]` for a public route",
            ));
            None
        }
    }
}
