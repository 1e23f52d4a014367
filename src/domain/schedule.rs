//! When scheduled pushes happen: daily at a time of day in a time zone, or by a cron
//! expression (five fields, minute first, in the same time zone).

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use croner::Cron;
use std::str::FromStr;

/// How far ahead a cron expression must fire at least once to be accepted: long enough for
/// a leap day (every fourth year, eight years apart across 2100), short enough that no
/// billing schedule worth keeping is refused.
pub(crate) const MUST_FIRE_WITHIN_YEARS: u32 = 8;

#[derive(Clone, Debug)]
pub struct Schedule {
    pub time_of_day: NaiveTime,
    pub time_zone: Tz,
    pub cron: Option<Cron>,
}

/// Why a schedule setting was refused, naming the field.
#[derive(Debug, PartialEq, Eq)]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

impl Schedule {
    pub fn parse(
        time_of_day: &str,
        time_zone: &str,
        cron: Option<&str>,
    ) -> Result<Schedule, Invalid> {
        let time_of_day =
            NaiveTime::parse_from_str(time_of_day.trim(), "%H:%M").map_err(|_| Invalid {
                field: "timeOfDay",
                message: format!("{time_of_day:?} is not a time of day; use HH:MM, e.g. 02:00"),
            })?;
        let time_zone = Tz::from_str(time_zone.trim()).map_err(|_| Invalid {
            field: "timeZone",
            message: format!(
                "{time_zone:?} is not a time zone; use an IANA name such as UTC or America/New_York"
            ),
        })?;
        let cron = match cron.map(str::trim).filter(|c| !c.is_empty()) {
            None => None,
            Some(text) => {
                if text.split_whitespace().count() != 5 {
                    return Err(Invalid {
                        field: "cron",
                        message: format!(
                            "{text:?}: give five fields (minute hour day-of-month month day-of-week), e.g. \"0 2 * * *\""
                        ),
                    });
                }
                Some(Cron::from_str(text).map_err(|e| Invalid {
                    field: "cron",
                    message: format!("{text:?} is not a cron expression: {e}"),
                })?)
            }
        };
        Ok(Schedule {
            time_of_day,
            time_zone,
            cron,
        })
    }

    /// Refuses a cron expression that never fires — a date no month has, such as
    /// `0 0 30 2 *` or `0 0 31 4 *` — by looking for a matching date among the days of the
    /// next [`MUST_FIRE_WITHIN_YEARS`] years in the schedule's time zone (every pattern has
    /// at least one hour and minute, so a matching date fires). Day by day, because croner's
    /// own search for a next slot goes on to the year 5000 (a third of a second) before it
    /// gives up. The daily time always fires.
    pub fn check_fires(&self, now: DateTime<Utc>) -> Result<(), Invalid> {
        let Some(cron) = &self.cron else {
            return Ok(());
        };
        let pattern = &cron.pattern;
        let today = now.with_timezone(&self.time_zone).date_naive();
        let matches = |day: NaiveDate| {
            [
                pattern.year_match(day.year()),
                pattern.month_match(day.month()),
                pattern.day_match(day.year(), day.month(), day.day()),
            ]
            .iter()
            .all(|m| matches!(m, Ok(true)))
        };
        let days = (366 * MUST_FIRE_WITHIN_YEARS) as usize;
        match today.iter_days().take(days).any(matches) {
            true => Ok(()),
            false => Err(Invalid {
                field: "cron",
                message: format!(
                    "{:?} never fires: no date in the next {MUST_FIRE_WITHIN_YEARS} years matches it (does the month have that day?)",
                    cron.as_str()
                ),
            }),
        }
    }

