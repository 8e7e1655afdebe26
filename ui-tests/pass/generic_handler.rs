use actix_web::{App, web};
use authn::{CurrentUser, authenticate};

trait Store: 'static {
    fn name() -> &'static str;
}

struct Memory;
impl Store for Memory {
    fn name() -> &'static str {
        "memory"
    }
}

#[authenticate("jwt")]
async fn list<S>(user: CurrentUser, data: web::Data<String>) -> String
where
    S: Store,
{
    format!("{} {} {}", S::name(), user.id, data.get_ref())
}

fn main() {
    let _ = App::new().route("/todos", web::get().to(list::<Memory>));
}
