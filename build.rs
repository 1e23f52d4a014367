//! Builds the SPA in `frontend/` (npm) when its sources change, so that `cargo run` on a
//! fresh machine with Node.js is all it takes. `rust-embed` then puts `frontend/dist` in
//! the binary.
//!
//! Set `BILLBRIDGE_SKIP_FRONTEND=1` to use an existing `frontend/dist` as it is.

use std::path::Path;
use std::process::Command;

/// The server's relocations packed (RELR, GNU ld 2.38 and glibc 2.36 on): the loader
/// reads 28 KB of bitmaps instead of 1.8 MB of entries, which it paged into every process
/// at start and left resident (idle RSS in `bench api` 31 MB before, 25–26 MB after).
fn relocations() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

const SOURCES: [&str; 6] = [
    "codegen.ts",
    "index.html",
    "package.json",
    "package-lock.json",
    "vite.config.ts",
    "tsconfig.json",
];

fn main() {
    relocations();
    for source in SOURCES {
        println!("cargo:rerun-if-changed=frontend/{source}");
    }
    // Everything in src/ but the GraphQL types the build itself generates into src/gql:
    // watching those would make every fresh build run twice.
    if let Ok(entries) = std::fs::read_dir("frontend/src") {
        for entry in entries.flatten() {
            if entry.file_name() != "gql" {
                println!("cargo:rerun-if-changed={}", entry.path().display());
            }
        }
    }
    // The SPA's GraphQL types are generated from the schema during `npm run build`.
    println!("cargo:rerun-if-changed=schema.graphql");
    println!("cargo:rerun-if-env-changed=BILLBRIDGE_SKIP_FRONTEND");
    let frontend = Path::new("frontend");
    let index = frontend.join("dist/index.html");
    if std::env::var_os("BILLBRIDGE_SKIP_FRONTEND").is_some() && index.exists() {
        return;
    }
    if let Err(problem) = build(frontend) {
        if index.exists() {
            println!(
                "cargo:warning=frontend not rebuilt ({problem}); embedding the existing frontend/dist"
            );
        } else {
            panic!(
                "cannot build the web app: {problem}\n\
                 billbridge embeds frontend/dist; install Node.js 20.19 or newer with npm and build again."
            );
        }
    }
}

fn build(frontend: &Path) -> Result<(), String> {
    let installed = frontend.join("node_modules/.package-lock.json");
    let lock = frontend.join("package-lock.json");
    if !installed.exists() || modified(&lock) > modified(&installed) {
        npm(frontend, &["ci", "--no-audit", "--no-fund"])?;
    }
    npm(frontend, &["run", "build"])
}

fn npm(dir: &Path, args: &[&str]) -> Result<(), String> {
    let status = Command::new("npm")
        .args(args)
        .current_dir(dir)
        .status()
        .map_err(|e| format!("could not run npm: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`npm {}` failed ({status})", args.join(" ")))
    }
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}
