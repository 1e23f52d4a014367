//! What `/proc` tells about a process: CPU time spent (user + system, all threads, dead
//! ones included), resident memory now and at its peak, and the PostgreSQL backends serving
//! one database. Linux only; elsewhere every reading is `None` and the report says "–".

use std::fs;

/// `/proc/<pid>/stat` counts CPU time in clock ticks of `USER_HZ`, which Linux fixes at 100
/// on every architecture it exposes to user space.
pub const TICKS_PER_SECOND: u64 = 100;

/// User + system CPU time of `pid`, in ticks.
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    ticks_of_stat(&stat)
}

/// utime + stime from the text of a `/proc/<pid>/stat`: fields 14 and 15, counted after
/// the command name, which is in parentheses and may itself hold spaces and parentheses.
fn ticks_of_stat(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // `after_name` starts at field 3 (state): utime is field 14, stime field 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// CPU ticks of the PostgreSQL backends connected to `database` on this machine (their
/// command line reads `postgres: … <user> <database> <client> <state>`): 0 when PostgreSQL
/// runs here but nothing is connected to it, `None` when no PostgreSQL is to be seen (a
/// server on another machine or in another PID namespace).
///
/// A backend that exits between two readings takes its ticks with it; billbridge's pool
/// keeps its connections for the whole run, so this does not happen there.
pub fn backends_cpu_ticks(database: &str) -> Option<u64> {
    let mut total = None;
    for entry in fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline);
        if !cmdline.starts_with(POSTGRES) {
            continue;
        }
        let ticks = total.get_or_insert(0);
        if is_backend_of(&cmdline, database) {
            *ticks += cpu_ticks(pid).unwrap_or(0);
        }
    }
    total
}

/// How PostgreSQL's processes (the postmaster's children) title themselves.
const POSTGRES: &str = "postgres: ";

fn is_backend_of(cmdline: &str, database: &str) -> bool {
    let cmdline = cmdline.trim_end_matches('\0');
    cmdline.starts_with(POSTGRES) && cmdline.split_whitespace().any(|word| word == database)
}

/// Resident memory of `pid` now and at its peak (`VmRSS`, `VmHWM`), in kB.
pub fn memory_kb(pid: u32) -> Option<(u64, u64)> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_utime_and_stime_past_an_awkward_name() {
        let stat = "4242 (tokio (worker) 1) S 1 4242 4242 0 -1 4194560 1234 0 0 0 \
                    731 52 0 0 20 0 9 0 12345 1000000 500 18446744073709551615";
        assert_eq!(ticks_of_stat(stat), Some(731 + 52));
        assert_eq!(ticks_of_stat("garbage"), None);
    }

    #[test]
    fn backends_are_told_by_their_database() {
        let backend = "postgres: 15/main: postgres bb_bench_1 127.0.0.1(58830) idle\0";
        assert!(is_backend_of(backend, "bb_bench_1"));
        assert!(!is_backend_of(backend, "bb_bench"));
        assert!(!is_backend_of(
            "postgres: 15/main: checkpointer ",
            "bb_bench_1"
        ));
        assert!(!is_backend_of("vim bb_bench_1", "bb_bench_1"));
    }

    #[test]
    fn this_process_is_measured() {
        if !std::path::Path::new("/proc/self/stat").exists() {
            return;
        }
        let pid = std::process::id();
        assert!(cpu_ticks(pid).is_some());
        let (rss, peak) = memory_kb(pid).expect("VmRSS and VmHWM");
        assert!(rss > 0 && peak >= rss);
    }
}
