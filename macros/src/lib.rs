//! Procedural macros of [`authn`](https://docs.rs/authn). Depend on `authn` and use them from
//! there: the expansions refer to `::authn::__private`.
#![forbid(unsafe_code)]

mod args;
mod diagnostics;
mod handler;
mod options;
mod strategy;

use proc_macro::TokenStream;

// Documented where users meet it, on the re-export `authn::authenticate`; rustdoc shows this
// line after that text.
/// *Defined in `authn-macros`; depend on `authn` only, whose paths the expansion names.*
#[proc_macro_attribute]
pub fn authenticate(args: TokenStream, item: TokenStream) -> TokenStream {
    handler::expand(args.into(), item.into()).into()
}

// Documented on the re-export `authn::strategy`, like `authenticate`.
/// *Defined in `authn-macros`; depend on `authn` only, whose paths the expansion names.*
#[proc_macro_attribute]
pub fn strategy(args: TokenStream, item: TokenStream) -> TokenStream {
    strategy::expand(args.into(), item.into()).into()
}
