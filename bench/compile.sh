#!/usr/bin/env bash
# Compile time as a user meets it: a generated crate of 200 handlers, each
# `#[authenticate("demo")]` + `CurrentUser` + one `web::Query`, against the same 200 handlers
# without authn (the Query only), dependencies prebuilt. Reports, per profile, the clean build of
# the crate (`cargo clean -p`, then build) and the rebuild after one handler changed, each the
# median of RUNS runs taken in alternation, and the ratios, with their quartiles over the runs.
#
#   bash bench/compile.sh            # HANDLERS=200 RUNS=5
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
HANDLERS=${HANDLERS:-200}
RUNS=${RUNS:-5}
DIR=$ROOT/target/compile-bench
RESULTS=bench/results
mkdir -p "$DIR" "$RESULTS"

# with-authn: the macro. without-authn: the same handlers without it. The others say where the
# cost goes: authn without its default features (the built-in strategies it links), and the
# macro's expansion written out (what #[authenticate] emits for such a handler, see
# macros/src/handler.rs), once whole and once without its inventory registration.
generate() { # crate kind: authn | authn-no-defaults | plain | by-hand | by-hand-unregistered
    local crate=$1 kind=$2 file="$DIR/$1/src/main.rs" p='::authn::__private'
    mkdir -p "$DIR/$crate/src"
    cat > "$DIR/$crate/Cargo.toml" <<TOML
[package]
name = "$crate"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
$( case $kind in plain) ;; authn-no-defaults) echo "authn = { path = \"$ROOT/runtime\", default-features = false }" ;; *) echo "authn = { path = \"$ROOT/runtime\" }" ;; esac )
actix-web = { version = "4", default-features = false, features = ["macros"] }
serde = { version = "1", features = ["derive"] }
TOML
    {
        if [ "$kind" != plain ]; then
            echo '#![allow(non_upper_case_globals)]'
            echo 'use actix_web::{App, HttpRequest, HttpServer, get, web};'
            echo 'use authn::{AuthError, CurrentUser, Outcome, StrategyOptions, UserProfile, strategy};'
            [ "${kind%-no-defaults}" = authn ] && echo 'use authn::authenticate;'
            echo '#[strategy("demo")]'
            echo 'async fn demo(r: &HttpRequest, _o: &StrategyOptions) -> Result<Outcome, AuthError> {'
            echo '    Ok(r.headers().get("x-user").map_or(Outcome::NoCredentials, |_| Outcome::User(UserProfile::new("u"))))'
            echo '}'
        else
            echo 'use actix_web::{App, HttpServer, get, web};'
        fi
        echo '#[derive(serde::Deserialize)] pub struct Q { n: u32 }'
        for i in $(seq "$HANDLERS"); do
            case $kind in
            authn*)
                echo "#[authenticate(\"demo\")] #[get(\"/h$i\")]"
                echo "async fn h$i(user: CurrentUser, q: web::Query<Q>) -> String { format!(\"{} $i {}\", user.id, q.n) }"
                ;;
            plain)
                echo "#[get(\"/h$i\")]"
                echo "async fn h$i(q: web::Query<Q>) -> String { format!(\"- $i {}\", q.n) }"
                ;;
            by-hand*)
                echo "const __AUTHN_STRATEGIES_h$i: &[$p::StrategyUse] = &[$p::StrategyUse::with_options(\"demo\", $p::StrategyOptions::new(&[]))];"
                echo "static __AUTHN_ROUTE_h$i: $p::RouteSpec = $p::route_spec(\"h$i\", $p::location(module_path!(), file!(), line!()), $p::Requirement::Strategies(__AUTHN_STRATEGIES_h$i), $p::UserParam::Required, &[$p::route_binding(\"GET\", \"/h$i\", \"h$i\")]);"
                echo "const __authn_guard_h$i: $p::RouteGuard = { fn chosen(ctx: &$p::GuardContext<'_>) -> bool { $p::route_chosen(ctx, &__AUTHN_ROUTE_h$i) } chosen };"
                [ "$kind" = by-hand ] && echo "$p::inventory::submit! { $p::RouteRegistration(&__AUTHN_ROUTE_h$i) }"
                echo "#[get(\"/h$i\", guard = \"__authn_guard_h$i\")]"
                echo "async fn h$i(args: $p::Routed<(web::Query<Q>,), CurrentUser>) -> String { let (user, (q,)) = args.into_parts(); format!(\"{} $i {}\", user.id, q.n) }"
                ;;
            esac
        done
        # The main of a real app: the server started, which is what gets linked.
        echo '#[actix_web::main]'
        echo 'async fn main() -> std::io::Result<()> {'
        [ "$kind" != plain ] && echo '    authn::validate().map_err(std::io::Error::other)?;'
        echo -n '    HttpServer::new(|| App::new()'
        for i in $(seq "$HANDLERS"); do echo -n ".service(h$i)"; done
        echo ').bind(("127.0.0.1", 0))?.run().await'
        echo '}'
    } > "$file"
}

