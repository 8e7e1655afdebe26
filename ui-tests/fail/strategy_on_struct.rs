use authn::strategy;

#[strategy("key")]
struct Key;

fn main() {}