    /// The first slot strictly after `after`. Slots are whole seconds: every replica must
    /// name the same slot the same way, whatever the instant it looked.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let after = after.with_nanosecond(0)?;
        let local = after.with_timezone(&self.time_zone);
        match &self.cron {
            Some(cron) => cron
                .find_next_occurrence(&local, false)
                .ok()
                .and_then(|t| t.with_timezone(&Utc).with_nanosecond(0)),
            None => {
                let mut day = local.date_naive();
                for _ in 0..3 {
                    // A time that a DST change skips that day falls back to the next valid one.
                    let candidate = self
                        .time_zone
                        .from_local_datetime(&day.and_time(self.time_of_day))
                        .earliest()
                        .or_else(|| {
                            self.time_zone
                                .from_local_datetime(
                                    &day.and_time(self.time_of_day + Duration::hours(1)),
                                )
                                .earliest()
                        });
                    if let Some(candidate) = candidate.map(|c| c.with_timezone(&Utc))
                        && candidate > after
                    {
                        return Some(candidate);
                    }
                    day = day.succ_opt()?;
                }
                None
            }
        }
    }

    /// The latest slot at or before `now`, looking back at most `horizon` (older slots were
    /// missed while no replica ran; only the latest one is worth running).
    pub fn latest_at_or_before(
        &self,
        now: DateTime<Utc>,
        horizon: Duration,
    ) -> Option<DateTime<Utc>> {
        let mut slot = self.next_after(now - horizon)?;
        if slot > now {
            return None;
        }
        while let Some(next) = self.next_after(slot) {
            if next > now {
                break;
            }
            slot = next;
        }
        Some(slot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn daily_in_a_time_zone() {
        let s = Schedule::parse("02:00", "America/New_York", None).unwrap();
        // 02:00 in New York is 07:00 UTC in winter.
        assert_eq!(
            s.next_after(at("2026-11-22T06:00:00Z")),
            Some(at("2026-11-22T07:00:00Z"))
        );
        assert_eq!(
            s.next_after(at("2026-11-22T07:00:00Z")),
            Some(at("2026-11-23T07:00:00Z"))
        );
        assert_eq!(
            s.latest_at_or_before(at("2026-11-22T12:00:00Z"), Duration::days(2)),
            Some(at("2026-11-22T07:00:00Z"))
        );
        assert_eq!(
            s.latest_at_or_before(at("2026-11-22T06:59:00Z"), Duration::hours(1)),
            None
        );
    }

    #[test]
    fn slots_are_whole_seconds_whenever_one_looks() {
        let every_minute = Schedule::parse("02:00", "UTC", Some("* * * * *")).unwrap();
        let daily = Schedule::parse("02:00", "UTC", None).unwrap();
        for s in [every_minute, daily] {
            let a =
                s.latest_at_or_before(at("2026-11-22T10:05:59.123456789Z"), Duration::hours(30));
            let b = s.latest_at_or_before(at("2026-11-22T10:05:01.987Z"), Duration::hours(30));
            assert_eq!(a, b);
            assert_eq!(a.unwrap().nanosecond(), 0);
        }
    }

    #[test]
    fn daily_across_a_skipped_hour() {
        // 02:30 does not exist in New York on 2027-03-14 (clocks jump 02:00 → 03:00).
        let s = Schedule::parse("02:30", "America/New_York", None).unwrap();
        assert_eq!(
            s.next_after(at("2027-03-14T05:00:00Z")),
            Some(at("2027-03-14T07:30:00Z"))
        );
    }

    #[test]
    fn cron_every_minute_and_every_night() {
        let every_minute = Schedule::parse("02:00", "UTC", Some("* * * * *")).unwrap();
        assert_eq!(
            every_minute.next_after(at("2026-11-22T10:00:30Z")),
            Some(at("2026-11-22T10:01:00Z"))
        );
        assert_eq!(
            every_minute.latest_at_or_before(at("2026-11-22T10:05:59Z"), Duration::hours(1)),
            Some(at("2026-11-22T10:05:00Z"))
        );
        let nightly = Schedule::parse("00:00", "Europe/Berlin", Some("30 1 * * 1-5")).unwrap();
        // Saturday 2026-11-21 → Monday 2026-11-23 01:30 Berlin = 00:30 UTC.
        assert_eq!(
            nightly.next_after(at("2026-11-21T12:00:00Z")),
            Some(at("2026-11-23T00:30:00Z"))
        );
    }

    #[test]
    fn a_cron_that_never_fires_is_refused() {
        let now = at("2026-11-22T10:00:00Z");
        let fires = |cron: &str| {
            Schedule::parse("02:00", "UTC", Some(cron))
                .unwrap()
                .check_fires(now)
        };
        for never in [
            "0 0 30 2 *",
            "0 0 31 2 *",
            "0 0 31 4 *",
            "0 0 31 6 *",
            "15 3 31 9,11 *",
        ] {
            let started = std::time::Instant::now();
            let refused = fires(never).expect_err(never);
            println!("{never}: refused in {:?}", started.elapsed());
            assert_eq!(refused.field, "cron");
            assert!(
                refused.message.contains("never fires"),
                "{}",
                refused.message
            );
        }
        // A leap day fires every fourth year (2028 from here); the 31st of a month that has
        // one; a day-of-week widens a day-of-month (Mondays in February, as in Vixie cron).
        for fires_sometimes in [
            "0 0 29 2 *",
            "0 0 31 1 *",
            "0 0 30 4 *",
            "0 0 31 4,5 *",
            "0 0 30 2 1",
            "* * * * *",
        ] {
            assert_eq!(fires(fires_sometimes), Ok(()), "{fires_sometimes}");
        }
        // Across 2100 (not a leap year) a leap day is eight years away: still accepted.
        let leap = Schedule::parse("02:00", "UTC", Some("0 0 29 2 *")).unwrap();
        assert_eq!(leap.check_fires(at("2096-03-01T00:00:00Z")), Ok(()));
        assert_eq!(
            leap.next_after(at("2096-03-01T00:00:00Z")),
            Some(at("2104-02-29T00:00:00Z"))
        );
        // The daily time needs no search.
        let daily = Schedule::parse("02:00", "UTC", None).unwrap();
        assert_eq!(daily.check_fires(now), Ok(()));
    }

    #[test]
    fn bad_settings_name_their_field() {
        let field = |r: Result<Schedule, Invalid>| r.err().map(|e| e.field);
        assert_eq!(
            field(Schedule::parse("25:00", "UTC", None)),
            Some("timeOfDay")
        );
        assert_eq!(
            field(Schedule::parse("2am", "UTC", None)),
            Some("timeOfDay")
        );
        assert_eq!(
            field(Schedule::parse("02:00", "Mars/Olympus", None)),
            Some("timeZone")
        );
        assert_eq!(
            field(Schedule::parse("02:00", "UTC", Some("every day"))),
            Some("cron")
        );
        assert_eq!(
            field(Schedule::parse("02:00", "UTC", Some("0 0 2 * * *"))),
            Some("cron")
        );
        assert!(
            Schedule::parse("02:00", "UTC", Some("  "))
                .unwrap()
                .cron
                .is_none()
        );
    }
}
