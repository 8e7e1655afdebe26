//! `#[authenticate]` on a handler: the model of its signature, the checks, and the rewrite.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::{FnArg, GenericArgument, ItemFn, Pat, PathArguments, Type};

use crate::args::{self, Requirement};
use crate::diagnostics::{Errors, first_token_span, with_item};

/// How the handler takes the user.
#[derive(Clone, Copy, PartialEq)]
enum UserKind {
    Required,
    Optional,
}

/// A handler parameter other than the user.
struct Param {
    pat: Box<Pat>,
    ty: Box<Type>,
}

struct UserParam {
    pat: Box<Pat>,
    ty: Box<Type>,
    kind: UserKind,
}

pub fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let requirement = args::parse(args, &mut errors);
    let function: ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(_) => {
            let message = "#[authenticate] applies to async handler functions";
            errors.push(syn::Error::new(first_token_span(&item), message));
            return with_item(item, errors.finish().unwrap_err());
        }
    };
    let (params, user) = check_signature(&function, &mut errors);
    let routes = route_bindings(&function);
    if let (Some(Requirement::Skip), Some(user)) = (&requirement, &user) {
        errors.spanned(
            &user.ty,
            "a handler with `#[authenticate(skip)]` cannot take `CurrentUser`: nothing authenticates it",
        );
    }
    match (errors.finish(), requirement) {
        (Ok(()), Some(requirement)) => rewrite(function, &requirement, params, user, &routes),
        (Err(error), _) => with_item(item, error),
        // `args::parse` returns `None` only after pushing an error.
        (Ok(()), None) => item,
    }
}

fn check_signature(function: &ItemFn, errors: &mut Errors) -> (Vec<Param>, Option<UserParam>) {
    let sig = &function.sig;
    if sig.asyncness.is_none() {
        errors.spanned(sig.fn_token, "the `async` keyword is missing from the handler declaration");
    }
    for attr in &function.attrs {
        if attr.path().segments.last().is_some_and(|s| s.ident == "authenticate") {
            errors.spanned(
                attr,
                "#[authenticate] is applied more than once; list every strategy in one attribute, \
                 e.g. `#[authenticate(\"jwt\", \"basic\")]`",
            );
        }
    }
    let mut params = Vec::new();
    let mut user: Option<UserParam> = None;
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) => errors
                .spanned(receiver, "#[authenticate] handlers cannot take `self`: actix handlers are free functions"),
            FnArg::Typed(typed) => {
                if let Some(attr) = typed.attrs.first() {
                    errors
                        .spanned(attr, "attributes on the parameters of an #[authenticate] handler are not supported");
                }
                match user_kind(&typed.ty) {
                    Some(_) if user.is_some() => {
                        errors.spanned(&typed.ty, "a handler takes the current user once; remove this parameter");
                    }
                    Some(kind) => user = Some(UserParam { pat: typed.pat.clone(), ty: typed.ty.clone(), kind }),
                    None => params.push(Param { pat: typed.pat.clone(), ty: typed.ty.clone() }),
                }
            }
        }
    }
    (params, user)
}

const METHOD_MACROS: [&str; 9] = ["get", "post", "put", "delete", "head", "connect", "options", "trace", "patch"];

/// The `(METHOD, "/path")` pairs of actix route macros written *below* this attribute (still
/// on the function when we run). Groups need them to let a handler override them soundly;
/// macros that already ran (above us) leave nothing to read, and the route stays unknown.
fn route_bindings(function: &ItemFn) -> Vec<(String, syn::LitStr)> {
    let mut bindings = Vec::new();
    for attr in &function.attrs {
        let Some(name) = attr.path().segments.last().map(|s| s.ident.to_string()) else { continue };
        if METHOD_MACROS.contains(&name.as_str()) {
            if let Ok(path) = attr.parse_args_with(|input: syn::parse::ParseStream| {
                let path: syn::LitStr = input.parse()?;
                input.parse::<TokenStream>()?;
                Ok(path)
            }) {
                bindings.push((name.to_ascii_uppercase(), path));
            }
        } else if name == "route" {
            let _ = attr.parse_args_with(|input: syn::parse::ParseStream| {
                let path: syn::LitStr = input.parse()?;
                while input.parse::<Option<syn::Token![,]>>()?.is_some() && !input.is_empty() {
                    let key: syn::Ident = input.parse()?;
                    input.parse::<syn::Token![=]>()?;
                    if key == "method" {
                        let method: syn::LitStr = input.parse()?;
                        bindings.push((method.value().to_ascii_uppercase(), path.clone()));
                    } else {
                        input.parse::<syn::Expr>()?;
                    }
                }
                Ok(())
            });
        }
    }
    bindings
}

/// `CurrentUser<..>` (any path ending so) or `Option<CurrentUser<..>>`.
fn user_kind(ty: &Type) -> Option<UserKind> {
    let last = last_segment(ty)?;
    if last.ident == "CurrentUser" {
        return Some(UserKind::Required);
    }
    if last.ident == "Option"
        && let PathArguments::AngleBracketed(args) = &last.arguments
        && let Some(GenericArgument::Type(inner)) = args.args.first()
        && last_segment(inner).is_some_and(|s| s.ident == "CurrentUser")
    {
        return Some(UserKind::Optional);
    }
    None
}

fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(path) if path.qself.is_none() => path.path.segments.last(),
        Type::Group(group) => last_segment(&group.elem),
        Type::Paren(paren) => last_segment(&paren.elem),
        _ => None,
    }
}

// Input:
//     #[get("/todos/{id}")]                     (kept wherever it was)
//     #[authenticate("jwt", scopes = ["read"])]
//     async fn show<T>(id: Path<u32>, user: CurrentUser<Claims>, db: Data<T>) -> R { body }
//
// Output:
//     struct __authn_route_show;                (hidden marker, one per handler)
//     impl RouteMarker for __authn_route_show { fn spec() -> &'static RouteSpec { &SPEC } }
//     static SPEC: RouteSpec = ...;             (name, file:line, strategies, options, user)
//     inventory::submit!(RouteRegistration(&SPEC));
//     #[get("/todos/{id}")]
//     async fn show<T>(__authn_args: Authenticated<__authn_route_show, (Path<u32>, Data<T>), CurrentUser<Claims>>) -> R {
//         let (user, (id, db)) = __authn_args.into_parts();
//         { body }
//     }
fn rewrite(
    function: ItemFn,
    requirement: &Requirement,
    params: Vec<Param>,
    user: Option<UserParam>,
    routes: &[(String, syn::LitStr)],
) -> TokenStream {
    let ItemFn { attrs, vis, sig, block } = function;
    let name = &sig.ident;
    let name_str = name.to_string();
    let hidden = Span::mixed_site();
    let marker = format_ident!("__authn_route_{}", name, span = name.span());
    let spec = format_ident!("__AUTHN_ROUTE_{}", name, span = name.span());
    let strategies = format_ident!("__AUTHN_STRATEGIES_{}", name, span = name.span());
    let arg = syn::Ident::new("__authn_args", hidden);

    let requirement_tokens = match requirement {
        Requirement::Skip => quote!(::authn::__private::Requirement::Skip),
        Requirement::Strategies(_) => quote!(::authn::__private::Requirement::Strategies(#strategies)),
    };
    let strategies_const = match requirement {
        Requirement::Skip => quote!(),
        Requirement::Strategies(list) => {
            let uses = list.iter().map(|s| {
                let strategy_name = &s.name;
                let options = s.options.iter().map(|(key, value)| {
                    let key = key.to_string();
                    // Values were checked while parsing; a conversion error is reported inline.
                    let value = value.to_tokens().unwrap_or_else(syn::Error::into_compile_error);
                    quote!((#key, #value))
                });
                quote! {
                    ::authn::__private::StrategyUse::with_options(
                        #strategy_name,
                        ::authn::__private::StrategyOptions::new(&[#(#options),*]),
                    )
                }
            });
            quote! {
                #[doc(hidden)]
                #[allow(non_upper_case_globals)]
                const #strategies: &[::authn::__private::StrategyUse] = &[#(#uses),*];
            }
        }
    };
    let (user_kind, user_pat, user_ty) = match &user {
        None => (quote!(None), quote!(_), quote!(())),
        Some(UserParam { pat, ty, kind }) => {
            let kind = match kind {
                UserKind::Required => quote!(Required),
                UserKind::Optional => quote!(Optional),
            };
            (kind, quote!(#pat), quote!(#ty))
        }
    };
    let location = quote_spanned! {name.span()=>
        ::authn::__private::Location {
            module: ::authn::__private::core::module_path!(),
            file: ::authn::__private::core::file!(),
            line: ::authn::__private::core::line!(),
        }
    };
    let routes =
        routes.iter().map(|(method, path)| quote!(::authn::__private::RouteBinding { method: #method, path: #path }));
    let pats = params.iter().map(|p| &p.pat);
    let tys = params.iter().map(|p| &p.ty);
    let syn::Signature { constness, asyncness, unsafety, abi, fn_token, generics, output, .. } = &sig;
    let where_clause = &generics.where_clause;
    // The parentheses and braces keep the user's spans, so the item's span is the user's and
    // lints such as `dead_code` keep firing on it as on any handler.
    let mut inputs = TokenStream::new();
    sig.paren_token.surround(&mut inputs, |tokens| {
        tokens.extend(quote!(#arg: ::authn::__private::Authenticated<#marker, (#(#tys,)*), #user_ty>));
    });
    let mut body = TokenStream::new();
    block.brace_token.surround(&mut body, |tokens| {
        tokens.extend(quote!(let (#user_pat, (#(#pats,)*)) = #arg.into_parts(); #block));
    });

    quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code)]
        #vis struct #marker;

        #strategies_const

        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        static #spec: ::authn::__private::RouteSpec = ::authn::__private::RouteSpec::new(
            #name_str,
            #location,
            #requirement_tokens,
            ::authn::__private::UserParam::#user_kind,
            &[#(#routes),*],
        );

        impl ::authn::__private::RouteMarker for #marker {
            fn spec() -> &'static ::authn::__private::RouteSpec {
                &#spec
            }
        }

        ::authn::__private::inventory::submit! {
            ::authn::__private::RouteRegistration(&#spec)
        }

        #(#attrs)*
        #vis #constness #asyncness #unsafety #abi #fn_token #name #generics #inputs #output #where_clause #body
    }
}
