//! Procedural macros of [`authn`](https://docs.rs/authn). Depend on `authn` and use them from
//! there: the expansions refer to `::authn::__private`.
#![forbid(unsafe_code)]

mod args;
mod diagnostics;
mod handler;
mod options;
mod strategy;

use proc_macro::TokenStream;

/// Requires authentication on an actix-web handler. See `authn::authenticate`.
#[proc_macro_attribute]
pub fn authenticate(args: TokenStream, item: TokenStream) -> TokenStream {
    handler::expand(args.into(), item.into()).into()
}

/// Registers an authentication strategy at link time. See `authn::strategy`.
#[proc_macro_attribute]
pub fn strategy(args: TokenStream, item: TokenStream) -> TokenStream {
    strategy::expand(args.into(), item.into()).into()
}
