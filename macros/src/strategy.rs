//! `#[strategy("name")]`: registers an `impl AuthenticationStrategy for T` block or an
//! `async fn` strategy at link time.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{FnArg, Ident, ImplItem, ImplItemFn, Item, ItemFn, ItemImpl, LitStr, Signature, Token, parenthesized};

use crate::diagnostics::{Errors, check_strategy_name, first_token_span, location, with_item};
use crate::options::Kind;

/// `"name"` then, for function strategies, `options(key = kind, ...)`.
struct Args {
    name: LitStr,
    options: Option<(Ident, Vec<(Ident, Kind)>)>,
}

/// Parses the attribute, every mistake into `errors`; `None` when there is no usable name.
fn parse_args(args: TokenStream, errors: &mut Errors) -> Option<Args> {
    let mut pieces = crate::args::split_at_commas(args).into_iter();
    let name = match pieces.next() {
        None => {
            errors.push(syn::Error::new(
                Span::call_site(),
                "#[strategy] needs the name routes will use, e.g. `#[strategy(\"api-key\")]`",
            ));
            None
        }
        Some(first) => match syn::parse2::<LitStr>(first.clone()) {
            Ok(name) => {
                check_strategy_name(&name, errors);
                Some(name)
            }
            Err(_) => {
                errors.push(syn::Error::new(
                    first_token_span(&first),
                    "expected the strategy name as a string literal, e.g. `#[strategy(\"api-key\")]`",
                ));
                None
            }
        },
    };
    let mut options: Option<(Ident, Vec<(Ident, Kind)>)> = None;
    for piece in pieces {
        match syn::parse2::<OptionsArg>(piece) {
            Err(error) => errors.push(error),
            Ok(OptionsArg(key, entries)) => {
                if options.is_some() {
                    errors.spanned(&key, "`options(...)` is given twice");
                    continue;
                }
                let mut seen: Vec<(Ident, Kind)> = Vec::new();
                for OptionDecl(option, kind) in entries {
                    if seen.iter().any(|(k, _)| *k == option) {
                        errors.spanned(&option, "option declared twice");
                        continue;
                    }
                    seen.push((option, kind));
                }
                options = Some((key, seen));
            }
        }
    }
    name.map(|name| Args { name, options })
}

/// `options(key = kind, ...)`.
struct OptionsArg(Ident, Vec<OptionDecl>);

impl Parse for OptionsArg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key: Ident = input.parse()?;
        if key != "options" {
            return Err(syn::Error::new_spanned(key, "unknown #[strategy] argument; expected `options(...)`"));
        }
        let content;
        parenthesized!(content in input);
        let entries = Punctuated::<OptionDecl, Token![,]>::parse_terminated(&content)?;
        Ok(OptionsArg(key, entries.into_iter().collect()))
    }
}

struct OptionDecl(Ident, Kind);

impl Parse for OptionDecl {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key: Ident = input.parse()?;
        input.parse::<Token![=]>()?;
        Ok(OptionDecl(key, input.parse()?))
    }
}

pub fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let args = parse_args(args, &mut errors);
    let parsed = syn::parse2::<Item>(item.clone());
    let expansion = match (parsed, args) {
        (Ok(Item::Impl(block)), Some(args)) => expand_impl(block, &args, &mut errors),
        (Ok(Item::Fn(function)), Some(args)) => {
            check_fn(&function, &mut errors).map(|form| emit_fn(&function, &args, form))
        }
        (Ok(Item::Impl(_) | Item::Fn(_)), None) => None,
        (other, _) => {
            let span = match &other {
                Ok(item) => first_token_span(item),
                Err(_) => Span::call_site(),
            };
            errors.push(syn::Error::new(
                span,
                "#[strategy] registers an `impl AuthenticationStrategy for Type` block or an `async fn` strategy",
            ));
            None
        }
    };
    match (errors.finish(), expansion) {
        (Ok(()), Some(expansion)) => expansion,
        (Err(error), Some(fallback)) => with_item(fallback, error),
        (Err(error), None) => with_item(item, error),
        (Ok(()), None) => item,
    }
}

