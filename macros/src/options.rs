//! Option values written in attributes, typed while parsing, and the kinds of
//! `#[strategy("x", options(scopes = [str]))]`.
//!
//! `#[authenticate("jwt", scopes = ["a", "b"], leeway = 30)]`: every value is checked here
//! (integers fit `i64`, only numbers are negated, only the four literal kinds), so expansion
//! only writes constants and cannot fail.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, Lit, LitStr, Token, bracketed};

/// A literal option value, as the runtime's `OptionValue` will hold it.
pub enum Value {
    Str(LitStr),
    Int(i64, Span),
    Float(f64, Span),
    Bool(bool, Span),
    List(Vec<Value>),
}

impl Parse for Value {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek(syn::token::Bracket) {
            let content;
            bracketed!(content in input);
            let items = Punctuated::<Value, Token![,]>::parse_terminated(&content)?;
            return Ok(Value::List(items.into_iter().collect()));
        }
        let negated = input.parse::<Option<Token![-]>>()?;
        if !input.peek(Lit) {
            return Err(input.error(
                "expected an option value: a string, integer, float or bool literal, or a `[...]` list of them",
            ));
        }
        let lit: Lit = input.parse()?;
        match (negated, lit) {
            (None, Lit::Str(s)) => Ok(Value::Str(s)),
            (None, Lit::Bool(b)) => Ok(Value::Bool(b.value, b.span)),
            (sign, Lit::Int(i)) => {
                let digits =
                    if sign.is_some() { format!("-{}", i.base10_digits()) } else { i.base10_digits().to_owned() };
                digits
                    .parse::<i64>()
                    .map(|v| Value::Int(v, i.span()))
                    .map_err(|_| syn::Error::new_spanned(&i, "integer option out of range for i64"))
            }
            (sign, Lit::Float(x)) => {
                let v: f64 = x.base10_parse()?;
                Ok(Value::Float(if sign.is_some() { -v } else { v }, x.span()))
            }
            (Some(_), other) => Err(syn::Error::new_spanned(other, "only numbers can be negated")),
            (None, other) => Err(syn::Error::new_spanned(
                other,
                "option values are string, integer, float or bool literals, or lists of them",
            )),
        }
    }
}

/// `::authn::__private::OptionValue::...`, a promotable constant expression.
impl ToTokens for Value {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        tokens.extend(match self {
            Value::Str(s) => quote!(::authn::__private::OptionValue::Str(#s)),
            Value::Int(v, span) => quote_spanned!(*span=> ::authn::__private::OptionValue::Int(#v)),
            Value::Float(v, span) => quote_spanned!(*span=> ::authn::__private::OptionValue::Float(#v)),
            Value::Bool(v, span) => quote_spanned!(*span=> ::authn::__private::OptionValue::Bool(#v)),
            Value::List(items) => quote!(::authn::__private::OptionValue::List(&[#(#items),*])),
        });
    }
}

/// The kind an option must have: `str`, `int`, `float`, `bool`, `any` or `[kind]`.
pub enum Kind {
    Str,
    Int,
    Float,
    Bool,
    Any,
    List(Box<Kind>),
}

impl Parse for Kind {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek(syn::token::Bracket) {
            let content;
            bracketed!(content in input);
            let inner: Kind = content.parse()?;
            return Ok(Kind::List(Box::new(inner)));
        }
        let ident: Ident = input.parse()?;
        Ok(match ident.to_string().as_str() {
            "str" => Kind::Str,
            "int" => Kind::Int,
            "float" => Kind::Float,
            "bool" => Kind::Bool,
            "any" => Kind::Any,
            _ => {
                return Err(syn::Error::new_spanned(
                    ident,
                    "unknown option kind; expected one of: `str`, `int`, `float`, `bool`, `any`, `[kind]`",
                ));
            }
        })
    }
}

/// `::authn::__private::OptionKind::...`.
impl ToTokens for Kind {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        tokens.extend(match self {
            Kind::Str => quote!(::authn::__private::OptionKind::Str),
            Kind::Int => quote!(::authn::__private::OptionKind::Int),
            Kind::Float => quote!(::authn::__private::OptionKind::Float),
            Kind::Bool => quote!(::authn::__private::OptionKind::Bool),
            Kind::Any => quote!(::authn::__private::OptionKind::Any),
            Kind::List(inner) => quote!(::authn::__private::OptionKind::List(&#inner)),
        });
    }
}
