use actix_web::{App, get};
use authn::{CurrentUser, authenticate};

// Each expansion has its own hidden names; stacking several handlers in one module is fine.
#[authenticate("jwt")]
#[get("/one")]
async fn one(user: CurrentUser) -> String {
    user.id.clone()
}

#[authenticate("jwt")]
#[get("/two")]
async fn two(user: CurrentUser) -> String {
    let __authn_args = "a user variable with the macro's internal name does not clash";
    format!("{} {}", user.id, __authn_args)
}

pub mod nested {
    use authn::{CurrentUser, authenticate};

    #[authenticate("jwt")]
    pub async fn public_handler(user: CurrentUser) -> String {
        user.id.clone()
    }
}

fn main() {
    let _ = App::new().service(one).service(two).route("/three", actix_web::web::get().to(nested::public_handler));
}
