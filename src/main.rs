//! The `billbridge` binary: parse the command line and hand over.

fn main() -> std::process::ExitCode {
    billbridge::cli::main()
}