fn registration(name: &LitStr, build: TokenStream, span: Span) -> TokenStream {
    let location = location(span);
    quote! {
        ::authn::__private::inventory::submit! {
            ::authn::__private::strategy_registration(#name, #build, #location)
        }
    }
}

// Input:
//     #[strategy("api-key")]
//     impl AuthenticationStrategy for ApiKey {
//         async fn authenticate(&self, request: &HttpRequest, options: &StrategyOptions) -> Result<Outcome, AuthError> { body }
//     }
// Output:
//     impl AuthenticationStrategy for ApiKey {
//         fn authenticate<'authn>(&'authn self, request: &'authn HttpRequest, options: &'authn StrategyOptions)
//             -> LocalBoxFuture<'authn, Result<Outcome, AuthError>> { Box::pin(async move { body }) }
//     }
//     inventory::submit!(StrategyRegistration { name: "api-key", build: build_default::<ApiKey>, .. });
fn expand_impl(mut block: ItemImpl, args: &Args, errors: &mut Errors) -> Option<TokenStream> {
    let implements_strategy = block
        .trait_
        .as_ref()
        .and_then(|(_, path, _)| path.segments.last())
        .is_some_and(|s| s.ident == "AuthenticationStrategy");
    if !implements_strategy {
        errors.spanned(
            block.impl_token,
            "#[strategy] registers `impl AuthenticationStrategy for Type` blocks; this impl is not one",
        );
        return None;
    }
    if let Some((options_key, _)) = &args.options {
        errors.spanned(
            options_key,
            "`options(...)` is for function strategies; a strategy type declares them with `fn accepted_options`",
        );
    }
    if !block.generics.params.is_empty() {
        errors.spanned(
            &block.generics,
            "#[strategy] registers one concrete type; generic strategy impls cannot be built",
        );
    }
    for item in &mut block.items {
        if let ImplItem::Fn(method) = item
            && method.sig.ident == "authenticate"
            && method.sig.asyncness.is_some()
        {
            *method = match check_method(&method.sig, errors) {
                Some(parts) => emit_method(method, parts),
                None => fallback_method(method),
            };
        }
    }
    if !errors.is_empty() {
        // The rewritten impl without its registration: only our errors are reported.
        return Some(quote!(#block));
    }
    let self_ty = &block.self_ty;
    let self_ty_span = first_token_span(self_ty);
    let build = quote_spanned!(self_ty_span=> ::authn::__private::build_default::<#self_ty>);
    let register = registration(&args.name, build, self_ty_span);
    Some(quote! {
        #block
        #register
    })
}

/// What an `async fn authenticate` must have for the boxed form: its two typed parameters and
/// its return type.
struct MethodParts {
    request: syn::PatType,
    options: syn::PatType,
    output: syn::Type,
}

fn check_method(sig: &Signature, errors: &mut Errors) -> Option<MethodParts> {
    let inputs: Vec<&FnArg> = sig.inputs.iter().collect();
    let parameters = match inputs.as_slice() {
        [FnArg::Receiver(receiver), FnArg::Typed(request), FnArg::Typed(options)]
            if receiver.reference.is_some() && receiver.mutability.is_none() =>
        {
            Some((request, options))
        }
        _ => {
            errors.spanned(&sig.inputs, "expected `(&self, request: &HttpRequest, options: &StrategyOptions)`");
            None
        }
    };
    let output = match &sig.output {
        syn::ReturnType::Type(_, ty) => Some(ty),
        syn::ReturnType::Default => {
            errors.spanned(sig.fn_token, "`authenticate` returns `Result<Outcome, AuthError>`");
            None
        }
    };
    let ((request, options), output) = (parameters?, output?);
    Some(MethodParts { request: (*request).clone(), options: (*options).clone(), output: (**output).clone() })
}

/// `async fn authenticate(&self, request: &HttpRequest, options: &StrategyOptions) -> R`
/// becomes the trait's boxed form; the body moves into an `async move` block unchanged.
fn emit_method(method: &ImplItemFn, MethodParts { request, options, output }: MethodParts) -> ImplItemFn {
    let lifetime = syn::Lifetime::new("'__authn", Span::mixed_site());
    let boxed_output =
        quote_spanned!(first_token_span(&output)=> ::authn::__private::LocalBoxFuture<#lifetime, #output>);
    let (request_pat, options_pat) = (&request.pat, &options.pat);
    let request_ty = reference_with_lifetime(&request.ty, &lifetime);
    let options_ty = reference_with_lifetime(&options.ty, &lifetime);
    let body = &method.block;
    let attrs = &method.attrs;
    let vis = &method.vis;
    let async_span = method.sig.asyncness.map_or_else(Span::call_site, |a| a.span);
    let boxed = quote_spanned! {async_span=>
        ::authn::__private::Box::pin(async move {
            let __authn_ret: #output = #body;
            __authn_ret
        })
    };
    syn::parse_quote! {
        #(#attrs)*
        #vis fn authenticate<#lifetime>(
            &#lifetime self,
            #request_pat: #request_ty,
            #options_pat: #options_ty,
        ) -> #boxed_output {
            #boxed
        }
    }
}

/// A method whose signature our error already explains: the trait's exact signature with a
/// body that never runs (the crate does not compile), so rustc adds no second error about the
/// same mistake, as thiserror's fallback impls do.
fn fallback_method(method: &ImplItemFn) -> ImplItemFn {
    let attrs = &method.attrs;
    syn::parse_quote! {
        #(#attrs)*
        fn authenticate<'__authn>(
            &'__authn self,
            _: &'__authn ::authn::__private::HttpRequest,
            _: &'__authn ::authn::__private::StrategyOptions,
        ) -> ::authn::__private::StrategyFuture<'__authn> {
            ::authn::__private::core::unreachable!()
        }
    }
}

fn reference_with_lifetime(ty: &syn::Type, lifetime: &syn::Lifetime) -> TokenStream {
    match ty {
        syn::Type::Reference(reference) => {
            let elem = &reference.elem;
            quote!(&#lifetime #elem)
        }
        other => quote!(#other),
    }
}

// Input:
//     #[strategy("api-key", options(header = str))]
//     async fn api_key(request: &HttpRequest, options: &StrategyOptions) -> Result<Outcome, AuthError> { .. }
// or, the adapter form, extractors by value:
//     async fn session(identity: Option<Identity>) -> Verdict { .. }
// Output: the fn unchanged, plus (in an anonymous const) a unit struct implementing
// AuthenticationStrategy by calling it, and its registration.
/// The two forms of a function strategy.
enum FnForm {
    /// `(request: &HttpRequest)`, or with `options: &StrategyOptions`: the number of parameters.
    Request(usize),
    /// Extractors by value, answering a `Verdict`.
    Adapter,
}

fn check_fn(function: &ItemFn, errors: &mut Errors) -> Option<FnForm> {
    let sig = &function.sig;
    if sig.asyncness.is_none() {
        errors.spanned(sig.fn_token, "the `async` keyword is missing from the strategy function");
    }
    if let Some(receiver) = sig.receiver() {
        errors.spanned(
            receiver,
            "a function strategy is a free function; implement `AuthenticationStrategy` for a type instead",
        );
    }
    if !sig.generics.params.is_empty() {
        errors.spanned(&sig.generics, "a function strategy cannot be generic");
    }
    let typed: Vec<&syn::PatType> =
        sig.inputs.iter().filter_map(|arg| if let FnArg::Typed(t) = arg { Some(t) } else { None }).collect();
    // Owned parameters are extractors (the adapter form); references are the request and options.
    let (by_reference, owned): (Vec<&syn::PatType>, Vec<&syn::PatType>) =
        typed.iter().partition(|t| matches!(*t.ty, syn::Type::Reference(_)));
    let adapter = by_reference.is_empty() && !owned.is_empty();
    if !by_reference.is_empty() && !owned.is_empty() {
        for owned in &owned {
            errors.spanned(
                &owned.ty,
                "a function strategy takes the request (and options) by reference, or only extractors by value \
                 (the adapter form), not both; an adapter can take `HttpRequest` by value",
            );
        }
    } else if !adapter && !matches!(sig.inputs.len(), 1 | 2) {
        errors.push(syn::Error::new(
            sig.paren_token.span.join(),
            "a function strategy takes `(request: &HttpRequest)`, `(request: &HttpRequest, options: &StrategyOptions)`, \
             or extractors by value returning a `Verdict` (the adapter form)",
        ));
    }
    if !errors.is_empty() {
        return None;
    }
    Some(if adapter { FnForm::Adapter } else { FnForm::Request(sig.inputs.len()) })
}

// Input:
//     #[strategy("api-key", options(header = str))]
//     async fn api_key(request: &HttpRequest, options: &StrategyOptions) -> Result<Outcome, AuthError> { .. }
// or, the adapter form, extractors by value:
//     async fn session(identity: Option<Identity>) -> Verdict { .. }
// Output: the fn unchanged, plus (in an anonymous const) a unit struct implementing
// AuthenticationStrategy by calling it, and its registration.
fn emit_fn(function: &ItemFn, args: &Args, form: FnForm) -> TokenStream {
    let sig = &function.sig;
    let name = &sig.ident;
    let hidden = format_ident!("__AuthnFnStrategy", span = Span::mixed_site());
    let accepted = args.options.as_ref().map(|(_, entries)| {
        let specs = entries.iter().map(|(key, kind)| {
            let key = key.to_string();
            quote!(::authn::__private::OptionSpec::new(#key, #kind))
        });
        quote! {
            fn accepted_options(&self) -> &'static [::authn::__private::OptionSpec] {
                const ACCEPTED: &[::authn::__private::OptionSpec] = &[#(#specs),*];
                ACCEPTED
            }
        }
    });
    let build = quote!(|| ::authn::__private::Box::new(#hidden));
    let register = registration(&args.name, build, name.span());
    let request = Ident::new("request", Span::mixed_site());
    let options = Ident::new("options", Span::mixed_site());
    let future = match form {
        FnForm::Adapter => adapter_future(sig, &request),
        FnForm::Request(1) => quote!(#name(#request)),
        FnForm::Request(_) => quote!(#name(#request, #options)),
    };
    quote! {
        #function

        const _: () = {
            struct #hidden;

            impl ::authn::__private::AuthenticationStrategy for #hidden {
                fn authenticate<'a>(
                    &'a self,
                    #request: &'a ::authn::__private::HttpRequest,
                    #options: &'a ::authn::__private::StrategyOptions,
                ) -> ::authn::__private::StrategyFuture<'a> {
                    let _ = &#options;
                    ::authn::__private::Box::pin(#future)
                }
                #accepted
            }

            #register
        };
    }
}

/// `from_extractor` extracts the tuple of the parameters' types, then calls the function; its
/// answer goes through `into_verdict`, spanned at the return type, so a function that answers
/// something else is reported there, and the call is spanned at the parameter list, so an
/// argument that is not an extractor is reported there.
fn adapter_future(sig: &Signature, request: &Ident) -> TokenStream {
    let name = &sig.ident;
    let types = sig.inputs.iter().filter_map(|arg| if let FnArg::Typed(t) = arg { Some(&t.ty) } else { None });
    let bindings: Vec<Ident> =
        (0..sig.inputs.len()).map(|i| Ident::new(&format!("__authn_arg{i}"), Span::mixed_site())).collect();
    let output_span = match &sig.output {
        syn::ReturnType::Default => sig.paren_token.span.close(),
        syn::ReturnType::Type(_, ty) => first_token_span(ty),
    };
    let answer = quote_spanned!(output_span=> ::authn::__private::into_verdict(__authn_answer));
    quote_spanned! {sig.paren_token.span.join()=>
        ::authn::__private::from_extractor(#request, |(#(#bindings,)*): (#(#types,)*)| async move {
            let __authn_answer = #name(#(#bindings),*).await;
            #answer
        })
    }
}
