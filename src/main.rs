//! The `billbridge` binary: parse the command line and hand over.

/// mimalloc rather than glibc's allocator: the server allocates from many threads at once
/// (tokio's workers and one per SQLite connection), where glibc's arenas contend on locks
/// (README: Performance has the before and after). Built without transparent huge pages
/// (`no_thp`), which would make every touched 2 MiB of its arenas resident.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    billbridge::cli::main()
}
