//! The migration CLI: `cargo run -p migration -- up`. Everything it does is
//! in the crate's `cli` module; this only runs it.

fn main() -> std::process::ExitCode {
    migration::cli::main()
}
