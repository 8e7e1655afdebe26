use authn::strategy;

struct Key;

#[strategy("key")]
impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("key")
    }
}

fn main() {}
