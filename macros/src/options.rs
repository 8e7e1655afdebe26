//! Option values written in attributes, parsed into `'static` data.
//!
//! `#[authenticate("jwt", scopes = ["a", "b"], leeway = 30)]` and the kinds of
//! `#[strategy("x", options(scopes = [str]))]`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, Lit, Token, bracketed};

/// A literal option value.
pub enum Value {
    Lit(Lit),
    Neg(Lit),
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
        if input.peek(Token![-]) {
            input.parse::<Token![-]>()?;
            let lit: Lit = input.parse()?;
            return match lit {
                Lit::Int(_) | Lit::Float(_) => Ok(Value::Neg(lit)),
                other => Err(syn::Error::new_spanned(other, "only numbers can be negated")),
            };
        }
        if input.peek(Lit) {
            let lit: Lit = input.parse()?;
            return match lit {
                Lit::Str(_) | Lit::Int(_) | Lit::Float(_) | Lit::Bool(_) => Ok(Value::Lit(lit)),
                other => Err(syn::Error::new_spanned(
                    other,
                    "option values are string, integer, float or bool literals, or lists of them",
                )),
            };
        }
        Err(input
            .error("expected an option value: a string, integer, float or bool literal, or a `[...]` list of them"))
    }
}

impl Value {
    /// `::authn::__private::OptionValue::...` as a promotable constant expression.
    pub fn to_tokens(&self) -> syn::Result<TokenStream> {
        Ok(match self {
            Value::Lit(Lit::Str(s)) => quote!(::authn::__private::OptionValue::Str(#s)),
            Value::Lit(Lit::Bool(b)) => quote!(::authn::__private::OptionValue::Bool(#b)),
            Value::Lit(Lit::Int(i)) => {
                let v: i64 = i.base10_parse()?;
                quote!(::authn::__private::OptionValue::Int(#v))
            }
            Value::Lit(Lit::Float(x)) => {
                let v: f64 = x.base10_parse()?;
                quote!(::authn::__private::OptionValue::Float(#v))
            }
            Value::Neg(Lit::Int(i)) => {
                let v: i64 = format!("-{}", i.base10_digits())
                    .parse()
                    .map_err(|_| syn::Error::new_spanned(i, "integer option out of range for i64"))?;
                quote!(::authn::__private::OptionValue::Int(#v))
            }
            Value::Neg(Lit::Float(x)) => {
                let v: f64 = -x.base10_parse::<f64>()?;
                quote!(::authn::__private::OptionValue::Float(#v))
            }
            Value::List(items) => {
                let items = items.iter().map(Value::to_tokens).collect::<syn::Result<Vec<_>>>()?;
                quote!(::authn::__private::OptionValue::List(&[#(#items),*]))
            }
            // Parsing only builds the shapes above.
            Value::Lit(other) | Value::Neg(other) => {
                return Err(syn::Error::new_spanned(other, "unsupported option value"));
            }
        })
    }
}

/// The kind an option must have: `str`, `int`, `float`, `bool`, `any` or `[kind]`.
pub enum Kind {
    Named(Ident),
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
        match ident.to_string().as_str() {
            "str" | "int" | "float" | "bool" | "any" => Ok(Kind::Named(ident)),
            _ => Err(syn::Error::new_spanned(
                ident,
                "unknown option kind; expected one of: `str`, `int`, `float`, `bool`, `any`, `[kind]`",
            )),
        }
    }
}

impl Kind {
    pub fn to_tokens(&self) -> TokenStream {
        match self {
            Kind::Named(ident) => match ident.to_string().as_str() {
                "str" => quote!(::authn::__private::OptionKind::Str),
                "int" => quote!(::authn::__private::OptionKind::Int),
                "float" => quote!(::authn::__private::OptionKind::Float),
                "bool" => quote!(::authn::__private::OptionKind::Bool),
                _ => quote!(::authn::__private::OptionKind::Any),
            },
            Kind::List(inner) => {
                let inner = inner.to_tokens();
                quote!(::authn::__private::OptionKind::List(&#inner))
            }
        }
    }
}