CRATES=(with-authn without-authn without-defaults by-hand by-hand-unregistered)
cat > "$DIR/Cargo.toml" <<'TOML'
[workspace]
members = ["with-authn", "without-authn", "without-defaults", "by-hand", "by-hand-unregistered"]
resolver = "2"
TOML
generate with-authn authn
generate without-authn plain
generate without-defaults authn-no-defaults
generate by-hand by-hand
generate by-hand-unregistered by-hand-unregistered
cp "$ROOT/Cargo.lock" "$DIR/Cargo.lock"
export CARGO_TARGET_DIR=$DIR/target
# A user's default profiles: the repository's .cargo/config.toml (which reaches this crate,
# under target/) trims debug info for the tests' sake.
cargo() { command cargo "$1" --config 'profile.dev.debug=true' --config 'profile.dev.package."*".debug=true' "${@:2}"; }
# Dependencies once, for both profiles, each crate on its own: built together, the two would
# unify the features of shared dependencies, and the first lone build would rebuild them.
for profile in dev release; do
    for crate in "${CRATES[@]}"; do
        cargo build -q --manifest-path "$DIR/Cargo.toml" --profile "$profile" -p "$crate"
    done
done

seconds() { # command...: wall seconds
    local start end
    start=$(date +%s.%N)
    "$@"
    end=$(date +%s.%N)
    python3 -c "print(f'{$end - $start:.3f}')"
}
build() { cargo build -q --manifest-path "$DIR/Cargo.toml" --profile "$1" -p "$2"; }
# One handler's text changes, as when a user edits it.
touch_handler() { # crate: alternate the first handler's text between two versions
    local file="$DIR/$1/src/main.rs"
    if grep -q 'EDITED' "$file"; then sed -i 's/ EDITED//' "$file"; else sed -i '0,/ 1 {}/s// 1 {} EDITED/' "$file"; fi
}

OUT=$(mktemp)
for run in $(seq "$RUNS"); do
    for profile in dev release; do
        for crate in "${CRATES[@]}"; do
            cargo clean -q --manifest-path "$DIR/Cargo.toml" --profile "$profile" -p "$crate"
            echo "$profile clean $crate $(seconds build "$profile" "$crate")" >> "$OUT"
            touch_handler "$crate"
            echo "$profile rebuild $crate $(seconds build "$profile" "$crate")" >> "$OUT"
        done
    done
done
cp "$OUT" "$RESULTS/compile.txt"
python3 - "$OUT" "$HANDLERS" "$RUNS" "$RESULTS/compile.md" <<'PY'
import statistics, sys
from collections import defaultdict
times = defaultdict(list)
for line in open(sys.argv[1]):
    profile, kind, crate, t = line.split()
    times[(profile, kind, crate)].append(float(t))
lines = [
    f"| {sys.argv[2]} handlers, median of {sys.argv[3]} runs | without (s) | with authn (s) | ratio (quartiles over runs) "
    "| no default features: ratio | expansion by hand: ratio | by hand, unregistered: ratio |",
    "|---|---|---|---|---|---|---|",
]
def quartiles(values):
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return f"{q1:.2f}–{q3:.2f}"
def ratios(profile, kind, crate):
    w, wo = times[(profile, kind, crate)], times[(profile, kind, "without-authn")]
    return sorted(a / b for a, b in zip(w, wo))
for profile in ["dev", "release"]:
    for kind, label in [("clean", "clean build of the crate"), ("rebuild", "rebuild after one handler changed")]:
        w, wo = times[(profile, kind, "with-authn")], times[(profile, kind, "without-authn")]
        r = ratios(profile, kind, "with-authn")
        others = [statistics.median(ratios(profile, kind, c)) for c in ["without-defaults", "by-hand", "by-hand-unregistered"]]
        lines.append(
            f"| {profile}: {label} | {statistics.median(wo):.2f} | {statistics.median(w):.2f} | "
            f"{statistics.median(r):.2f} ({quartiles(r)}) | " + " | ".join(f"{o:.2f}" for o in others) + " |"
        )
table = "\n".join(lines) + "\n"
open(sys.argv[4], "w").write(table)
print(table)
PY
rm -f "$OUT"
