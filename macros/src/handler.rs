//! `#[authenticate]` on a handler: the model of its signature, the checks, and the rewrite.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::{FnArg, GenericArgument, Ident, ItemFn, LitStr, Pat, PathArguments, Type};

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
    if let (Some(Requirement::Skip), Some(user)) = (&requirement, &user) {
        errors.spanned(
            &user.ty,
            "a handler with `#[authenticate(skip)]` cannot take `CurrentUser`: nothing authenticates it",
        );
    }
    match (errors.finish(), requirement) {
        (Ok(()), Some(requirement)) => rewrite(function, &requirement, params, user),
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

/// A route an actix route macro below this attribute binds the handler to.
struct Binding {
    method: String,
    path: LitStr,
    /// The macro's `name = "..."`, or the function's name (what actix names the resource).
    resource: String,
}

/// A route macro's arguments: `"/path" (, key = value)* ,?`.
struct RouteArgs {
    path: LitStr,
    options: Vec<(Ident, syn::Expr)>,
}

impl syn::parse::Parse for RouteArgs {
    fn parse(input: syn::parse::ParseStream) -> syn::Result<Self> {
        let path = input.parse()?;
        let mut options = Vec::new();
        while input.parse::<Option<syn::Token![,]>>()?.is_some() && !input.is_empty() {
            let key = input.call(Ident::parse_any)?;
            input.parse::<syn::Token![=]>()?;
            options.push((key, input.parse()?));
        }
        Ok(RouteArgs { path, options })
    }
}

impl RouteArgs {
    fn string_option<'a>(&'a self, key: &'a str) -> impl Iterator<Item = String> + 'a {
        self.options.iter().filter(move |(k, _)| k == key).filter_map(|(_, value)| match value {
            syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(lit), .. }) => Some(lit.value()),
            _ => None,
        })
    }
}

/// Reads the actix route macros written *below* this attribute (still on the function when we
/// run) and appends to each the guard `guard` (a function emitted beside the handler), which
/// tells a group when the router chose this resource. Macros that already ran (above us) leave
/// nothing to read or mark; a malformed one is left for actix's macro to report.
fn mark_routes(function: &mut ItemFn, guard: &Ident) -> Vec<Binding> {
    let default_name = function.sig.ident.to_string();
    let mut bindings = Vec::new();
    for attr in &mut function.attrs {
        let Some(kind) = attr.path().segments.last().map(|s| s.ident.to_string()) else { continue };
        let is_method = METHOD_MACROS.contains(&kind.as_str());
        if !is_method && kind != "route" {
            continue;
        }
        let syn::Meta::List(list) = &mut attr.meta else { continue };
        let Ok(args) = list.parse_args::<RouteArgs>() else { continue };
        let resource = args.string_option("name").last().unwrap_or_else(|| default_name.clone());
        let methods: Vec<String> =
            if is_method { vec![kind.to_ascii_uppercase()] } else { args.string_option("method").collect() };
        for method in methods {
            bindings.push(Binding { method, path: args.path.clone(), resource: resource.clone() });
        }
        let guard_path = LitStr::new(&guard.to_string(), guard.span());
        if !list.tokens.is_empty() && !list.tokens.to_string().trim_end().ends_with(',') {
            list.tokens.extend(quote!(,));
        }
        list.tokens.extend(quote!(guard = #guard_path));
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
//     #[authenticate("jwt", scopes = ["read"])]
//     #[get("/todos/{id}")]                     (or above the attribute, or none)
//     async fn show<T>(id: Path<u32>, user: CurrentUser<Claims>, db: Data<T>) -> R { body }
//
// Output:
//     struct __authn_route_show;                (hidden marker, one per handler)
//     impl RouteMarker for __authn_route_show { fn spec() -> &'static RouteSpec { &SPEC } }
//     static SPEC: RouteSpec = ...;             (name, file:line, strategies, options, user)
//     inventory::submit!(RouteRegistration(&SPEC));
//     fn __authn_guard_show(ctx: &GuardContext) -> bool { route_chosen(ctx, &SPEC) }
//     #[get("/todos/{id}", guard = "__authn_guard_show")]   (only route macros below the attribute)
//     async fn show<T>(__authn_args: Authenticated<__authn_route_show, (Path<u32>, Data<T>), CurrentUser<Claims>>) -> R {
//         let (user, (id, db)) = __authn_args.into_parts();
//         { body }
//     }
fn rewrite(
    mut function: ItemFn,
    requirement: &Requirement,
    params: Vec<Param>,
    user: Option<UserParam>,
) -> TokenStream {
    let guard = format_ident!("__authn_guard_{}", function.sig.ident, span = function.sig.ident.span());
    let routes = mark_routes(&mut function, &guard);
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
    let routes = routes.iter().map(|Binding { method, path, resource }| {
        quote!(::authn::__private::RouteBinding { method: #method, path: #path, resource: #resource })
    });
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

        #[doc(hidden)]
        #[allow(dead_code)]
        fn #guard(ctx: &::authn::__private::GuardContext<'_>) -> bool {
            ::authn::__private::route_chosen(ctx, &#spec)
        }

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
