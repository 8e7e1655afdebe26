//! Error accumulation: every mistake in one build, and the user's item always re-emitted.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};

/// Collects errors so one expansion reports all of them (serde's `Ctxt`).
#[derive(Default)]
pub struct Errors {
    combined: Option<syn::Error>,
}

impl Errors {
    pub fn push(&mut self, error: syn::Error) {
        match &mut self.combined {
            Some(all) => all.combine(error),
            None => self.combined = Some(error),
        }
    }

    pub fn spanned(&mut self, tokens: impl ToTokens, message: impl std::fmt::Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    pub fn is_empty(&self) -> bool {
        self.combined.is_none()
    }

    /// The errors pushed so far, as one (call only after pushing one).
    pub fn into_error(self) -> syn::Error {
        self.combined.unwrap_or_else(|| syn::Error::new(proc_macro2::Span::call_site(), "authn: internal error"))
    }

    /// `Ok(())` when nothing was pushed.
    pub fn finish(self) -> syn::Result<()> {
        match self.combined {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

/// The item as the user wrote it plus the errors, so IDEs keep resolving it (actix-web-codegen,
/// tokio-macros) and the only errors shown are ours.
pub fn with_item(item: TokenStream, error: syn::Error) -> TokenStream {
    let error = error.into_compile_error();
    quote!(#item #error)
}

/// `::authn::__private::location(module_path!(), file!(), line!())` at `span`: where an item
/// is, for reports and `validate()`, written the same way by both macros.
pub fn location(span: proc_macro2::Span) -> TokenStream {
    quote::quote_spanned! {span=>
        ::authn::__private::location(
            ::authn::__private::core::module_path!(),
            ::authn::__private::core::file!(),
            ::authn::__private::core::line!(),
        )
    }
}

/// Where the first token of `tokens` is: errors about a whole item or type point there.
pub fn first_token_span(tokens: &impl ToTokens) -> proc_macro2::Span {
    tokens.to_token_stream().into_iter().next().map_or_else(proc_macro2::Span::call_site, |t| t.span())
}

/// Strategy names end up in `WWW-Authenticate` as auth-schemes and in logs: keep them to
/// visible, unambiguous characters.
pub fn check_strategy_name(name: &syn::LitStr, errors: &mut Errors) {
    let value = name.value();
    if value.is_empty() {
        errors.spanned(name, "strategy name must not be empty");
    } else if !value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
        errors.spanned(
            name,
            format_args!("strategy name {value:?} may only contain ASCII letters, digits, `-`, `_` and `.`"),
        );
    }
}
