//! `#[authenticate]` on a handler, in three phases: parse (the attribute, and the function with
//! its body kept as tokens), check (every mistake into the accumulator), emit (infallible).

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, FnArg, GenericArgument, Ident, LitStr, Pat, PathArguments, Signature, Type, Visibility};

use crate::args::{self, Requirement};
use crate::diagnostics::{Errors, location, with_item};

/// A function whose body is kept as tokens (tracing-attributes' `MaybeItemFn`): a mistake inside
/// the body is the compiler's to report, not ours.
struct HandlerFn {
    attrs: Vec<Attribute>,
    vis: Visibility,
    sig: Signature,
    body: Group,
}

impl Parse for HandlerFn {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let not_a_function = |span| syn::Error::new(span, "#[authenticate] applies to async handler functions");
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        let sig: Signature = input.parse().map_err(|_| not_a_function(input.span()))?;
        match input.parse::<Group>() {
            Ok(body) if body.delimiter() == Delimiter::Brace && input.is_empty() => {
                Ok(HandlerFn { attrs, vis, sig, body })
            }
            _ => Err(syn::Error::new(sig.ident.span(), "a handler needs a body: `{ ... }` after its signature")),
        }
    }
}

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

/// What the checks made of the signature.
struct Checked {
    params: Vec<Param>,
    user: Option<UserParam>,
}

pub fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let requirement = args::parse(args, &mut errors);
    let mut function: HandlerFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(error) => {
            errors.push(error);
            return with_item(item, errors.into_error());
        }
    };
    let checked = check_signature(&function, &mut errors);
    if let (Some(Requirement::Skip), Some(user)) = (&requirement, &checked.user) {
        errors.spanned(
            &user.ty,
            "a handler with `#[authenticate(skip)]` cannot take `CurrentUser`: nothing authenticates it",
        );
    }
    match (errors.finish(), requirement) {
        (Ok(()), Some(requirement)) => emit(&mut function, &requirement, checked),
        (Err(error), _) => with_item(item, error),
        // `args::parse` returns `None` only after pushing an error.
        (Ok(()), None) => item,
    }
}

