#!/usr/bin/env bash
# Compile time as a user meets it: a generated crate of 200 handlers, each
# `#[authenticate("demo")]` + `CurrentUser` + one `web::Query`, against the same 200 handlers
# without authn (the Query only), dependencies prebuilt. Reports, per profile, the clean build of
# the crate (`cargo clean -p`, then build) and the rebuild after one handler changed, each the
# median of RUNS runs taken in alternation, and the ratios, with the range over the runs.
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

generate() { # crate with_authn
    local crate=$1 authn=$2 file="$DIR/$1/src/main.rs"
    mkdir -p "$DIR/$crate/src"
    cat > "$DIR/$crate/Cargo.toml" <<TOML
[package]
name = "$crate"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
$( [ "$authn" = yes ] && echo "authn = { path = \"$ROOT/runtime\" }" )
actix-web = { version = "4", default-features = false, features = ["macros"] }
serde = { version = "1", features = ["derive"] }
TOML
    {
        if [ "$authn" = yes ]; then
            echo 'use actix_web::{App, HttpRequest, get, web};'
            echo 'use authn::{AuthError, CurrentUser, Outcome, StrategyOptions, UserProfile, authenticate, strategy};'
            echo '#[strategy("demo")]'
            echo 'async fn demo(r: &HttpRequest, _o: &StrategyOptions) -> Result<Outcome, AuthError> {'
            echo '    Ok(r.headers().get("x-user").map_or(Outcome::NoCredentials, |_| Outcome::User(UserProfile::new("u"))))'
            echo '}'
        else
            echo 'use actix_web::{App, get, web};'
        fi
        echo '#[derive(serde::Deserialize)] pub struct Q { n: u32 }'
        for i in $(seq "$HANDLERS"); do
            if [ "$authn" = yes ]; then
                echo "#[authenticate(\"demo\")] #[get(\"/h$i\")]"
                echo "async fn h$i(user: CurrentUser, q: web::Query<Q>) -> String { format!(\"{} $i {}\", user.id, q.n) }"
            else
                echo "#[get(\"/h$i\")]"
                echo "async fn h$i(q: web::Query<Q>) -> String { format!(\"- $i {}\", q.n) }"
            fi
        done
        echo 'fn main() {'
        [ "$authn" = yes ] && echo '    let _ = authn::validate();'
        echo -n '    let _app = App::new()'
        for i in $(seq "$HANDLERS"); do echo -n ".service(h$i)"; done
        echo ';'
        echo '}'
    } > "$file"
}

cat > "$DIR/Cargo.toml" <<'TOML'
[workspace]
members = ["with-authn", "without-authn"]
resolver = "2"
TOML
generate with-authn yes
generate without-authn no
cp "$ROOT/Cargo.lock" "$DIR/Cargo.lock"
export CARGO_TARGET_DIR=$DIR/target
# A user's default profiles: the repository's .cargo/config.toml (which reaches this crate,
# under target/) trims debug info for the tests' sake.
cargo() { command cargo "$1" --config 'profile.dev.debug=true' --config 'profile.dev.package."*".debug=true' "${@:2}"; }
# Dependencies once, for both profiles.
for profile in dev release; do
    cargo build -q --manifest-path "$DIR/Cargo.toml" --profile "$profile" -p with-authn -p without-authn
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
        for crate in with-authn without-authn; do
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
    f"| {sys.argv[2]} handlers, median of {sys.argv[3]} runs | with authn (s) | without (s) | ratio (range over runs) |",
    "|---|---|---|---|",
]
for profile in ["dev", "release"]:
    for kind, label in [("clean", "clean build of the crate"), ("rebuild", "rebuild after one handler changed")]:
        w, wo = times[(profile, kind, "with-authn")], times[(profile, kind, "without-authn")]
        ratios = sorted(a / b for a, b in zip(w, wo))
        lines.append(
            f"| {profile}: {label} | {statistics.median(w):.2f} | {statistics.median(wo):.2f} | "
            f"{statistics.median(ratios):.2f} ({ratios[0]:.2f}–{ratios[-1]:.2f}) |"
        )
table = "\n".join(lines) + "\n"
open(sys.argv[4], "w").write(table)
print(table)
PY
rm -f "$OUT"
