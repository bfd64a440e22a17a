//! The `otc-acme-hook` binary: everything lives in the library.
fn main() -> std::process::ExitCode {
    otc_acme_hook::app::main_with(
        std::env::args_os().collect(),
        otc_acme_hook::world::World::real(),
    )
}