fn check_signature(function: &HandlerFn, errors: &mut Errors) -> Checked {
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
    Checked { params, user }
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

impl Parse for RouteArgs {
    fn parse(input: ParseStream) -> syn::Result<Self> {
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
fn mark_routes(attrs: &mut [Attribute], handler: &Ident, guard: &Ident) -> Vec<Binding> {
    let default_name = handler.to_string();
    let mut bindings = Vec::new();
    for attr in attrs {
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
        let ends_with_comma =
            matches!(list.tokens.clone().into_iter().last(), Some(TokenTree::Punct(p)) if p.as_char() == ',');
        if !list.tokens.is_empty() && !ends_with_comma {
            list.tokens.extend(quote!(,));
        }
        list.tokens.extend(quote!(guard = #guard_path));
    }
    bindings
}

/// The names of the items emitted beside one handler.
struct Names {
    marker: Ident,
    spec: Ident,
    strategies: Ident,
    guard: Ident,
    arg: Ident,
}

impl Names {
    fn of(handler: &Ident) -> Self {
        let span = handler.span();
        Names {
            marker: format_ident!("__authn_route_{}", handler, span = span),
            spec: format_ident!("__AUTHN_ROUTE_{}", handler, span = span),
            strategies: format_ident!("__AUTHN_STRATEGIES_{}", handler, span = span),
            guard: format_ident!("__authn_guard_{}", handler, span = span),
            // Hygienic: the user's code cannot name it.
            arg: Ident::new("__authn_args", Span::mixed_site()),
        }
    }
}

// Input:
//     #[authenticate("jwt", scopes = ["read"])]
//     #[get("/todos/{id}")]                     (or above the attribute, or none)
//     async fn show<T>(id: Path<u32>, user: CurrentUser<Claims>, db: Data<T>) -> R { body }
//
// Output:
//     static SPEC: RouteSpec = ...;             (name, file:line, strategies, options, user)
//     inventory::submit!(RouteRegistration(&SPEC));
//     const __authn_guard_show: RouteGuard = { fn chosen(ctx) -> bool { route_chosen(ctx, &SPEC) } chosen };
//     #[get("/todos/{id}", guard = "__authn_guard_show")]   (route macros below the attribute)
//     async fn show<T>(__authn_args: Routed<(Path<u32>, Data<T>), CurrentUser<Claims>>) -> R {
//         let (user, (id, db)) = __authn_args.into_parts();
//         body's statements                     (spliced, not nested: no `unused_braces`)
//     }
//
// Without a route macro below (above the attribute, or registered by hand), no guard can name
// the spec, so a hidden marker type carries it:
//     struct __authn_route_show;
//     impl RouteMarker for __authn_route_show { fn spec() -> &'static RouteSpec { &SPEC } }
//     async fn show<T>(__authn_args: Authenticated<__authn_route_show, (..), CurrentUser<Claims>>) -> R
fn emit(function: &mut HandlerFn, requirement: &Requirement, checked: Checked) -> TokenStream {
    let names = Names::of(&function.sig.ident);
    let routes = mark_routes(&mut function.attrs, &function.sig.ident, &names.guard);
    let spec = emit_spec(&function.sig.ident, &function.vis, &names, requirement, checked.user.as_ref(), &routes);
    let handler = emit_handler(function, &names, &checked, !routes.is_empty());
    quote! {
        #spec
        #handler
    }
}

/// The marker type, the route's strategies and spec, its registration and its guard.
fn emit_spec(
    handler: &Ident,
    vis: &Visibility,
    names: &Names,
    requirement: &Requirement,
    user: Option<&UserParam>,
    routes: &[Binding],
) -> TokenStream {
    let Names { marker, spec, strategies, guard, .. } = names;
    // Everything written here is spanned at the handler's name, as if the user had written it
    // there: the compiler's incremental cache then keeps the strategies, the guard and its
    // function across a rebuild after an edit elsewhere in the file, where tokens carrying the
    // macro's own context are re-checked. (The spec's `static` is still re-checked: the
    // `module_path!`/`file!`/`line!` of its location nest an expansion.) The paths are
    // absolute and the only binding (`ctx`) is local to our function, so the user's hygiene
    // takes nothing from them; the user's option values keep their own spans.
    let span = handler.span();
    let name = LitStr::new(&handler.to_string(), span);
    let (requirement_tokens, strategies_const) = match requirement {
        Requirement::Skip => (quote_spanned!(span=> ::authn::__private::Requirement::Skip), quote!()),
        Requirement::Group => (quote_spanned!(span=> ::authn::__private::Requirement::Group), quote!()),
        Requirement::Strategies(list) => {
            let uses = list.iter().map(|s| {
                let strategy_name = &s.name;
                let options = s.options.iter().map(|(key, value)| {
                    let key = LitStr::new(&key.to_string(), span);
                    quote_spanned!(span=> (#key, #value))
                });
                quote_spanned! {span=>
                    ::authn::__private::StrategyUse::with_options(
                        #strategy_name,
                        ::authn::__private::StrategyOptions::new(&[#(#options),*]),
                    )
                }
            });
            (
                quote_spanned!(span=> ::authn::__private::Requirement::Strategies(#strategies)),
                quote_spanned! {span=>
                    #[doc(hidden)]
                    #[allow(non_upper_case_globals)]
                    const #strategies: &[::authn::__private::StrategyUse] = &[#(#uses),*];
                },
            )
        }
    };
    let user_kind = match user.map(|u| u.kind) {
        None => quote_spanned!(span=> Unused),
        Some(UserKind::Required) => quote_spanned!(span=> Required),
        Some(UserKind::Optional) => quote_spanned!(span=> Optional),
    };
    let location = location(span);
    // How the spec reaches the handler's extractor: through the guard the route macros below
    // name, a function pointer rather than a function item, so every handler's guard has the one
    // type (actix instantiates its guard code per type); without one, through a marker type.
    let carrier = if routes.is_empty() {
        quote_spanned! {span=>
            #[doc(hidden)]
            #[allow(non_camel_case_types, dead_code)]
            #vis struct #marker;

            impl ::authn::__private::RouteMarker for #marker {
                fn spec() -> &'static ::authn::__private::RouteSpec {
                    &#spec
                }
            }
        }
    } else {
        quote_spanned! {span=>
            #[doc(hidden)]
            #[allow(non_upper_case_globals)]
            const #guard: ::authn::__private::RouteGuard = {
                // A function item, coerced: a closure would add a shim per handler.
                fn chosen(ctx: &::authn::__private::GuardContext<'_>) -> bool {
                    ::authn::__private::route_chosen(ctx, &#spec)
                }
                chosen
            };
        }
    };
    let routes = routes.iter().map(|Binding { method, path, resource }| {
        let (method, resource) = (LitStr::new(method, span), LitStr::new(resource, span));
        quote_spanned!(span=> ::authn::__private::route_binding(#method, #path, #resource))
    });
    quote_spanned! {span=>
        #strategies_const

        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        static #spec: ::authn::__private::RouteSpec = ::authn::__private::route_spec(
            #name,
            #location,
            #requirement_tokens,
            ::authn::__private::UserParam::#user_kind,
            &[#(#routes),*],
        );

        #carrier

        ::authn::__private::inventory::submit! {
            ::authn::__private::RouteRegistration(&#spec)
        }
    }
}

/// The handler itself: one `Authenticated` argument, the user's patterns rebound, the body's
/// tokens spliced after them. Parentheses and braces keep the user's spans, so the item's span
/// is the user's and lints such as `dead_code` keep firing on it as on any handler.
fn emit_handler(function: &HandlerFn, names: &Names, checked: &Checked, routed: bool) -> TokenStream {
    let HandlerFn { attrs, vis, sig, body } = function;
    let Signature { constness, asyncness, unsafety, abi, fn_token, ident, generics, output, paren_token, .. } = sig;
    let where_clause = &generics.where_clause;
    let (marker, arg) = (&names.marker, &names.arg);
    let (user_pat, user_ty) = match &checked.user {
        None => (quote!(_), quote!(())),
        Some(UserParam { pat, ty, .. }) => (quote!(#pat), quote!(#ty)),
    };
    let pats = checked.params.iter().map(|p| &p.pat);
    let tys = checked.params.iter().map(|p| &p.ty);
    let mut inputs = TokenStream::new();
    paren_token.surround(&mut inputs, |tokens| {
        // With its route macros below, the handler is reached only through them, and their guard
        // names its spec: the extractor's type needs no marker, and all handlers share its code.
        // Otherwise the marker type carries the spec.
        if routed {
            tokens.extend(quote!(#arg: ::authn::__private::Routed<(#(#tys,)*), #user_ty>));
        } else {
            tokens.extend(quote!(#arg: ::authn::__private::Authenticated<#marker, (#(#tys,)*), #user_ty>));
        }
    });
    // Inner attributes (`#![allow(..)]`) must stay first in the body.
    let (inner_attrs, statements) = split_inner_attributes(body.stream());
    let mut stream = inner_attrs;
    stream.extend(quote!(let (#user_pat, (#(#pats,)*)) = #arg.into_parts();));
    stream.extend(statements);
    let mut block = Group::new(Delimiter::Brace, stream);
    block.set_span(body.span());
    let mut tokens = TokenStream::new();
    for attr in attrs {
        attr.to_tokens(&mut tokens);
    }
    tokens.extend(
        quote!(#vis #constness #asyncness #unsafety #abi #fn_token #ident #generics #inputs #output #where_clause),
    );
    tokens.extend([TokenTree::Group(block)]);
    tokens
}

/// The leading `#![...]` attributes of a body, and the rest.
fn split_inner_attributes(body: TokenStream) -> (TokenStream, TokenStream) {
    let mut trees: Vec<TokenTree> = body.into_iter().collect();
    let mut at = 0;
    while let [TokenTree::Punct(hash), TokenTree::Punct(bang), TokenTree::Group(group), ..] = &trees[at..]
        && hash.as_char() == '#'
        && bang.as_char() == '!'
        && group.delimiter() == Delimiter::Bracket
    {
        at += 3;
    }
    let rest = trees.split_off(at);
    (trees.into_iter().collect(), rest.into_iter().collect())
}
