use authn::adapter::Verdict;
use authn::strategy;

#[strategy("not-extractor")]
async fn not_extractor(count: u32) -> Verdict {
    let _ = count;
    Verdict::Pass
}

fn main() {}
